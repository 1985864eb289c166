"""Hyperparameter tuning jobs: create, list, describe, stop, and their trials
(``/api/v1/hyper-parameter-tuning-jobs``). Bodies use snake_case; SageMaker's names work too.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from lakeworks.core.context import RequestContext
from lakeworks.schemas.common import Page
from lakeworks.schemas.jobs import JobStatus
from lakeworks.schemas.tuning import (
    HyperParameterTrainingJobSummary,
    TuningJobCreate,
    TuningJobInfo,
    TuningJobStatus,
    TuningJobSummary,
)
from lakeworks.server.auth import authenticated, platform_of
from lakeworks.server.platform import Platform
from lakeworks.server.rest.listing import JobListing
from lakeworks.tuning.service import SortOrder, TrialSortBy

router = APIRouter(prefix="/api/v1", tags=["tuning"])

_PATH = "/hyper-parameter-tuning-jobs"


@router.post(_PATH, status_code=201, response_model_by_alias=False)
def create_tuning_job(
    spec: TuningJobCreate,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> TuningJobInfo:
    """Create a tuning job; its trials start at once, up to MaxParallelTrainingJobs at a time."""
    return platform.tuning.create_tuning_job(ctx, spec)


@router.get(_PATH, response_model_by_alias=False)
def list_tuning_jobs(
    status_equals: TuningJobStatus | None = None,
    listing: JobListing = Depends(),
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> Page[TuningJobSummary]:
    """List tuning jobs, newest first unless sorted otherwise."""
    return platform.tuning.list_tuning_jobs(ctx, status_equals=status_equals, **listing.kwargs)


@router.get(_PATH + "/{name}", response_model_by_alias=False)
def describe_tuning_job(
    name: str,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> TuningJobInfo:
    """A tuning job: its state, counters and best training job."""
    return platform.tuning.describe_tuning_job(ctx, name)


@router.post(_PATH + "/{name}/stop", response_model_by_alias=False)
def stop_tuning_job(
    name: str,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> TuningJobInfo:
    """Stop a tuning job and its running trials."""
    return platform.tuning.stop_tuning_job(ctx, name)


@router.get(_PATH + "/{name}/training-jobs", response_model_by_alias=False)
def list_training_jobs_for_tuning_job(
    name: str,
    status_equals: JobStatus | None = None,
    sort_by: TrialSortBy = "Name",
    sort_order: SortOrder = "Ascending",
    max_results: int = Query(10, ge=1, le=100),
    next_token: str | None = Query(None, max_length=1024),
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> Page[HyperParameterTrainingJobSummary]:
    """The tuning job's trials with their tuned values and objective."""
    return platform.tuning.list_training_jobs_for_tuning_job(
        ctx,
        name,
        status_equals=status_equals,
        sort_by=sort_by,
        sort_order=sort_order,
        max_results=max_results,
        next_token=next_token,
    )
