"""Autoscaling of endpoint variants (``/api/v1/scalable-targets``, ``/api/v1/scaling-policies``,
``/api/v1/scaling-activities``). Bodies are Application Auto Scaling's shapes in snake_case (its
names are accepted too); a target is named by its ``resource_id``
(``endpoint/<name>/variant/<variant>``) in the query, since it holds slashes. Step policies may
carry a native ``step_alarm`` (metric and threshold), which the AWS API has no field for.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response

from lakeworks.core.context import RequestContext
from lakeworks.hosting.autoscaling.service import DIMENSION, NAMESPACE
from lakeworks.schemas.autoscaling import (
    ScalableTargetInfo,
    ScalableTargetRegister,
    ScalingActivityInfo,
    ScalingPolicyInfo,
    ScalingPolicyPut,
)
from lakeworks.schemas.common import Page
from lakeworks.server.auth import authenticated, platform_of
from lakeworks.server.platform import Platform

router = APIRouter(prefix="/api/v1", tags=["autoscaling"])

_RESOURCE = Query(..., min_length=1, max_length=1600, description="endpoint/<name>/variant/<v>")
_OPTIONAL_RESOURCE = Query(None, min_length=1, max_length=1600)
_MAX = Query(50, ge=1, le=50)
_TOKEN = Query(None, max_length=1024)


@router.post("/scalable-targets", response_model_by_alias=False)
def register_scalable_target(
    spec: ScalableTargetRegister,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> ScalableTargetInfo:
    """Register a variant's instance count as scalable (or change a registered target)."""
    return platform.autoscaling.register_scalable_target(ctx, spec)


@router.get("/scalable-targets", response_model_by_alias=False)
def describe_scalable_targets(
    resource_id: str | None = _OPTIONAL_RESOURCE,
    max_results: int = _MAX,
    next_token: str | None = _TOKEN,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> Page[ScalableTargetInfo]:
    """The registered targets (one, given ``resource_id``)."""
    return platform.autoscaling.describe_scalable_targets(
        ctx,
        NAMESPACE,
        resource_ids=[resource_id] if resource_id else None,
        max_results=max_results,
        next_token=next_token,
    )


@router.delete("/scalable-targets", status_code=204)
def deregister_scalable_target(
    resource_id: str = _RESOURCE,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> Response:
    """Deregister a target; its policies are deleted with it."""
    platform.autoscaling.deregister_scalable_target(ctx, NAMESPACE, resource_id, DIMENSION)
    return Response(status_code=204)


@router.put("/scaling-policies", response_model_by_alias=False)
def put_scaling_policy(
    spec: ScalingPolicyPut,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> ScalingPolicyInfo:
    """Create or replace a target's policy (target tracking or step scaling)."""
    return platform.autoscaling.put_scaling_policy(ctx, spec)


@router.get("/scaling-policies", response_model_by_alias=False)
def describe_scaling_policies(
    resource_id: str | None = _OPTIONAL_RESOURCE,
    policy_name: list[str] | None = Query(None),
    max_results: int = _MAX,
    next_token: str | None = _TOKEN,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> Page[ScalingPolicyInfo]:
    """The policies, filtered by target and names."""
    return platform.autoscaling.describe_scaling_policies(
        ctx,
        NAMESPACE,
        policy_names=policy_name,
        resource_id=resource_id,
        max_results=max_results,
        next_token=next_token,
    )


@router.delete("/scaling-policies", status_code=204)
def delete_scaling_policy(
    resource_id: str = _RESOURCE,
    policy_name: str = Query(..., min_length=1, max_length=256),
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> Response:
    """Delete a policy."""
    platform.autoscaling.delete_scaling_policy(ctx, policy_name, NAMESPACE, resource_id, DIMENSION)
    return Response(status_code=204)


@router.get("/scaling-activities", response_model_by_alias=False)
def describe_scaling_activities(
    resource_id: str | None = _OPTIONAL_RESOURCE,
    max_results: int = _MAX,
    next_token: str | None = _TOKEN,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> Page[ScalingActivityInfo]:
    """The scaling activities, newest first."""
    return platform.autoscaling.describe_scaling_activities(
        ctx, NAMESPACE, resource_id=resource_id, max_results=max_results, next_token=next_token
    )
