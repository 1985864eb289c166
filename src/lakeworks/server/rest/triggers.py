"""Triggers (``/api/v1/triggers``) and their firings (``/api/v1/trigger-runs``).

Glue's trigger types plus native ones: EVENT (an object created in the lake) and schedules as
``rate(...)`` or ``cron(...)``; actions start ETL job runs, crawlers or functions.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from lakeworks.core.context import RequestContext
from lakeworks.schemas.common import Page
from lakeworks.schemas.triggers import TriggerCreate, TriggerInfo, TriggerRunInfo, TriggerUpdate
from lakeworks.server.auth import authenticated, platform_of
from lakeworks.server.platform import Platform

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["triggers"])


@router.post("/triggers", status_code=201, response_model_by_alias=False)
def create_trigger(
    request: TriggerCreate,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> TriggerInfo:
    """Create a trigger (ACTIVATED at once with ``start_on_creation``)."""
    return platform.triggers.create_trigger(ctx, request)


@router.get("/triggers", response_model_by_alias=False)
def list_triggers(
    dependent_job_name: str | None = Query(None, max_length=255),
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> Page[TriggerInfo]:
    """Every trigger (Glue's and native ones), by name."""
    items = platform.triggers.get_triggers(ctx, dependent_job=dependent_job_name)
    return Page[TriggerInfo](items=items)


@router.get("/triggers/{name}", response_model_by_alias=False)
def describe_trigger(
    name: str,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> TriggerInfo:
    """One trigger."""
    return platform.triggers.get_trigger(ctx, name)


@router.patch("/triggers/{name}", response_model_by_alias=False)
def update_trigger(
    name: str,
    request: TriggerUpdate,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> TriggerInfo:
    """Change a trigger's schedule, predicate, actions, event source or description."""
    return platform.triggers.update_trigger(ctx, name, request)


@router.delete("/triggers/{name}", status_code=204)
def delete_trigger(
    name: str,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> None:
    """Delete a trigger (its firings stay visible)."""
    platform.triggers.delete_trigger(ctx, name)


@router.post("/triggers/{name}/start", response_model_by_alias=False)
def start_trigger(
    name: str,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> TriggerInfo:
    """Fire an ON_DEMAND trigger now, or activate any other kind."""
    platform.triggers.start_trigger(ctx, name)
    return platform.triggers.get_trigger(ctx, name)


@router.post("/triggers/{name}/stop", response_model_by_alias=False)
def stop_trigger(
    name: str,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> TriggerInfo:
    """Deactivate a trigger."""
    platform.triggers.stop_trigger(ctx, name)
    return platform.triggers.get_trigger(ctx, name)


@router.get("/triggers/{name}/runs", response_model_by_alias=False)
def list_trigger_runs(
    name: str,
    max_results: int = Query(100, ge=1, le=1000),
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> Page[TriggerRunInfo]:
    """A trigger's firings, newest first: reason, outcome, what started, each attempt."""
    return Page[TriggerRunInfo](items=platform.triggers.list_trigger_runs(ctx, name, max_results))


@router.get("/trigger-runs/{run_id}", response_model_by_alias=False)
def describe_trigger_run(
    run_id: str,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> TriggerRunInfo:
    """One firing."""
    return platform.triggers.get_trigger_run(ctx, run_id)
