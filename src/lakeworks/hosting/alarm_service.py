"""Metric alarms over endpoint metrics: put, describe, delete; their states kept current.

CloudWatch's ``PutMetricAlarm``/``DescribeAlarms``/``DeleteAlarms`` for the endpoint metrics
Lakeworks keeps (namespace ``AWS/SageMaker``). Definitions and states live in
``hosting_alarms``; :class:`~lakeworks.hosting.alarms.AlarmEvaluator` evaluates them in process
and every state change is written back. Deployments roll back when one of their
``AutoRollbackConfiguration`` alarms is in ``ALARM`` (:mod:`.rollout`).

**Actions.** ``AlarmActions``, ``OKActions`` and ``InsufficientDataActions`` name ARNs of kinds a
handler registered (:meth:`AlarmService.register_actions`; Application Auto Scaling registers its
step scaling policies). Every ARN is checked when the alarm is put: one of no registered kind —
an SNS topic, an EC2 action — is refused with a ``ValidationError`` saying what is allowed, since
Lakeworks delivers no notifications and would otherwise drop them silently. As CloudWatch does
for Auto Scaling actions, an alarm runs the actions of its state after every period it closes
while it stays in that state (``ActionsEnabled`` false: never); the handler decides what that
does (a scaling policy keeps to its cooldown).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import NotFound, ValidationError
from lakeworks.core.names import arn, validate_tags
from lakeworks.core.settings import Settings
from lakeworks.db import Database
from lakeworks.hosting import store
from lakeworks.hosting.alarms import AlarmEvaluator
from lakeworks.hosting.metrics import MetricsRegistry
from lakeworks.hosting.store import AlarmRecord
from lakeworks.schemas.hosting import tag_map
from lakeworks.schemas.hosting_deployments import MetricAlarmInfo, MetricAlarmPut

__all__ = ["MAX_ALARMS", "AlarmAction", "AlarmActionHandler", "AlarmService"]

log = logging.getLogger("lakeworks.hosting")

#: Alarms one server keeps (each is evaluated every tick).
MAX_ALARMS = 1000


@dataclass(frozen=True)
class AlarmAction:
    """What an alarm tells the handler of one of its action ARNs."""

    alarm_name: str
    alarm_arn: str
    state: str
    threshold: float
    #: The alarm's latest datapoint (None: no data in its evaluation window).
    value: float | None
    #: The alarm's period in seconds.
    period: int


class AlarmActionHandler(Protocol):
    """Runs the actions of one kind of ARN (see :meth:`AlarmService.register_actions`)."""

    def check_action(self, action_arn: str) -> None:
        """Raise ValidationError when ``action_arn`` names nothing that can run."""

    def run_action(self, action_arn: str, action: AlarmAction) -> None:
        """Run the action (called from the alarm thread; must not block long)."""


_ACTION_FIELDS = {
    "ALARM": "AlarmActions",
    "OK": "OKActions",
    "INSUFFICIENT_DATA": "InsufficientDataActions",
}


def _actions(spec: MetricAlarmPut, state: str) -> list[str]:
    if state == "ALARM":
        return spec.alarm_actions
    if state == "OK":
        return spec.ok_actions
    return spec.insufficient_data_actions


class AlarmService:
    """Alarms and their evaluation (see the module docstring).

    Args:
        settings: The settings tree (account and region of ARNs).
        db: The metadata database.
        metrics: The endpoints' metrics.
        clock: Current UTC time.
    """

    def __init__(
        self,
        settings: Settings,
        db: Database,
        metrics: MetricsRegistry,
        clock: Callable[[], datetime],
    ) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock
        self.evaluator = AlarmEvaluator(metrics, self._record_state, on_period=self._run_actions)
        self._handlers: dict[str, AlarmActionHandler] = {}

    def register_actions(self, arn_prefix: str, handler: AlarmActionHandler) -> None:
        """Let alarms name ARNs starting with ``arn_prefix``; ``handler`` checks and runs them."""
        self._handlers[arn_prefix] = handler

    def _handler(self, action_arn: str) -> AlarmActionHandler | None:
        return next((h for p, h in self._handlers.items() if action_arn.startswith(p)), None)

    def _check_actions(self, spec: MetricAlarmPut) -> None:
        allowed = " or ".join(f"{p}..." for p in self._handlers) or "none on this server"
        for state, field in _ACTION_FIELDS.items():
            for action_arn in _actions(spec, state):
                handler = self._handler(action_arn)
                if handler is not None:
                    handler.check_action(action_arn)
                    continue
                kind = (
                    "an SNS topic: Lakeworks delivers no notifications"
                    if action_arn.startswith("arn:aws:sns:")
                    else "not an action Lakeworks can run"
                )
                raise ValidationError(
                    f"{field} names {action_arn!r}, {kind}; allowed actions are scaling "
                    f"policies of this server ({allowed})",
                    aws_code="ValidationError",
                )

    def _run_actions(self, spec: MetricAlarmPut, state: str, value: float | None) -> None:
        if not spec.actions_enabled:
            return
        alarm_arn = self._alarm_arn(spec.alarm_name)
        for action_arn in _actions(spec, state):
            handler = self._handler(action_arn)
            if handler is None:
                continue
            action = AlarmAction(
                spec.alarm_name, alarm_arn, state, spec.threshold, value, spec.period
            )
            try:
                handler.run_action(action_arn, action)
            except Exception:
                log.exception("alarm %s: action %s failed", spec.alarm_name, action_arn)

    def _alarm_arn(self, name: str) -> str:
        return arn(
            "cloudwatch",
            f"alarm:{name}",
            account_id=self.settings.aws.account_id,
            region=self.settings.aws.region,
        )

    def actions_index(self) -> dict[str, list[tuple[str, str]]]:
        """Every action ARN an alarm names → ``(AlarmName, AlarmARN)`` of those alarms."""
        with self.db.session() as session:
            records = list(store.list_records(session, AlarmRecord, AlarmRecord.name))
        index: dict[str, list[tuple[str, str]]] = {}
        for record in records:
            spec = MetricAlarmPut.model_validate(record.spec)
            named = {*spec.alarm_actions, *spec.ok_actions, *spec.insufficient_data_actions}
            for action_arn in sorted(named):
                index.setdefault(action_arn, []).append((record.name, record.arn))
        return index

    def start(self) -> None:
        """Load the stored alarms and start evaluating them."""
        with self.db.session() as session:
            records = list(store.list_records(session, AlarmRecord, AlarmRecord.name))
        for record in records:
            self.evaluator.put(
                MetricAlarmPut.model_validate(record.spec), record.state_value, record.state_reason
            )
        self.evaluator.start()

    def close(self) -> None:
        """Stop evaluating."""
        self.evaluator.close()

    def _record_state(self, name: str, value: str, reason: str) -> None:
        with self.db.session() as session:
            record = session.get(AlarmRecord, name)
            if record is not None:
                record.state_value, record.state_reason = value, reason[:1023]
                record.state_updated = self.clock()

    def put_metric_alarm(self, ctx: RequestContext, spec: MetricAlarmPut) -> None:
        """Create or replace an alarm (a replaced one starts again from no data).

        Raises:
            ValidationError: Bad tags, too many alarms, or an action that cannot run (an unknown
                scaling policy, an SNS topic).
        """
        ctx.require("write")
        validate_tags(tag_map(spec.tags))
        self._check_actions(spec)
        now = self.clock()
        reason = "Unchecked: Initial alarm creation"
        with self.db.session() as session:
            record = session.get(AlarmRecord, spec.alarm_name)
            if record is None:
                if session.query(AlarmRecord).count() >= MAX_ALARMS:
                    raise ValidationError(
                        f"This server keeps at most {MAX_ALARMS} alarms; delete some first",
                        aws_code="LimitExceeded",
                    )
                record = AlarmRecord(
                    name=spec.alarm_name,
                    arn=self._alarm_arn(spec.alarm_name),
                )
                session.add(record)
            record.spec = spec.model_dump(mode="json")
            record.state_value, record.state_reason = "INSUFFICIENT_DATA", reason
            record.state_updated = record.configuration_updated = now
        self.evaluator.put(spec)

    def describe_alarms(
        self,
        ctx: RequestContext,
        *,
        names: list[str] | None = None,
        prefix: str | None = None,
        state: str | None = None,
    ) -> list[MetricAlarmInfo]:
        """Alarms by name (all when ``names`` is empty), name prefix and state."""
        ctx.require("read")
        with self.db.session() as session:
            records = list(store.list_records(session, AlarmRecord, AlarmRecord.name))
        wanted = set(names or [])
        return [
            self._info(r)
            for r in records
            if (not wanted or r.name in wanted)
            and (prefix is None or r.name.startswith(prefix))
            and (state is None or r.state_value == state)
        ]

    def delete_alarms(self, ctx: RequestContext, names: list[str]) -> None:
        """Delete alarms (as CloudWatch: all named must exist, or nothing is deleted).

        Raises:
            NotFound: ``ResourceNotFound`` naming the alarms that do not exist.
        """
        ctx.require("write")
        with self.db.session() as session:
            found = {n: session.get(AlarmRecord, n) for n in names}
            missing = sorted(n for n, r in found.items() if r is None)
            if missing:
                raise NotFound(
                    f"No alarm named {', '.join(missing)}; nothing was deleted",
                    aws_code="ResourceNotFound",
                )
            for record in found.values():
                session.delete(record)
        for name in names:
            self.evaluator.remove(name)

    def names(self) -> set[str]:
        """Names of every alarm."""
        with self.db.session() as session:
            return {r.name for r in session.query(AlarmRecord.name).all()}

    def _info(self, record: AlarmRecord) -> MetricAlarmInfo:
        spec = MetricAlarmPut.model_validate(record.spec)
        live = self.evaluator.state(record.name)
        value, reason = live if live else (record.state_value, record.state_reason)
        return MetricAlarmInfo(
            alarm_arn=record.arn,
            state_value=value,
            state_reason=reason,
            state_updated_timestamp=record.state_updated,
            alarm_configuration_updated_timestamp=record.configuration_updated,
            **spec.model_dump(exclude={"tags"}),
        )
