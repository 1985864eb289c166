"""Wire shapes of model hosting: models, endpoint configs, endpoints and their variants.

Every field has two names, as in :mod:`lakeworks.schemas.training`: the snake_case one of the
native REST API (``model_data_url``) and SageMaker's as its alias (``ModelDataUrl``), so the AWS
front door validates with ``model_validate`` and answers with ``model_dump(by_alias=True)``.
Features that come with later work (serverless, async inference, deployment policies) are
accepted and stored here already, so an endpoint config written today stays valid.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, model_validator

from lakeworks.core.names import NAME_PATTERN
from lakeworks.schemas.hosting_deployments import DeploymentConfig, PendingDeploymentSummary
from lakeworks.schemas.training import AwsRequestModel as RequestModel
from lakeworks.schemas.training import AwsResponseModel as ResponseModel
from lakeworks.schemas.training import Tag

__all__ = [
    "AsyncInferenceClientConfig",
    "AsyncInferenceConfig",
    "AsyncInferenceNotificationConfig",
    "AsyncInferenceOutputConfig",
    "CaptureContentTypeHeader",
    "CaptureOption",
    "ContainerDefinition",
    "DataCaptureConfig",
    "DataCaptureConfigSummary",
    "DeployedImage",
    "DesiredWeightAndCapacity",
    "EndpointConfigCreate",
    "EndpointConfigInfo",
    "EndpointConfigSummary",
    "EndpointCreate",
    "EndpointInfo",
    "EndpointMetrics",
    "EndpointStatus",
    "EndpointSummary",
    "EndpointUpdate",
    "EndpointWeightsUpdate",
    "InferenceExecutionConfig",
    "LatencySummary",
    "ModelCreate",
    "ModelInfo",
    "ModelSummary",
    "ProductionVariant",
    "ProductionVariantServerlessConfig",
    "ProductionVariantSummary",
    "Tag",
    "VariantMetrics",
    "VariantProperty",
    "tag_map",
]

EndpointStatus = Literal[
    "OutOfService",
    "Creating",
    "Updating",
    "SystemUpdating",
    "RollingBack",
    "InService",
    "Deleting",
    "Failed",
    "UpdateRollbackFailed",
]
#: ``s3://bucket/key`` (AWS also allows https:// URLs; Lakeworks reads only its own lake).
S3_URL = r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$"


def tag_map(tags: list[Tag]) -> dict[str, str]:
    """Tags as a ``{key: value}`` map (a repeated key keeps its last value)."""
    return {tag.key: tag.value for tag in tags}


# -- models ------------------------------------------------------------------------------------


class ContainerDefinition(RequestModel):
    """One container of a model: the image that serves it and the artifact it loads.

    ``image`` names a built-in algorithm (any region's URI, or a plain name such as
    ``xgboost``) or a framework image (``sagemaker-scikit-learn``, ``pytorch-inference`` …) that
    runs ``inference.py`` (``SAGEMAKER_PROGRAM``) in script mode.
    """

    container_hostname: str | None = Field(None, pattern=NAME_PATTERN, min_length=1, max_length=63)
    image: str | None = Field(None, min_length=1, max_length=255)
    mode: Literal["SingleModel", "MultiModel"] = "SingleModel"
    model_data_url: str | None = Field(
        None,
        pattern=S3_URL,
        max_length=1024,
        description="model.tar.gz; for MultiModel the prefix that holds <TargetModel> archives",
    )
    environment: dict[str, str] = Field(default_factory=dict, max_length=100)
    model_package_name: str | None = Field(None, max_length=176)
    image_config: dict[str, Any] | None = None
    multi_model_config: dict[str, Any] | None = None


class InferenceExecutionConfig(RequestModel):
    """How the containers of a model run: ``Serial`` (an inference pipeline) or ``Direct``."""

    mode: Literal["Serial", "Direct"]


class ModelCreate(RequestModel):
    """Create a model: one ``primary_container`` or up to 15 ``containers``."""

    model_name: str = Field(pattern=NAME_PATTERN, min_length=1, max_length=63)
    primary_container: ContainerDefinition | None = None
    containers: list[ContainerDefinition] | None = Field(None, min_length=1, max_length=15)
    inference_execution_config: InferenceExecutionConfig | None = None
    execution_role_arn: str | None = Field(None, min_length=20, max_length=2048)
    enable_network_isolation: bool = False
    vpc_config: dict[str, Any] | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _one_way_to_name_containers(self) -> ModelCreate:
        if (self.primary_container is None) == (self.containers is None):
            raise ValueError("give exactly one of primary_container or containers")
        return self


class ModelSummary(ResponseModel):
    """A model in a list."""

    model_name: str
    model_arn: str
    creation_time: datetime


class ModelInfo(ModelSummary):
    """Everything about one model."""

    primary_container: ContainerDefinition | None = None
    containers: list[ContainerDefinition] | None = None
    inference_execution_config: InferenceExecutionConfig | None = None
    execution_role_arn: str | None = None
    enable_network_isolation: bool = False
    vpc_config: dict[str, Any] | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=50)


# -- endpoint configs --------------------------------------------------------------------------


class ProductionVariantServerlessConfig(RequestModel):
    """A serverless variant: memory and the most concurrent invocations."""

    memory_size_in_mb: int = Field(ge=1024, le=6144, alias="MemorySizeInMB")
    max_concurrency: int = Field(ge=1, le=200)
    provisioned_concurrency: int | None = Field(None, ge=1, le=200)


class ProductionVariant(RequestModel):
    """One variant of an endpoint config: a model on a number of instances, with a weight."""

    variant_name: str = Field(pattern=NAME_PATTERN, min_length=1, max_length=63)
    model_name: str = Field(pattern=NAME_PATTERN, min_length=1, max_length=63)
    initial_instance_count: int | None = Field(None, ge=1)
    instance_type: str | None = Field(None, max_length=64)
    initial_variant_weight: float = Field(1.0, ge=0)
    accelerator_type: str | None = None
    serverless_config: ProductionVariantServerlessConfig | None = None
    volume_size_in_gb: int | None = Field(None, ge=1, le=512)
    model_data_download_timeout_in_seconds: int | None = Field(None, ge=60, le=3600)
    container_startup_health_check_timeout_in_seconds: int | None = Field(None, ge=60, le=3600)
    routing_config: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _instances_or_serverless(self) -> ProductionVariant:
        if self.serverless_config is None and (
            self.initial_instance_count is None or self.instance_type is None
        ):
            raise ValueError(
                f"variant {self.variant_name!r} needs initial_instance_count and instance_type, "
                "or a serverless_config"
            )
        if self.serverless_config is not None and self.initial_instance_count is not None:
            raise ValueError(
                f"variant {self.variant_name!r}: give initial_instance_count or "
                "serverless_config, not both"
            )
        return self


class CaptureOption(RequestModel):
    """What to capture: the request (``Input``), the response (``Output``) or both."""

    capture_mode: Literal["Input", "Output", "InputAndOutput"]


class CaptureContentTypeHeader(RequestModel):
    """Content types captured as text (CSV, JSON); others are captured base64-encoded."""

    csv_content_types: list[str] | None = Field(None, min_length=1, max_length=10)
    json_content_types: list[str] | None = Field(None, min_length=1, max_length=10)


class DataCaptureConfig(RequestModel):
    """Capture a sample of requests and responses into the lake."""

    enable_capture: bool = True
    initial_sampling_percentage: int = Field(ge=0, le=100)
    destination_s3_uri: str = Field(pattern=S3_URL, max_length=512)
    kms_key_id: str | None = Field(None, max_length=2048)
    capture_options: list[CaptureOption] = Field(min_length=1, max_length=32)
    capture_content_type_header: CaptureContentTypeHeader | None = None


class AsyncInferenceNotificationConfig(RequestModel):
    """Where async results are announced."""

    success_topic: str | None = Field(None, max_length=2048)
    error_topic: str | None = Field(None, max_length=2048)
    include_inference_response_in: list[str] | None = Field(None, max_length=2)


class AsyncInferenceOutputConfig(RequestModel):
    """Where async results and failures go."""

    kms_key_id: str | None = Field(None, max_length=2048)
    s3_output_path: str | None = Field(None, pattern=S3_URL, max_length=512)
    notification_config: AsyncInferenceNotificationConfig | None = None
    s3_failure_path: str | None = Field(None, pattern=S3_URL, max_length=512)


class AsyncInferenceClientConfig(RequestModel):
    """How many async invocations an instance runs at once."""

    max_concurrent_invocations_per_instance: int | None = Field(None, ge=1, le=1000)


class AsyncInferenceConfig(RequestModel):
    """Makes the endpoint an asynchronous one (stored; served by the async work)."""

    client_config: AsyncInferenceClientConfig | None = None
    output_config: AsyncInferenceOutputConfig


class EndpointConfigCreate(RequestModel):
    """Create an endpoint config: 1–10 production variants, optional shadows and capture."""

    endpoint_config_name: str = Field(pattern=NAME_PATTERN, min_length=1, max_length=63)
    production_variants: list[ProductionVariant] = Field(min_length=1, max_length=10)
    shadow_production_variants: list[ProductionVariant] | None = Field(
        None, min_length=1, max_length=10
    )
    data_capture_config: DataCaptureConfig | None = None
    async_inference_config: AsyncInferenceConfig | None = None
    kms_key_id: str | None = Field(None, max_length=2048)
    execution_role_arn: str | None = Field(None, min_length=20, max_length=2048)
    enable_network_isolation: bool = False
    vpc_config: dict[str, Any] | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=50)


class EndpointConfigSummary(ResponseModel):
    """An endpoint config in a list."""

    endpoint_config_name: str
    endpoint_config_arn: str
    creation_time: datetime


class EndpointConfigInfo(EndpointConfigSummary):
    """Everything about one endpoint config."""

    production_variants: list[ProductionVariant]
    shadow_production_variants: list[ProductionVariant] | None = None
    data_capture_config: DataCaptureConfig | None = None
    async_inference_config: AsyncInferenceConfig | None = None
    kms_key_id: str | None = None
    execution_role_arn: str | None = None
    enable_network_isolation: bool = False
    vpc_config: dict[str, Any] | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=50)


# -- endpoints ---------------------------------------------------------------------------------


class EndpointCreate(RequestModel):
    """Create an endpoint from an endpoint config."""

    endpoint_name: str = Field(pattern=NAME_PATTERN, min_length=1, max_length=63)
    endpoint_config_name: str = Field(pattern=NAME_PATTERN, min_length=1, max_length=63)
    deployment_config: DeploymentConfig | None = Field(
        None, description="Stored; the policy of later updates unless they give their own"
    )
    tags: list[Tag] = Field(default_factory=list, max_length=50)


class VariantProperty(RequestModel):
    """A variant property an update with RetainAllVariantProperties does not keep."""

    variant_property_type: Literal["DesiredInstanceCount", "DesiredWeight", "DataCaptureConfig"]


class EndpointUpdate(RequestModel):
    """Move an endpoint to another endpoint config: all at once, or blue/green by
    ``deployment_config`` (the old fleet serves until the new one is healthy)."""

    endpoint_config_name: str = Field(pattern=NAME_PATTERN, min_length=1, max_length=63)
    retain_all_variant_properties: bool = False
    exclude_retained_variant_properties: list[VariantProperty] | None = Field(None, max_length=3)
    deployment_config: DeploymentConfig | None = None
    retain_deployment_config: bool = False


class DesiredWeightAndCapacity(RequestModel):
    """A variant's new weight and/or instance count."""

    variant_name: str = Field(pattern=NAME_PATTERN, min_length=1, max_length=63)
    desired_weight: float | None = Field(None, ge=0)
    desired_instance_count: int | None = Field(None, ge=0)
    serverless_update_config: dict[str, Any] | None = None


