"""Errors that only a client can meet: the server is not there.

Every error the server reports comes back as its own :mod:`lakeworks.core.errors` class; this
module adds the one a client raises by itself. It imports nothing heavy, so the CLI's server
commands can use it without loading httpx.
"""

from __future__ import annotations

from typing import ClassVar

from lakeworks.core.errors import LakeworksError

__all__ = ["ServerUnreachable"]


class ServerUnreachable(LakeworksError, ConnectionError):
    """The SDK could not reach a Lakeworks server, or a local one failed to start (503).

    It is both a :class:`LakeworksError` (the CLI reports it like every other error) and a
    :class:`ConnectionError` (code that handles network failures generically catches it).
    """

    status: ClassVar[int] = 503
    code: ClassVar[str] = "ServiceUnavailable"
