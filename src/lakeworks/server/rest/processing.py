"""Processing jobs (``/api/v1/processing-jobs``) and profile jobs (``/api/v1/profiles``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from lakeworks.core.context import RequestContext
from lakeworks.jobs.service import MAX_LOG_READ
from lakeworks.schemas.common import Page
from lakeworks.schemas.jobs import JobLogs, JobStatus
from lakeworks.schemas.processing import (
    ProcessingJobCreate,
    ProcessingJobInfo,
    ProcessingJobSummary,
)
from lakeworks.schemas.recipes import ProfileJobCreate
from lakeworks.server.auth import authenticated, platform_of
from lakeworks.server.platform import Platform
from lakeworks.server.rest.listing import JobListing

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["processing"])

# Plain ``def`` routes: FastAPI runs them in the threadpool, off the event loop.


@router.post("/processing-jobs", status_code=201, response_model_by_alias=False)
def create_processing_job(
    request: ProcessingJobCreate,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> ProcessingJobInfo:
    """Submit a processing job (CreateProcessingJob's fields, snake_case or SageMaker's)."""
    return platform.processing.create_processing_job(ctx, request)


@router.get("/processing-jobs", response_model_by_alias=False)
def list_processing_jobs(
    status_equals: JobStatus | None = None,
    listing: JobListing = Depends(),
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> Page[ProcessingJobSummary]:
    """List processing jobs (recipe and profile jobs too), newest first by default."""
    return platform.processing.list_processing_jobs(
        ctx, status_equals=status_equals, **listing.kwargs
    )


@router.get("/processing-jobs/{name}", response_model_by_alias=False)
def describe_processing_job(
    name: str,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> ProcessingJobInfo:
    """Everything about one processing job."""
    return platform.processing.describe_processing_job(ctx, name)


@router.post("/processing-jobs/{name}/stop", response_model_by_alias=False)
def stop_processing_job(
    name: str,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> ProcessingJobInfo:
    """Stop a processing job: SIGTERM now, SIGKILL after ``jobs.stop_grace_seconds``."""
    return platform.processing.stop_processing_job(ctx, name)


@router.get("/processing-jobs/{name}/logs", response_model_by_alias=False)
def read_processing_job_logs(
    name: str,
    offset: int = Query(0, ge=0),
    limit: int = Query(65536, ge=1, le=MAX_LOG_READ),
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> JobLogs:
    """A slice of the job's combined stdout/stderr from byte ``offset``."""
    return platform.processing.read_processing_job_logs(ctx, name, offset=offset, limit=limit)


@router.post("/profiles", status_code=201, response_model_by_alias=False)
def create_profile(
    request: ProfileJobCreate,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> ProcessingJobInfo:
    """Start a profile job: ``profile.json`` and ``report.html`` under the output URI."""
    return platform.recipes.create_profile(ctx, request)
