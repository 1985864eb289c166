"""Hosting: models, endpoint configs, endpoints, invocations and metrics (``/api/v1/models``,
``/api/v1/endpoint-configs``, ``/api/v1/endpoints``). Bodies use snake_case names; SageMaker's
names are accepted too.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from lakeworks.core.context import RequestContext
from lakeworks.hosting.runtime import MAX_PAYLOAD_BYTES, Invocation, payload_too_large
from lakeworks.hosting.serverless import COLD_START_HEADER
from lakeworks.schemas.common import Page
from lakeworks.schemas.hosting import (
    EndpointConfigCreate,
    EndpointConfigInfo,
    EndpointConfigSummary,
    EndpointCreate,
    EndpointInfo,
    EndpointMetrics,
    EndpointStatus,
    EndpointSummary,
    EndpointUpdate,
    EndpointWeightsUpdate,
    ModelCreate,
    ModelInfo,
    ModelSummary,
)
from lakeworks.server.auth import authenticated, platform_of
from lakeworks.server.platform import Platform
from lakeworks.server.rest.listing import JobListing, ResourceListing

router = APIRouter(prefix="/api/v1", tags=["hosting"])

# Plain ``def`` routes run in the threadpool; the invocation route is async (no thread hop).
# ``response_model_by_alias=False``: native responses use snake_case names.


@router.post("/models", status_code=201, response_model_by_alias=False)
def create_model(
    spec: ModelCreate,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> ModelInfo:
    """Create a model: containers (built-in algorithm or script mode) and their artifacts."""
    return platform.hosting.create_model(ctx, spec)


@router.get("/models", response_model_by_alias=False)
def list_models(
    listing: ResourceListing = Depends(),
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> Page[ModelSummary]:
    """List models, newest first unless sorted otherwise."""
    return platform.hosting.list_models(ctx, **listing.kwargs)


@router.get("/models/{name}", response_model_by_alias=False)
def describe_model(
    name: str,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> ModelInfo:
    """Everything about one model."""
    return platform.hosting.describe_model(ctx, name)


@router.delete("/models/{name}", status_code=204)
def delete_model(
    name: str,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> Response:
    """Delete a model (endpoints using it keep serving)."""
    platform.hosting.delete_model(ctx, name)
    return Response(status_code=204)


@router.post("/endpoint-configs", status_code=201, response_model_by_alias=False)
def create_endpoint_config(
    spec: EndpointConfigCreate,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> EndpointConfigInfo:
    """Create an endpoint config: production variants, shadows, data capture."""
    return platform.hosting.create_endpoint_config(ctx, spec)


@router.get("/endpoint-configs", response_model_by_alias=False)
def list_endpoint_configs(
    listing: ResourceListing = Depends(),
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> Page[EndpointConfigSummary]:
    """List endpoint configs, newest first unless sorted otherwise."""
    return platform.hosting.list_endpoint_configs(ctx, **listing.kwargs)


@router.get("/endpoint-configs/{name}", response_model_by_alias=False)
def describe_endpoint_config(
    name: str,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> EndpointConfigInfo:
    """Everything about one endpoint config."""
    return platform.hosting.describe_endpoint_config(ctx, name)


@router.delete("/endpoint-configs/{name}", status_code=204)
def delete_endpoint_config(
    name: str,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> Response:
    """Delete an endpoint config (endpoints using it keep serving)."""
    platform.hosting.delete_endpoint_config(ctx, name)
    return Response(status_code=204)


@router.post("/endpoints", status_code=201, response_model_by_alias=False)
def create_endpoint(
    spec: EndpointCreate,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> EndpointInfo:
    """Create an endpoint: ``Creating`` until its instances answer, then ``InService``."""
    return platform.hosting.create_endpoint(ctx, spec)


@router.get("/endpoints", response_model_by_alias=False)
def list_endpoints(
    status_equals: EndpointStatus | None = None,
    listing: JobListing = Depends(),
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> Page[EndpointSummary]:
    """List endpoints, newest first unless sorted otherwise."""
    return platform.hosting.list_endpoints(ctx, status_equals=status_equals, **listing.kwargs)


@router.get("/endpoints/{name}", response_model_by_alias=False)
def describe_endpoint(
    name: str,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> EndpointInfo:
    """Everything about one endpoint: status, variants' current and desired values."""
    return platform.hosting.describe_endpoint(ctx, name)


