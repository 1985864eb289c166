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
from lakeworks.lake.objects import decode_token, encode_token
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


async def _listed(call: AwsCall) -> tuple[list[TriggerInfo], str | None]:
    """One page of the Glue triggers by name (MaxResults 1–200, NextToken), DependentJobName
    filtering."""
    dependent = _dependent(call.params)
    limit = call.params.get("MaxResults", 100)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 200:
        raise ValidationError(
            f"MaxResults must be an integer from 1 to 200, got {limit!r}",
            aws_code="InvalidInputException",
        )
    token = call.params.get("NextToken")
    after = decode_token(token, "after")["after"] if isinstance(token, str) and token else ""
    infos = await run_in_threadpool(
        lambda: call.platform.triggers.get_triggers(
            call.ctx, source="glue", dependent_job=dependent
        )
    )
    rest = sorted((i for i in infos if i.name > after), key=lambda i: i.name)
    page = rest[:limit]
    more = len(rest) > limit
    return page, encode_token({"after": page[-1].name}) if more else None


async def get_triggers(call: AwsCall) -> dict[str, Any]:
    """GetTriggers: full definitions, a page at a time."""
    page, token = await _listed(call)
    return {"Triggers": [_trigger(i) for i in page], **({"NextToken": token} if token else {})}


async def list_triggers(call: AwsCall) -> dict[str, Any]:
    """ListTriggers: the names, a page at a time."""
    page, token = await _listed(call)
    return {"TriggerNames": [i.name for i in page], **({"NextToken": token} if token else {})}


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
