"""Errors that only a client can meet: the server is not there, or a model failed.

Every error the server reports comes back as its own :mod:`lakeworks.core.errors` class; this
module adds the one a client raises by itself, and the client-side twins of the hosting
domain's invocation errors (the SDK cannot import the domain), which :func:`sdk_error_class`
names. It imports nothing heavy, so the CLI's server commands can use it without loading httpx.
"""

from __future__ import annotations

from typing import ClassVar

from lakeworks.core.errors import LakeworksError

__all__ = ["ModelError", "ModelUnavailable", "ServerUnreachable", "sdk_error_class"]


class ServerUnreachable(LakeworksError, ConnectionError):
    """The SDK could not reach a Lakeworks server, or a local one failed to start (503).

    It is both a :class:`LakeworksError` (the CLI reports it like every other error) and a
    :class:`ConnectionError` (code that handles network failures generically catches it).
    """

    status: ClassVar[int] = 503
    code: ClassVar[str] = "ServiceUnavailable"


class ModelError(LakeworksError):
    """An endpoint's model answered an invocation with an error (424, ``ModelError``).

    ``details`` carries ``OriginalStatusCode`` and ``OriginalMessage``, as SageMaker Runtime does.
    """

    status: ClassVar[int] = 424
    code: ClassVar[str] = "ModelError"


class ModelUnavailable(ModelError):
    """The model server crashed while handling the request, or did not answer in time (502)."""

    status: ClassVar[int] = 502


_BY_NAME: dict[str, type[LakeworksError]] = {
    cls.__name__: cls for cls in (ModelError, ModelUnavailable)
}


def sdk_error_class(name: str) -> type[LakeworksError] | None:
    """The client-side class for the native error ``type`` ``name``, if this module has one."""
    return _BY_NAME.get(name)
