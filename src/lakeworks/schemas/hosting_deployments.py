"""Wire shapes of endpoint deployments and the alarms that roll them back.

``DeploymentConfig`` is SageMaker's (``UpdateEndpoint``): a blue/green update policy that moves
traffic to the new fleet all at once, as a canary or in linear steps, and the alarms whose
``ALARM`` state rolls it back. Alarms have CloudWatch's ``PutMetricAlarm`` shape, over the
metrics Lakeworks keeps for endpoints (namespace ``AWS/SageMaker``). As in
:mod:`lakeworks.schemas.hosting`, fields are snake_case with AWS's names as aliases.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from lakeworks.schemas.training import AwsRequestModel as RequestModel
from lakeworks.schemas.training import AwsResponseModel as ResponseModel
from lakeworks.schemas.training import Tag

__all__ = [
    "ALARM_METRICS",
    "Alarm",
    "AutoRollbackConfig",
    "BlueGreenUpdatePolicy",
    "CapacitySize",
    "ComparisonOperator",
    "DeploymentConfig",
    "Dimension",
    "MetricAlarmInfo",
    "MetricAlarmPut",
    "PendingDeploymentSummary",
    "PendingProductionVariantSummary",
    "TrafficRoutingConfig",
    "VariantStatus",
]

#: An alarm action: an ARN (1-1024 characters).
AlarmActionArn = Annotated[str, StringConstraints(min_length=1, max_length=1024, pattern=r"^arn:")]

#: The metrics an alarm may watch (namespace ``AWS/SageMaker``, per endpoint and variant).
ALARM_METRICS = (
    "Invocations",
    "Invocation4XXErrors",
    "Invocation5XXErrors",
    "InvocationModelErrors",
    "ModelLatency",
    "OverheadLatency",
    "ApproximateBacklogSize",
    "ApproximateBacklogSizePerInstance",
    "HasBacklogWithoutCapacity",
)

ComparisonOperator = Literal[
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
]


# -- deployment config -------------------------------------------------------------------------


class CapacitySize(RequestModel):
    """A share of the new fleet: a number of instances or a percentage of its capacity."""

    type: Literal["INSTANCE_COUNT", "CAPACITY_PERCENT"]
    value: int = Field(ge=1)


class TrafficRoutingConfig(RequestModel):
    """How traffic moves to the new fleet, and how long each step bakes."""

    type: Literal["ALL_AT_ONCE", "CANARY", "LINEAR"]
    wait_interval_in_seconds: int = Field(ge=0, le=3600)
    canary_size: CapacitySize | None = None
    linear_step_size: CapacitySize | None = None

    @model_validator(mode="after")
    def _size_matches_type(self) -> TrafficRoutingConfig:
        if self.type == "CANARY" and self.canary_size is None:
            raise ValueError("Type CANARY needs CanarySize")
        if self.type == "LINEAR" and self.linear_step_size is None:
            raise ValueError("Type LINEAR needs LinearStepSize")
        if self.type != "CANARY" and self.canary_size is not None:
            raise ValueError(f"CanarySize is only for Type CANARY, not {self.type}")
        if self.type != "LINEAR" and self.linear_step_size is not None:
            raise ValueError(f"LinearStepSize is only for Type LINEAR, not {self.type}")
        return self


class BlueGreenUpdatePolicy(RequestModel):
    """Start the new (green) fleet beside the old (blue) one, shift traffic, then retire blue."""

    traffic_routing_configuration: TrafficRoutingConfig
    termination_wait_in_seconds: int = Field(0, ge=0, le=3600)
    maximum_execution_timeout_in_seconds: int | None = Field(None, ge=600, le=28800)


class Alarm(RequestModel):
    """An alarm (by name) that rolls a deployment back when it is in ALARM."""

    alarm_name: str = Field(min_length=1, max_length=255, pattern=r"^.*\S.*$")


class AutoRollbackConfig(RequestModel):
    """The alarms watched while a deployment bakes."""

    alarms: list[Alarm] | None = Field(None, min_length=1, max_length=10)


class DeploymentConfig(RequestModel):
    """UpdateEndpoint's DeploymentConfig (blue/green; rolling updates are not supported)."""

    blue_green_update_policy: BlueGreenUpdatePolicy | None = None
    rolling_update_policy: dict[str, object] | None = None
    auto_rollback_configuration: AutoRollbackConfig | None = None

    @model_validator(mode="after")
    def _blue_green_only(self) -> DeploymentConfig:
        if self.rolling_update_policy is not None:
            raise ValueError(
                "RollingUpdatePolicy is not supported by Lakeworks; use BlueGreenUpdatePolicy"
            )
        return self


