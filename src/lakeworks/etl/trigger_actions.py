"""Performing one attempt of a trigger run: start each action not yet started, record how
it went, and raise when something failed so the delivery queue retries with backoff.

An action that started (a job run, a crawl, a function invocation) is remembered on the trigger
run, so a retry after a partial failure starts only what is still missing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lakeworks.core.clock import utcnow
from lakeworks.core.context import RequestContext
from lakeworks.core.errors import LakeworksError
from lakeworks.etl import store
from lakeworks.etl.trigger_rules import render_arguments
from lakeworks.schemas.triggers import TriggerAction

if TYPE_CHECKING:
    from lakeworks.etl.triggers import TriggerService

__all__ = ["TriggerFailed", "perform"]

_MAX_ERROR = 4000


class TriggerFailed(Exception):
    """An attempt of a trigger run failed (the message says which action and why)."""


def _payload(
    values: dict[str, str], document: dict[str, Any] | None, arguments: dict[str, str]
) -> dict[str, Any]:
    """What a function action receives: the event document (an S3 event, a scheduled event
    or a job state change), with the rendered ``arguments`` under ``"arguments"``."""
    body: dict[str, Any] = dict(document or {})
    if not body:
        body = {
            "source": "lakeworks.trigger",
            "detail-type": "Scheduled Event" if "key" not in values else "Object Created",
            "time": values.get("fire_time"),
            "detail": {"triggerName": values.get("trigger_name")},
        }
    if arguments:
        body["arguments"] = arguments
    return body


def _start(
    service: TriggerService,
    ctx: RequestContext,
    name: str,
    action: TriggerAction,
    values: dict[str, str],
    document: dict[str, Any] | None,
) -> dict[str, Any]:
    arguments = render_arguments(action.arguments, values)
    if action.job_name is not None:
        run_id = service.etl.start_job_run(ctx, action.job_name, arguments, trigger_name=name)
        return {"kind": "job", "target": action.job_name, "run_id": run_id}
    if action.crawler_name is not None:
        crawl = service.catalog.crawlers.start_crawler(ctx, action.crawler_name)
        return {"kind": "crawler", "target": action.crawler_name, "run_id": crawl.crawl_id}
    if action.function_name is None or service.functions is None:
        raise TriggerFailed("Functions are not available on this server")
    request_id = service.functions.invoke(
        action.function_name, _payload(values, document, arguments)
    )
    return {"kind": "function", "target": action.function_name, "run_id": request_id}


def perform(service: TriggerService, name: str, run_id: str) -> None:
    """One attempt of trigger run ``run_id`` of trigger ``name``.

    Raises:
        TriggerFailed: An action failed; the run is RETRYING (or FAILED once its attempts are
            spent) with the reason recorded.
    """
    with service.db.session() as session:
        run = session.get(store.TriggerRunRecord, run_id)
        if run is None or run.status in ("SUCCEEDED", "FAILED"):
            return
        trigger = session.get(store.TriggerRecord, name)
        if trigger is not None:
            actions = [TriggerAction.model_validate(a) for a in trigger.definition["actions"]]
            owner = RequestContext(principal=trigger.principal, scopes=frozenset(trigger.scopes))
        started = list(run.started)
        event = dict(run.event or {})
    values: dict[str, str] = dict(event.get("values") or {})
    document = event.get("document")
    error: str | None = None
    if trigger is None:
        error = f"Trigger {name} was deleted before its actions started"
    else:
        done = {entry["action"] for entry in started}
        for index, action in enumerate(actions):
            if index in done:
                continue
            try:
                entry = _start(service, owner, name, action, values, document)
            except Exception as exc:  # the action's failure is this attempt's recorded error
                message = exc.message if isinstance(exc, LakeworksError) else str(exc)
                message = message or type(exc).__name__
                error = f"Actions[{index}] ({_target(action)}): {message}"
                break
            started.append({"action": index, **entry})
    _record(service, run_id, started, error, final=trigger is None)
    if error is not None and trigger is not None:
        raise TriggerFailed(error)


def _target(action: TriggerAction) -> str:
    if action.job_name is not None:
        return f"job {action.job_name}"
    if action.crawler_name is not None:
        return f"crawler {action.crawler_name}"
    return f"function {action.function_name}"


def _record(
    service: TriggerService, run_id: str, started: list[Any], error: str | None, *, final: bool
) -> None:
    now = utcnow()
    with service.db.session() as session:
        run = session.get(store.TriggerRunRecord, run_id)
        if run is None:
            return
        run.attempts += 1
        run.started = started
        outcome = "SUCCEEDED" if error is None else "FAILED"
        run.history = [*run.history, {"time": now.isoformat(), "outcome": outcome, "error": error}]
        run.error_message = error[-_MAX_ERROR:] if error else None
        if error is None:
            run.status, run.completed_on = "SUCCEEDED", now
        elif final or run.attempts >= run.max_attempts:
            run.status, run.completed_on = "FAILED", now
        else:
            run.status = "RETRYING"
