"""Tables of the tuning domain and their queries; nothing outside this module touches them.

A tuning job row holds the request and the job's state; each trial is a row naming the
training job it runs as and the values it tried. A trial row is written *before* its training
job is created, and ``(tuning_job_name, number)`` is its key, so a controller that dies between
the two (or two controllers racing) never launches a trial twice: the next pass finds the row
and creates the missing training job, or the second insert fails.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Float, Integer, String, Text, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from lakeworks.db import Base, Database

__all__ = [
    "ACTIVE",
    "TrialRecord",
    "TuningJobRecord",
    "add_trial",
    "get_by_arn",
    "get_tuning",
    "list_active",
    "query_tunings",
    "trials_of",
    "update_trial",
    "update_tuning",
]

ACTIVE = ("InProgress", "Stopping")


class TuningJobRecord(Base):
    """One hyperparameter tuning job."""

    __tablename__ = "tuning_jobs"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    arn: Mapped[str] = mapped_column(String(256))
    #: The CreateHyperParameterTuningJob request (snake_case, ``None`` fields left out).
    request: Mapped[dict[str, Any]]
    strategy: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    #: Why it ended early, if it did (target reached, not improving, time limit).
    completion_reason: Mapped[str | None] = mapped_column(Text)
    seed: Mapped[int] = mapped_column(Integer)
    principal: Mapped[str] = mapped_column(String(128))
    scopes: Mapped[list[Any]]
    creation_time: Mapped[datetime] = mapped_column(index=True)
    last_modified_time: Mapped[datetime]
    end_time: Mapped[datetime | None]


class TrialRecord(Base):
    """One trial: a training job with one set of tuned values."""

    __tablename__ = "tuning_trials"

    tuning_job_name: Mapped[str] = mapped_column(String(32), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    training_job_name: Mapped[str] = mapped_column(String(63), unique=True)
    #: Tuned hyperparameters as the training job received them.
    params: Mapped[dict[str, Any]]
    #: The training job's status as last seen (``InProgress`` until it ends).
    status: Mapped[str] = mapped_column(String(16))
    objective_status: Mapped[str] = mapped_column(String(16), default="Pending")
    objective_value: Mapped[float | None] = mapped_column(Float)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    early_stopped: Mapped[bool] = mapped_column(default=False)
    creation_time: Mapped[datetime]
    start_time: Mapped[datetime | None]
    end_time: Mapped[datetime | None]


def get_tuning(session: Session, name: str) -> TuningJobRecord | None:
    """The tuning job named ``name``, if any."""
    return session.get(TuningJobRecord, name)


def get_by_arn(session: Session, arn: str) -> TuningJobRecord | None:
    """The tuning job with ARN ``arn``, if any."""
    return session.scalars(select(TuningJobRecord).where(TuningJobRecord.arn == arn)).first()


def list_active(db: Database) -> list[TuningJobRecord]:
    """Tuning jobs not yet ended, oldest first."""
    with db.session() as session:
        return list(
            session.scalars(
                select(TuningJobRecord)
                .where(TuningJobRecord.status.in_(ACTIVE))
                .order_by(TuningJobRecord.creation_time)
            )
        )


def update_tuning(db: Database, name: str, *, expect: str | None = None, **values: Any) -> bool:
    """Set columns of tuning job ``name``; with ``expect``, only if its status is that."""
    statement = update(TuningJobRecord).where(TuningJobRecord.name == name)
    if expect is not None:
        statement = statement.where(TuningJobRecord.status == expect)
    with db.session() as session:
        result = session.execute(statement.values(**values))
        changed: int = result.rowcount  # type: ignore[attr-defined]
    return changed == 1


def trials_of(session: Session, name: str) -> Sequence[TrialRecord]:
    """The trials of tuning job ``name`` by number."""
    return session.scalars(
        select(TrialRecord).where(TrialRecord.tuning_job_name == name).order_by(TrialRecord.number)
    ).all()


def add_trial(db: Database, trial: TrialRecord) -> bool:
    """Insert a trial; False when that number (or training job name) is taken already."""
    try:
        with db.session() as session:
            session.add(trial)
    except IntegrityError:
        return False
    return True


def update_trial(db: Database, tuning_job_name: str, number: int, **values: Any) -> None:
    """Set columns of one trial."""
    with db.session() as session:
        session.execute(
            update(TrialRecord)
            .where(TrialRecord.tuning_job_name == tuning_job_name, TrialRecord.number == number)
            .values(**values)
        )


def query_tunings(
    session: Session,
    *,
    status_equals: str | None,
    name_contains: str | None,
    created_after: datetime | None,
    created_before: datetime | None,
    sort_by: str,
    descending: bool,
    offset: int,
    limit: int,
) -> Sequence[TuningJobRecord]:
    """One page of tuning jobs matching the filters (``limit + 1`` rows: whether more follow)."""
    query = select(TuningJobRecord)
    if status_equals is not None:
        query = query.where(TuningJobRecord.status == status_equals)
    if name_contains:
        escaped = name_contains.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(
            func.lower(TuningJobRecord.name).like(f"%{escaped.lower()}%", escape="\\")
        )
    if created_after is not None:
        query = query.where(TuningJobRecord.creation_time > created_after)
    if created_before is not None:
        query = query.where(TuningJobRecord.creation_time < created_before)
    column = {
        "Name": TuningJobRecord.name,
        "CreationTime": TuningJobRecord.creation_time,
        "Status": TuningJobRecord.status,
    }[sort_by]
    order = (
        [column.desc(), TuningJobRecord.name.desc()]
        if descending
        else [column, TuningJobRecord.name]
    )
    return session.scalars(query.order_by(*order).offset(offset).limit(limit + 1)).all()
