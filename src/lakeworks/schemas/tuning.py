"""Wire shapes of hyperparameter tuning jobs (SageMaker's automatic model tuning).

As in :mod:`lakeworks.schemas.training`, snake_case names natively and SageMaker's names as
aliases for the AWS front door.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from lakeworks.core.names import NAME_PATTERN
from lakeworks.schemas.training import (
    ROLE_ARN,
    AwsRequestModel,
    AwsResponseModel,
    Channel,
    CheckpointConfig,
    MetricDefinition,
    OutputDataConfig,
    ResourceConfig,
    StoppingCondition,
    Tag,
    TrainingInputMode,
    TrainingJobStatus,
)

__all__ = [
    "CategoricalParameterRange",
    "ContinuousParameterRange",
    "FinalObjectiveMetric",
    "HyperParameterAlgorithmSpecification",
    "HyperParameterTrainingJobDefinition",
    "HyperParameterTrainingJobSummary",
    "HyperbandStrategyConfig",
    "IntegerParameterRange",
    "ObjectiveStatusCounters",
    "ParameterRanges",
    "ParentHyperParameterTuningJob",
    "ResourceLimits",
    "ScalingType",
    "StrategyConfig",
    "TrainingJobStatusCounters",
    "TuningJobCompletionCriteria",
    "TuningJobConfig",
    "TuningJobCreate",
    "TuningJobInfo",
    "TuningJobObjective",
    "TuningJobStatus",
    "TuningJobSummary",
    "TuningStrategy",
    "WarmStartConfig",
]

TuningJobStatus = Literal["InProgress", "Completed", "Failed", "Stopping", "Stopped"]
TuningStrategy = Literal["Bayesian", "Random", "Hyperband", "Grid"]
ScalingType = Literal["Auto", "Linear", "Logarithmic", "ReverseLogarithmic"]
#: SageMaker limits tuning job names to 32 characters (trial names add ``-NNN-xxxxxxxx``).
TUNING_NAME_MAX = 32


class IntegerParameterRange(AwsRequestModel):
    """An integer hyperparameter searched between two values (given as strings, as in AWS)."""

    name: str = Field(min_length=1, max_length=256)
    min_value: str = Field(min_length=1, max_length=256)
    max_value: str = Field(min_length=1, max_length=256)
    scaling_type: ScalingType = "Auto"


class ContinuousParameterRange(AwsRequestModel):
    """A real-valued hyperparameter searched between two values."""

    name: str = Field(min_length=1, max_length=256)
    min_value: str = Field(min_length=1, max_length=256)
    max_value: str = Field(min_length=1, max_length=256)
    scaling_type: ScalingType = "Auto"


class CategoricalParameterRange(AwsRequestModel):
    """A hyperparameter taking one of a few values."""

    name: str = Field(min_length=1, max_length=256)
    values: list[str] = Field(min_length=1, max_length=30)


class ParameterRanges(AwsRequestModel):
    """The search space."""

    integer_parameter_ranges: list[IntegerParameterRange] = Field(
        default_factory=list, max_length=30
    )
    continuous_parameter_ranges: list[ContinuousParameterRange] = Field(
        default_factory=list, max_length=30
    )
    categorical_parameter_ranges: list[CategoricalParameterRange] = Field(
        default_factory=list, max_length=30
    )
    auto_parameters: list[dict[str, Any]] | None = None


class TuningJobObjective(AwsRequestModel):
    """The metric to optimise, and in which direction."""

    type: Literal["Maximize", "Minimize"]
    metric_name: str = Field(min_length=1, max_length=255)


class ResourceLimits(AwsRequestModel):
    """How many trials in all and at once, and for how long."""

    max_number_of_training_jobs: int | None = Field(None, ge=1, le=750)
    max_parallel_training_jobs: int = Field(ge=1, le=100)
    max_runtime_in_seconds: int | None = Field(None, ge=120, le=15768000)


class HyperbandStrategyConfig(AwsRequestModel):
    """Hyperband's resource bounds, in the objective metric's steps (epochs, rounds)."""

    min_resource: int | None = Field(None, ge=1)
    max_resource: int | None = Field(None, ge=1)


class StrategyConfig(AwsRequestModel):
    """Strategy settings."""

    hyperband_strategy_config: HyperbandStrategyConfig | None = None


class TuningJobCompletionCriteria(AwsRequestModel):
    """When to end early."""

    target_objective_metric_value: float | None = None
    best_objective_not_improving: dict[str, Any] | None = None
    convergence_detected: dict[str, Any] | None = None


class TuningJobConfig(AwsRequestModel):
    """HyperParameterTuningJobConfig."""

    strategy: TuningStrategy = "Bayesian"
    strategy_config: StrategyConfig | None = None
    hyper_parameter_tuning_job_objective: TuningJobObjective | None = None
    resource_limits: ResourceLimits
    parameter_ranges: ParameterRanges | None = None
    training_job_early_stopping_type: Literal["Off", "Auto"] = "Off"
    tuning_job_completion_criteria: TuningJobCompletionCriteria | None = None
    random_seed: int | None = None


class HyperParameterAlgorithmSpecification(AwsRequestModel):
    """What each trial runs."""

    training_image: str | None = Field(None, max_length=255)
    training_input_mode: TrainingInputMode = "File"
    algorithm_name: str | None = Field(None, max_length=170)
    metric_definitions: list[MetricDefinition] = Field(default_factory=list, max_length=40)


class HyperParameterTrainingJobDefinition(AwsRequestModel):
    """The training job every trial is, less the tuned hyperparameters."""

    definition_name: str | None = Field(None, max_length=64)
    tuning_objective: TuningJobObjective | None = None
    hyper_parameter_ranges: ParameterRanges | None = None
    static_hyperparameters: dict[str, str] = Field(default_factory=dict)
    algorithm_specification: HyperParameterAlgorithmSpecification
    role_arn: str | None = Field(None, pattern=ROLE_ARN, max_length=2048)
    input_data_config: list[Channel] = Field(default_factory=list, max_length=20)
    vpc_config: dict[str, Any] | None = None
    output_data_config: OutputDataConfig
    resource_config: ResourceConfig | None = None
    hyper_parameter_tuning_resource_config: dict[str, Any] | None = None
    stopping_condition: StoppingCondition = Field(default_factory=StoppingCondition)
    enable_network_isolation: bool | None = None
    enable_inter_container_traffic_encryption: bool | None = None
    enable_managed_spot_training: bool | None = None
    checkpoint_config: CheckpointConfig | None = None
    retry_strategy: dict[str, Any] | None = None
    environment: dict[str, str] = Field(default_factory=dict)


class ParentHyperParameterTuningJob(AwsRequestModel):
    """A finished tuning job to learn from."""

    hyper_parameter_tuning_job_name: str = Field(min_length=1, max_length=32)


class WarmStartConfig(AwsRequestModel):
    """Start from what earlier tuning jobs learned."""

    parent_hyper_parameter_tuning_jobs: list[ParentHyperParameterTuningJob] = Field(
        min_length=1, max_length=5
    )
    warm_start_type: Literal["IdenticalDataAndAlgorithm", "TransferLearning"]


class TuningJobCreate(AwsRequestModel):
    """CreateHyperParameterTuningJob."""

    hyper_parameter_tuning_job_name: str = Field(
        pattern=NAME_PATTERN, min_length=1, max_length=TUNING_NAME_MAX
    )
    hyper_parameter_tuning_job_config: TuningJobConfig
    training_job_definition: HyperParameterTrainingJobDefinition | None = None
    training_job_definitions: list[HyperParameterTrainingJobDefinition] | None = Field(
        None, max_length=10
    )
    warm_start_config: WarmStartConfig | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    autotune: dict[str, Any] | None = None


# -- responses -----------------------------------------------------------------------------------


class TrainingJobStatusCounters(AwsResponseModel):
    """How the trials' training jobs stand."""

    completed: int = 0
    in_progress: int = 0
    retryable_error: int = 0
    non_retryable_error: int = 0
    stopped: int = 0


