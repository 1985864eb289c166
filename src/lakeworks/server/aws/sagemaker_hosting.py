"""SageMaker hosting actions: models, endpoint configs, endpoints (JSON 1.1, ``SageMaker.*``).

Merged into the SageMaker action table (:data:`lakeworks.server.aws.sagemaker.ACTIONS`). Shapes
are the wire models' aliases (:mod:`lakeworks.schemas.hosting`), so parsing is ``parse_shape``
and answering ``dump``. SageMaker reports a missing or already existing model, endpoint config
or endpoint as ``ValidationException`` (``Could not find endpoint "arn:…"``), which is what
boto3's waiters expect (``endpoint_deleted`` succeeds on it); the native API says 404/409.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool

from lakeworks.core.errors import AlreadyExists, NotFound, ValidationError
from lakeworks.schemas.hosting import (
    EndpointConfigCreate,
    EndpointCreate,
    EndpointUpdate,
    EndpointWeightsUpdate,
    ModelCreate,
)
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

_STATUSES = (
    "OutOfService",
    "Creating",
    "Updating",
    "SystemUpdating",
    "RollingBack",
    "InService",
    "Deleting",
    "Failed",
    "UpdateRollbackFailed",
)


def _as_sagemaker(
    handler: Callable[[AwsCall], Awaitable[dict[str, Any]]],
) -> Callable[[AwsCall], Awaitable[dict[str, Any]]]:
    """Report not-found and already-exists as SageMaker does: ``ValidationException`` (400)."""

    @functools.wraps(handler)
    async def wrapped(call: AwsCall) -> dict[str, Any]:
        try:
            return await handler(call)
        except (NotFound, AlreadyExists) as exc:
            raise ValidationError(exc.message) from None

    return wrapped


def _choice(params: dict[str, Any], name: str, allowed: tuple[str, ...], default: str) -> Any:
    value = optional_str(params, name) or default
    if value not in allowed:
        raise ValidationError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _list_args(params: dict[str, Any], sort_keys: tuple[str, ...]) -> dict[str, Any]:
    for unsupported in ("LastModifiedTimeAfter", "LastModifiedTimeBefore"):
        if params.get(unsupported) is not None:
            raise ValidationError(
                f"{unsupported} is not supported by Lakeworks; filter by CreationTimeAfter/Before"
            )
    return {
        "name_contains": optional_str(params, "NameContains"),
        "creation_time_after": optional_time(params, "CreationTimeAfter"),
        "creation_time_before": optional_time(params, "CreationTimeBefore"),
        "sort_by": _choice(params, "SortBy", sort_keys, "CreationTime"),
        "sort_order": _choice(params, "SortOrder", ("Ascending", "Descending"), "Descending"),
        "max_results": optional_int(params, "MaxResults") or 10,
        "next_token": optional_str(params, "NextToken"),
    }


def _page(key: str, page: Any) -> dict[str, Any]:
    result: dict[str, Any] = {key: [dump(item) for item in page.items]}
    if page.next_token:
        result["NextToken"] = page.next_token
    return result


# -- models --------------------------------------------------------------------------------------


@_as_sagemaker
async def create_model(call: AwsCall) -> dict[str, Any]:
    """CreateModel → ``{"ModelArn"}``."""
    spec = parse_shape(ModelCreate, call.params)
    info = await run_in_threadpool(call.platform.hosting.create_model, call.ctx, spec)
    return {"ModelArn": info.model_arn}


@_as_sagemaker
async def describe_model(call: AwsCall) -> dict[str, Any]:
    """DescribeModel."""
    name = required_str(call.params, "ModelName")
    info = await run_in_threadpool(call.platform.hosting.describe_model, call.ctx, name)
    result = dump(info)
    result.pop("Tags", None)  # DescribeModel does not list tags (ListTags does)
    return result


@_as_sagemaker
async def list_models(call: AwsCall) -> dict[str, Any]:
    """ListModels with SageMaker's filters, sorting and paging."""
    args = _list_args(call.params, ("Name", "CreationTime"))
    page = await run_in_threadpool(lambda: call.platform.hosting.list_models(call.ctx, **args))
    return _page("Models", page)


@_as_sagemaker
async def delete_model(call: AwsCall) -> dict[str, Any]:
    """DeleteModel (no output)."""
    name = required_str(call.params, "ModelName")
    await run_in_threadpool(call.platform.hosting.delete_model, call.ctx, name)
    return {}


# -- endpoint configs ----------------------------------------------------------------------------


@_as_sagemaker
async def create_endpoint_config(call: AwsCall) -> dict[str, Any]:
    """CreateEndpointConfig → ``{"EndpointConfigArn"}``."""
    spec = parse_shape(EndpointConfigCreate, call.params)
    info = await run_in_threadpool(call.platform.hosting.create_endpoint_config, call.ctx, spec)
    return {"EndpointConfigArn": info.endpoint_config_arn}


