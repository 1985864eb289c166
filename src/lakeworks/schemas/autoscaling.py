"""Wire shapes of autoscaling (Application Auto Scaling for endpoint variants).

Every field has two names, as in :mod:`lakeworks.schemas.hosting`: the snake_case one of the
native REST API and Application Auto Scaling's as its alias (``ResourceId``, ``RoleARN``), so
the AWS front door validates with ``model_validate`` and answers with
``model_dump(by_alias=True)``. Lakeworks scales the instance count of SageMaker endpoint
variants: ``ServiceNamespace`` ``sagemaker``, ``ResourceId`` ``endpoint/<name>/variant/<v>``,
``ScalableDimension`` ``sagemaker:variant:DesiredInstanceCount``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Alarm",
    "CustomizedMetricSpecification",
    "MetricDimension",
    "NotScaledReason",
    "PredefinedMetricSpecification",
    "ScalableTargetInfo",
    "ScalableTargetRegister",
    "ScalingActivityInfo",
    "ScalingPolicyInfo",
    "ScalingPolicyPut",
    "StepAdjustment",
    "StepAlarm",
    "StepScalingPolicyConfiguration",
    "SuspendedState",
    "TargetTrackingScalingPolicyConfiguration",
]

_ACRONYMS = {"arn": "ARN"}


def _aws_name(field: str) -> str:
    """Application Auto Scaling's name of a field: ``role_arn`` → ``RoleARN``."""
    return "".join(_ACRONYMS.get(part) or part[:1].upper() + part[1:] for part in field.split("_"))


class _Request(BaseModel):
    model_config = ConfigDict(
        extra="forbid", alias_generator=_aws_name, validate_by_name=True, validate_by_alias=True
    )


class _Response(BaseModel):
    model_config = ConfigDict(
        extra="ignore", alias_generator=_aws_name, validate_by_name=True, validate_by_alias=True
    )


ServiceNamespace = str
ActivityStatus = Literal[
    "Pending", "InProgress", "Successful", "Overridden", "Unfulfilled", "Failed"
]


class SuspendedState(_Request):
    """Which kinds of scaling are suspended for a target."""

    dynamic_scaling_in_suspended: bool | None = None
    dynamic_scaling_out_suspended: bool | None = None
    scheduled_scaling_suspended: bool | None = None


class ScalableTargetRegister(_Request):
    """``RegisterScalableTarget``: create a target, or change the given fields of one."""

    service_namespace: ServiceNamespace
    resource_id: str = Field(min_length=1, max_length=1600)
    scalable_dimension: str
    min_capacity: int | None = Field(None, ge=0)
    max_capacity: int | None = Field(None, ge=0)
    role_arn: str | None = Field(None, max_length=1600)
    suspended_state: SuspendedState | None = None
    tags: dict[str, str] | None = None


class ScalableTargetInfo(_Response):
    """A registered scalable target, as ``DescribeScalableTargets`` shows it."""

    service_namespace: ServiceNamespace
    resource_id: str
    scalable_dimension: str
    min_capacity: int
    max_capacity: int
    role_arn: str
    creation_time: datetime
    suspended_state: SuspendedState
    scalable_target_arn: str


class PredefinedMetricSpecification(_Request):
    """A predefined metric (Lakeworks: ``SageMakerVariantInvocationsPerInstance``)."""

    predefined_metric_type: str
    resource_label: str | None = Field(None, min_length=1, max_length=1023)


class MetricDimension(_Request):
    """A CloudWatch-style dimension (``EndpointName``, ``VariantName``)."""

    name: str
    value: str


class CustomizedMetricSpecification(_Request):
    """A metric Lakeworks keeps per variant, named as CloudWatch names SageMaker's."""

    metric_name: str | None = None
    namespace: str | None = None
    dimensions: list[MetricDimension] | None = None
    statistic: Literal["Average", "Minimum", "Maximum", "SampleCount", "Sum"] | None = None
    unit: str | None = None
    #: Metric math; accepted by the shape, refused by Lakeworks with a clear message.
    metrics: list[dict[str, Any]] | None = None