class EndpointWeightsUpdate(RequestModel):
    """UpdateEndpointWeightsAndCapacities."""

    desired_weights_and_capacities: list[DesiredWeightAndCapacity] = Field(min_length=1)


class DeployedImage(ResponseModel):
    """The image a variant runs, as specified and as resolved."""

    specified_image: str | None = None
    resolved_image: str | None = None
    resolution_time: datetime | None = None


class ProductionVariantSummary(ResponseModel):
    """A variant of a live endpoint: current and desired weights and instance counts."""

    variant_name: str
    deployed_images: list[DeployedImage] = Field(default_factory=list)
    current_weight: float | None = None
    desired_weight: float | None = None
    current_instance_count: int | None = None
    desired_instance_count: int | None = None
    current_serverless_config: ProductionVariantServerlessConfig | None = None
    desired_serverless_config: ProductionVariantServerlessConfig | None = None


class DataCaptureConfigSummary(ResponseModel):
    """Whether an endpoint captures, and where to."""

    enable_capture: bool
    capture_status: Literal["Started", "Stopped"]
    current_sampling_percentage: int
    destination_s3_uri: str
    kms_key_id: str | None = None


class EndpointSummary(ResponseModel):
    """An endpoint in a list."""

    endpoint_name: str
    endpoint_arn: str
    creation_time: datetime
    last_modified_time: datetime
    endpoint_status: EndpointStatus


