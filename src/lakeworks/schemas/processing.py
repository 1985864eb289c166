"""Wire shapes of processing jobs: SageMaker's CreateProcessingJob/DescribeProcessingJob.

As with training jobs, every field has its snake_case name (native REST, SDK) and SageMaker's
name as alias (``ProcessingJobName``), so the AWS front door is ``model_validate(body)`` and
``model_dump(by_alias=True)``. Fields accepted for compatibility without effect (network
config, experiment config, ``AppManaged``) are kept and echoed back by Describe.

Paths: ``LocalPath`` values name places in a SageMaker processing container
(``/opt/ml/processing/...``); Lakeworks maps ``/opt/ml/`` onto the job's own directory (see
``docs/processing.md``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from lakeworks.core.names import NAME_PATTERN
from lakeworks.schemas.training import S3_URI, AwsRequestModel, AwsResponseModel, Tag

__all__ = [
    "AppSpecification",
    "BuiltinJobConfig",
    "ProcessingClusterConfig",
    "ProcessingInput",
    "ProcessingJobCreate",
    "ProcessingJobInfo",
    "ProcessingJobStatus",
    "ProcessingJobSummary",
    "ProcessingOutput",
    "ProcessingOutputConfig",
    "ProcessingResources",
    "ProcessingS3Input",
    "ProcessingS3Output",
    "ProcessingStoppingCondition",
]

ProcessingJobStatus = Literal["InProgress", "Completed", "Failed", "Stopping", "Stopped"]
ROLE_ARN = r"^arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$"
LOCAL_PATH = r"^/[^\x00]*$"


class ProcessingS3Input(AwsRequestModel):
    """Data staged from the lake into ``local_path`` before the script starts."""

    s3_uri: str = Field(pattern=S3_URI, max_length=1024)
    local_path: str | None = Field(None, pattern=LOCAL_PATH, max_length=256)
    s3_data_type: Literal["ManifestFile", "S3Prefix"]
    s3_input_mode: Literal["Pipe", "File"] = "File"
    s3_data_distribution_type: Literal["FullyReplicated", "ShardedByS3Key"] = "FullyReplicated"
    s3_compression_type: Literal["None", "Gzip"] = "None"


class ProcessingInput(AwsRequestModel):
    """One input: an S3 input (dataset definitions from Athena/Redshift are refused)."""

    input_name: str = Field(min_length=1, max_length=256)
    app_managed: bool = False
    s3_input: ProcessingS3Input | None = None
    dataset_definition: dict[str, Any] | None = None


class ProcessingS3Output(AwsRequestModel):
    """Files under ``local_path`` uploaded under ``s3_uri`` when the job completes."""

    s3_uri: str = Field(pattern=S3_URI, max_length=1024)
    local_path: str | None = Field(None, pattern=LOCAL_PATH, max_length=256)
    s3_upload_mode: Literal["Continuous", "EndOfJob"] = "EndOfJob"


class ProcessingOutput(AwsRequestModel):
    """One output (feature store outputs are refused)."""

    output_name: str = Field(min_length=1, max_length=256)
    s3_output: ProcessingS3Output | None = None
    feature_store_output: dict[str, Any] | None = None
    app_managed: bool = False


class ProcessingOutputConfig(AwsRequestModel):
    """The job's outputs."""

    outputs: list[ProcessingOutput] = Field(max_length=10)
    kms_key_id: str | None = Field(None, max_length=2048)


class ProcessingClusterConfig(AwsRequestModel):
    """Instances: the type maps to CPUs on the backend; one instance on the local backend."""

    instance_count: int = Field(1, ge=1, le=100)
    instance_type: str = Field("ml.m5.large", max_length=64)
    volume_size_in_gb: int = Field(30, ge=1, le=16384)
    volume_kms_key_id: str | None = Field(None, max_length=2048)


class ProcessingResources(AwsRequestModel):
    """Resources the job asks for."""

    cluster_config: ProcessingClusterConfig = Field(default_factory=ProcessingClusterConfig)


