"""Inference recommendations jobs (``/api/v1/inference-recommendations-jobs``). Bodies use
snake_case names; SageMaker's names are accepted too."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from lakeworks.core.context import RequestContext
from lakeworks.schemas.common import Page
from lakeworks.schemas.recommender import (
    RecommendationJobCreate,
    RecommendationJobInfo,
    RecommendationJobStatus,
    RecommendationJobStep,
    RecommendationJobSummary,
)
from lakeworks.server.auth import authenticated, platform_of
from lakeworks.server.platform import Platform
from lakeworks.server.rest.listing import JobListing

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["inference-recommender"])
_API = "/inference-recommendations-jobs"

# Plain ``def`` routes: FastAPI runs them in the threadpool, off the event loop.


@router.post(_API, status_code=201, response_model_by_alias=False)
def create_inference_recommendations_job(
    request: RecommendationJobCreate,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> RecommendationJobInfo:
    """Start a job that load-tests a model on candidate endpoint configurations."""
    return platform.recommender.create_inference_recommendations_job(ctx, request)


@router.get(_API, response_model_by_alias=False)
def list_inference_recommendations_jobs(
    status_equals: RecommendationJobStatus | None = None,
    model_name_equals: str | None = Query(None, max_length=63),
    listing: JobListing = Depends(),
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> Page[RecommendationJobSummary]:
    """List jobs, newest first by default."""
    return platform.recommender.list_inference_recommendations_jobs(
        ctx, status_equals=status_equals, model_name_equals=model_name_equals, **listing.kwargs
    )


@router.get(_API + "/{name}", response_model_by_alias=False)
def describe_inference_recommendations_job(
    name: str,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> RecommendationJobInfo:
    """A job's status and, once COMPLETED, its recommendations (best first)."""
    return platform.recommender.describe_inference_recommendations_job(ctx, name)


@router.post(_API + "/{name}/stop", response_model_by_alias=False)
def stop_inference_recommendations_job(
    name: str,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> RecommendationJobInfo:
    """Stop a job: STOPPING until its running load tests end, then STOPPED."""
    platform.recommender.stop_inference_recommendations_job(ctx, name)
    return platform.recommender.describe_inference_recommendations_job(ctx, name)


@router.get(_API + "/{name}/steps", response_model_by_alias=False)
def list_inference_recommendations_job_steps(
    name: str,
    status: RecommendationJobStatus | None = None,
    max_results: int = Query(50, ge=1, le=100),
    next_token: str | None = Query(None, max_length=1024),
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> Page[RecommendationJobStep]:
    """The job's load tests with what each measured (p50/p99 in µs, errors, phases)."""
    return platform.recommender.list_inference_recommendations_job_steps(
        ctx, name, status=status, max_results=max_results, next_token=next_token
    )
