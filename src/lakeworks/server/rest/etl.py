"""ETL jobs (``/api/v1/etl-jobs``): Glue Python-shell jobs, their runs and run output."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Query

from lakeworks.core.context import RequestContext
from lakeworks.etl.service import parse_job
from lakeworks.jobs.service import MAX_LOG_READ
from lakeworks.schemas.common import Page
from lakeworks.schemas.etl import EtlJobInfo, EtlRunInfo
from lakeworks.schemas.jobs import JobLogs
from lakeworks.server.auth import authenticated, platform_of
from lakeworks.server.platform import Platform

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["etl"])


@router.post("/etl-jobs", status_code=201, response_model_by_alias=False)
def create_etl_job(
    request: dict[str, Any] = Body(...),
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> EtlJobInfo:
    """Create a Python-shell job (CreateJob's fields, snake_case or Glue's)."""
    spec = parse_job(request)
    platform.etl.create_job(ctx, spec)
    return platform.etl.get_job(ctx, spec.name)


@router.get("/etl-jobs", response_model_by_alias=False)
def list_etl_jobs(
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> Page[EtlJobInfo]:
    """Every ETL job, by name."""
    return Page[EtlJobInfo](items=platform.etl.get_jobs(ctx))


@router.get("/etl-jobs/{name}", response_model_by_alias=False)
def describe_etl_job(
    name: str,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> EtlJobInfo:
    """One ETL job."""
    return platform.etl.get_job(ctx, name)


@router.delete("/etl-jobs/{name}", status_code=204)
def delete_etl_job(
    name: str,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> None:
    """Delete an ETL job."""
    platform.etl.delete_job(ctx, name)


@router.post("/etl-jobs/{name}/runs", status_code=201, response_model_by_alias=False)
def start_etl_job_run(
    name: str,
    arguments: dict[str, str] = Body(default_factory=dict, embed=True),
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> EtlRunInfo:
    """Start a run; ``arguments`` are merged over the job's default arguments."""
    run_id = platform.etl.start_job_run(ctx, name, arguments)
    return platform.etl.get_job_run(ctx, name, run_id)


@router.get("/etl-jobs/{name}/runs", response_model_by_alias=False)
def list_etl_job_runs(
    name: str,
    max_results: int = Query(100, ge=1, le=200),
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> Page[EtlRunInfo]:
    """A job's runs, newest first."""
    return Page[EtlRunInfo](items=platform.etl.get_job_runs(ctx, name, max_results))


@router.get("/etl-jobs/{name}/runs/{run_id}", response_model_by_alias=False)
def describe_etl_job_run(
    name: str,
    run_id: str,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> EtlRunInfo:
    """One run."""
    return platform.etl.get_job_run(ctx, name, run_id)


@router.get("/etl-jobs/{name}/runs/{run_id}/logs", response_model_by_alias=False)
def read_etl_job_run_logs(
    name: str,
    run_id: str,
    offset: int = Query(0, ge=0),
    limit: int = Query(65536, ge=1, le=MAX_LOG_READ),
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> JobLogs:
    """A slice of the run's output from byte ``offset``."""
    return platform.etl.read_run_logs(ctx, name, run_id, offset=offset, limit=limit)