class TargetTrackingScalingPolicyConfiguration(_Request):
    """Keep a metric near ``target_value`` by adding and removing instances."""

    target_value: float
    predefined_metric_specification: PredefinedMetricSpecification | None = None
    customized_metric_specification: CustomizedMetricSpecification | None = None
    scale_out_cooldown: int | None = Field(None, ge=0)
    scale_in_cooldown: int | None = Field(None, ge=0)
    disable_scale_in: bool | None = None


class StepAdjustment(_Request):
    """Add ``scaling_adjustment`` when the metric minus the threshold lies in the interval."""

    metric_interval_lower_bound: float | None = None
    metric_interval_upper_bound: float | None = None
    scaling_adjustment: int


class StepScalingPolicyConfiguration(_Request):
    """Step scaling: adjustments by how far the metric is past the alarm threshold."""

    adjustment_type: Literal["ChangeInCapacity", "PercentChangeInCapacity", "ExactCapacity"] = (
        "ChangeInCapacity"
    )
    step_adjustments: list[StepAdjustment] = Field(default_factory=list)
    min_adjustment_magnitude: int | None = None
    cooldown: int | None = Field(None, ge=0)
    metric_aggregation_type: Literal["Average", "Minimum", "Maximum"] | None = None


class StepAlarm(_Request):
    """Lakeworks only: the native alarm a step scaling policy is evaluated against.

    AWS attaches a CloudWatch alarm to a step policy; without one, Lakeworks compares the
    metric (default ``SageMakerVariantInvocationsPerInstance``) with ``threshold`` (default 0,
    so the step bounds are metric values).
    """

    metric: CustomizedMetricSpecification | None = None
    threshold: float = 0.0


class ScalingPolicyPut(_Request):
    """``PutScalingPolicy``: create or replace a policy of a registered target."""

    policy_name: str = Field(min_length=1, max_length=256)
    service_namespace: ServiceNamespace
    resource_id: str = Field(min_length=1, max_length=1600)
    scalable_dimension: str
    policy_type: Literal["StepScaling", "TargetTrackingScaling", "PredictiveScaling"] = (
        "StepScaling"
    )
    step_scaling_policy_configuration: StepScalingPolicyConfiguration | None = None
    target_tracking_scaling_policy_configuration: (
        TargetTrackingScalingPolicyConfiguration | None
    ) = None
    predictive_scaling_policy_configuration: dict[str, Any] | None = None
    step_alarm: StepAlarm | None = None


class Alarm(_Response):
    """An alarm a policy owns (target tracking: its high and low alarms)."""

    alarm_name: str
    alarm_arn: str


class ScalingPolicyInfo(_Response):
    """A scaling policy, as ``DescribeScalingPolicies`` shows it."""

    policy_arn: str
    policy_name: str
    service_namespace: ServiceNamespace
    resource_id: str
    scalable_dimension: str
    policy_type: str
    step_scaling_policy_configuration: StepScalingPolicyConfiguration | None = None
    target_tracking_scaling_policy_configuration: (
        TargetTrackingScalingPolicyConfiguration | None
    ) = None
    step_alarm: StepAlarm | None = None
    alarms: list[Alarm] = Field(default_factory=list)
    creation_time: datetime


class NotScaledReason(_Response):
    """Why a decision did not change the capacity."""

    code: str
    max_capacity: int | None = None
    min_capacity: int | None = None
    current_capacity: int | None = None


class ScalingActivityInfo(_Response):
    """One scaling activity (a change of a variant's desired instance count)."""

    activity_id: str
    service_namespace: ServiceNamespace
    resource_id: str
    scalable_dimension: str
    description: str
    cause: str
    start_time: datetime
    end_time: datetime | None = None
    status_code: ActivityStatus
    status_message: str | None = None
    details: str | None = None
    not_scaled_reasons: list[NotScaledReason] | None = None
