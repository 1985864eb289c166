"""Wire shapes of training jobs: SageMaker's CreateTrainingJob/DescribeTrainingJob, one model.

Every field has two names: the snake_case one the native REST API and SDK use
(``training_job_name``) and SageMaker's own as its alias (``TrainingJobName``), so the AWS front
door validates a request with ``model_validate(body)`` and answers with
``model_dump(by_alias=True)`` — a lookup, not a second implementation. Fields Lakeworks accepts
for compatibility without acting on them (VPC, debugger, profiler …) are kept and echoed back
by Describe, as SageMaker does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from lakeworks.core.names import NAME_PATTERN

__all__ = [
    "AWS_ALIASES",
    "S3_URI",
    "AlgorithmSpecification",
    "AwsRequestModel",
    "AwsResponseModel",
    "Channel",
    "CheckpointConfig",
    "DataSource",
    "FinalMetric",
    "InputLineage",
    "LearningCurvePoint",
    "MetricDefinition",
    "MetricSeries",
    "ModelArtifacts",
    "ObjectLineage",
    "OutputDataConfig",
    "ResourceConfig",
    "S3DataSource",
    "SecondaryStatusTransition",
    "ShuffleConfig",
    "StoppingCondition",
    "Tag",
    "TrainingInputMode",
    "TrainingJobCreate",
    "TrainingJobInfo",
    "TrainingJobMetrics",
    "TrainingJobStatus",
    "TrainingJobSummary",
    "aws_name",
]

S3_URI = r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$"
ROLE_ARN = r"^arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$"
TrainingJobStatus = Literal["InProgress", "Completed", "Failed", "Stopping", "Stopped"]
TrainingInputMode = Literal["File", "Pipe", "FastFile"]

#: snake_case words whose SageMaker spelling is not simply capitalised.
AWS_ALIASES: dict[str, str] = {
    "hyperparameters": "HyperParameters",
    "static_hyperparameters": "StaticHyperParameters",
    "tuned_hyperparameters": "TunedHyperParameters",
    "volume_size_in_gb": "VolumeSizeInGB",
    "enable_sagemaker_metrics_time_series": "EnableSageMakerMetricsTimeSeries",
    "tensorboard_output_config": "TensorBoardOutputConfig",
}


def aws_name(field: str) -> str:
    """SageMaker's name of a snake_case field: ``s3_output_path`` → ``S3OutputPath``."""
    return AWS_ALIASES.get(field) or "".join(
        part[:1].upper() + part[1:] for part in field.split("_")
    )


class AwsRequestModel(BaseModel):
    """Base of request shapes: strict (unknown fields are a 400); snake_case or AWS names."""

    model_config = ConfigDict(
        extra="forbid", alias_generator=aws_name, validate_by_name=True, validate_by_alias=True
    )


class AwsResponseModel(BaseModel):
    """Base of response shapes: lenient; dumped by alias for the AWS front door."""

    model_config = ConfigDict(
        extra="ignore", alias_generator=aws_name, validate_by_name=True, validate_by_alias=True
    )


# -- request -------------------------------------------------------------------------------------


class MetricDefinition(AwsRequestModel):
    """A metric to find in the job's log: the first group of ``regex`` is its value."""

    name: str = Field(min_length=1, max_length=255, pattern=r"^.+$")
    regex: str = Field(min_length=1, max_length=500, pattern=r"^.+$")


class AlgorithmSpecification(AwsRequestModel):
    """What to run: a built-in algorithm (image URI or name) or a framework image."""

    training_image: str | None = Field(None, max_length=255)
    algorithm_name: str | None = Field(None, max_length=170)
    training_input_mode: TrainingInputMode = "File"
    metric_definitions: list[MetricDefinition] = Field(default_factory=list, max_length=40)
    enable_sagemaker_metrics_time_series: bool | None = None
    container_entrypoint: list[str] | None = Field(None, max_length=100)
    container_arguments: list[str] | None = Field(None, max_length=100)
    training_image_config: dict[str, Any] | None = None


class S3DataSource(AwsRequestModel):
    """Where a channel's data is: a prefix (or object) or a manifest file listing objects."""

    s3_data_type: Literal["S3Prefix", "ManifestFile", "AugmentedManifestFile", "Converse"] = (
        "S3Prefix"
    )
    s3_uri: str = Field(pattern=S3_URI, max_length=1024)
    s3_data_distribution_type: Literal["FullyReplicated", "ShardedByS3Key"] | None = None
    attribute_names: list[str] | None = None
    instance_group_names: list[str] | None = None
    model_access_config: dict[str, Any] | None = None
    hub_access_config: dict[str, Any] | None = None


