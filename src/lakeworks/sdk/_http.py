"""The one HTTP seam of the SDK: requests, error mapping, pagination.

Every resource module talks to the server through :class:`Transport`, which turns the native
error shape ``{"error": {"code", "type", "message", "details", "request_id"}}`` back into the
:mod:`lakeworks.core.errors` class the server raised, and a failed connection into
:class:`ServerUnreachable` naming the URL.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

import httpx
import pydantic
from pydantic import BaseModel

from lakeworks.core import errors
from lakeworks.core.errors import LakeworksError, error_class_for
from lakeworks.sdk.errors import ModelError, ServerUnreachable, sdk_error_class

__all__ = ["ServerUnreachable", "Transport", "error_from_response", "paginate", "request_body"]

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

#: Status → class for responses without a native error body (HEAD, proxies).
_BY_STATUS: dict[int, type[LakeworksError]] = {
    400: errors.ValidationError,
    401: errors.Unauthenticated,
    403: errors.AccessDenied,
    404: errors.NotFound,
    409: errors.ResourceInUse,
    412: errors.PreconditionFailed,
    413: errors.PayloadTooLarge,
    415: errors.UnsupportedMediaType,
    416: errors.RangeNotSatisfiable,
    424: ModelError,
    429: errors.ThrottlingException,
    500: errors.InternalError,
}


def error_from_response(response: httpx.Response, what: str | None = None) -> LakeworksError:
    """Rebuild the server's error from an error response (the body must already be read).

    Args:
        response: A response with status >= 400.
        what: Names the resource for bodiless responses (HEAD), e.g. ``s3://b/k``.

    Returns:
        An instance of the class named by the body's ``error.type`` (the base class for an
        unknown type), or a class chosen by the status when the body is not the native shape.
    """
    body: Any = None
    with contextlib.suppress(ValueError):
        body = response.json()
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        kind = str(error.get("type", ""))
        cls = sdk_error_class(kind) or error_class_for(kind)
        details = error.get("details")
        exc = cls(
            error["message"],
            details=details if isinstance(details, dict) else None,
            aws_code=error.get("code") if isinstance(error.get("code"), str) else None,
        )
        exc.request_id = error.get("request_id")  # type: ignore[attr-defined]
    else:
        cls = _BY_STATUS.get(response.status_code, LakeworksError)
        subject = what or f"{response.request.method} {response.request.url.path}"
        text = response.text.strip()[:300] if response.content else ""
        message = f"{subject}: HTTP {response.status_code} {response.reason_phrase}"
        exc = cls(f"{message}: {text}" if text else message)
    if exc.status != response.status_code:
        # The base class (an error type this SDK does not know) keeps the status it was sent
        # with; ``status`` is a class-level default, so it is overridden on the instance only.
        exc.__dict__["status"] = response.status_code
    return exc


class Transport:
    """Sends requests to one server with one set of credentials.

    Args:
        http: The httpx client (its own base URL and headers are not relied on).
        url: Base URL of the server, e.g. ``http://127.0.0.1:8600``.
        token: Bearer token sent with every request; ``None`` leaves ``http``'s headers alone.
    """

    def __init__(self, http: httpx.Client, url: str, token: str | None) -> None:
        self.http = http
        self.url = url.rstrip("/")
        self._headers: dict[str, str] = {}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"

    def _unreachable(self, exc: httpx.TransportError) -> ServerUnreachable:
        return ServerUnreachable(
            f"Cannot reach the Lakeworks server at {self.url} ({type(exc).__name__}: {exc}). "
            "Start one with 'lakeworks server start' or set LAKEWORKS_URL to a running server.",
            details={"url": self.url},
        )

    def _merge(self, headers: Mapping[str, str] | None) -> dict[str, str]:
        return {**self._headers, **(headers or {})}

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        content: Any = None,
        headers: Mapping[str, str] | None = None,
        what: str | None = None,
    ) -> httpx.Response:
        """Send one request and return the response, raising the server's error on >= 400.

        Args:
            method: HTTP method.
            path: Path under the server URL, already percent-encoded (``/api/v1/...``).
            params: Query parameters; ``None`` values are left out.
            json: A JSON body.
            content: A raw body: bytes or an iterator of bytes (streamed).
            headers: Extra headers.
            what: Names the resource in errors without a body (HEAD).

        Raises:
            LakeworksError: The server's error, as the class it raised.
            ServerUnreachable: No connection, or the connection broke.
        """
        query = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            response = self.http.request(
                method,
                self.url + path,
                params=query,
                json=json,
                content=content,
                headers=self._merge(headers),
            )
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from exc
        if response.status_code >= 400:
            raise error_from_response(response, what)
        return response

    def model(self, cls: type[M], method: str, path: str, **kwargs: Any) -> M:
        """Send a request and parse its JSON body as ``cls``."""
        return cls.model_validate(self.request(method, path, **kwargs).json())

    @contextlib.contextmanager
    def stream(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        what: str | None = None,
    ) -> Iterator[httpx.Response]:
        """Open a streamed response; the body is read only as the caller iterates it.

        Raises:
            LakeworksError: The server's error (its small body is read first).
            ServerUnreachable: No connection.
        """
        try:
            with self.http.stream(method, self.url + path, headers=self._merge(headers)) as resp:
                if resp.status_code >= 400:
                    resp.read()
                    raise error_from_response(resp, what)
                yield resp
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from exc


def paginate(fetch: Callable[[str | None], tuple[list[T], str | None]]) -> Iterator[T]:
    """Iterate over every item of a paginated list.

    Args:
        fetch: Gets one page for a ``next_token`` (``None`` first) and returns its items and
            the token of the next page (``None`` on the last page).
    """
    token: str | None = None
    while True:
        items, token = fetch(token)
        yield from items
        if not token:
            return


def request_body(cls: type[M], spec: M | Mapping[str, Any] | None = None, **fields: Any) -> Any:
    """Validate a request against its schema here and return the JSON to send.

    The server validates again; checking first turns a mistake into the same
    :class:`~lakeworks.core.errors.ValidationError` without a round trip or a half-done call.

    Args:
        cls: The request schema.
        spec: A ready model or a mapping of its fields.
        fields: Fields given as keyword arguments (override ``spec``'s).

    Raises:
        ValidationError: A field is missing, unknown or out of range; the message names each.
    """
    if isinstance(spec, cls) and not fields:
        model = spec
    else:
        base = spec.model_dump(exclude_unset=True) if isinstance(spec, BaseModel) else spec
        try:
            model = cls.model_validate({**(base or {}), **fields})
        except pydantic.ValidationError as exc:
            problems = [
                {
                    "location": ".".join(str(p) for p in err.get("loc", ())),
                    "message": err.get("msg", ""),
                    "type": err.get("type", ""),
                }
                for err in exc.errors()
            ]
            summary = "; ".join(f"{p['location']}: {p['message']}" for p in problems)
            raise errors.ValidationError(
                f"Invalid {cls.__name__}: {summary}", details={"errors": problems}
            ) from None
    return model.model_dump(mode="json", exclude_unset=True)
