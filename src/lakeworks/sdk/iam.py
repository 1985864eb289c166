"""Tokens and access keys: ``client.tokens`` and ``client.access_keys``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from urllib.parse import quote

from lakeworks.schemas.common import Page
from lakeworks.schemas.iam import (
    AccessKeyCreate,
    AccessKeyInfo,
    CallerIdentity,
    Scope,
    TokenCreate,
    TokenInfo,
)
from lakeworks.sdk._http import Transport, paginate, request_body

__all__ = ["AccessKeys", "Tokens", "whoami"]

_API = "/api/v1"


def whoami(transport: Transport) -> CallerIdentity:
    """The caller's principal, scopes and ARN."""
    return transport.model(CallerIdentity, "GET", f"{_API}/whoami")


class Tokens:
    """Bearer tokens (admin scope)."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create(
        self,
        principal: str = "admin",
        scopes: Sequence[Scope] = ("admin",),
        *,
        description: str = "",
        expires_in_seconds: int | None = None,
    ) -> TokenInfo:
        """Create a token for ``principal`` (created if new).

        Returns:
            The token; ``.token`` holds its secret, shown only this once.

        Raises:
            ValidationError: A field breaks the rules (checked here before sending).
            AccessDenied: The caller is not an admin.
        """
        spec = request_body(
            TokenCreate,
            principal=principal,
            scopes=list(scopes),
            description=description,
            expires_in_seconds=expires_in_seconds,
        )
        return self._t.model(TokenInfo, "POST", f"{_API}/tokens", json=spec)

    def list(self, principal: str | None = None) -> Iterator[TokenInfo]:
        """Iterate over tokens (secrets never included), optionally of one principal."""

        def page(token: str | None) -> tuple[list[TokenInfo], str | None]:
            params = {"principal": principal, "next_token": token}
            got = self._t.model(Page[TokenInfo], "GET", f"{_API}/tokens", params=params)
            return got.items, got.next_token

        return paginate(page)

    def revoke(self, token_id: str) -> TokenInfo:
        """Revoke a token; requests with it fail from now on.

        Raises:
            NotFound: No token has that id.
        """
        return self._t.model(TokenInfo, "DELETE", f"{_API}/tokens/{quote(token_id, safe='')}")


class AccessKeys:
    """Access-key pairs for the AWS-compatible front door (admin scope)."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create(
        self,
        principal: str = "admin",
        scopes: Sequence[Scope] = ("admin",),
        *,
        description: str = "",
        expires_in_seconds: int | None = None,
    ) -> AccessKeyInfo:
        """Create an access-key pair for ``principal`` (created if new).

        Returns:
            The key; ``.secret_access_key`` is shown only this once.
        """
        spec = request_body(
            AccessKeyCreate,
            principal=principal,
            scopes=list(scopes),
            description=description,
            expires_in_seconds=expires_in_seconds,
        )
        return self._t.model(AccessKeyInfo, "POST", f"{_API}/access-keys", json=spec)

    def list(self, principal: str | None = None) -> Iterator[AccessKeyInfo]:
        """Iterate over access keys (secrets never included), optionally of one principal."""

        def page(token: str | None) -> tuple[list[AccessKeyInfo], str | None]:
            params = {"principal": principal, "next_token": token}
            got = self._t.model(Page[AccessKeyInfo], "GET", f"{_API}/access-keys", params=params)
            return got.items, got.next_token

        return paginate(page)

    def revoke(self, access_key_id: str) -> AccessKeyInfo:
        """Revoke an access key.

        Raises:
            NotFound: No key has that id.
        """
        path = f"{_API}/access-keys/{quote(access_key_id, safe='')}"
        return self._t.model(AccessKeyInfo, "DELETE", path)
