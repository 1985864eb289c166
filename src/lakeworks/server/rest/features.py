"""The feature store natively: feature groups (``/api/v1/feature-groups``), their records, and
point-in-time training sets (``/api/v1/feature-store/datasets``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from lakeworks.core.context import RequestContext
from lakeworks.schemas.common import Page
from lakeworks.schemas.features import (
    DatasetBuild,
    DatasetInfo,
    FeatureGroupCreate,
    FeatureGroupInfo,
    FeatureGroupSummary,
)
from lakeworks.server.auth import authenticated, platform_of
from lakeworks.server.platform import Platform

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["features"])

# Plain ``def`` routes: FastAPI runs them in the threadpool, off the event loop.


@router.post("/feature-groups", status_code=201, response_model_by_alias=False)
def create_feature_group(
    request: FeatureGroupCreate,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> FeatureGroupInfo:
    """Create a feature group (CreateFeatureGroup's fields, snake_case or SageMaker's)."""
    platform.features.create_feature_group(ctx, request)
    return platform.features.describe_feature_group(ctx, request.feature_group_name)


@router.get("/feature-groups", response_model_by_alias=False)
def list_feature_groups(
    name_contains: str | None = Query(None, max_length=64),
    max_results: int = Query(100, ge=1, le=100),
    next_token: str | None = Query(None, max_length=1024),
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> Page[FeatureGroupSummary]:
    """Feature groups, newest first."""
    return platform.features.list_feature_groups(
        ctx, name_contains=name_contains, max_results=max_results, next_token=next_token
    )


@router.get("/feature-groups/{name}", response_model_by_alias=False)
def describe_feature_group(
    name: str,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> FeatureGroupInfo:
    """One feature group."""
    return platform.features.describe_feature_group(ctx, name)


@router.delete("/feature-groups/{name}", status_code=204)
def delete_feature_group(
    name: str,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> None:
    """Delete a feature group (its offline files and catalog table stay)."""
    platform.features.delete_feature_group(ctx, name)


@router.put("/feature-groups/{name}/records", status_code=204)
def put_record(
    name: str,
    record: dict[str, str],
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> None:
    """Write a record given as ``{feature: value-as-string}``."""
    values = [{"FeatureName": k, "ValueAsString": v} for k, v in record.items()]
    platform.features.put_record(ctx, name, values)


@router.get("/feature-groups/{name}/records/{record_id}")
def get_record(
    name: str,
    record_id: str,
    feature_name: list[str] | None = Query(None),
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> dict[str, Any]:
    """The latest record as ``{feature: value-as-string}`` (``{}`` when there is none)."""
    found = platform.features.get_record(ctx, name, record_id, feature_names=feature_name)
    return {v["FeatureName"]: v["ValueAsString"] for v in found.get("Record", [])}


@router.post("/feature-store/datasets", response_model_by_alias=False)
def build_dataset(
    request: DatasetBuild,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> DatasetInfo:
    """A point-in-time-correct training set: each label row joined to features as of its time."""
    return platform.features.build_dataset(ctx, request)
