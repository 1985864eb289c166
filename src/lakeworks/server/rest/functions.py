"""Functions (``/api/v1/functions``): create, list, describe, delete, invoke, invocations."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from lakeworks.core.context import RequestContext
from lakeworks.schemas.common import Page
from lakeworks.schemas.functions import (
    FunctionInfo,
    InvocationInfo,
    InvocationOutcome,
    InvocationRequest,
    NativeFunctionCreate,
)
from lakeworks.server.auth import authenticated, platform_of
from lakeworks.server.platform import Platform

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["functions"])


@router.post("/functions", status_code=201, response_model_by_alias=False)
def create_function(
    request: NativeFunctionCreate,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> FunctionInfo:
    """Create a function from a zip (base64 ``code.zip_file``, or ``code.s3_bucket``/``s3_key``)."""
    return platform.functions.create_function(ctx, request.to_create())


@router.get("/functions", response_model_by_alias=False)
def list_functions(
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> Page[FunctionInfo]:
    """Every function, by name."""
    return Page[FunctionInfo](items=platform.functions.list_functions(ctx))


@router.get("/functions/{name}", response_model_by_alias=False)
def describe_function(
    name: str,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> FunctionInfo:
    """One function's configuration."""
    return platform.functions.get_function(ctx, name)


@router.delete("/functions/{name}", status_code=204)
def delete_function(
    name: str,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> None:
    """Delete a function and its code."""
    platform.functions.delete_function(ctx, name)


@router.post("/functions/{name}/invocations", response_model_by_alias=False)
def invoke_function(
    name: str,
    request: InvocationRequest,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> InvocationOutcome:
    """Invoke: RequestResponse answers now; Event queues it (retried twice on failure)."""
    return platform.functions.invoke(ctx, name, request.payload, request.invocation_type)


@router.get("/functions/{name}/invocations", response_model_by_alias=False)
def list_invocations(
    name: str,
    max_results: int = Query(20, ge=1, le=1000),
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> Page[InvocationInfo]:
    """Recent invocations with their output (the function's logs), newest first."""
    return Page[InvocationInfo](items=platform.functions.list_invocations(ctx, name, max_results))