class EndpointInfo(EndpointSummary):
    """Everything about one endpoint."""

    endpoint_config_name: str
    production_variants: list[ProductionVariantSummary] = Field(default_factory=list)
    shadow_production_variants: list[ProductionVariantSummary] | None = None
    data_capture_config: DataCaptureConfigSummary | None = None
    async_inference_config: AsyncInferenceConfig | None = None
    last_deployment_config: DeploymentConfig | None = None
    pending_deployment_summary: PendingDeploymentSummary | None = None
    failure_reason: str | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=50)


# -- metrics -----------------------------------------------------------------------------------


class LatencySummary(ResponseModel):
    """A latency histogram in microseconds, summarised."""

    count: int
    sum_us: float
    average_us: float | None = None
    p50_us: float | None = Field(None, description="Estimated from the histogram buckets")
    p99_us: float | None = Field(None, description="Estimated from the histogram buckets")


class VariantMetrics(ResponseModel):
    """Invocation counters and latencies of one variant (or one model of a multi-model one)."""

    variant_name: str
    target_model: str | None = None
    invocations: int
    invocation_4xx_errors: int
    invocation_5xx_errors: int
    model_errors: int
    model_latency: LatencySummary
    overhead_latency: LatencySummary
    instance_count: int | None = None


class EndpointMetrics(ResponseModel):
    """Metrics of every variant (and model) of an endpoint since the server started."""

    endpoint_name: str
    variants: list[VariantMetrics]
