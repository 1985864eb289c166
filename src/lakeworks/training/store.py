"""Tables of the training domain and their queries; nothing outside this module touches them.

A training job is a job (``jobs`` table, job_type ``training``) plus a row here holding what
only training knows: the request as SageMaker shapes it, the algorithm or framework, the metric
definitions, the run record (final metrics, inputs with ETags, the artifact) and how far the
log has been ingested.

Log ingestion is a compare-and-set on ``log_offset``: the events (one per complete log line,
timestamped when the server first read it) and the metric points parsed from them are inserted
in the same transaction that moves the offset, so a line is ingested exactly once even when the
monitor thread and the job's finish step (or two servers) race.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, Integer, String, Text, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from lakeworks.db import Base, Database

__all__ = [
    "LogEventRecord",
    "MetricPointRecord",
    "NewEvent",
    "NewPoint",
    "TrainingJobRecord",
    "get_by_arn",
    "get_training",
    "get_trainings",
    "ingest",
    "metric_points",
    "query_events",
    "update_training",
]


class TrainingJobRecord(Base):
    """What training knows about one training job (its job row holds the state machine)."""

    __tablename__ = "training_jobs"

    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    arn: Mapped[str] = mapped_column(String(256))
    #: The CreateTrainingJob request (snake_case, ``None`` fields left out).
    request: Mapped[dict[str, Any]]
    #: ``builtin`` (a built-in algorithm) or ``script`` (a framework image in script mode).
    mode: Mapped[str] = mapped_column(String(16))
    algorithm: Mapped[str | None] = mapped_column(String(64))
    framework: Mapped[str | None] = mapped_column(String(64))
    tuning_job_name: Mapped[str | None] = mapped_column(String(63), index=True)
    #: Effective metric definitions: the user's plus the built-in algorithm's.
    metric_definitions: Mapped[list[Any]]
    final_metrics: Mapped[list[Any]]
    inputs: Mapped[list[Any]]
    model_artifact: Mapped[dict[str, Any] | None]
    #: Bytes of the job's log ingested as events so far, and the number of events.
    log_offset: Mapped[int] = mapped_column(BigInteger, default=0)
    log_events: Mapped[int] = mapped_column(Integer, default=0)
    #: The CloudWatch-style stream name, fixed when the first event is ingested.
    log_stream: Mapped[str | None] = mapped_column(String(256))
    finished: Mapped[bool] = mapped_column(default=False)
    creation_time: Mapped[datetime] = mapped_column(index=True)


class LogEventRecord(Base):
    """One log line of a training job, as a CloudWatch Logs event."""

    __tablename__ = "training_log_events"

    job_name: Mapped[str] = mapped_column(String(63), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: Milliseconds since the epoch (CloudWatch's unit).
    timestamp: Mapped[int] = mapped_column(BigInteger, index=True)
    ingestion_time: Mapped[int] = mapped_column(BigInteger)
    message: Mapped[str] = mapped_column(Text)


class MetricPointRecord(Base):
    """One value of a metric: the ``step``-th match of its definition in the log."""

    __tablename__ = "training_metric_points"

    job_name: Mapped[str] = mapped_column(String(63), primary_key=True)
    metric_name: Mapped[str] = mapped_column(String(255), primary_key=True)
    step: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    timestamp: Mapped[datetime]


@dataclass(frozen=True)
class NewEvent:
    """A log line about to be ingested."""

    timestamp: int
    message: str


@dataclass(frozen=True)
class NewPoint:
    """A metric value about to be recorded."""

    metric_name: str
    value: float
    timestamp: datetime


class _Conflict(Exception):
    """Someone else moved the offset first; this transaction rolls back."""


def get_training(session: Session, name: str) -> TrainingJobRecord | None:
    """The training row of job ``name``, if any."""
    return session.get(TrainingJobRecord, name)


def get_by_arn(session: Session, arn: str) -> TrainingJobRecord | None:
    """The training row with ARN ``arn``, if any."""
    return session.scalars(select(TrainingJobRecord).where(TrainingJobRecord.arn == arn)).first()


def get_trainings(session: Session, names: Sequence[str]) -> dict[str, TrainingJobRecord]:
    """Training rows by job name, for the names that have one."""
    if not names:
        return {}
    rows = session.scalars(select(TrainingJobRecord).where(TrainingJobRecord.name.in_(names)))
    return {row.name: row for row in rows}


def update_training(db: Database, name: str, **values: Any) -> None:
    """Set columns of job ``name``'s training row (plain overwrite: single-writer columns)."""
    with db.session() as session:
        session.execute(
            update(TrainingJobRecord).where(TrainingJobRecord.name == name).values(**values)
        )