class DataSource(AwsRequestModel):
    """A channel's source (only S3 on Lakeworks)."""

    s3_data_source: S3DataSource | None = None
    file_system_data_source: dict[str, Any] | None = None


class ShuffleConfig(AwsRequestModel):
    """Shuffle the channel's files with ``seed``."""

    seed: int


class Channel(AwsRequestModel):
    """One input channel, staged into ``input/data/<channel_name>/`` before training."""

    channel_name: str = Field(pattern=r"^[A-Za-z0-9\.\-_]+$", min_length=1, max_length=64)
    data_source: DataSource
    content_type: str | None = Field(None, max_length=256)
    compression_type: Literal["None", "Gzip"] = "None"
    record_wrapper_type: Literal["None", "RecordIO"] | None = None
    input_mode: TrainingInputMode | None = None
    shuffle_config: ShuffleConfig | None = None


class OutputDataConfig(AwsRequestModel):
    """Where the model goes: ``<s3_output_path>/<job>/output/model.tar.gz``."""

    s3_output_path: str = Field(pattern=S3_URI, max_length=1024)
    kms_key_id: str | None = Field(None, max_length=2048)
    compression_type: Literal["GZIP", "NONE"] | None = None


class ResourceConfig(AwsRequestModel):
    """Resources asked for; the instance type maps to CPUs, memory and GPUs (if any here)."""

    instance_type: str | None = Field("ml.m5.large", pattern=r"^ml\.[a-z0-9\-]+\.[a-z0-9]+$")
    instance_count: int = Field(1, ge=1)
    volume_size_in_gb: int = Field(30, ge=0, le=16384)
    volume_kms_key_id: str | None = None
    keep_alive_period_in_seconds: int | None = Field(None, ge=0, le=3600)
    instance_groups: list[dict[str, Any]] | None = None
    training_plan_arn: str | None = None
    instance_placement_config: dict[str, Any] | None = None
    instance_preferences: list[dict[str, Any]] | None = None


class StoppingCondition(AwsRequestModel):
    """Runtime limit: past it the job is stopped and ends Failed (MaxRuntimeExceeded)."""

    max_runtime_in_seconds: int = Field(86400, ge=1, le=28 * 86400)
    max_wait_time_in_seconds: int | None = Field(None, ge=1)
    max_pending_time_in_seconds: int | None = Field(None, ge=7200, le=2419200)


class CheckpointConfig(AwsRequestModel):
    """Checkpoints: ``s3_uri`` is restored into the job's ``checkpoints/`` and kept in sync."""

    s3_uri: str = Field(pattern=S3_URI, max_length=1024)
    local_path: str | None = Field(None, max_length=4096)


class Tag(AwsRequestModel):
    """A tag, as AWS lists them."""

    key: str = Field(min_length=1, max_length=128)
    value: str = Field(max_length=256)


class TrainingJobCreate(AwsRequestModel):
    """CreateTrainingJob: every member of SageMaker's request."""

    training_job_name: str = Field(pattern=NAME_PATTERN, min_length=1, max_length=63)
    hyperparameters: dict[str, str] = Field(default_factory=dict)
    algorithm_specification: AlgorithmSpecification
    role_arn: str | None = Field(
        None, pattern=ROLE_ARN, max_length=2048, description="Accepted, not enforced"
    )
    input_data_config: list[Channel] = Field(default_factory=list, max_length=20)
    output_data_config: OutputDataConfig
    resource_config: ResourceConfig = Field(default_factory=ResourceConfig)
    stopping_condition: StoppingCondition = Field(default_factory=StoppingCondition)
    environment: dict[str, str] = Field(default_factory=dict)
    checkpoint_config: CheckpointConfig | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    vpc_config: dict[str, Any] | None = None
    enable_network_isolation: bool | None = None
    enable_inter_container_traffic_encryption: bool | None = None
    enable_managed_spot_training: bool | None = None
    debug_hook_config: dict[str, Any] | None = None
    debug_rule_configurations: list[dict[str, Any]] | None = None
    tensorboard_output_config: dict[str, Any] | None = None
    experiment_config: dict[str, Any] | None = None
    profiler_config: dict[str, Any] | None = None
    profiler_rule_configurations: list[dict[str, Any]] | None = None
    retry_strategy: dict[str, Any] | None = None
    remote_debug_config: dict[str, Any] | None = None
    infra_check_config: dict[str, Any] | None = None
    session_chaining_config: dict[str, Any] | None = None
    serverless_job_config: dict[str, Any] | None = None
    mlflow_config: dict[str, Any] | None = None
    model_package_config: dict[str, Any] | None = None


