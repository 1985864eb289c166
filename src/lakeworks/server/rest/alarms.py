"""Metric alarms over endpoint metrics (``/api/v1/alarms``): put, list, describe, delete.

The same service as CloudWatch's ``PutMetricAlarm``/``DescribeAlarms``/``DeleteAlarms``; bodies
use snake_case names (CloudWatch's are accepted too). Deployments name these alarms in their
``AutoRollbackConfiguration``.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Path, Query

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import NotFound, ValidationError
from lakeworks.schemas.hosting_deployments import MetricAlarmInfo, MetricAlarmPut
from lakeworks.server.auth import authenticated, platform_of
from lakeworks.server.platform import Platform

router = APIRouter(prefix="/api/v1", tags=["alarms"])

_ALARM = Path(min_length=1, max_length=255)


@router.put("/alarms/{name}", response_model_by_alias=False)
def put_metric_alarm(
    spec: MetricAlarmPut,
    name: str = _ALARM,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> MetricAlarmInfo:
    """Create or replace an alarm (the body's alarm_name must be the path's)."""
    if spec.alarm_name != name:
        raise ValidationError(
            f"The body names alarm {spec.alarm_name!r} but the path names {name!r}"
        )
    platform.hosting.alarms.put_metric_alarm(ctx, spec)
    return platform.hosting.alarms.describe_alarms(ctx, names=[name])[0]


@router.get("/alarms", response_model_by_alias=False)
def list_alarms(
    prefix: str | None = Query(None, max_length=255),
    state: Literal["OK", "ALARM", "INSUFFICIENT_DATA"] | None = None,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> list[MetricAlarmInfo]:
    """Every alarm, optionally by name prefix and state."""
    return platform.hosting.alarms.describe_alarms(ctx, prefix=prefix, state=state)


@router.get("/alarms/{name}", response_model_by_alias=False)
def describe_alarm(
    name: str = _ALARM,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> MetricAlarmInfo:
    """One alarm with its state and reason."""
    found = platform.hosting.alarms.describe_alarms(ctx, names=[name])
    if not found:
        raise NotFound(f"No alarm named {name}")
    return found[0]


@router.delete("/alarms/{name}", status_code=204)
def delete_alarm(
    name: str = _ALARM,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> None:
    """Delete an alarm."""
    platform.hosting.alarms.delete_alarms(ctx, [name])