class VariantStatus(ResponseModel):
    """Where a variant of a pending deployment is: Creating, ActivatingTraffic or Baking."""

    status: Literal["Creating", "Updating", "Deleting", "ActivatingTraffic", "Baking"]
    status_message: str | None = None
    start_time: datetime | None = None


class PendingProductionVariantSummary(ResponseModel):
    """A variant of the config a deployment moves to."""

    variant_name: str
    current_weight: float | None = None
    desired_weight: float | None = None
    current_instance_count: int | None = None
    desired_instance_count: int | None = None
    instance_type: str | None = None
    variant_status: list[VariantStatus] = Field(default_factory=list)


class PendingDeploymentSummary(ResponseModel):
    """DescribeEndpoint's view of a deployment in progress."""

    endpoint_config_name: str
    production_variants: list[PendingProductionVariantSummary] = Field(default_factory=list)
    start_time: datetime | None = None


# -- alarms ------------------------------------------------------------------------------------


class Dimension(RequestModel):
    """A metric dimension: ``EndpointName`` or ``VariantName`` (``EndpointName`` required)."""

    name: Literal["EndpointName", "VariantName"]
    value: str = Field(min_length=1, max_length=1024)


class MetricAlarmPut(RequestModel):
    """PutMetricAlarm: a threshold alarm over one endpoint metric."""

    alarm_name: str = Field(min_length=1, max_length=255, pattern=r"^.*\S.*$")
    alarm_description: str | None = Field(None, max_length=1024)
    actions_enabled: bool = True
    namespace: Literal["AWS/SageMaker"]
    metric_name: str
    statistic: Literal["SampleCount", "Average", "Sum", "Minimum", "Maximum"] | None = None
    extended_statistic: str | None = Field(None, pattern=r"^p(\d{1,2}(\.\d+)?|100)$")
    dimensions: list[Dimension] = Field(min_length=1, max_length=2)
    period: int = Field(ge=1, le=86400)
    unit: str | None = None
    evaluation_periods: int = Field(ge=1, le=100)
    datapoints_to_alarm: int | None = Field(None, ge=1)
    threshold: float
    comparison_operator: ComparisonOperator
    treat_missing_data: Literal["breaching", "notBreaching", "ignore", "missing"] = "missing"
    #: ARNs run when the alarm is in ALARM, OK, INSUFFICIENT_DATA (scaling policies only).
    alarm_actions: list[AlarmActionArn] = Field(default_factory=list, max_length=5)
    ok_actions: list[AlarmActionArn] = Field(default_factory=list, max_length=5, alias="OKActions")
    insufficient_data_actions: list[AlarmActionArn] = Field(default_factory=list, max_length=5)
    tags: list[Tag] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _consistent(self) -> MetricAlarmPut:
        if self.metric_name not in ALARM_METRICS:
            raise ValueError(
                f"MetricName {self.metric_name!r} is not a metric Lakeworks keeps for endpoints; "
                f"use one of {', '.join(ALARM_METRICS)}"
            )
        if (self.statistic is None) == (self.extended_statistic is None):
            raise ValueError("give exactly one of Statistic or ExtendedStatistic")
        names = [d.name for d in self.dimensions]
        if "EndpointName" not in names or len(set(names)) != len(names):
            raise ValueError("Dimensions need EndpointName once (and VariantName at most once)")
        if self.period not in (1, 5, 10, 20, 30) and self.period % 60:
            raise ValueError("Period must be 1, 5, 10, 20, 30 or a multiple of 60 seconds")
        if self.datapoints_to_alarm is not None and (
            self.datapoints_to_alarm > self.evaluation_periods
        ):
            raise ValueError("DatapointsToAlarm cannot be more than EvaluationPeriods")
        return self

    def dimension(self, name: str) -> str | None:
        """The value of dimension ``name`` (None when absent)."""
        return next((d.value for d in self.dimensions if d.name == name), None)


class MetricAlarmInfo(ResponseModel):
    """An alarm with its state, as DescribeAlarms lists it."""

    alarm_name: str
    alarm_arn: str
    alarm_description: str | None = None
    actions_enabled: bool = True
    namespace: str
    metric_name: str
    statistic: str | None = None
    extended_statistic: str | None = None
    dimensions: list[Dimension]
    period: int
    unit: str | None = None
    evaluation_periods: int
    datapoints_to_alarm: int | None = None
    threshold: float
    comparison_operator: str
    treat_missing_data: str
    alarm_actions: list[str] = Field(default_factory=list)
    ok_actions: list[str] = Field(default_factory=list, alias="OKActions")
    insufficient_data_actions: list[str] = Field(default_factory=list)
    state_value: Literal["OK", "ALARM", "INSUFFICIENT_DATA"]
    state_reason: str
    state_updated_timestamp: datetime
    alarm_configuration_updated_timestamp: datetime