class ProcessingStoppingCondition(AwsRequestModel):
    """Runtime limit; the job is stopped (and ends Failed) past it."""

    max_runtime_in_seconds: int = Field(ge=1, le=7 * 86400)


class AppSpecification(AwsRequestModel):
    """What runs: the image picks the Python, the entry point and arguments the script."""

    image_uri: str = Field(min_length=1, max_length=255)
    container_entrypoint: list[str] | None = Field(None, min_length=1, max_length=100)
    container_arguments: list[str] | None = Field(None, min_length=1, max_length=100)


class ProcessingJobCreate(AwsRequestModel):
    """CreateProcessingJob."""

    processing_job_name: str = Field(pattern=NAME_PATTERN, min_length=1, max_length=63)
    processing_inputs: list[ProcessingInput] = Field(default_factory=list, max_length=10)
    processing_output_config: ProcessingOutputConfig | None = None
    processing_resources: ProcessingResources = Field(default_factory=ProcessingResources)
    stopping_condition: ProcessingStoppingCondition | None = None
    app_specification: AppSpecification
    environment: dict[str, str] = Field(default_factory=dict, max_length=100)
    network_config: dict[str, Any] | None = None
    role_arn: str | None = Field(None, pattern=ROLE_ARN, max_length=2048)
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    experiment_config: dict[str, Any] | None = None


class ProcessingJobSummary(AwsResponseModel):
    """A processing job in a list."""

    processing_job_name: str
    processing_job_arn: str
    creation_time: datetime
    processing_end_time: datetime | None = None
    last_modified_time: datetime | None = None
    processing_job_status: ProcessingJobStatus
    failure_reason: str | None = None
    exit_message: str | None = None


class ProcessingJobInfo(ProcessingJobSummary):
    """DescribeProcessingJob: the request echoed back with the job's state.

    ``builtin`` names the Lakeworks runner of a recipe or profile job (``recipe-fit``,
    ``recipe-apply``, ``profile``) and ``outputs`` lists ``{OutputName: s3 URI}`` of what was
    uploaded; both are Lakeworks additions that SageMaker clients ignore.
    """

    processing_inputs: list[ProcessingInput] = Field(default_factory=list)
    processing_output_config: ProcessingOutputConfig | None = None
    processing_resources: ProcessingResources
    stopping_condition: ProcessingStoppingCondition | None = None
    app_specification: AppSpecification
    environment: dict[str, str] = Field(default_factory=dict)
    network_config: dict[str, Any] | None = None
    role_arn: str | None = None
    experiment_config: dict[str, Any] | None = None
    processing_start_time: datetime | None = None
    secondary_status: str | None = None
    builtin: str | None = None
    outputs: dict[str, str] = Field(default_factory=dict)


class BuiltinJobConfig(AwsResponseModel):
    """What a built-in runner (``lakeworks.processing.*_job``) reads from its config file.

    Attributes:
        task: ``recipe-fit``, ``recipe-apply`` or ``profile``.
        recipe: The recipe document to fit (``recipe-fit``).
        input_format: ``csv``, ``parquet`` or ``json``; None: from the file extension.
        output_format: Format of the transformed data; None: as the input (CSV for JSON).
        write_transformed: Whether a fit job also writes the transformed training data.
        delimiter: CSV field delimiter.
        sample, rows, seed: Profile sampling (``full``/``first``/``random``).
        title: Title of the profile report.
    """

    task: Literal["recipe-fit", "recipe-apply", "profile"]
    recipe: dict[str, Any] | None = None
    input_format: Literal["csv", "parquet", "json"] | None = None
    output_format: Literal["csv", "parquet"] | None = None
    write_transformed: bool = True
    delimiter: str | None = None
    sample: Literal["full", "first", "random"] = "full"
    rows: int | None = None
    seed: int = 0
    title: str | None = None
