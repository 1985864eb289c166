"""Health and identity."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from lakeworks import __version__
from lakeworks.core.context import RequestContext
from lakeworks.schemas.iam import CallerIdentity
from lakeworks.server.auth import authenticated, platform_of
from lakeworks.server.platform import Platform

router = APIRouter()

#: Routes that answer without credentials (the route-auth test reads this).
PUBLIC_ROUTES = frozenset({("GET", "/healthz")})


@router.get("/healthz", tags=["system"])
def healthz() -> dict[str, Any]:
    """Liveness: answers without credentials and reveals nothing but the version."""
    return {"status": "ok", "version": __version__}


@router.get("/api/v1/whoami", tags=["system"])
def whoami(
    ctx: RequestContext = Depends(authenticated), platform: Platform = Depends(platform_of)
) -> CallerIdentity:
    """The caller's principal and scopes."""
    return platform.iam.caller_identity(ctx)


@router.get("/openapi.json", tags=["system"], include_in_schema=False)
def openapi(request: Request, ctx: RequestContext = Depends(authenticated)) -> dict[str, Any]:
    """The OpenAPI document of the native API."""
    schema: dict[str, Any] = request.app.openapi()
    return schema
