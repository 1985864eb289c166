"""AWS Glue (JSON 1.1) trigger actions, merged into ``glue.py``'s table.

SCHEDULED (``cron(...)``), ON_DEMAND and CONDITIONAL triggers whose actions start job runs or
crawlers, rendered from :class:`~lakeworks.etl.triggers.TriggerService`. Glue has no API for
the record of each firing; the native ``/api/v1/triggers/{name}/runs`` shows it.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool

from lakeworks.core.errors import ValidationError
from lakeworks.etl.triggers import parse_trigger, parse_trigger_update
from lakeworks.schemas.triggers import TriggerInfo
from lakeworks.server.aws.service import AwsCall, Handler

__all__ = ["ACTIONS"]

#: Glue fields Lakeworks accepts and ignores (workflows, event batching, notifications).
_IGNORED = ("WorkflowName", "EventBatchingCondition", "Tags")
_IGNORED_IN_ACTIONS = ("Timeout", "SecurityConfiguration", "NotificationProperty")


def _name(params: dict[str, Any]) -> str:
    value = params.get("Name")
    if not isinstance(value, str) or not value:
        raise ValidationError("Name is required", aws_code="InvalidInputException")
    return value


def _strip(params: dict[str, Any]) -> dict[str, Any]:
    """``params`` without the Glue fields Lakeworks ignores."""
    clean = {k: v for k, v in params.items() if k not in _IGNORED}
    actions = clean.get("Actions")
    if isinstance(actions, list):
        clean["Actions"] = [
            {k: v for k, v in a.items() if k not in _IGNORED_IN_ACTIONS}
            if isinstance(a, dict)
            else a
            for a in actions
        ]
    return clean


def _trigger(info: TriggerInfo) -> dict[str, Any]:
    shown = info.model_dump(
        mode="json",
        by_alias=True,
        exclude_none=True,
        exclude={"event_source", "next_fire_time", "created_on", "last_modified_on"},
    )
    for action in shown["Actions"]:
        if not action.get("Arguments"):
            action.pop("Arguments", None)
    return shown


async def create_trigger(call: AwsCall) -> dict[str, Any]:
    """CreateTrigger."""
    spec = parse_trigger(_strip(call.params))
    info = await run_in_threadpool(
        lambda: call.platform.triggers.create_trigger(call.ctx, spec, source="glue")
    )
    return {"Name": info.name}


async def get_trigger(call: AwsCall) -> dict[str, Any]:
    """GetTrigger."""
    info = await run_in_threadpool(call.platform.triggers.get_trigger, call.ctx, _name(call.params))
    return {"Trigger": _trigger(info)}


def _dependent(params: dict[str, Any]) -> str | None:
    value = params.get("DependentJobName")
    if value is not None and not isinstance(value, str):
        raise ValidationError("DependentJobName must be a string", aws_code="InvalidInputException")
    return value


async def get_triggers(call: AwsCall) -> dict[str, Any]:
    """GetTriggers (one page; DependentJobName filters)."""
    dependent = _dependent(call.params)
    infos = await run_in_threadpool(
        lambda: call.platform.triggers.get_triggers(
            call.ctx, source="glue", dependent_job=dependent
        )
    )
    return {"Triggers": [_trigger(i) for i in infos]}


async def list_triggers(call: AwsCall) -> dict[str, Any]:
    """ListTriggers: the names."""
    dependent = _dependent(call.params)
    infos = await run_in_threadpool(
        lambda: call.platform.triggers.get_triggers(
            call.ctx, source="glue", dependent_job=dependent
        )
    )
    return {"TriggerNames": [i.name for i in infos]}


async def update_trigger(call: AwsCall) -> dict[str, Any]:
    """UpdateTrigger: the TriggerUpdate's given fields replace the trigger's."""
    update = call.params.get("TriggerUpdate")
    if not isinstance(update, dict):
        raise ValidationError("TriggerUpdate is required", aws_code="InvalidInputException")
    fields = _strip({k: v for k, v in update.items() if k != "Name"})
    spec = parse_trigger_update(fields)
    info = await run_in_threadpool(
        call.platform.triggers.update_trigger, call.ctx, _name(call.params), spec
    )
    return {"Trigger": _trigger(info)}


async def delete_trigger(call: AwsCall) -> dict[str, Any]:
    """DeleteTrigger."""
    name = await run_in_threadpool(
        call.platform.triggers.delete_trigger, call.ctx, _name(call.params)
    )
    return {"Name": name}


async def start_trigger(call: AwsCall) -> dict[str, Any]:
    """StartTrigger: fires an ON_DEMAND trigger, activates the others."""
    name = _name(call.params)
    await run_in_threadpool(call.platform.triggers.start_trigger, call.ctx, name)
    return {"Name": name}


async def stop_trigger(call: AwsCall) -> dict[str, Any]:
    """StopTrigger: deactivates."""
    name = await run_in_threadpool(
        call.platform.triggers.stop_trigger, call.ctx, _name(call.params)
    )
    return {"Name": name}


#: Glue's trigger actions (merged into :data:`lakeworks.server.aws.glue.SERVICE`).
ACTIONS: dict[str, Handler] = {
    "CreateTrigger": create_trigger,
    "GetTrigger": get_trigger,
    "GetTriggers": get_triggers,
    "ListTriggers": list_triggers,
    "UpdateTrigger": update_trigger,
    "DeleteTrigger": delete_trigger,
    "StartTrigger": start_trigger,
    "StopTrigger": stop_trigger,
}
