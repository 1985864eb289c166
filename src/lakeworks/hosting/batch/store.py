"""The table of batch transform jobs and its queries; nothing outside this package touches it.

A transform job is a job (``jobs`` table, job_type ``transform``: lifecycle, concurrency limit,
crash recovery, stop, logs) plus a row here with what only batch transform knows: the request
as SageMaker shapes it, the ``.out`` objects written, and a failure found while uploading them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import String, Text, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from lakeworks.db import Base, Database

__all__ = ["TransformJobRecord", "get_transform", "get_transforms", "update_transform"]


class TransformJobRecord(Base):
    """What batch transform knows about one transform job (its job row holds the state)."""

    __tablename__ = "transform_jobs"

    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    arn: Mapped[str] = mapped_column(String(256))
    #: The CreateTransformJob request (snake_case, ``None`` fields left out).
    request: Mapped[dict[str, Any]]
    #: URIs of the ``.out`` objects uploaded after the job completed.
    outputs: Mapped[list[Any]]
    #: Records sent to the model (from the job's own summary).
    records: Mapped[int | None]
    #: Why uploading the outputs failed: the job then shows as Failed with this reason.
    upload_failure: Mapped[str | None] = mapped_column(Text)
    finished: Mapped[bool] = mapped_column(default=False)
    creation_time: Mapped[datetime] = mapped_column(index=True)


def get_transform(session: Session, name: str) -> TransformJobRecord | None:
    """The transform row of job ``name``."""
    return session.get(TransformJobRecord, name)


def get_transforms(session: Session, names: Sequence[str]) -> dict[str, TransformJobRecord]:
    """The transform rows of the jobs named, by name."""
    if not names:
        return {}
    rows = session.scalars(
        select(TransformJobRecord).where(TransformJobRecord.name.in_(list(names)))
    )
    return {row.name: row for row in rows}


def update_transform(db: Database, name: str, **values: Any) -> None:
    """Set columns of job ``name``'s transform row."""
    with db.session() as session:
        session.execute(
            update(TransformJobRecord).where(TransformJobRecord.name == name).values(**values)
        )
