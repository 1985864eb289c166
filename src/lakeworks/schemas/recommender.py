"""Wire shapes of inference recommendations jobs: SageMaker Inference Recommender.

As everywhere, each field has its snake_case name (native REST) and SageMaker's name as alias
(``JobName``, ``SamplePayloadUrl``), so the AWS front door validates with ``model_validate`` and
answers with ``model_dump(by_alias=True)``. Statuses are SageMaker's upper-case ones
(``IN_PROGRESS``, ``COMPLETED`` …). Descriptive fields of the container config (``Domain``,
``Framework`` …) are kept and echoed back; fields Lakeworks cannot honour locally (a model
package, an existing endpoint, a VPC, KMS keys, environment parameter ranges) are refused by the
service with a message saying so.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from lakeworks.core.names import NAME_PATTERN
from lakeworks.schemas.hosting import ProductionVariantServerlessConfig
from lakeworks.schemas.training import (
    ROLE_ARN,
    S3_URI,
    AwsRequestModel,
    AwsResponseModel,
    Tag,
)

__all__ = [
    "EndpointInputConfiguration",
    "EndpointOutputConfiguration",
    "InferenceMetrics",
    "InferenceRecommendation",
    "ModelLatencyThreshold",
    "Phase",
    "RecommendationJobContainerConfig",
    "RecommendationJobCreate",
    "RecommendationJobInferenceBenchmark",
    "RecommendationJobInfo",
    "RecommendationJobInputConfig",
    "RecommendationJobPayloadConfig",
    "RecommendationJobResourceLimit",
    "RecommendationJobStatus",
    "RecommendationJobStep",
    "RecommendationJobStoppingConditions",
    "RecommendationJobSummary",
    "RecommendationMetrics",
    "TrafficPattern",
]

RecommendationJobStatus = Literal[
    "PENDING", "IN_PROGRESS", "COMPLETED", "FAILED", "STOPPING", "STOPPED", "DELETING", "DELETED"
]
MODEL_NAME = r"^[a-zA-Z0-9]([\-a-zA-Z0-9]*[a-zA-Z0-9])?$"


class Phase(AwsRequestModel):
    """A load phase: start with ``initial_number_of_users`` clients, add ``spawn_rate`` a second."""

    initial_number_of_users: int = Field(1, ge=1)
    spawn_rate: int = Field(1, ge=0)
    duration_in_seconds: int = Field(120, ge=1)


class Stairs(AwsRequestModel):
    """SageMaker's STAIRS traffic (refused by the service: Lakeworks drives PHASES)."""

    duration_in_seconds: int | None = Field(None, ge=1)
    number_of_steps: int | None = Field(None, ge=1)
    users_per_step: int | None = Field(None, ge=1, le=3)


class TrafficPattern(AwsRequestModel):
    """The load each candidate gets: phases run one after another."""

    traffic_type: Literal["PHASES", "STAIRS"] = "PHASES"
    phases: list[Phase] | None = Field(None, min_length=1)
    stairs: Stairs | None = None


class RecommendationJobResourceLimit(AwsRequestModel):
    """How many load tests in all, and how many at the same time."""

    max_number_of_tests: int | None = Field(None, ge=1)
    max_parallel_of_tests: int | None = Field(None, ge=1)


class EndpointInputConfiguration(AwsRequestModel):
    """A candidate instance type (benchmarked at instance counts 1..N) or a serverless config."""

    instance_type: str | None = Field(None, max_length=64)
    serverless_config: ProductionVariantServerlessConfig | None = None
    inference_specification_name: str | None = Field(None, max_length=63)
    environment_parameter_ranges: dict[str, Any] | None = None


class RecommendationJobPayloadConfig(AwsRequestModel):
    """Sample payloads: a tar.gz in the lake, one payload per file, and their content type."""

    sample_payload_url: str | None = Field(None, pattern=S3_URI, max_length=1024)
    supported_content_types: list[str] | None = None


class RecommendationJobContainerConfig(AwsRequestModel):
    """What the model is and what it takes; only ``payload_config`` changes what Lakeworks does."""

    domain: str | None = None
    task: str | None = None
    framework: str | None = None
    framework_version: str | None = Field(None, max_length=10)
    payload_config: RecommendationJobPayloadConfig | None = None
    nearest_model_name: str | None = None
    supported_instance_types: list[str] | None = None
    supported_endpoint_type: Literal["RealTime", "Serverless"] | None = None
    data_input_config: str | None = Field(None, max_length=1024)
    supported_response_mime_types: list[str] | None = Field(
        None, alias="SupportedResponseMIMETypes"
    )