@router.post("/endpoints/{name}/update", response_model_by_alias=False)
def update_endpoint(
    name: str,
    spec: EndpointUpdate,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> EndpointInfo:
    """Move the endpoint to another endpoint config (the old fleet serves until the new one is
    healthy)."""
    return platform.hosting.update_endpoint(ctx, name, spec)


@router.post("/endpoints/{name}/weights-and-capacities", response_model_by_alias=False)
def update_endpoint_weights_and_capacities(
    name: str,
    spec: EndpointWeightsUpdate,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> EndpointInfo:
    """Set variants' desired weights and instance counts."""
    return platform.hosting.update_endpoint_weights_and_capacities(ctx, name, spec)


@router.delete("/endpoints/{name}", status_code=202)
def delete_endpoint(
    name: str,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> Response:
    """Delete an endpoint: ``Deleting`` until its instances stopped, then gone."""
    platform.hosting.delete_endpoint(ctx, name)
    return Response(status_code=202)


@router.post("/endpoints/{name}/invocations")
async def invoke_endpoint(
    name: str,
    request: Request,
    content_type: str | None = Header(None),
    accept: str | None = Header(None),
    custom_attributes: str | None = Header(None, alias="X-Amzn-SageMaker-Custom-Attributes"),
    target_variant: str | None = Header(None, alias="X-Amzn-SageMaker-Target-Variant"),
    target_model: str | None = Header(None, alias="X-Amzn-SageMaker-Target-Model"),
    target_container: str | None = Header(None, alias="X-Amzn-SageMaker-Target-Container-Hostname"),
    inference_id: str | None = Header(None, alias="X-Amzn-SageMaker-Inference-Id"),
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> Response:
    """Invoke the endpoint with the raw body, as InvokeEndpoint does; the answer is the model's
    body, with the variant that served it in ``X-Amzn-Invoked-Production-Variant``."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_PAYLOAD_BYTES:
        raise payload_too_large(int(length))
    body = await request.body()
    if len(body) > MAX_PAYLOAD_BYTES:
        raise payload_too_large(len(body))
    result = await platform.hosting.invoke_endpoint(
        ctx,
        Invocation(
            endpoint=name,
            body=body,
            content_type=content_type,
            accept=accept,
            custom_attributes=custom_attributes,
            target_variant=target_variant,
            target_model=target_model,
            target_container=target_container,
            inference_id=inference_id,
        ),
    )
    headers = {"X-Amzn-Invoked-Production-Variant": result.variant}
    if result.custom_attributes:
        headers["X-Amzn-SageMaker-Custom-Attributes"] = result.custom_attributes
    if result.cold_start_ms is not None:
        headers[COLD_START_HEADER] = f"{result.cold_start_ms:.1f}"
    return Response(result.body, media_type=result.content_type, headers=headers)


@router.get("/endpoints/{name}/metrics", response_model_by_alias=False)
def endpoint_metrics(
    name: str,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> EndpointMetrics:
    """Invocations, errors and latencies per variant (and model) since the server started."""
    return platform.hosting.endpoint_metrics(ctx, name)


@router.get("/endpoints/{name}/logs")
def endpoint_logs(
    name: str,
    variant: str | None = Query(None, max_length=63),
    offset: int = Query(0, ge=0),
    limit: int = Query(65536, ge=1, le=1024 * 1024),
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> Response:
    """The output of an instance's model server (the first instance of ``variant``)."""
    instance, data = platform.hosting.read_instance_log(
        ctx, name, variant=variant, offset=offset, limit=limit
    )
    return Response(
        data, media_type="text/plain; charset=utf-8", headers={"X-Lakeworks-Instance": instance}
    )
