"""Wire shapes of principals, tokens and access keys."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from lakeworks.schemas.common import RequestModel, ResponseModel

__all__ = [
    "AccessKeyCreate",
    "AccessKeyInfo",
    "CallerIdentity",
    "Scope",
    "TokenCreate",
    "TokenInfo",
]

Scope = Literal["read", "write", "admin"]


def _admin_scope() -> list[Scope]:
    return ["admin"]


class TokenCreate(RequestModel):
    """Create a bearer token for a principal (created if new)."""

    principal: str = Field("admin", min_length=1, max_length=128, pattern=r"^[\w.@/+=,-]+$")
    scopes: list[Scope] = Field(default_factory=_admin_scope, min_length=1)
    description: str = Field("", max_length=1024)
    expires_in_seconds: int | None = Field(None, gt=0, le=10 * 365 * 86400)


class TokenInfo(ResponseModel):
    """A token; ``token`` (the secret) is only present in the create response."""

    token_id: str
    principal: str
    scopes: list[str]
    description: str
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    token: str | None = None


class AccessKeyCreate(RequestModel):
    """Create an access-key pair for a principal (created if new)."""

    principal: str = Field("admin", min_length=1, max_length=128, pattern=r"^[\w.@/+=,-]+$")
    scopes: list[Scope] = Field(default_factory=_admin_scope, min_length=1)
    description: str = Field("", max_length=1024)
    expires_in_seconds: int | None = Field(None, gt=0, le=10 * 365 * 86400)


class AccessKeyInfo(ResponseModel):
    """An access key; ``secret_access_key`` is only present in the create response."""

    access_key_id: str
    principal: str
    scopes: list[str]
    description: str
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    secret_access_key: str | None = None


class CallerIdentity(ResponseModel):
    """Who the caller is (native twin of STS GetCallerIdentity)."""

    principal: str
    scopes: list[str]
    account_id: str
    arn: str
