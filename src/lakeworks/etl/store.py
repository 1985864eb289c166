"""Tables of the ETL domain (Glue jobs and their runs); nothing else touches them.

A run is also a job (``jobs`` table, job_type ``etl``, named ``job_name`` here): the job row
holds the process state machine; this row holds what Glue shows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lakeworks.db import Base

__all__ = ["EtlJobRecord", "EtlRunRecord"]


class EtlJobRecord(Base):
    """A Glue job definition (``CreateJob`` fields, as sent)."""

    __tablename__ = "etl_jobs"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    definition: Mapped[dict[str, Any]]
    principal: Mapped[str] = mapped_column(String(128))
    scopes: Mapped[list[Any]]
    creation_time: Mapped[datetime]
    last_modified: Mapped[datetime]


class EtlRunRecord(Base):
    """One run of a Glue job."""

    __tablename__ = "etl_runs"

    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    etl_job: Mapped[str] = mapped_column(String(255), index=True)
    #: The lakeworks job running this attempt.
    job_name: Mapped[str] = mapped_column(String(63), unique=True)
    #: STARTING, RUNNING, STOPPING, STOPPED, SUCCEEDED, FAILED, TIMEOUT, ERROR.
    state: Mapped[str] = mapped_column(String(16), index=True)
    arguments: Mapped[dict[str, Any]]
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    previous_run_id: Mapped[str | None] = mapped_column(String(64))
    trigger_name: Mapped[str | None] = mapped_column(String(255))
    error_message: Mapped[str | None] = mapped_column(Text)
    started_on: Mapped[datetime] = mapped_column(index=True)
    completed_on: Mapped[datetime | None]
    timeout: Mapped[int] = mapped_column(Integer)
    max_capacity: Mapped[float]
