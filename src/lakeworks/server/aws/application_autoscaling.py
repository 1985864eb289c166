"""Application Auto Scaling (JSON 1.1, ``X-Amz-Target: AnyScaleFrontendService.<Action>``).

RegisterScalableTarget, DeregisterScalableTarget, DescribeScalableTargets, PutScalingPolicy,
DescribeScalingPolicies, DeleteScalingPolicy and DescribeScalingActivities for SageMaker
endpoint variants (see :mod:`lakeworks.hosting.autoscaling.service`). Shapes are the wire
models' aliases (:mod:`lakeworks.schemas.autoscaling`). A missing target or policy is
``ObjectNotFoundException`` (400), as AWS answers it.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from lakeworks.core.errors import NotFound, ValidationError
from lakeworks.schemas.autoscaling import ScalableTargetRegister, ScalingPolicyPut
from lakeworks.server.aws.sagemaker_shapes import (
    optional_int,
    optional_str,
    parse_shape,
    required_str,
)
from lakeworks.server.aws.service import AwsCall, AwsService, Handler

__all__ = ["ACTIONS", "SERVICE"]

#: Lakeworks-only fields left out of AWS answers.
_NATIVE_ONLY = {"step_alarm"}


def _as_aws(
    handler: Callable[[AwsCall], Awaitable[dict[str, Any]]],
) -> Callable[[AwsCall], Awaitable[dict[str, Any]]]:
    """Answer a missing target or policy as ``ObjectNotFoundException`` (400)."""

    @functools.wraps(handler)
    async def wrapped(call: AwsCall) -> dict[str, Any]:
        try:
            return await handler(call)
        except NotFound as exc:
            raise ValidationError(exc.message, aws_code="ObjectNotFoundException") from None

    return wrapped


def _dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(by_alias=True, exclude_none=True, exclude=_NATIVE_ONLY)


def _strings(params: dict[str, Any], name: str) -> list[str] | None:
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError(f"{name} must be a list of strings")
    if len(value) > 50:
        raise ValidationError(f"{name} has at most 50 members, got {len(value)}")
    return value


def _target_key(params: dict[str, Any]) -> tuple[str, str, str]:
    return (
        required_str(params, "ServiceNamespace"),
        required_str(params, "ResourceId"),
        required_str(params, "ScalableDimension"),
    )


def _page_args(params: dict[str, Any]) -> dict[str, Any]:
    return {
        "max_results": optional_int(params, "MaxResults"),
        "next_token": optional_str(params, "NextToken"),
    }


@_as_aws
async def register_scalable_target(call: AwsCall) -> dict[str, Any]:
    """RegisterScalableTarget."""
    spec = parse_shape(ScalableTargetRegister, call.params)
    info = await run_in_threadpool(
        call.platform.autoscaling.register_scalable_target, call.ctx, spec
    )
    return {"ScalableTargetARN": info.scalable_target_arn}


@_as_aws
async def deregister_scalable_target(call: AwsCall) -> dict[str, Any]:
    """DeregisterScalableTarget (its policies go with it)."""
    namespace, resource_id, dimension = _target_key(call.params)
    await run_in_threadpool(
        call.platform.autoscaling.deregister_scalable_target,
        call.ctx,
        namespace,
        resource_id,
        dimension,
    )
    return {}


@_as_aws
async def describe_scalable_targets(call: AwsCall) -> dict[str, Any]:
    """DescribeScalableTargets."""
    page = await run_in_threadpool(
        functools.partial(
            call.platform.autoscaling.describe_scalable_targets,
            call.ctx,
            required_str(call.params, "ServiceNamespace"),
            resource_ids=_strings(call.params, "ResourceIds"),
            dimension=optional_str(call.params, "ScalableDimension"),
            **_page_args(call.params),
        )
    )
    result: dict[str, Any] = {"ScalableTargets": [_dump(t) for t in page.items]}
    if page.next_token:
        result["NextToken"] = page.next_token
    return result


@_as_aws
async def put_scaling_policy(call: AwsCall) -> dict[str, Any]:
    """PutScalingPolicy (TargetTrackingScaling or StepScaling)."""
    if "StepAlarm" in call.params or "step_alarm" in call.params:
        raise ValidationError("StepAlarm is not a PutScalingPolicy parameter")
    spec = parse_shape(ScalingPolicyPut, call.params)
    info = await run_in_threadpool(call.platform.autoscaling.put_scaling_policy, call.ctx, spec)
    return {"PolicyARN": info.policy_arn, "Alarms": [_dump(a) for a in info.alarms]}


@_as_aws
async def describe_scaling_policies(call: AwsCall) -> dict[str, Any]:
    """DescribeScalingPolicies."""
    page = await run_in_threadpool(
        functools.partial(
            call.platform.autoscaling.describe_scaling_policies,
            call.ctx,
            required_str(call.params, "ServiceNamespace"),
            policy_names=_strings(call.params, "PolicyNames"),
            resource_id=optional_str(call.params, "ResourceId"),
            dimension=optional_str(call.params, "ScalableDimension"),
            **_page_args(call.params),
        )
    )
    result: dict[str, Any] = {"ScalingPolicies": [_dump(p) for p in page.items]}
    if page.next_token:
        result["NextToken"] = page.next_token
    return result


@_as_aws
async def delete_scaling_policy(call: AwsCall) -> dict[str, Any]:
    """DeleteScalingPolicy."""
    name = required_str(call.params, "PolicyName")
    namespace, resource_id, dimension = _target_key(call.params)
    await run_in_threadpool(
        call.platform.autoscaling.delete_scaling_policy,
        call.ctx,
        name,
        namespace,
        resource_id,
        dimension,
    )
    return {}


@_as_aws
async def describe_scaling_activities(call: AwsCall) -> dict[str, Any]:
    """DescribeScalingActivities (IncludeNotScaledActivities is accepted; Lakeworks records
    only activities that changed the capacity)."""
    page = await run_in_threadpool(
        functools.partial(
            call.platform.autoscaling.describe_scaling_activities,
            call.ctx,
            required_str(call.params, "ServiceNamespace"),
            resource_id=optional_str(call.params, "ResourceId"),
            dimension=optional_str(call.params, "ScalableDimension"),
            **_page_args(call.params),
        )
    )
    result: dict[str, Any] = {"ScalingActivities": [_dump(a) for a in page.items]}
    if page.next_token:
        result["NextToken"] = page.next_token
    return result


ACTIONS: dict[str, Handler] = {
    "RegisterScalableTarget": register_scalable_target,
    "DeregisterScalableTarget": deregister_scalable_target,
    "DescribeScalableTargets": describe_scalable_targets,
    "PutScalingPolicy": put_scaling_policy,
    "DescribeScalingPolicies": describe_scaling_policies,
    "DeleteScalingPolicy": delete_scaling_policy,
    "DescribeScalingActivities": describe_scaling_activities,
}

SERVICE = AwsService(
    name="application-autoscaling",
    protocol="json",
    signing_name="application-autoscaling",
    target_prefix="AnyScaleFrontendService",
    json_version="1.1",
    actions=ACTIONS,
)
