"""Batch transform jobs (``/api/v1/transform-jobs``). Bodies use snake_case names; SageMaker's
names are accepted too."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from lakeworks.core.context import RequestContext
from lakeworks.jobs.service import MAX_LOG_READ
from lakeworks.schemas.common import Page
from lakeworks.schemas.jobs import JobLogs, JobStatus
from lakeworks.schemas.transform import TransformJobCreate, TransformJobInfo, TransformJobSummary
from lakeworks.server.auth import authenticated, platform_of
from lakeworks.server.platform import Platform
from lakeworks.server.rest.listing import JobListing

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["transform"])

# Plain ``def`` routes: FastAPI runs them in the threadpool, off the event loop.


@router.post("/transform-jobs", status_code=201, response_model_by_alias=False)
def create_transform_job(
    request: TransformJobCreate,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> TransformJobInfo:
    """Submit a batch transform job (CreateTransformJob's fields, snake_case or SageMaker's)."""
    return platform.transform.create_transform_job(ctx, request)


@router.get("/transform-jobs", response_model_by_alias=False)
def list_transform_jobs(
    status_equals: JobStatus | None = None,
    listing: JobListing = Depends(),
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> Page[TransformJobSummary]:
    """List transform jobs, newest first by default."""
    return platform.transform.list_transform_jobs(
        ctx, status_equals=status_equals, **listing.kwargs
    )


@router.get("/transform-jobs/{name}", response_model_by_alias=False)
def describe_transform_job(
    name: str,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> TransformJobInfo:
    """Everything about one transform job, with the ``.out`` objects it wrote."""
    return platform.transform.describe_transform_job(ctx, name)


@router.post("/transform-jobs/{name}/stop", response_model_by_alias=False)
def stop_transform_job(
    name: str,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> TransformJobInfo:
    """Stop a transform job: SIGTERM now, SIGKILL after ``jobs.stop_grace_seconds``."""
    return platform.transform.stop_transform_job(ctx, name)


@router.get("/transform-jobs/{name}/logs", response_model_by_alias=False)
def read_transform_job_logs(
    name: str,
    offset: int = Query(0, ge=0),
    limit: int = Query(65536, ge=1, le=MAX_LOG_READ),
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> JobLogs:
    """A slice of the job's combined stdout/stderr from byte ``offset``."""
    return platform.transform.read_transform_job_logs(ctx, name, offset=offset, limit=limit)
