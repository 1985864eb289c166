"""Wire shapes of jobs: what to run, where its data comes from and goes, and its state.

Field names follow SageMaker's training job (snake_cased) so the AWS front door maps them 1:1.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from lakeworks.core.names import NAME_PATTERN
from lakeworks.schemas.common import RequestModel, ResponseModel

__all__ = [
    "Channel",
    "JobCreate",
    "JobInfo",
    "JobLogs",
    "JobStatus",
    "JobSummary",
    "ResourceConfig",
    "SecondaryStatusTransition",
    "StoppingCondition",
]

JobStatus = Literal["InProgress", "Completed", "Failed", "Stopping", "Stopped"]
S3_URI = r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$"


class Channel(RequestModel):
    """An input channel staged into ``input/data/<channel_name>/`` before the job starts."""

    channel_name: str = Field(pattern=r"^[A-Za-z0-9\.\-_]+$", max_length=64)
    s3_uri: str = Field(pattern=S3_URI, description="Object or prefix to stage")
    content_type: str | None = None
    compression_type: Literal["None", "Gzip"] = "None"


class ResourceConfig(RequestModel):
    """Resources the job asks for (instance type maps to CPU/memory on the backend)."""

    instance_type: str = "ml.m5.large"
    instance_count: int = Field(1, ge=1, le=1, description="Only 1 on the local backend")
    volume_size_in_gb: int = Field(30, ge=1, le=16384)


class StoppingCondition(RequestModel):
    """Runtime limit; the job is stopped (and ends Failed) past it."""

    max_runtime_in_seconds: int = Field(86400, ge=1, le=28 * 86400)


class JobCreate(RequestModel):
    """Submit a job: a script from the lake run in the SageMaker container layout."""

    job_name: str = Field(pattern=NAME_PATTERN, min_length=1, max_length=63)
    job_type: Literal["script", "training", "processing", "etl", "transform"] = "script"
    code_uri: str | None = Field(
        None, pattern=S3_URI, description="A .py file, a .tar.gz of sources, or a prefix"
    )
    entry_point: str = Field(
        min_length=1, max_length=256, description="Script inside the code, e.g. train.py"
    )
    arguments: list[str] = Field(default_factory=list, max_length=256)
    hyperparameters: dict[str, str] = Field(default_factory=dict)
    environment: dict[str, str] = Field(default_factory=dict)
    input_data_config: list[Channel] = Field(default_factory=list, max_length=20)
    output_path: str | None = Field(
        None, pattern=S3_URI, description="model.tar.gz goes to <output_path>/<job>/output/"
    )
    resource_config: ResourceConfig = Field(default_factory=ResourceConfig)
    stopping_condition: StoppingCondition = Field(default_factory=StoppingCondition)
    tags: dict[str, str] = Field(default_factory=dict)


class SecondaryStatusTransition(ResponseModel):
    """One step of the job's progress (Starting, Downloading, Training, Uploading …)."""

    status: str
    start_time: datetime
    end_time: datetime | None = None
    status_message: str = ""


class JobSummary(ResponseModel):
    """A job in a list."""

    job_name: str
    job_arn: str
    job_type: str
    status: JobStatus
    secondary_status: str
    creation_time: datetime
    last_modified_time: datetime
    end_time: datetime | None = None


class JobInfo(JobSummary):
    """Everything about one job."""

    spec: JobCreate
    failure_reason: str | None = None
    exit_code: int | None = None
    start_time: datetime | None = None
    secondary_status_transitions: list[SecondaryStatusTransition] = Field(default_factory=list)
    model_artifacts: str | None = Field(None, description="s3:// URI of model.tar.gz")
    output_data: str | None = Field(None, description="s3:// prefix of output/data")
    log_uri: str | None = Field(None, description="s3:// URI of the archived log")


class JobLogs(ResponseModel):
    """A slice of a job's combined stdout/stderr, from byte ``offset``."""

    job_name: str
    offset: int
    next_offset: int
    data: str
    complete: bool = Field(description="True once the job ended and no more output will come")
