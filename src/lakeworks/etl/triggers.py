"""Triggers: Glue's SCHEDULED, ON_DEMAND and CONDITIONAL triggers and native EVENT triggers.

A trigger fires for a reason — its schedule came due (a scheduler thread with an injectable
clock), a watched ETL run ended (an :class:`~lakeworks.etl.service.EtlService` listener), an
object was created in the lake (a lake listener), or someone started it — and each firing is a
*trigger run*: a row here plus a delivery on the lake's durable notification queue
(:class:`~lakeworks.lake.notifications.service.NotificationService`), whose worker performs the
actions, retries a failed firing with backoff and survives a restart. The trigger run records
every attempt, what each action started (run ids) and why an attempt failed.

Actions start Glue job runs, crawlers, or (native triggers) functions; functions live in a
higher domain, so the platform hands in :class:`FunctionHooks`.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import select

from lakeworks.core.clock import utcnow
from lakeworks.core.context import RequestContext
from lakeworks.core.errors import AlreadyExists, NotFound, ValidationError
from lakeworks.core.names import arn
from lakeworks.db import Database
from lakeworks.etl import store
from lakeworks.etl.service import EtlService
from lakeworks.etl.trigger_actions import perform
from lakeworks.etl.trigger_rules import parse_schedule, predicate_met
from lakeworks.lake.catalog.service import CatalogService
from lakeworks.lake.events import ObjectEvent, check_events, matches, s3_event
from lakeworks.lake.notifications.service import FUNCTION_ATTEMPTS, NotificationService
from lakeworks.schemas.notifications import FilterRule
from lakeworks.schemas.triggers import (
    TriggerAction,
    TriggerCreate,
    TriggerInfo,
    TriggerPredicate,
    TriggerRunInfo,
    TriggerUpdate,
)

__all__ = ["FunctionHooks", "TriggerService", "parse_trigger", "parse_trigger_update"]

M = TypeVar("M", bound=BaseModel)

log = logging.getLogger("lakeworks.etl.triggers")

#: The delivery queue's target type for trigger firings.
TARGET_TYPE = "trigger"


@dataclass(frozen=True)
class FunctionHooks:
    """How triggers reach functions: ``check`` raises NotFound for a missing one; ``invoke``
    runs one invocation and returns its request id, raising when the function failed."""

    check: Callable[[str], object]
    invoke: Callable[[str, dict[str, Any]], str]


def _invalid(message: str) -> ValidationError:
    return ValidationError(message, aws_code="InvalidInputException")


def _missing(name: str) -> NotFound:
    return NotFound(f"Trigger {name} not found", aws_code="EntityNotFoundException")


def _parse(model: type[M], params: dict[str, Any]) -> M:
    try:
        return model.model_validate(params)
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise _invalid(f"{where}: {first['msg']}") from None


def parse_trigger(params: dict[str, Any]) -> TriggerCreate:
    """Check a CreateTrigger request (Glue's or snake_case field names).

    Raises:
        ValidationError: ``InvalidInputException`` naming the field and what is allowed.
    """
    return _parse(TriggerCreate, params)


def parse_trigger_update(params: dict[str, Any]) -> TriggerUpdate:
    """Check an UpdateTrigger's TriggerUpdate.

    Raises:
        ValidationError: ``InvalidInputException`` naming the field and what is allowed.
    """
    return _parse(TriggerUpdate, params)


class TriggerService:
    """Create, describe, list, update, delete, start and stop triggers; fire them.

    Args:
        db: The metadata database.
        etl: Starts job runs; tells this service when runs end.
        notifications: The durable queue firings travel through (and the lake's events).
        catalog: Starts crawlers.
        clock: Current UTC time for schedules (tests pin it).
        tick_interval: Seconds between looks at due schedules.
    """

    def __init__(
        self,
        db: Database,
        etl: EtlService,
        notifications: NotificationService,
        catalog: CatalogService,
        *,
        clock: Callable[[], datetime] = utcnow,
        tick_interval: float = 1.0,
    ) -> None:
        self.db = db
        self.etl = etl
        self.notifications = notifications
        self.catalog = catalog
        self.clock = clock
        self.tick_interval = tick_interval
        self.functions: FunctionHooks | None = None
        settings = etl.settings
        self._arn_parts = (settings.aws.account_id, settings.aws.region)
        notifications.register_target(TARGET_TYPE, self._deliver, self._check_exists)
        notifications.lake.listeners.append(self.on_object_event)
        etl.listeners.append(self.on_run_ended)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the scheduler thread."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._loop, name="lakeworks-triggers", daemon=True
            )
            self._thread.start()

    def close(self) -> None:
        """Stop the scheduler thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    # -- definitions -----------------------------------------------------------------------------

    def _check(self, ctx: RequestContext, kind: str, spec: dict[str, Any], source: str) -> None:
        """Check a whole definition: its type's fields, that its targets exist."""
        schedule, predicate, event = (
            spec.get("schedule"),
            spec.get("predicate"),
            spec.get("event_source"),
        )
        wanted = {"SCHEDULED": "schedule", "CONDITIONAL": "predicate", "EVENT": "event_source"}
        for field, value in (
            ("schedule", schedule),
            ("predicate", predicate),
            ("event_source", event),
        ):
            if value is not None and wanted.get(kind) != field:
                raise _invalid(f"A {kind} trigger takes no {field}")
        if kind in wanted and spec.get(wanted[kind]) is None:
            raise _invalid(f"A {kind} trigger needs {wanted[kind]}")
        if kind == "EVENT" and source == "glue":
            raise _invalid(
                "Type EVENT (an object created in the lake) is available through the native "
                "API (/api/v1/triggers); Glue triggers are SCHEDULED, ON_DEMAND or CONDITIONAL"
            )
        if schedule is not None:
            parse_schedule(schedule, allow_rate=source == "native")
        if predicate is not None:
            for condition in predicate["conditions"]:
                if not self.etl.job_exists(condition["job_name"]):
                    raise NotFound(
                        f"Job {condition['job_name']} named in the predicate does not exist",
                        aws_code="EntityNotFoundException",
                    )
        if event is not None:
            self.notifications.lake.describe_bucket(ctx, event["bucket"])
            check_events(event["events"])
        for index, action in enumerate(spec["actions"]):
            self._check_action(ctx, index, TriggerAction.model_validate(action), source)

    def _check_action(
        self, ctx: RequestContext, index: int, action: TriggerAction, source: str
    ) -> None:
        given = [f for f in ("job_name", "crawler_name", "function_name") if getattr(action, f)]
        if len(given) != 1:
            raise _invalid(
                f"Actions[{index}] needs exactly one of JobName, CrawlerName or FunctionName"
            )
        if action.function_name is not None:
            if source == "glue":
                raise _invalid(
                    f"Actions[{index}]: Glue triggers start jobs and crawlers; actions that "
                    "invoke functions are available through the native API (/api/v1/triggers)"
                )
            if self.functions is None:
                raise _invalid("Functions are not available on this server")
            self.functions.check(action.function_name)
        elif action.job_name is not None and not self.etl.job_exists(action.job_name):
            raise NotFound(
                f"Job {action.job_name} named in Actions[{index}] does not exist",
                aws_code="EntityNotFoundException",
            )
        elif action.crawler_name is not None:
            self.catalog.crawlers.get_crawler(ctx, action.crawler_name)

    def create_trigger(
        self, ctx: RequestContext, spec: TriggerCreate, *, source: str = "native"
    ) -> TriggerInfo:
        """Create a trigger; ACTIVATED at once when ``start_on_creation``, else CREATED.

        Raises:
            AlreadyExists: ``AlreadyExistsException``.
            NotFound: A job, crawler, function or bucket it names does not exist.
            ValidationError: Fields that do not fit the type, a bad schedule or event name.
        """
        ctx.require("write")
        if spec.start_on_creation and spec.type == "ON_DEMAND":
            raise _invalid("StartOnCreation is not supported for ON_DEMAND triggers")
        definition = spec.model_dump(
            mode="json", include={"schedule", "predicate", "actions", "description", "event_source"}
        )
        self._check(ctx, spec.type, definition, source)
        now = utcnow()
        with self.db.session() as session:
            if session.get(store.TriggerRecord, spec.name) is not None:
                raise AlreadyExists(
                    f"Trigger {spec.name} already exists", aws_code="AlreadyExistsException"
                )
            row = store.TriggerRecord(
                name=spec.name,
                trigger_id=uuid.uuid4().hex,
                source=source,
                type=spec.type,
                state="CREATED",
                definition=definition,
                bucket=spec.event_source.bucket if spec.event_source else None,
                next_fire_time=None,
                armed_since=now,
                principal=ctx.principal,
                scopes=sorted(ctx.scopes),
                creation_time=now,
                last_modified=now,
            )
            if spec.start_on_creation:
                self._activate(row)
            session.add(row)
            return self._info(row)

    def get_trigger(self, ctx: RequestContext, name: str) -> TriggerInfo:
        """A trigger.

        Raises:
            NotFound: ``EntityNotFoundException``.
        """
        ctx.require("read")
        with self.db.session() as session:
            return self._info(self._get(session, name))

    def get_triggers(
        self, ctx: RequestContext, *, source: str | None = None, dependent_job: str | None = None
    ) -> list[TriggerInfo]:
        """Triggers by name; only ``source``'s, only those whose actions start ``dependent_job``."""
        ctx.require("read")
        query = select(store.TriggerRecord).order_by(store.TriggerRecord.name)
        if source is not None:
            query = query.where(store.TriggerRecord.source == source)
        with self.db.session() as session:
            infos = [self._info(row) for row in session.scalars(query)]
        if dependent_job is not None:
            infos = [t for t in infos if any(a.job_name == dependent_job for a in t.actions)]
        return infos

    def update_trigger(self, ctx: RequestContext, name: str, update: TriggerUpdate) -> TriggerInfo:
        """Change a trigger's fields (an omitted field keeps its value).

        Raises:
            NotFound: No such trigger, or a target that does not exist.
            ValidationError: The result does not fit the trigger's type.
        """
        ctx.require("write")
        changes = update.model_dump(mode="json", exclude_unset=True)
        with self.db.session() as session:
            row = self._get(session, name)
            kind, source, definition = row.type, row.source, {**row.definition, **changes}
        self._check(ctx, kind, definition, source)
        with self.db.session() as session:
            row = self._get(session, name)
            row.definition = definition
            row.bucket = (definition.get("event_source") or {}).get("bucket")
            row.last_modified = utcnow()
            if row.state == "ACTIVATED":
                self._activate(row)
            return self._info(row)

    def delete_trigger(self, ctx: RequestContext, name: str) -> str:
        """Delete a trigger (its run history stays); deleting a missing one is not an error."""
        ctx.require("write")
        with self.db.session() as session:
            row = session.get(store.TriggerRecord, name)
            if row is not None:
                session.delete(row)
        return name

    def start_trigger(self, ctx: RequestContext, name: str) -> str | None:
        """Fire an ON_DEMAND trigger now (its trigger run id), or activate any other.

        Raises:
            NotFound: No such trigger.
        """
        ctx.require("write")
        with self.db.session() as session:
            row = self._get(session, name)
            if row.type != "ON_DEMAND":
                self._activate(row)
                return None
        return self.fire(name, "MANUAL", {"trigger_name": name, "fire_time": _stamp(utcnow())})

    def stop_trigger(self, ctx: RequestContext, name: str) -> str:
        """Deactivate a trigger: it fires no more until started again.

        Raises:
            NotFound: No such trigger.
            ValidationError: ON_DEMAND triggers are never active.
        """
        ctx.require("write")
        with self.db.session() as session:
            row = self._get(session, name)
            if row.type == "ON_DEMAND":
                raise _invalid(f"Trigger {name} is ON_DEMAND: there is nothing to stop")
            row.state, row.next_fire_time, row.last_modified = "DEACTIVATED", None, utcnow()
        return name

    def _activate(self, row: store.TriggerRecord) -> None:
        row.state, row.armed_since, row.last_modified = "ACTIVATED", utcnow(), utcnow()
        schedule = row.definition.get("schedule")
        if row.type == "SCHEDULED" and schedule:
            row.next_fire_time = parse_schedule(schedule).next_after(self.clock())

    # -- trigger runs ----------------------------------------------------------------------------

    def list_trigger_runs(
        self, ctx: RequestContext, name: str | None = None, limit: int = 100
    ) -> list[TriggerRunInfo]:
        """Firings, newest first (of trigger ``name`` if given; a deleted one's too)."""
        ctx.require("read")
        query = select(store.TriggerRunRecord).order_by(store.TriggerRunRecord.fired_on.desc())
        if name is not None:
            query = query.where(store.TriggerRunRecord.trigger_name == name)
        with self.db.session() as session:
            rows = session.scalars(query.limit(max(1, min(limit, 1000))))
            return [_run_info(row) for row in rows]

    def get_trigger_run(self, ctx: RequestContext, run_id: str) -> TriggerRunInfo:
        """One firing.

        Raises:
            NotFound: No such trigger run.
        """
        ctx.require("read")
        with self.db.session() as session:
            row = session.get(store.TriggerRunRecord, run_id)
            if row is None:
                raise NotFound(
                    f"Trigger run {run_id} not found", aws_code="EntityNotFoundException"
                )
            return _run_info(row)

    # -- firing ----------------------------------------------------------------------------------

    def fire(
        self,
        name: str,
        reason: str,
        values: dict[str, str],
        event: dict[str, Any] | None = None,
    ) -> str:
        """Record a firing and queue it for the delivery worker; the trigger run id."""
        run_id = "tr_" + uuid.uuid4().hex
        with self.db.session() as session:
            session.add(
                store.TriggerRunRecord(
                    trigger_run_id=run_id,
                    trigger_name=name,
                    reason=reason,
                    status="PENDING",
                    fired_on=utcnow(),
                    completed_on=None,
                    attempts=0,
                    max_attempts=FUNCTION_ATTEMPTS,
                    started=[],
                    error_message=None,
                    history=[],
                    event={"values": values, "document": event},
                )
            )
        self.notifications.enqueue(TARGET_TYPE, name, {"trigger_run_id": run_id}, FUNCTION_ATTEMPTS)
        return run_id

    def tick(self, now: datetime | None = None) -> list[str]:
        """Fire the activated schedules due at ``now`` (the clock's time); their run ids.

        A schedule that came due several times while the server was down fires once.
        """
        now = now or self.clock()
        fired: list[tuple[str, datetime]] = []
        with self.db.session() as session:
            rows = session.scalars(
                select(store.TriggerRecord).where(
                    store.TriggerRecord.type == "SCHEDULED",
                    store.TriggerRecord.state == "ACTIVATED",
                    store.TriggerRecord.next_fire_time <= now,
                )
            ).all()
            for row in rows:
                due = row.next_fire_time or now
                row.next_fire_time = parse_schedule(row.definition["schedule"]).next_after(now)
                fired.append((row.name, due))
        return [
            self.fire(name, "SCHEDULE", {"trigger_name": name, "fire_time": _stamp(due)})
            for name, due in fired
        ]

    def _loop(self) -> None:
        while not self._stop.wait(self.tick_interval):
            try:
                self.tick()
            except Exception:  # the scheduler must outlive a database hiccup
                log.exception("firing scheduled triggers failed")

    def on_run_ended(self, job: str, run_id: str, state: str) -> None:
        """Fire the activated CONDITIONAL triggers whose predicate this run's end completes."""
        due: list[str] = []
        with self.db.session() as session:
            rows = session.scalars(
                select(store.TriggerRecord).where(
                    store.TriggerRecord.type == "CONDITIONAL",
                    store.TriggerRecord.state == "ACTIVATED",
                )
            ).all()
            for row in rows:
                predicate = TriggerPredicate.model_validate(row.definition["predicate"])
                if job not in {c.job_name for c in predicate.conditions}:
                    continue
                latest = {
                    c.job_name: _latest_run(session, c.job_name) for c in predicate.conditions
                }
                known = {k: v for k, v in latest.items() if v is not None}
                if predicate_met(predicate, known, row.armed_since):
                    row.armed_since = max(v[1] for v in known.values())
                    due.append(row.name)
        for name in due:
            values = {"trigger_name": name, "fire_time": _stamp(utcnow())}
            event = {"jobName": job, "jobRunId": run_id, "state": state}
            self.fire(name, "CONDITION", values, event)

    def on_object_event(self, event: ObjectEvent, principal: str) -> None:
        """Fire the activated EVENT triggers on ``event``'s bucket that match it."""
        with self.db.session() as session:
            rows = session.scalars(
                select(store.TriggerRecord).where(
                    store.TriggerRecord.bucket == event.bucket,
                    store.TriggerRecord.type == "EVENT",
                    store.TriggerRecord.state == "ACTIVATED",
                )
            ).all()
            wanted = [(row.name, dict(row.definition["event_source"])) for row in rows]
        for name, source in wanted:
            rules = [FilterRule(name="prefix", value=source["prefix"])] if source["prefix"] else []
            if source["suffix"]:
                rules.append(FilterRule(name="suffix", value=source["suffix"]))
            if not matches(event, source["events"], rules):
                continue
            region = self._arn_parts[1]
            document = s3_event(event, region=region, configuration_id=name, principal=principal)
            values = {
                "bucket": event.bucket,
                "key": event.key,
                "s3_uri": f"s3://{event.bucket}/{event.key}",
                "size": str(event.size),
                "etag": event.etag,
                "event_name": event.name,
                "event_time": _stamp(event.time),
                "trigger_name": name,
                "fire_time": _stamp(utcnow()),
            }
            self.fire(name, "EVENT", values, document)

    def _check_exists(self, name: str) -> None:
        with self.db.session() as session:
            self._get(session, name)

    def _deliver(self, name: str, payload: dict[str, Any]) -> None:
        """One attempt of a firing (the delivery worker's sender); raises to be retried."""
        perform(self, name, str(payload["trigger_run_id"]))

    # -- helpers ---------------------------------------------------------------------------------

    def trigger_arn(self, name: str) -> str:
        """The ARN of trigger ``name``."""
        account, region = self._arn_parts
        return arn("glue", f"trigger/{name}", account_id=account, region=region)

    @staticmethod
    def _get(session: Any, name: str) -> store.TriggerRecord:
        row: store.TriggerRecord | None = session.get(store.TriggerRecord, name)
        if row is None:
            raise _missing(name)
        return row

    @staticmethod
    def _fields(row: store.TriggerRecord) -> dict[str, Any]:
        return {
            **row.definition,
            "name": row.name,
            "id": row.trigger_id,
            "type": row.type,
            "state": row.state,
            "next_fire_time": row.next_fire_time,
            "created_on": row.creation_time,
            "last_modified_on": row.last_modified,
        }

    def _info(self, row: store.TriggerRecord) -> TriggerInfo:
        return TriggerInfo.model_validate(self._fields(row))


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _latest_run(session: Any, job: str) -> tuple[str, datetime] | None:
    run = session.scalars(
        select(store.EtlRunRecord)
        .where(store.EtlRunRecord.etl_job == job, store.EtlRunRecord.completed_on.is_not(None))
        .order_by(store.EtlRunRecord.completed_on.desc())
        .limit(1)
    ).first()
    if run is None or run.completed_on is None:
        return None
    return str(run.state), run.completed_on


def _run_info(row: store.TriggerRunRecord) -> TriggerRunInfo:
    event = row.event or {}
    return TriggerRunInfo(
        trigger_run_id=row.trigger_run_id,
        trigger_name=row.trigger_name,
        reason=row.reason,
        status=row.status,
        fired_on=row.fired_on,
        completed_on=row.completed_on,
        attempts=row.attempts,
        max_attempts=row.max_attempts,
        started=list(row.started),
        error_message=row.error_message,
        history=list(row.history),
        event=event.get("document"),
    )
