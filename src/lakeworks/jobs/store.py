"""Tables of the jobs domain and their queries; nothing outside this module touches them.

Every change of a job row is a compare-and-set: ``UPDATE jobs ... WHERE name = :name AND
status = :seen_status AND version = :seen_version`` and a check that exactly one row changed. Two
supervisors (two servers on one database, or a restarted one racing its predecessor's
leftovers) therefore never both act on the same state: only one wins each transition, the other
re-reads and usually finds nothing left to do.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, String, Text, func, select, text, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from lakeworks.core.errors import ResourceInUse
from lakeworks.db import Base, Database

__all__ = [
    "ACTIVE_STATUSES",
    "TERMINAL_SECONDARY",
    "JobRecord",
    "advance",
    "claim_pending",
    "count_running",
    "get_job",
    "list_active",
    "query_jobs",
    "update_job",
]

#: Statuses of jobs that are not finished.
ACTIVE_STATUSES = ("InProgress", "Stopping")
#: Secondary statuses that end a job.
TERMINAL_SECONDARY = frozenset({"Completed", "Failed", "Stopped", "MaxRuntimeExceeded"})
_UPDATE_ATTEMPTS = 20
#: PostgreSQL advisory lock that serialises claims of concurrency slots ("jobs").
_CLAIM_LOCK = 0x6A6F6273


class JobRecord(Base):
    """One job: its spec, its state machine, and where its process and results are."""

    __tablename__ = "jobs"

    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    arn: Mapped[str] = mapped_column(String(256))
    job_type: Mapped[str] = mapped_column(String(32))
    spec: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), index=True)
    secondary_status: Mapped[str] = mapped_column(String(32))
    transitions: Mapped[list[Any]]
    #: Why a job is stopping: ``user`` (stop_job) or ``max_runtime``.
    stop_cause: Mapped[str | None] = mapped_column(String(16))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    exit_code: Mapped[int | None]
    #: Submitting principal and its scopes then: staging and uploads act on its behalf.
    principal: Mapped[str] = mapped_column(String(128))
    scopes: Mapped[list[Any]]
    #: The supervisor that runs the job (``host|lock file``); None while Pending.
    owner: Mapped[str | None] = mapped_column(String(1024))
    backend: Mapped[str | None] = mapped_column(String(32))
    handle: Mapped[dict[str, Any] | None]
    #: When the supervisor stops the job for exceeding MaxRuntimeInSeconds.
    deadline: Mapped[datetime | None]
    model_artifacts: Mapped[str | None] = mapped_column(String(2048))
    output_data: Mapped[str | None] = mapped_column(String(2048))
    log_uri: Mapped[str | None] = mapped_column(String(2048))
    creation_time: Mapped[datetime] = mapped_column(index=True)
    last_modified_time: Mapped[datetime]
    start_time: Mapped[datetime | None]
    end_time: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=0)


def get_job(session: Session, name: str) -> JobRecord | None:
    """Return the job named ``name``, if any."""
    return session.get(JobRecord, name)


def list_active(db: Database) -> list[JobRecord]:
    """Jobs that are not finished, oldest first."""
    with db.session() as session:
        return list(
            session.scalars(
                select(JobRecord)
                .where(JobRecord.status.in_(ACTIVE_STATUSES))
                .order_by(JobRecord.creation_time, JobRecord.name)
            )
        )


def _running_clause() -> ColumnElement[bool]:
    return (JobRecord.status.in_(ACTIVE_STATUSES)) & (JobRecord.secondary_status != "Pending")


def count_running(db: Database) -> int:
    """Jobs holding a concurrency slot: started and not finished."""
    with db.session() as session:
        return int(session.scalar(select(func.count()).where(_running_clause())) or 0)


def advance(
    record: JobRecord,
    secondary: str,
    now: datetime,
    *,
    status: str | None = None,
    message: str = "",
) -> dict[str, Any]:
    """Values that move ``record`` to secondary status ``secondary`` (and ``status``).

    Closes the current secondary status transition and opens the next; a terminal one is
    closed at once, and sets the job's end time, as SageMaker shows them.
    """
    transitions = [dict(t) for t in record.transitions]
    if transitions and transitions[-1].get("end_time") is None:
        transitions[-1]["end_time"] = now.isoformat()
    terminal = secondary in TERMINAL_SECONDARY
    transitions.append(
        {
            "status": secondary,
            "start_time": now.isoformat(),
            "end_time": now.isoformat() if terminal else None,
            "status_message": message,
        }
    )
    values: dict[str, Any] = {"secondary_status": secondary, "transitions": transitions}
    if status is not None:
        values["status"] = status
    if terminal:
        values["end_time"] = now
    return values


def _compare_and_set(
    db: Database,
    seen: JobRecord,
    values: dict[str, Any],
    now: datetime,
    *extra: Any,
    serialize: bool = False,
) -> bool:
    statement = (
        update(JobRecord)
        .where(
            JobRecord.name == seen.name,
            JobRecord.status == seen.status,
            JobRecord.version == seen.version,
            *extra,
        )
        .values(**values, version=seen.version + 1, last_modified_time=now)
        .execution_options(synchronize_session=False)
    )
    with db.session() as session:
        if serialize and session.get_bind().dialect.name == "postgresql":
            # READ COMMITTED would let two claims count the same free slot; SQLite already
            # serialises writers.
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CLAIM_LOCK})
        result = session.execute(statement)
        changed: int = result.rowcount  # type: ignore[attr-defined]
        return changed == 1


def update_job(
    db: Database,
    name: str,
    change: Callable[[JobRecord], dict[str, Any] | None],
    now: Callable[[], datetime],
) -> JobRecord | None:
    """Apply ``change`` to job ``name`` as a compare-and-set, re-reading on conflicts.

    Args:
        db: The database.
        name: The job.
        change: Given the job as it is now, returns the new column values, or None when the
            job is not in a state this change applies to. It may raise to refuse the change.
        now: The clock, for ``last_modified_time``.

    Returns:
        The job after the change, or None if there is no such job or ``change`` returned None.

    Raises:
        ResourceInUse: The job kept changing under us (should not happen outside of tests
            that hammer one job).
    """
    for _ in range(_UPDATE_ATTEMPTS):
        with db.session() as session:
            seen = get_job(session, name)
        if seen is None:
            return None
        values = change(seen)
        if values is None:
            return None
        if _compare_and_set(db, seen, values, now()):
            with db.session() as session:
                return get_job(session, name)
    raise ResourceInUse(f"Job {name!r} is being changed concurrently; try again")


def claim_pending(
    db: Database, seen: JobRecord, values: dict[str, Any], now: datetime, limit: int
) -> bool:
    """Move a Pending job on with ``values`` if it is still Pending and a slot is free.

    The slot check is part of the same UPDATE, and claims are serialised (SQLite serialises
    writers; on PostgreSQL an advisory transaction lock does), so supervisors sharing the
    database cannot overfill the limit between counting and claiming.
    """
    running = select(func.count()).select_from(JobRecord).where(_running_clause())
    return _compare_and_set(
        db,
        seen,
        values,
        now,
        JobRecord.secondary_status == "Pending",
        running.scalar_subquery() < limit,
        serialize=True,
    )


def query_jobs(
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
    job_type: str | None = None,
) -> Sequence[JobRecord]:
    """One page of jobs matching the filters (``limit + 1`` rows tell whether more follow)."""
    query = select(JobRecord)
    if job_type is not None:
        query = query.where(JobRecord.job_type == job_type)
    if status_equals is not None:
        query = query.where(JobRecord.status == status_equals)
    if name_contains:
        escaped = name_contains.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(func.lower(JobRecord.name).like(f"%{escaped.lower()}%", escape="\\"))
    if created_after is not None:
        query = query.where(JobRecord.creation_time > created_after)
    if created_before is not None:
        query = query.where(JobRecord.creation_time < created_before)
    column = {
        "Name": JobRecord.name,
        "CreationTime": JobRecord.creation_time,
        "Status": JobRecord.status,
    }[sort_by]
    order = [column.desc(), JobRecord.name.desc()] if descending else [column, JobRecord.name]
    return session.scalars(query.order_by(*order).offset(offset).limit(limit + 1)).all()
