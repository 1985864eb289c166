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

__all__ = ["EtlJobRecord", "EtlRunRecord", "TriggerRecord", "TriggerRunRecord"]


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


class TriggerRecord(Base):
    """A trigger (Glue's, or a native one: ``source`` says which API created it)."""

    __tablename__ = "etl_triggers"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    trigger_id: Mapped[str] = mapped_column(String(64))
    #: ``glue`` or ``native``; the Glue API lists only Glue's.
    source: Mapped[str] = mapped_column(String(16))
    #: SCHEDULED, ON_DEMAND, CONDITIONAL or EVENT.
    type: Mapped[str] = mapped_column(String(16), index=True)
    #: CREATED, ACTIVATED or DEACTIVATED.
    state: Mapped[str] = mapped_column(String(16), index=True)
    #: The TriggerCreate fields that define it (schedule, predicate, actions, event source).
    definition: Mapped[dict[str, Any]]
    #: The bucket of an EVENT trigger (looked up on every object event).
    bucket: Mapped[str | None] = mapped_column(String(63), index=True)
    next_fire_time: Mapped[datetime | None] = mapped_column(index=True)
    #: Conditions count only runs that ended after this (activation or the last firing).
    armed_since: Mapped[datetime]
    principal: Mapped[str] = mapped_column(String(128))
    scopes: Mapped[list[Any]]
    creation_time: Mapped[datetime]
    last_modified: Mapped[datetime]


class TriggerRunRecord(Base):
    """One firing of a trigger and its attempts."""

    __tablename__ = "etl_trigger_runs"

    trigger_run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    trigger_name: Mapped[str] = mapped_column(String(255), index=True)
    #: SCHEDULE, EVENT, CONDITION or MANUAL.
    reason: Mapped[str] = mapped_column(String(16))
    #: PENDING, RETRYING, SUCCEEDED or FAILED.
    status: Mapped[str] = mapped_column(String(16))
    fired_on: Mapped[datetime] = mapped_column(index=True)
    completed_on: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    #: ``[{"action": index, "kind", "target", "run_id"}]`` for each action already started.
    started: Mapped[list[Any]]
    error_message: Mapped[str | None] = mapped_column(Text)
    #: ``[{"time", "outcome", "error"}]`` per attempt.
    history: Mapped[list[Any]]
    event: Mapped[dict[str, Any] | None]
