"""Metric alarms over endpoint metrics: put, describe, delete; their states kept current.

CloudWatch's ``PutMetricAlarm``/``DescribeAlarms``/``DeleteAlarms`` for the endpoint metrics
Lakeworks keeps (namespace ``AWS/SageMaker``). Definitions and states live in
``hosting_alarms``; :class:`~lakeworks.hosting.alarms.AlarmEvaluator` evaluates them in process
and every state change is written back. Deployments roll back when one of their
``AutoRollbackConfiguration`` alarms is in ``ALARM`` (:mod:`.rollout`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

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

__all__ = ["MAX_ALARMS", "AlarmService"]

#: Alarms one server keeps (each is evaluated every tick).
MAX_ALARMS = 1000


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
        self.evaluator = AlarmEvaluator(metrics, self._record_state)

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
            ValidationError: Bad tags, or too many alarms.
        """
        ctx.require("write")
        validate_tags(tag_map(spec.tags))
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
                    arn=arn(
                        "cloudwatch",
                        f"alarm:{spec.alarm_name}",
                        account_id=self.settings.aws.account_id,
                        region=self.settings.aws.region,
                    ),
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
