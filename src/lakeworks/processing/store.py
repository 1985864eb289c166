"""Tables of the processing domain and their queries; nothing outside this module touches them.

A processing job is a job (``jobs`` table, job_type ``processing``) plus a row here holding what
only processing knows: the request as SageMaker shapes it, the built-in runner's config for
recipe and profile jobs, where the outputs went, and a failure found while uploading them.

Recipes are stored one row per version; a version is never changed once stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, Text, delete, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from lakeworks.db import Base, Database

__all__ = [
    "ProcessingJobRecord",
    "RecipeVersionRecord",
    "delete_recipe_versions",
    "get_processing",
    "get_processings",
    "recipe_names",
    "recipe_versions",
    "update_processing",
]


class ProcessingJobRecord(Base):
    """What processing knows about one processing job (its job row holds the state machine)."""

    __tablename__ = "processing_jobs"

    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    arn: Mapped[str] = mapped_column(String(256))
    #: The CreateProcessingJob request (snake_case, ``None`` fields left out).
    request: Mapped[dict[str, Any]]
    #: ``recipe-fit``, ``recipe-apply``, ``profile`` for built-in runners; None for scripts.
    builtin: Mapped[str | None] = mapped_column(String(32))
    #: The built-in runner's config (``BuiltinJobConfig``), written into the job at prepare.
    builtin_config: Mapped[dict[str, Any] | None]
    #: ``{OutputName: s3 URI}`` of the outputs uploaded after the job completed.
    outputs: Mapped[dict[str, Any]]
    #: Why uploading the outputs failed: the job then shows as Failed with this reason.
    upload_failure: Mapped[str | None] = mapped_column(Text)
    exit_message: Mapped[str | None] = mapped_column(Text)
    finished: Mapped[bool] = mapped_column(default=False)
    creation_time: Mapped[datetime] = mapped_column(index=True)


class RecipeVersionRecord(Base):
    """One stored version of a recipe (the library's document, ``version`` set to ours)."""

    __tablename__ = "recipe_versions"

    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    document: Mapped[dict[str, Any]]
    description: Mapped[str] = mapped_column(Text, default="")
    steps: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(256))
    creation_time: Mapped[datetime] = mapped_column(index=True)


def get_processing(session: Session, name: str) -> ProcessingJobRecord | None:
    """The processing row of job ``name``."""
    return session.get(ProcessingJobRecord, name)


def get_processings(session: Session, names: Sequence[str]) -> dict[str, ProcessingJobRecord]:
    """The processing rows of the jobs named, by name (jobs without one are left out)."""
    if not names:
        return {}
    rows = session.scalars(
        select(ProcessingJobRecord).where(ProcessingJobRecord.name.in_(list(names)))
    )
    return {row.name: row for row in rows}


def update_processing(db: Database, name: str, **values: Any) -> None:
    """Set columns of job ``name``'s processing row."""
    with db.session() as session:
        session.execute(
            update(ProcessingJobRecord).where(ProcessingJobRecord.name == name).values(**values)
        )


def recipe_versions(session: Session, name: str) -> list[RecipeVersionRecord]:
    """Every stored version of recipe ``name``, oldest first."""
    return list(
        session.scalars(
            select(RecipeVersionRecord)
            .where(RecipeVersionRecord.name == name)
            .order_by(RecipeVersionRecord.version)
        )
    )


def recipe_names(
    session: Session, *, name_contains: str | None, after: str | None, limit: int
) -> list[str]:
    """Distinct recipe names in order, after ``after``, at most ``limit``."""
    query = select(RecipeVersionRecord.name).distinct().order_by(RecipeVersionRecord.name)
    if name_contains:
        query = query.where(RecipeVersionRecord.name.contains(name_contains, autoescape=True))
    if after:
        query = query.where(RecipeVersionRecord.name > after)
    return list(session.scalars(query.limit(limit)))


def delete_recipe_versions(session: Session, name: str, version: int | None) -> int:
    """Delete one version of recipe ``name`` (or all with ``None``); return how many."""
    statement = delete(RecipeVersionRecord).where(RecipeVersionRecord.name == name)
    if version is not None:
        statement = statement.where(RecipeVersionRecord.version == version)
    return int(session.execute(statement).rowcount or 0)  # type: ignore[attr-defined]
