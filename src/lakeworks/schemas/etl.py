"""ETL jobs (Glue Python shell): the wire contract, in Glue's field names."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_pascal

__all__ = ["EtlCommand", "EtlJobCreate", "EtlJobInfo", "EtlRunInfo", "ExecutionProperty"]


class _Glue(BaseModel):
    # Glue clients send fields Lakeworks does not use (Connections, WorkerType …): ignored.
    model_config = ConfigDict(alias_generator=to_pascal, populate_by_name=True, extra="ignore")


class EtlCommand(_Glue):
    """The job's command: ``pythonshell`` with a script in the lake."""

    name: str = Field(min_length=1, max_length=64)
    script_location: str = Field(pattern=r"^s3://[^/]+/.+", max_length=1024)
    python_version: str | None = None


class ExecutionProperty(_Glue):
    """How many runs of the job may run at once."""

    max_concurrent_runs: int = Field(1, ge=1, le=1000)


class EtlJobCreate(_Glue):
    """CreateJob (and UpdateJob's JobUpdate, with ``name`` from the request)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", min_length=1, max_length=255)
    role: str | None = Field(None, max_length=1024)
    description: str = Field("", max_length=2048)
    command: EtlCommand
    default_arguments: dict[str, str] = Field(default_factory=dict)
    non_overridable_arguments: dict[str, str] = Field(default_factory=dict)
    max_capacity: float | None = Field(None, ge=0.0625, le=100)
    timeout: int = Field(2880, ge=1, le=10080, description="Minutes")
    max_retries: int = Field(0, ge=0, le=10)
    execution_property: ExecutionProperty = Field(default_factory=ExecutionProperty)
    glue_version: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)


class EtlJobInfo(EtlJobCreate):
    """A job as GetJob shows it."""

    created_on: datetime
    last_modified_on: datetime


class EtlRunInfo(_Glue):
    """A job run as GetJobRun shows it."""

    id: str
    attempt: int
    previous_run_id: str | None = None
    trigger_name: str | None = None
    job_name: str
    started_on: datetime
    last_modified_on: datetime
    completed_on: datetime | None = None
    job_run_state: str
    arguments: dict[str, str] = Field(default_factory=dict)
    error_message: str | None = None
    execution_time: int = 0
    timeout: int
    max_capacity: float
    log_group_name: str = "/aws-glue/python-jobs"
    extra: dict[str, Any] = Field(default_factory=dict, exclude=True)