def ingest(
    db: Database,
    name: str,
    *,
    seen_offset: int,
    new_offset: int,
    stream: str,
    events: Sequence[NewEvent],
    points: Sequence[NewPoint],
    ingestion_time: int,
) -> bool:
    """Record ``events`` and ``points`` and move the log offset, if nobody moved it meanwhile.

    Returns:
        True when recorded; False when the offset was no longer ``seen_offset`` (nothing
        written; the caller re-reads and tries again from the new offset).
    """
    try:
        with db.session() as session:
            row = session.get(TrainingJobRecord, name)
            if row is None or row.log_offset != seen_offset:
                raise _Conflict
            first = row.log_events
            result = session.execute(
                update(TrainingJobRecord)
                .where(
                    TrainingJobRecord.name == name,
                    TrainingJobRecord.log_offset == seen_offset,
                )
                .values(
                    log_offset=new_offset,
                    log_events=first + len(events),
                    log_stream=row.log_stream or stream,
                )
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                raise _Conflict
            session.add_all(
                LogEventRecord(
                    job_name=name,
                    seq=first + i,
                    timestamp=event.timestamp,
                    ingestion_time=ingestion_time,
                    message=event.message,
                )
                for i, event in enumerate(events)
            )
            if points:
                steps = dict(
                    session.execute(
                        select(MetricPointRecord.metric_name, func.max(MetricPointRecord.step))
                        .where(MetricPointRecord.job_name == name)
                        .group_by(MetricPointRecord.metric_name)
                    ).all()
                )
                for point in points:
                    step = int(steps.get(point.metric_name) or 0) + 1
                    steps[point.metric_name] = step
                    session.add(
                        MetricPointRecord(
                            job_name=name,
                            metric_name=point.metric_name,
                            step=step,
                            value=point.value,
                            timestamp=point.timestamp,
                        )
                    )
    except _Conflict:
        return False
    return True


def query_events(
    session: Session,
    name: str,
    *,
    seq_from: int = 0,
    seq_before: int | None = None,
    start_time: int | None = None,
    end_time: int | None = None,
    limit: int,
    newest_first: bool = False,
) -> Sequence[LogEventRecord]:
    """Events of job ``name`` with ``seq_from <= seq < seq_before`` and a timestamp in
    ``[start_time, end_time)``, oldest first (or newest first), at most ``limit``."""
    query = select(LogEventRecord).where(
        LogEventRecord.job_name == name, LogEventRecord.seq >= seq_from
    )
    if seq_before is not None:
        query = query.where(LogEventRecord.seq < seq_before)
    if start_time is not None:
        query = query.where(LogEventRecord.timestamp >= start_time)
    if end_time is not None:
        query = query.where(LogEventRecord.timestamp < end_time)
    order = LogEventRecord.seq.desc() if newest_first else LogEventRecord.seq
    return session.scalars(query.order_by(order).limit(limit)).all()


def metric_points(
    session: Session, name: str, metric_name: str | None = None
) -> Sequence[MetricPointRecord]:
    """The metric points of job ``name`` (of one metric if given), by metric and step."""
    query = select(MetricPointRecord).where(MetricPointRecord.job_name == name)
    if metric_name is not None:
        query = query.where(MetricPointRecord.metric_name == metric_name)
    return session.scalars(
        query.order_by(MetricPointRecord.metric_name, MetricPointRecord.step)
    ).all()