class RecommendationJobInputConfig(AwsRequestModel):
    """The model to benchmark, the candidates, the traffic and the limits."""

    model_package_version_arn: str | None = Field(None, max_length=2048)
    model_name: str | None = Field(None, pattern=MODEL_NAME, max_length=63)
    job_duration_in_seconds: int | None = Field(None, ge=1)
    traffic_pattern: TrafficPattern | None = None
    resource_limit: RecommendationJobResourceLimit | None = None
    endpoint_configurations: list[EndpointInputConfiguration] | None = Field(
        None, min_length=1, max_length=10
    )
    volume_kms_key_id: str | None = Field(None, max_length=2048)
    container_config: RecommendationJobContainerConfig | None = None
    endpoints: list[dict[str, Any]] | None = Field(None, max_length=1)
    vpc_config: dict[str, Any] | None = None


class ModelLatencyThreshold(AwsRequestModel):
    """A candidate qualifies only if this percentile of its latency stays at or below the value."""

    percentile: Literal["P95", "P99"] | None = None
    value_in_milliseconds: int | None = Field(None, ge=0)


class RecommendationJobStoppingConditions(AwsRequestModel):
    """When a candidate's load test stops early."""

    max_invocations: int | None = Field(None, ge=1)
    model_latency_thresholds: list[ModelLatencyThreshold] | None = Field(
        None, min_length=1, max_length=1
    )
    flat_invocations: Literal["Continue", "Stop"] | None = None


class RecommendationJobCreate(AwsRequestModel):
    """CreateInferenceRecommendationsJob."""

    job_name: str = Field(pattern=NAME_PATTERN, min_length=1, max_length=64)
    job_type: Literal["Default", "Advanced"]
    role_arn: str = Field(pattern=ROLE_ARN, max_length=2048)
    input_config: RecommendationJobInputConfig
    job_description: str | None = Field(None, max_length=128)
    stopping_conditions: RecommendationJobStoppingConditions | None = None
    output_config: dict[str, Any] | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=50)


# -- responses -----------------------------------------------------------------------------------


class RecommendationMetrics(AwsResponseModel):
    """A candidate's measured figures (costs are 0: local hardware has no price list)."""

    cost_per_hour: float | None = None
    cost_per_inference: float | None = None
    max_invocations: int | None = None
    model_latency: int | None = None
    model_setup_time: int | None = None


class InferenceMetrics(AwsResponseModel):
    """Throughput (invocations per minute) and latency (milliseconds) of one benchmark."""

    max_invocations: int
    model_latency: int


class EndpointOutputConfiguration(AwsResponseModel):
    """The endpoint a benchmark deployed (it is deleted when the benchmark ends)."""

    endpoint_name: str
    variant_name: str
    instance_type: str | None = None
    initial_instance_count: int | None = None
    serverless_config: ProductionVariantServerlessConfig | None = None


class InferenceRecommendation(AwsResponseModel):
    """One recommended endpoint configuration, best first."""

    recommendation_id: str | None = None
    metrics: RecommendationMetrics | None = None
    endpoint_configuration: EndpointOutputConfiguration
    model_configuration: dict[str, Any] = Field(default_factory=dict)
    invocation_end_time: datetime | None = None
    invocation_start_time: datetime | None = None


class RecommendationJobInferenceBenchmark(AwsResponseModel):
    """What one load test measured (native extras: p50/p99 in µs, errors, the phases)."""

    metrics: RecommendationMetrics | None = None
    endpoint_metrics: InferenceMetrics | None = None
    endpoint_configuration: EndpointOutputConfiguration | None = None
    model_configuration: dict[str, Any] = Field(default_factory=dict)
    failure_reason: str | None = None
    invocation_end_time: datetime | None = None
    invocation_start_time: datetime | None = None
    invocations: int | None = None
    errors: int | None = None
    latency_p50_us: float | None = None
    latency_p99_us: float | None = None
    phases: list[dict[str, Any]] | None = None


class RecommendationJobStep(AwsResponseModel):
    """A step of the job: one benchmark (load test) of one candidate."""

    step_type: Literal["BENCHMARK"] = "BENCHMARK"
    job_name: str
    status: RecommendationJobStatus
    inference_benchmark: RecommendationJobInferenceBenchmark | None = None


class RecommendationJobInfo(AwsResponseModel):
    """DescribeInferenceRecommendationsJob."""

    job_name: str
    job_description: str | None = None
    job_type: Literal["Default", "Advanced"]
    job_arn: str
    role_arn: str
    status: RecommendationJobStatus
    creation_time: datetime
    completion_time: datetime | None = None
    last_modified_time: datetime
    failure_reason: str | None = None
    input_config: RecommendationJobInputConfig
    stopping_conditions: RecommendationJobStoppingConditions | None = None
    inference_recommendations: list[InferenceRecommendation] | None = None


class RecommendationJobSummary(AwsResponseModel):
    """An entry of ListInferenceRecommendationsJobs."""

    job_name: str
    job_description: str = ""
    job_type: Literal["Default", "Advanced"]
    job_arn: str
    status: RecommendationJobStatus
    creation_time: datetime
    completion_time: datetime | None = None
    role_arn: str
    last_modified_time: datetime
    failure_reason: str | None = None
    model_name: str | None = None
    sample_payload_url: str | None = None
