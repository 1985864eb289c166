"""The Python SDK: :class:`~lakeworks.sdk.client.Client` and one resource module per domain.

Importing this package is cheap; :class:`Client` (and httpx behind it) loads on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["Client", "ServerUnreachable"]

if TYPE_CHECKING:
    from lakeworks.sdk.client import Client
    from lakeworks.sdk.errors import ServerUnreachable


def __getattr__(name: str) -> Any:
    if name == "Client":
        from lakeworks.sdk.client import Client

        return Client
    if name == "ServerUnreachable":
        from lakeworks.sdk.errors import ServerUnreachable

        return ServerUnreachable
    raise AttributeError(name)
