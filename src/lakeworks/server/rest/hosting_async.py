"""Asynchronous inference, natively: queue an invocation of an async endpoint
(``POST /api/v1/endpoints/{name}/async-invocations``) and follow it
(``GET /api/v1/async-invocations/{inference_id}``). The AWS face is ``InvokeEndpointAsync``.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from lakeworks.core.context import RequestContext
from lakeworks.hosting.async_inference import AsyncRequest
from lakeworks.schemas.hosting_async import (
    AsyncInvocationAccepted,
    AsyncInvocationCreate,
    AsyncInvocationInfo,
)
from lakeworks.server.auth import authenticated, platform_of
from lakeworks.server.platform import Platform

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["hosting"])


@router.post("/endpoints/{name}/async-invocations", status_code=202, response_model_by_alias=False)
def invoke_endpoint_async(
    name: str,
    spec: AsyncInvocationCreate,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> AsyncInvocationAccepted:
    """Queue one invocation; the answer says where its output (or failure) will be written."""
    accepted = platform.hosting.invoke_endpoint_async(
        ctx, AsyncRequest(endpoint=name, **spec.model_dump())
    )
    return AsyncInvocationAccepted(
        inference_id=accepted.inference_id,
        output_location=accepted.output_location,
        failure_location=accepted.failure_location,
    )


@router.get("/async-invocations/{inference_id}", response_model_by_alias=False)
def describe_async_invocation(
    inference_id: str,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> AsyncInvocationInfo:
    """Pending, InProgress, Completed or Failed (with the reason), and where the result is."""
    return platform.hosting.describe_async_invocation(ctx, inference_id)
