"""Credentials verified a moment ago, so the request path does not query the database each time.

Checking a bearer token or an access key costs a database round trip (the credential, then its
principal's scopes) — milliseconds on SQLite, more than a single-row model invocation takes. A
verified credential is kept for ``auth.credential_cache_seconds`` (default 2 s; 0 turns the cache
off). Revoking a credential, creating one or changing a principal's scopes through this server's
:class:`~lakeworks.iam.service.IamService` empties the cache at once, so "revoked means refused"
holds immediately here; another server sharing the database sees a revocation within the TTL.
A credential's own expiry is checked on every use.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from lakeworks.core.clock import utcnow

__all__ = ["CredentialCache", "Verified"]

#: Entries kept at most; past it the cache starts over (it only saves work).
MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class Verified:
    """What verifying a credential found: its principal, scopes, expiry (and key secret)."""

    principal: str
    scopes: frozenset[str]
    expires_at: datetime | None
    secret: str | None = None


class CredentialCache:
    """Recently verified credentials by key (a token's hash, an access key id).

    Args:
        ttl_seconds: How long an entry is trusted; 0 disables the cache.
        clock: Monotonic seconds (tests pin it).
    """

    def __init__(self, ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl_seconds
        self.clock = clock
        self._entries: dict[str, tuple[float, Verified]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Verified | None:
        """The entry for ``key`` if it is fresh and its credential has not expired."""
        if self.ttl <= 0:
            return None
        with self._lock:
            found = self._entries.get(key)
        if found is None:
            return None
        until, verified = found
        if self.clock() >= until or (
            verified.expires_at is not None and verified.expires_at <= utcnow()
        ):
            with self._lock:
                self._entries.pop(key, None)
            return None
        return verified

    def put(self, key: str, verified: Verified) -> None:
        """Remember a credential that was just verified."""
        if self.ttl <= 0:
            return
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = (self.clock() + self.ttl, verified)

    def clear(self) -> None:
        """Forget everything (a credential or principal changed)."""
        with self._lock:
            self._entries.clear()
