"""Autoscaling of endpoint variants: scalable targets, scaling policies, scaling activities.

The operations Application Auto Scaling has, for one kind of target: the instance count of a
SageMaker endpoint variant (``ServiceNamespace`` ``sagemaker``, ``ResourceId``
``endpoint/<name>/variant/<variant>``, ``ScalableDimension``
``sagemaker:variant:DesiredInstanceCount``). The
:class:`~lakeworks.hosting.autoscaling.controller.AutoscalingController` samples the variants'
metrics and applies the policies through
:meth:`HostingService.update_endpoint_weights_and_capacities`, recording an activity each time.

Step scaling policies are CloudWatch alarm actions: the service registers its policy ARNs with
the alarms (:meth:`~lakeworks.hosting.alarm_service.AlarmService.register_actions`), so
``PutMetricAlarm`` accepts ``AlarmActions`` naming a step policy of this server (and refuses an
unknown one), an alarm in ``ALARM`` runs the policy with its datapoint, and
``DescribeScalingPolicies`` lists the alarms that name each policy.

Missing targets and policies raise :class:`NotFound`; the AWS adapter answers them as
``ObjectNotFoundException``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from lakeworks.core.clock import utcnow
from lakeworks.core.context import RequestContext
from lakeworks.core.errors import NotFound, ValidationError
from lakeworks.core.names import arn
from lakeworks.core.settings import Settings
from lakeworks.db import Database
from lakeworks.hosting import listing
from lakeworks.hosting.alarm_service import AlarmAction
from lakeworks.hosting.autoscaling import store
from lakeworks.hosting.autoscaling.controller import (
    AlarmSignal,
    AutoscalingController,
    step_policy_of,
)
from lakeworks.hosting.autoscaling.metrics import metric_of
from lakeworks.hosting.service import HostingService
from lakeworks.hosting.variants import MAX_INSTANCES_PER_VARIANT
from lakeworks.schemas.autoscaling import (
    Alarm,
    ScalableTargetInfo,
    ScalableTargetRegister,
    ScalingActivityInfo,
    ScalingPolicyInfo,
    ScalingPolicyPut,
    SuspendedState,
)
from lakeworks.schemas.common import Page
from lakeworks.schemas.hosting import EndpointInfo

__all__ = ["DIMENSION", "NAMESPACE", "AutoscalingService", "parse_resource_id"]

NAMESPACE = "sagemaker"
DIMENSION = "sagemaker:variant:DesiredInstanceCount"
_RESOURCE = re.compile(r"^endpoint/([^/]+)/variant/([^/]+)$")
_MAX_POLICIES = 50


def parse_resource_id(resource_id: str) -> tuple[str, str]:
    """``(endpoint, variant)`` of ``endpoint/<name>/variant/<variant>``.

    Raises:
        ValidationError: Any other form.
    """
    match = _RESOURCE.match(resource_id)
    if match is None:
        raise ValidationError(
            f"Unsupported resource ID {resource_id!r}: a SageMaker variant is "
            "endpoint/<endpoint-name>/variant/<variant-name>"
        )
    return match.group(1), match.group(2)


def _check_dimension(namespace: str, dimension: str | None) -> None:
    if namespace != NAMESPACE:
        raise ValidationError(
            f"Unsupported service namespace {namespace!r}: Lakeworks scales SageMaker endpoint "
            f"variants (ServiceNamespace {NAMESPACE})"
        )
    if dimension is not None and dimension != DIMENSION:
        raise ValidationError(
            f"Unsupported scalable dimension {dimension!r} for a SageMaker variant; "
            f"allowed: {DIMENSION}"
        )


def _page_size(max_results: int | None) -> int:
    if max_results is None:
        return 50
    if not 1 <= max_results <= 50:
        raise ValidationError(f"MaxResults must be 1-50, got {max_results}")
    return max_results


class AutoscalingService:
    """Scalable targets, policies and activities of endpoint variants.

    Args:
        settings: The settings tree (``hosting.autoscaling_*``).
        db: The metadata database.
        hosting: The endpoints scaled.
        clock: Current UTC time.
    """

    def __init__(
        self,
        settings: Settings,
        db: Database,
        hosting: HostingService,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.db = db
        self.hosting = hosting
        self.clock = clock
        self.controller = AutoscalingController(
            db,
            hosting,
            clock,
            interval=settings.hosting.autoscaling_interval_seconds,
            window=settings.hosting.autoscaling_window_seconds,
        )
        hosting.alarms.register_actions(self._arn("autoscaling", "scalingPolicy:"), self)

    def start(self) -> None:
        """Start the controller thread."""
        self.controller.start()

    def close(self) -> None:
        """Stop the controller thread."""
        self.controller.close()

    def _arn(self, service: str, resource: str) -> str:
        return arn(
            service,
            resource,
            account_id=self.settings.aws.account_id,
            region=self.settings.aws.region,
        )

    def _variant_exists(self, ctx: RequestContext, endpoint: str, variant: str) -> EndpointInfo:
        try:
            info = self.hosting.describe_endpoint(ctx, endpoint)
        except NotFound:
            raise ValidationError(
                f"Endpoint {endpoint!r} does not exist; create it before registering "
                f"endpoint/{endpoint}/variant/{variant}"
            ) from None
        names = {v.variant_name: v for v in info.production_variants}
        if variant not in names:
            raise ValidationError(
                f"The variant {variant!r} does not exist in endpoint {endpoint!r}; variants: "
                + ", ".join(sorted(names))
            )
        if names[variant].current_serverless_config is not None:
            raise ValidationError(
                f"Variant {variant!r} is serverless; it scales by MaxConcurrency, not "
                "DesiredInstanceCount"
            )
        return info

    # -- alarm actions ---------------------------------------------------------------------

    def _policy_by_arn(self, policy_arn: str) -> store.PolicyRecord | None:
        with self.db.session() as session:
            return session.get(store.PolicyRecord, policy_arn)

    def check_action(self, action_arn: str) -> None:
        """An alarm may name ``action_arn``: a step scaling policy of this server.

        Raises:
            ValidationError: No such policy, or a target tracking one (its alarms are its own).
        """
        record = self._policy_by_arn(action_arn)
        if record is None:
            raise ValidationError(
                f"No scaling policy has ARN {action_arn!r}; an alarm action must be the "
                "PolicyARN PutScalingPolicy returned for a StepScaling policy",
                aws_code="ValidationError",
            )
        if record.policy_type != "StepScaling":
            raise ValidationError(
                f"Scaling policy {record.name!r} is a {record.policy_type} policy; only "
                "StepScaling policies can be alarm actions",
                aws_code="ValidationError",
            )

    def run_action(self, action_arn: str, action: AlarmAction) -> None:
        """An alarm runs the step policy ``action_arn`` with its latest datapoint."""
        if action.value is None or self._policy_by_arn(action_arn) is None:
            return  # no datapoint to size the step by, or the policy was deleted since
        self.controller.signal(
            action_arn,
            AlarmSignal(
                action.alarm_name,
                action.state,
                action.threshold,
                action.value,
                self.clock(),
                float(action.period),
            ),
        )

    # -- targets ---------------------------------------------------------------------------

    def register_scalable_target(
        self, ctx: RequestContext, spec: ScalableTargetRegister
    ) -> ScalableTargetInfo:
        """Register a variant's instance count as scalable, or update a registered one.

        Raises:
            ValidationError: Another namespace or dimension, a malformed ResourceId, an unknown
                endpoint or variant, a new target without Min/MaxCapacity, or Min above Max.
        """
        ctx.require("write")
        _check_dimension(spec.service_namespace, spec.scalable_dimension)
        endpoint, variant = parse_resource_id(spec.resource_id)
        endpoint_info = self._variant_exists(ctx, endpoint, variant)
        with self.db.session() as session:
            record = session.get(store.TargetRecord, spec.resource_id)
            if record is None and (spec.min_capacity is None or spec.max_capacity is None):
                raise ValidationError(
                    "MinCapacity and MaxCapacity are required for registering a new scalable target"
                )
            low = spec.min_capacity if spec.min_capacity is not None else record.min_capacity  # type: ignore[union-attr]
            high = spec.max_capacity if spec.max_capacity is not None else record.max_capacity  # type: ignore[union-attr]
            _check_capacity(low, high, is_async=endpoint_info.async_inference_config is not None)
            suspended = (spec.suspended_state or SuspendedState()).model_dump()
            if record is None:
                record = store.TargetRecord(
                    resource_id=spec.resource_id,
                    endpoint_name=endpoint,
                    variant_name=variant,
                    arn=self._arn(
                        "application-autoscaling", f"scalable-target/{uuid.uuid4().hex[:28]}"
                    ),
                    min_capacity=low,
                    max_capacity=high,
                    role_arn=spec.role_arn or self._role_arn(),
                    suspended={k: bool(v) for k, v in suspended.items()},
                    tags=spec.tags or {},
                    last_scale_out=None,
                    last_scale_in=None,
                    creation_time=self.clock(),
                )
                session.add(record)
            else:
                record.min_capacity, record.max_capacity = low, high
                if spec.role_arn:
                    record.role_arn = spec.role_arn
                if spec.suspended_state is not None:
                    merged = dict(record.suspended)
                    merged.update({k: v for k, v in suspended.items() if v is not None})
                    record.suspended = merged
            info = _target_info(record)
        self.controller.wake()
        return info

    def _role_arn(self) -> str:
        role = "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
        return arn(
            "iam",
            f"role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/{role}",
            account_id=self.settings.aws.account_id,
            region="",
        )

    def _target(self, namespace: str, resource_id: str, dimension: str) -> store.TargetRecord:
        _check_dimension(namespace, dimension)
        with self.db.session() as session:
            record = session.get(store.TargetRecord, resource_id)
        if record is None:
            raise NotFound(
                f"No scalable target registered for service namespace: {namespace}, resource ID: "
                f"{resource_id}, scalable dimension: {dimension}"
            )
        return record

    def deregister_scalable_target(
        self, ctx: RequestContext, namespace: str, resource_id: str, dimension: str
    ) -> None:
        """Deregister a target and delete its policies.

        Raises:
            NotFound: No such target.
        """
        ctx.require("write")
        self._target(namespace, resource_id, dimension)
        with self.db.session() as session:
            store.delete_target(session, resource_id)

    def describe_scalable_targets(
        self,
        ctx: RequestContext,
        namespace: str,
        *,
        resource_ids: Sequence[str] | None = None,
        dimension: str | None = None,
        max_results: int | None = None,
        next_token: str | None = None,
    ) -> Page[ScalableTargetInfo]:
        """The registered targets, filtered by ResourceIds."""
        ctx.require("read")
        _check_dimension(namespace, dimension)
        wanted = set(resource_ids or [])
        with self.db.session() as session:
            rows = [
                r
                for r in session.query(store.TargetRecord).all()
                if not wanted or r.resource_id in wanted
            ]
        return listing.page(
            rows,
            key=lambda r: (r.creation_time, r.resource_id),
            descending=False,
            max_results=_page_size(max_results),
            next_token=next_token,
            fingerprint=listing.fingerprint("targets", sorted(wanted)),
            convert=_target_info,
        )

    # -- policies ---------------------------------------------------------------------------

    def put_scaling_policy(self, ctx: RequestContext, spec: ScalingPolicyPut) -> ScalingPolicyInfo:
        """Create or replace a policy of a registered target.

        Raises:
            ValidationError: A policy type or configuration Lakeworks cannot apply (with why).
            NotFound: The target is not registered.
        """
        ctx.require("write")
        target = self._target(spec.service_namespace, spec.resource_id, spec.scalable_dimension)
        _check_policy(spec, target.endpoint_name, target.variant_name)
        with self.db.session() as session:
            existing = [p for p in store.policies_of(session, spec.resource_id)]
            same = next((p for p in existing if p.name == spec.policy_name), None)
            if same is None and len(existing) >= _MAX_POLICIES:
                raise ValidationError(
                    f"A scalable target has at most {_MAX_POLICIES} scaling policies"
                )
            if same is not None:
                session.delete(same)
                session.flush()
            record = store.PolicyRecord(
                # A replaced policy keeps its ARN, as on AWS: alarms name it.
                arn=same.arn
                if same
                else self._arn(
                    "autoscaling",
                    f"scalingPolicy:{uuid.uuid4()}:resource/{NAMESPACE}/{spec.resource_id}"
                    f":policyName/{spec.policy_name}",
                ),
                resource_id=spec.resource_id,
                name=spec.policy_name,
                policy_type=spec.policy_type,
                spec=spec.model_dump(mode="json", exclude_none=True),
                creation_time=same.creation_time if same else self.clock(),
            )
            session.add(record)
            info = _policy_info(record)
        self.controller.wake()
        return info

    def describe_scaling_policies(
        self,
        ctx: RequestContext,
        namespace: str,
        *,
        policy_names: Sequence[str] | None = None,
        resource_id: str | None = None,
        dimension: str | None = None,
        max_results: int | None = None,
        next_token: str | None = None,
    ) -> Page[ScalingPolicyInfo]:
        """The policies, filtered by target and names."""
        ctx.require("read")
        _check_dimension(namespace, dimension)
        names = set(policy_names or [])
        with self.db.session() as session:
            rows = [
                p for p in store.policies_of(session, resource_id) if not names or p.name in names
            ]
        index = self.hosting.alarms.actions_index()
        return listing.page(
            rows,
            key=lambda r: (r.creation_time, r.name),
            descending=False,
            max_results=_page_size(max_results),
            next_token=next_token,
            fingerprint=listing.fingerprint("policies", sorted(names), resource_id),
            convert=lambda r: _policy_info(r, index.get(r.arn, [])),
        )

    def delete_scaling_policy(
        self, ctx: RequestContext, name: str, namespace: str, resource_id: str, dimension: str
    ) -> None:
        """Delete a policy.

        Raises:
            NotFound: No such target or policy.
        """
        ctx.require("write")
        self._target(namespace, resource_id, dimension)
        with self.db.session() as session:
            found = [p for p in store.policies_of(session, resource_id) if p.name == name]
            if not found:
                raise NotFound(
                    f"No scaling policy found for service namespace: {namespace}, resource ID: "
                    f"{resource_id}, scalable dimension: {dimension}, policy name: {name}"
                )
            session.delete(found[0])

    # -- activities -------------------------------------------------------------------------

    def describe_scaling_activities(
        self,
        ctx: RequestContext,
        namespace: str,
        *,
        resource_id: str | None = None,
        dimension: str | None = None,
        max_results: int | None = None,
        next_token: str | None = None,
    ) -> Page[ScalingActivityInfo]:
        """The scaling activities, newest first."""
        ctx.require("read")
        _check_dimension(namespace, dimension)
        with self.db.session() as session:
            rows = list(store.activities_of(session, resource_id))
        return listing.page(
            rows,
            key=lambda r: (r.start_time, r.id),
            descending=True,
            max_results=_page_size(max_results),
            next_token=next_token,
            fingerprint=listing.fingerprint("activities", resource_id),
            convert=_activity_info,
        )


def _check_capacity(low: int, high: int, *, is_async: bool) -> None:
    """Min/MaxCapacity of a variant: 1-32 instances; MinCapacity 0 only for async endpoints."""
    if low == 0 and not is_async:
        raise ValidationError(
            "MinCapacity 0 is only allowed for variants of asynchronous endpoints (an endpoint "
            "config with AsyncInferenceConfig); a real-time variant needs MinCapacity of at "
            "least 1"
        )
    if low < 0 or high < 1 or high > MAX_INSTANCES_PER_VARIANT:
        raise ValidationError(
            f"Capacity of a SageMaker variant must be 1-{MAX_INSTANCES_PER_VARIANT} instances "
            f"(MinCapacity 0 for an asynchronous endpoint), got MinCapacity {low}, "
            f"MaxCapacity {high}"
        )
    if low > high:
        raise ValidationError(f"MinCapacity {low} must not be greater than MaxCapacity {high}")


def _check_policy(spec: ScalingPolicyPut, endpoint: str, variant: str) -> None:
    if spec.policy_type == "PredictiveScaling":
        raise ValidationError(
            "PredictiveScaling is not supported by Lakeworks; use TargetTrackingScaling or "
            "StepScaling"
        )
    tracking = spec.target_tracking_scaling_policy_configuration
    step = spec.step_scaling_policy_configuration
    if spec.policy_type == "TargetTrackingScaling":
        if tracking is None or step is not None or spec.step_alarm is not None:
            raise ValidationError(
                "A TargetTrackingScaling policy needs TargetTrackingScalingPolicyConfiguration "
                "(and no StepScalingPolicyConfiguration)"
            )
        if tracking.target_value <= 0:
            raise ValidationError(f"TargetValue must be above 0, got {tracking.target_value}")
        predefined = tracking.predefined_metric_specification
        metric_of(
            predefined.predefined_metric_type if predefined else None,
            tracking.customized_metric_specification,
            endpoint,
            variant,
        )
        if predefined is None and tracking.customized_metric_specification is None:
            raise ValidationError(
                "Give PredefinedMetricSpecification (SageMakerVariantInvocationsPerInstance) "
                "or CustomizedMetricSpecification"
            )
        return
    if step is None or tracking is not None:
        raise ValidationError(
            "A StepScaling policy needs StepScalingPolicyConfiguration (and no "
            "TargetTrackingScalingPolicyConfiguration)"
        )
    if spec.step_alarm is not None and spec.step_alarm.metric is not None:
        metric_of(None, spec.step_alarm.metric, endpoint, variant)
    step_policy_of(spec)


def _target_info(record: store.TargetRecord) -> ScalableTargetInfo:
    return ScalableTargetInfo(
        service_namespace=NAMESPACE,
        resource_id=record.resource_id,
        scalable_dimension=DIMENSION,
        min_capacity=record.min_capacity,
        max_capacity=record.max_capacity,
        role_arn=record.role_arn,
        creation_time=record.creation_time,
        suspended_state=SuspendedState(**record.suspended),
        scalable_target_arn=record.arn,
    )


def _policy_info(
    record: store.PolicyRecord, alarms: Sequence[tuple[str, str]] = ()
) -> ScalingPolicyInfo:
    spec: dict[str, Any] = dict(record.spec)
    return ScalingPolicyInfo(
        policy_arn=record.arn,
        creation_time=record.creation_time,
        alarms=[Alarm(alarm_name=name, alarm_arn=alarm_arn) for name, alarm_arn in alarms],
        **{k: v for k, v in spec.items() if k != "predictive_scaling_policy_configuration"},
    )


def _activity_info(record: store.ActivityRecord) -> ScalingActivityInfo:
    return ScalingActivityInfo(
        activity_id=record.id,
        service_namespace=NAMESPACE,
        resource_id=record.resource_id,
        scalable_dimension=DIMENSION,
        description=record.description,
        cause=record.cause,
        start_time=record.start_time,
        end_time=record.end_time,
        status_code=record.status,
        status_message=record.status_message,
    )
