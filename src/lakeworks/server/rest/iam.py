"""Tokens and access keys (admin scope)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from lakeworks.core.context import RequestContext
from lakeworks.schemas.common import Page
from lakeworks.schemas.iam import AccessKeyCreate, AccessKeyInfo, TokenCreate, TokenInfo
from lakeworks.server.auth import authenticated, platform_of
from lakeworks.server.platform import Platform

router = APIRouter(prefix="/api/v1", tags=["iam"])


@router.post("/tokens", status_code=201)
def create_token(
    spec: TokenCreate,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> TokenInfo:
    """Create a bearer token; its secret appears only in this response."""
    return platform.iam.create_token(ctx, spec)


@router.get("/tokens")
def list_tokens(
    principal: str | None = None,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> Page[TokenInfo]:
    """List tokens, optionally of one principal."""
    return Page(items=platform.iam.list_tokens(ctx, principal))


@router.delete("/tokens/{token_id}")
def revoke_token(
    token_id: str,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> TokenInfo:
    """Revoke a token."""
    return platform.iam.revoke_token(ctx, token_id)


@router.post("/access-keys", status_code=201)
def create_access_key(
    spec: AccessKeyCreate,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> AccessKeyInfo:
    """Create an access-key pair; its secret appears only in this response."""
    return platform.iam.create_access_key(ctx, spec)


@router.get("/access-keys")
def list_access_keys(
    principal: str | None = None,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> Page[AccessKeyInfo]:
    """List access keys, optionally of one principal."""
    return Page(items=platform.iam.list_access_keys(ctx, principal))


@router.delete("/access-keys/{access_key_id}")
def revoke_access_key(
    access_key_id: str,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> AccessKeyInfo:
    """Revoke an access key."""
    return platform.iam.revoke_access_key(ctx, access_key_id)
