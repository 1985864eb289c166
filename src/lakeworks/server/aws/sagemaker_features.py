"""SageMaker feature group actions: Create/Describe/List/Update/DeleteFeatureGroup."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool

from lakeworks.core.errors import ValidationError
from lakeworks.schemas.features import FeatureAddition, FeatureGroupCreate
from lakeworks.server.aws.sagemaker_shapes import (
    dump,
    optional_int,
    optional_str,
    optional_time,
    parse_shape,
    required_str,
)
from lakeworks.server.aws.service import AwsCall, Handler

__all__ = ["ACTIONS"]

_SORT_BY = ("Name", "FeatureGroupStatus", "OfflineStoreStatus", "CreationTime")
_STATUSES = ("Creating", "Created", "CreateFailed", "Deleting", "DeleteFailed")
_OFFLINE_STATUSES = ("Active", "Blocked", "Disabled")


def _choice(params: dict[str, Any], name: str, allowed: tuple[str, ...]) -> str | None:
    value = optional_str(params, name)
    if value is not None and value not in allowed:
        raise ValidationError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value


async def create_feature_group(call: AwsCall) -> dict[str, Any]:
    """CreateFeatureGroup → ``{"FeatureGroupArn"}``."""
    spec = parse_shape(FeatureGroupCreate, call.params)
    arn = await run_in_threadpool(call.platform.features.create_feature_group, call.ctx, spec)
    return {"FeatureGroupArn": arn}


async def describe_feature_group(call: AwsCall) -> dict[str, Any]:
    """DescribeFeatureGroup."""
    name = required_str(call.params, "FeatureGroupName")
    info = await run_in_threadpool(call.platform.features.describe_feature_group, call.ctx, name)
    return dump(info)


async def list_feature_groups(call: AwsCall) -> dict[str, Any]:
    """ListFeatureGroups with SageMaker's filters, sorting and paging."""
    params = call.params
    page = await run_in_threadpool(
        lambda: call.platform.features.list_feature_groups(
            call.ctx,
            name_contains=optional_str(params, "NameContains"),
            status_equals=_choice(params, "FeatureGroupStatusEquals", _STATUSES),
            offline_status_equals=_choice(params, "OfflineStoreStatusEquals", _OFFLINE_STATUSES),
            creation_time_after=optional_time(params, "CreationTimeAfter"),
            creation_time_before=optional_time(params, "CreationTimeBefore"),
            sort_by=_choice(params, "SortBy", _SORT_BY) or "CreationTime",
            sort_order=_choice(params, "SortOrder", ("Ascending", "Descending")) or "Descending",
            max_results=optional_int(params, "MaxResults") or 10,
            next_token=optional_str(params, "NextToken"),
        )
    )
    result: dict[str, Any] = {"FeatureGroupSummaries": [dump(item) for item in page.items]}
    if page.next_token:
        result["NextToken"] = page.next_token
    return result


async def update_feature_group(call: AwsCall) -> dict[str, Any]:
    """UpdateFeatureGroup: FeatureAdditions and the online store's TtlDuration."""
    params = dict(call.params)
    name = required_str(params, "FeatureGroupName")
    params.pop("FeatureGroupName")
    update = parse_shape(FeatureAddition, params)
    online = update.online_store_config or {}
    unknown = sorted(set(online) - {"TtlDuration"})
    if unknown or update.throughput_config:
        raise ValidationError(
            "UpdateFeatureGroup supports FeatureAdditions and OnlineStoreConfig.TtlDuration"
        )
    arn = await run_in_threadpool(
        call.platform.features.update_feature_group,
        call.ctx,
        name,
        update.feature_additions,
        online.get("TtlDuration"),
    )
    return {"FeatureGroupArn": arn}


async def delete_feature_group(call: AwsCall) -> dict[str, Any]:
    """DeleteFeatureGroup (no output)."""
    name = required_str(call.params, "FeatureGroupName")
    await run_in_threadpool(call.platform.features.delete_feature_group, call.ctx, name)
    return {}


#: The feature group actions, merged into the SageMaker action table.
ACTIONS: dict[str, Handler] = {
    "CreateFeatureGroup": create_feature_group,
    "DescribeFeatureGroup": describe_feature_group,
    "ListFeatureGroups": list_feature_groups,
    "UpdateFeatureGroup": update_feature_group,
    "DeleteFeatureGroup": delete_feature_group,
}