class ObjectiveStatusCounters(AwsResponseModel):
    """How many trials reported the objective metric."""

    succeeded: int = 0
    pending: int = 0
    failed: int = 0


class FinalObjectiveMetric(AwsResponseModel):
    """A trial's objective value."""

    type: Literal["Maximize", "Minimize"] | None = None
    metric_name: str
    value: float


class HyperParameterTrainingJobSummary(AwsResponseModel):
    """One trial."""

    training_job_definition_name: str | None = None
    training_job_name: str
    training_job_arn: str
    tuning_job_name: str | None = None
    creation_time: datetime
    training_start_time: datetime | None = None
    training_end_time: datetime | None = None
    training_job_status: TrainingJobStatus
    tuned_hyperparameters: dict[str, str]
    failure_reason: str | None = None
    final_hyper_parameter_tuning_job_objective_metric: FinalObjectiveMetric | None = None
    objective_status: Literal["Succeeded", "Pending", "Failed"] | None = None


class TuningJobSummary(AwsResponseModel):
    """A tuning job in a list."""

    hyper_parameter_tuning_job_name: str
    hyper_parameter_tuning_job_arn: str
    hyper_parameter_tuning_job_status: TuningJobStatus
    strategy: TuningStrategy
    creation_time: datetime
    hyper_parameter_tuning_end_time: datetime | None = None
    last_modified_time: datetime | None = None
    training_job_status_counters: TrainingJobStatusCounters
    objective_status_counters: ObjectiveStatusCounters
    resource_limits: ResourceLimits | None = None


class TuningJobInfo(AwsResponseModel):
    """DescribeHyperParameterTuningJob."""

    hyper_parameter_tuning_job_name: str
    hyper_parameter_tuning_job_arn: str
    hyper_parameter_tuning_job_config: TuningJobConfig
    training_job_definition: HyperParameterTrainingJobDefinition | None = None
    training_job_definitions: list[HyperParameterTrainingJobDefinition] | None = None
    hyper_parameter_tuning_job_status: TuningJobStatus
    creation_time: datetime
    hyper_parameter_tuning_end_time: datetime | None = None
    last_modified_time: datetime | None = None
    training_job_status_counters: TrainingJobStatusCounters
    objective_status_counters: ObjectiveStatusCounters
    best_training_job: HyperParameterTrainingJobSummary | None = None
    overall_best_training_job: HyperParameterTrainingJobSummary | None = None
    warm_start_config: WarmStartConfig | None = None
    failure_reason: str | None = None
    tuning_job_completion_details: dict[str, Any] | None = None
    consumed_resources: dict[str, Any] | None = None
