"""Wire shapes of batch transform jobs: SageMaker's CreateTransformJob/DescribeTransformJob.

As everywhere, each field has its snake_case name (native REST, SDK) and SageMaker's name as
alias (``TransformJobName``, ``MaxPayloadInMB``), so the AWS front door validates with
``model_validate`` and answers with ``model_dump(by_alias=True)``. Fields accepted without
effect (KMS keys, ``DataCaptureConfig``, ``ExperimentConfig``) are kept and echoed back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from lakeworks.core.names import NAME_PATTERN
from lakeworks.schemas.training import S3_URI, AwsRequestModel, AwsResponseModel, Tag

__all__ = [
    "BatchDataCaptureConfig",
    "DataProcessing",
    "ModelClientConfig",
    "TransformDataSource",
    "TransformInput",
    "TransformJobCreate",
    "TransformJobInfo",
    "TransformJobStatus",
    "TransformJobSummary",
    "TransformOutput",
    "TransformResources",
    "TransformS3DataSource",
]

TransformJobStatus = Literal["InProgress", "Completed", "Failed", "Stopping", "Stopped"]
SplitType = Literal["None", "Line", "RecordIO", "TFRecord"]
BatchStrategy = Literal["MultiRecord", "SingleRecord"]
MODEL_NAME = r"^[a-zA-Z0-9]([\-a-zA-Z0-9]*[a-zA-Z0-9])?$"


class TransformS3DataSource(AwsRequestModel):
    """Every object under ``s3_uri`` (S3Prefix), or those a manifest lists (ManifestFile)."""

    s3_data_type: Literal["S3Prefix", "ManifestFile"]
    s3_uri: str = Field(pattern=S3_URI, max_length=1024)


class TransformDataSource(AwsRequestModel):
    """Where the input is."""

    s3_data_source: TransformS3DataSource


class TransformInput(AwsRequestModel):
    """The input objects and how each is cut into records."""

    data_source: TransformDataSource
    content_type: str | None = Field(None, max_length=256)
    compression_type: Literal["None", "Gzip"] = "None"
    split_type: SplitType = "None"


class TransformOutput(AwsRequestModel):
    """Where ``<input-key>.out`` objects go and how records are put together."""

    s3_output_path: str = Field(pattern=S3_URI, max_length=1024)
    accept: str | None = Field(None, max_length=256)
    assemble_with: Literal["None", "Line"] = "None"
    kms_key_id: str | None = Field(None, max_length=2048)


class TransformResources(AwsRequestModel):
    """Instances (the local backend runs one; concurrency comes from MaxConcurrentTransforms)."""

    instance_type: str = Field(max_length=64)
    instance_count: int = Field(ge=1)
    volume_kms_key_id: str | None = Field(None, max_length=2048)
    transform_ami_version: str | None = Field(None, max_length=63)


class ModelClientConfig(AwsRequestModel):
    """Per-invocation timeout and retries."""

    invocations_timeout_in_seconds: int | None = Field(None, ge=1, le=3600)
    invocations_max_retries: int | None = Field(None, ge=0, le=3)


class DataProcessing(AwsRequestModel):
    """JSONPath filters on each input and output record, and joining the input to the output."""

    input_filter: str | None = Field(None, max_length=63)
    output_filter: str | None = Field(None, max_length=63)
    join_source: Literal["Input", "None"] = "None"


class BatchDataCaptureConfig(AwsRequestModel):
    """Accepted and echoed back (batch capture is not written)."""

    destination_s3_uri: str = Field(pattern=S3_URI, max_length=1024)
    kms_key_id: str | None = Field(None, max_length=2048)
    generate_inference_id: bool | None = None


class TransformJobCreate(AwsRequestModel):
    """CreateTransformJob."""

    transform_job_name: str = Field(pattern=NAME_PATTERN, min_length=1, max_length=63)
    model_name: str = Field(pattern=MODEL_NAME, min_length=1, max_length=63)
    max_concurrent_transforms: int | None = Field(None, ge=0)
    model_client_config: ModelClientConfig | None = None
    max_payload_in_mb: int | None = Field(None, ge=0, le=100, alias="MaxPayloadInMB")
    batch_strategy: BatchStrategy | None = None
    environment: dict[str, str] = Field(default_factory=dict, max_length=16)
    transform_input: TransformInput
    transform_output: TransformOutput
    data_capture_config: BatchDataCaptureConfig | None = None
    transform_resources: TransformResources
    data_processing: DataProcessing | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    experiment_config: dict[str, Any] | None = None


class TransformJobSummary(AwsResponseModel):
    """A transform job in a list."""

    transform_job_name: str
    transform_job_arn: str
    creation_time: datetime
    transform_end_time: datetime | None = None
    last_modified_time: datetime | None = None
    transform_job_status: TransformJobStatus
    failure_reason: str | None = None


class TransformJobInfo(TransformJobSummary):
    """DescribeTransformJob: the request echoed back with the job's state.

    ``outputs`` (a Lakeworks addition SageMaker clients ignore) lists the ``.out`` objects
    written, ``records`` how many records went through the model.
    """

    model_name: str
    max_concurrent_transforms: int | None = None
    model_client_config: ModelClientConfig | None = None
    max_payload_in_mb: int | None = Field(None, alias="MaxPayloadInMB")
    batch_strategy: BatchStrategy | None = None
    environment: dict[str, str] = Field(default_factory=dict)
    transform_input: TransformInput
    transform_output: TransformOutput | None = None
    data_capture_config: BatchDataCaptureConfig | None = None
    transform_resources: TransformResources
    data_processing: DataProcessing | None = None
    experiment_config: dict[str, Any] | None = None
    transform_start_time: datetime | None = None
    outputs: list[str] = Field(default_factory=list)
    records: int | None = None