@_as_sagemaker
async def describe_endpoint_config(call: AwsCall) -> dict[str, Any]:
    """DescribeEndpointConfig."""
    name = required_str(call.params, "EndpointConfigName")
    info = await run_in_threadpool(call.platform.hosting.describe_endpoint_config, call.ctx, name)
    result = dump(info)
    result.pop("Tags", None)
    return result


@_as_sagemaker
async def list_endpoint_configs(call: AwsCall) -> dict[str, Any]:
    """ListEndpointConfigs."""
    args = _list_args(call.params, ("Name", "CreationTime"))
    page = await run_in_threadpool(
        lambda: call.platform.hosting.list_endpoint_configs(call.ctx, **args)
    )
    return _page("EndpointConfigs", page)


@_as_sagemaker
async def delete_endpoint_config(call: AwsCall) -> dict[str, Any]:
    """DeleteEndpointConfig (no output)."""
    name = required_str(call.params, "EndpointConfigName")
    await run_in_threadpool(call.platform.hosting.delete_endpoint_config, call.ctx, name)
    return {}


# -- endpoints -----------------------------------------------------------------------------------


@_as_sagemaker
async def create_endpoint(call: AwsCall) -> dict[str, Any]:
    """CreateEndpoint → ``{"EndpointArn"}`` (the endpoint is Creating)."""
    spec = parse_shape(EndpointCreate, call.params)
    info = await run_in_threadpool(call.platform.hosting.create_endpoint, call.ctx, spec)
    return {"EndpointArn": info.endpoint_arn}


@_as_sagemaker
async def describe_endpoint(call: AwsCall) -> dict[str, Any]:
    """DescribeEndpoint."""
    name = required_str(call.params, "EndpointName")
    info = await run_in_threadpool(call.platform.hosting.describe_endpoint, call.ctx, name)
    result = dump(info)
    result.pop("Tags", None)
    return result


@_as_sagemaker
async def list_endpoints(call: AwsCall) -> dict[str, Any]:
    """ListEndpoints."""
    params = call.params
    status: Any = optional_str(params, "StatusEquals")
    if status is not None and status not in _STATUSES:
        raise ValidationError(f"StatusEquals must be one of {', '.join(_STATUSES)}, got {status!r}")
    args = _list_args(params, ("Name", "CreationTime", "Status"))
    page = await run_in_threadpool(
        lambda: call.platform.hosting.list_endpoints(call.ctx, status_equals=status, **args)
    )
    return _page("Endpoints", page)


@_as_sagemaker
async def update_endpoint(call: AwsCall) -> dict[str, Any]:
    """UpdateEndpoint → ``{"EndpointArn"}`` (the endpoint is Updating)."""
    params = dict(call.params)
    name = required_str(params, "EndpointName")
    params.pop("EndpointName")
    spec = parse_shape(EndpointUpdate, params)
    info = await run_in_threadpool(call.platform.hosting.update_endpoint, call.ctx, name, spec)
    return {"EndpointArn": info.endpoint_arn}


@_as_sagemaker
async def update_endpoint_weights_and_capacities(call: AwsCall) -> dict[str, Any]:
    """UpdateEndpointWeightsAndCapacities → ``{"EndpointArn"}``."""
    params = dict(call.params)
    name = required_str(params, "EndpointName")
    params.pop("EndpointName")
    spec = parse_shape(EndpointWeightsUpdate, params)
    info = await run_in_threadpool(
        call.platform.hosting.update_endpoint_weights_and_capacities, call.ctx, name, spec
    )
    return {"EndpointArn": info.endpoint_arn}


@_as_sagemaker
async def delete_endpoint(call: AwsCall) -> dict[str, Any]:
    """DeleteEndpoint (no output; the endpoint is Deleting, then gone)."""
    name = required_str(call.params, "EndpointName")
    await run_in_threadpool(call.platform.hosting.delete_endpoint, call.ctx, name)
    return {}


ACTIONS: dict[str, Handler] = {
    "CreateModel": create_model,
    "DescribeModel": describe_model,
    "ListModels": list_models,
    "DeleteModel": delete_model,
    "CreateEndpointConfig": create_endpoint_config,
    "DescribeEndpointConfig": describe_endpoint_config,
    "ListEndpointConfigs": list_endpoint_configs,
    "DeleteEndpointConfig": delete_endpoint_config,
    "CreateEndpoint": create_endpoint,
    "DescribeEndpoint": describe_endpoint,
    "ListEndpoints": list_endpoints,
    "UpdateEndpoint": update_endpoint,
    "UpdateEndpointWeightsAndCapacities": update_endpoint_weights_and_capacities,
    "DeleteEndpoint": delete_endpoint,
}