# -- response ------------------------------------------------------------------------------------


class SecondaryStatusTransition(AwsResponseModel):
    """One step of the job's progress (Starting, Downloading, Training, Uploading …)."""

    status: str
    start_time: datetime
    end_time: datetime | None = None
    status_message: str = ""


class FinalMetric(AwsResponseModel):
    """A metric's final value (``FinalMetricDataList`` entry)."""

    metric_name: str
    value: float
    timestamp: datetime | None = None


class ModelArtifacts(AwsResponseModel):
    """Where the trained model is."""

    s3_model_artifacts: str


class TrainingJobSummary(AwsResponseModel):
    """A training job in a list."""

    training_job_name: str
    training_job_arn: str
    creation_time: datetime
    training_end_time: datetime | None = None
    last_modified_time: datetime | None = None
    training_job_status: TrainingJobStatus
    secondary_status: str | None = None


class TrainingJobInfo(AwsResponseModel):
    """DescribeTrainingJob: the request echoed, plus state, timing, metrics and artifacts."""

    training_job_name: str
    training_job_arn: str
    tuning_job_arn: str | None = None
    model_artifacts: ModelArtifacts | None = None
    training_job_status: TrainingJobStatus
    secondary_status: str
    failure_reason: str | None = None
    hyperparameters: dict[str, str] = Field(default_factory=dict)
    algorithm_specification: AlgorithmSpecification
    role_arn: str | None = None
    input_data_config: list[Channel] = Field(default_factory=list)
    output_data_config: OutputDataConfig
    resource_config: ResourceConfig
    stopping_condition: StoppingCondition
    creation_time: datetime
    training_start_time: datetime | None = None
    training_end_time: datetime | None = None
    last_modified_time: datetime
    secondary_status_transitions: list[SecondaryStatusTransition] = Field(default_factory=list)
    final_metric_data_list: list[FinalMetric] = Field(default_factory=list)
    enable_network_isolation: bool = False
    enable_inter_container_traffic_encryption: bool = False
    enable_managed_spot_training: bool = False
    checkpoint_config: CheckpointConfig | None = None
    training_time_in_seconds: int | None = None
    billable_time_in_seconds: int | None = None
    environment: dict[str, str] = Field(default_factory=dict)
    vpc_config: dict[str, Any] | None = None
    debug_hook_config: dict[str, Any] | None = None
    debug_rule_configurations: list[dict[str, Any]] | None = None
    tensorboard_output_config: dict[str, Any] | None = None
    experiment_config: dict[str, Any] | None = None
    profiler_config: dict[str, Any] | None = None
    profiler_rule_configurations: list[dict[str, Any]] | None = None
    retry_strategy: dict[str, Any] | None = None
    remote_debug_config: dict[str, Any] | None = None
    infra_check_config: dict[str, Any] | None = None
    mlflow_config: dict[str, Any] | None = None
    model_package_config: dict[str, Any] | None = None


# -- run tracking ---------------------------------------------------------------------------------


class LearningCurvePoint(AwsResponseModel):
    """One value of a metric: the ``step``-th time it appeared in the log (from 1)."""

    step: int
    value: float
    timestamp: datetime


class MetricSeries(AwsResponseModel):
    """Every value a metric took during training, in order."""

    metric_name: str
    points: list[LearningCurvePoint]


class ObjectLineage(AwsResponseModel):
    """One object a job read or wrote, with its content hash."""

    uri: str
    etag: str
    size: int


class InputLineage(AwsResponseModel):
    """What one channel read: its URI and the objects under it (up to 100 listed)."""

    channel_name: str
    s3_uri: str
    s3_data_type: str
    object_count: int
    total_bytes: int
    digest: str = Field(description="SHA-256 over the sorted (key, ETag) pairs of all objects")
    objects: list[ObjectLineage] = Field(default_factory=list)


class TrainingJobMetrics(AwsResponseModel):
    """A job's run record: parameters, metric series, final metrics, inputs and artifact."""

    training_job_name: str
    training_job_status: TrainingJobStatus
    hyperparameters: dict[str, str]
    metric_definitions: list[dict[str, str]] = Field(default_factory=list)
    metrics: list[MetricSeries] = Field(default_factory=list)
    final_metric_data_list: list[FinalMetric] = Field(default_factory=list)
    inputs: list[InputLineage] = Field(default_factory=list)
    model_artifact: ObjectLineage | None = None
