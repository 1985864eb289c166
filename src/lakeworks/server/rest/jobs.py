"""Jobs: submit, list, describe, stop, read logs (``/api/v1/jobs``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from lakeworks.core.context import RequestContext
from lakeworks.jobs.service import MAX_LOG_READ
from lakeworks.schemas.common import Page
from lakeworks.schemas.jobs import JobCreate, JobInfo, JobLogs, JobStatus, JobSummary
from lakeworks.server.auth import authenticated, platform_of
from lakeworks.server.platform import Platform
from lakeworks.server.rest.listing import JobListing

router = APIRouter(prefix="/api/v1", tags=["jobs"])

# Plain ``def`` routes: FastAPI runs them in the threadpool, off the event loop.


@router.post("/jobs", status_code=201)
def create_job(
    spec: JobCreate,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> JobInfo:
    """Submit a job; it starts when a slot is free (``jobs.max_concurrent``)."""
    return platform.jobs.create_job(ctx, spec)


@router.get("/jobs")
def list_jobs(
    status_equals: JobStatus | None = None,
    listing: JobListing = Depends(),
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> Page[JobSummary]:
    """List jobs, newest first unless sorted otherwise; pass ``next_token`` for more."""
    return platform.jobs.list_jobs(ctx, status_equals=status_equals, **listing.kwargs)


@router.get("/jobs/{name}")
def describe_job(
    name: str,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> JobInfo:
    """Everything about one job, with its secondary status transitions."""
    return platform.jobs.describe_job(ctx, name)


@router.post("/jobs/{name}/stop")
def stop_job(
    name: str,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> JobInfo:
    """Stop a job: SIGTERM now, SIGKILL after ``jobs.stop_grace_seconds``."""
    return platform.jobs.stop_job(ctx, name)


@router.get("/jobs/{name}/logs")
def read_job_logs(
    name: str,
    offset: int = Query(0, ge=0),
    limit: int = Query(65536, ge=1, le=MAX_LOG_READ),
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> JobLogs:
    """A slice of the job's combined stdout/stderr from byte ``offset`` (live while it runs)."""
    return platform.jobs.read_job_logs(ctx, name, offset=offset, limit=limit)
