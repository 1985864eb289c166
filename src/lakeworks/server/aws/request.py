"""One request to the AWS front door, seen the way AWS protocols need it.

Starlette's ``Request`` decodes and normalises; SigV4 needs the bytes as sent (raw path, raw
query, repeated headers). :class:`AwsRequest` keeps both views and hands the body out only as a
stream, so large uploads are never buffered.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import cached_property
from urllib.parse import parse_qsl, unquote

from starlette.types import Receive, Scope

from lakeworks.core.errors import ValidationError
from lakeworks.server.aws.sigv4 import RequestParts

__all__ = ["AwsRequest"]


class AwsRequest:
    """A view on an ASGI HTTP request for the AWS protocols.

    Args:
        scope: The ASGI scope.
        receive: The ASGI receive channel; the body is read from it once, as a stream.
    """

    def __init__(self, scope: Scope, receive: Receive) -> None:
        self.scope = scope
        self._receive = receive
        self._consumed = False
        self._complete = False

    @property
    def method(self) -> str:
        """HTTP method, upper case."""
        return str(self.scope["method"]).upper()

    @cached_property
    def raw_path(self) -> str:
        """The path as sent, still percent-encoded."""
        raw = self.scope.get("raw_path")
        if raw:
            return bytes(raw).split(b"?", 1)[0].decode("latin-1")
        return str(self.scope.get("path", "/"))

    @cached_property
    def path(self) -> str:
        """The decoded path (UTF-8)."""
        return unquote(self.raw_path, errors="surrogateescape")

    @property
    def path_is_utf8(self) -> bool:
        """Whether the percent-decoded path is valid UTF-8 (keys and bucket names must be)."""
        try:
            self.path.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True

    @property
    def display_path(self) -> str:
        """The decoded path, or the path as sent when it does not decode (for error bodies)."""
        return self.path if self.path_is_utf8 else self.raw_path

    @cached_property
    def raw_query(self) -> str:
        """The query string as sent, without ``?``."""
        return bytes(self.scope.get("query_string", b"")).decode("latin-1")

    @cached_property
    def query_items(self) -> list[tuple[str, str]]:
        """Decoded query parameters in order (``+`` stays ``+``; AWS encodes spaces as %20)."""
        items = []
        for item in self.raw_query.split("&"):
            if not item:
                continue
            name, _, value = item.partition("=")
            items.append((unquote(name), unquote(value)))
        return items

    @cached_property
    def query(self) -> dict[str, str]:
        """Decoded query parameters, first value of each name."""
        result: dict[str, str] = {}
        for name, value in self.query_items:
            result.setdefault(name, value)
        return result

    @cached_property
    def headers(self) -> tuple[tuple[str, str], ...]:
        """``(lower-case name, value)`` pairs in arrival order; values decoded as Latin-1."""
        return tuple(
            (bytes(k).decode("latin-1").lower(), bytes(v).decode("latin-1"))
            for k, v in self.scope.get("headers", [])
        )

    @cached_property
    def _first_values(self) -> dict[str, str]:
        # The dispatcher, the signature check and handlers ask for a dozen headers per request.
        found: dict[str, str] = {}
        for key, value in self.headers:
            found.setdefault(key, value)
        return found

    def header(self, name: str, default: str | None = None) -> str | None:
        """The first value of header ``name`` (any case), or ``default``."""
        return self._first_values.get(name.lower(), default)

    def headers_with_prefix(self, prefix: str) -> dict[str, str]:
        """Headers whose lower-case name starts with ``prefix``, prefix removed."""
        return {k[len(prefix) :]: v for k, v in self.headers if k.startswith(prefix)}

    @property
    def host(self) -> str:
        """The Host header without its port, lower case."""
        host = (self.header("host") or "").strip().lower()
        if host.startswith("["):  # IPv6 literal
            return host.split("]", 1)[0] + "]"
        return host.rsplit(":", 1)[0] if ":" in host else host

    @property
    def target(self) -> str | None:
        """The ``X-Amz-Target`` header of JSON 1.x protocols."""
        return self.header("x-amz-target")

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower case."""
        return (self.header("content-type") or "").split(";", 1)[0].strip().lower()

    @property
    def content_length(self) -> int | None:
        """The Content-Length header as a number, if sent.

        Raises:
            ValidationError: It is not a non-negative integer.
        """
        value = self.header("content-length")
        if value is None:
            return None
        if not value.strip().isdigit():
            raise ValidationError(f"Invalid Content-Length {value!r}")
        return int(value)

    @property
    def body_left_unread(self) -> bool:
        """Whether the client sent (or announced) body bytes that were not read.

        A response sent then must close the connection: a client that waited for
        ``100 Continue`` and got an error instead does not send the body, and the bytes it sends
        next must not be taken for the rest of this one.
        """
        if self._complete:
            return False
        if self.header("transfer-encoding") is not None:
            return True
        length = self.header("content-length")
        return length is not None and length.strip() not in ("", "0")

    @cached_property
    def _parts(self) -> RequestParts:
        return RequestParts(self.method, self.raw_path, self.raw_query, self.headers)

    def parts(self) -> RequestParts:
        """What SigV4 needs of this request."""
        return self._parts

    def form(self, body: bytes) -> dict[str, str]:
        """Parameters of an ``application/x-www-form-urlencoded`` body, then the query's.

        Raises:
            ValidationError: The body is not valid form data.
        """
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError:
            raise ValidationError("The form body is not valid UTF-8") from None
        params = dict(self.query)
        params.update(pairs)
        return params

    async def stream(self) -> AsyncIterator[bytes]:
        """Yield the raw body as it arrives; it can be read only once.

        Raises:
            RuntimeError: The body was read before (a bug in a handler).
        """
        if self._consumed:
            raise RuntimeError("the request body was already read")
        self._consumed = True
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                raise ValidationError(
                    "The client closed the connection before sending the whole body",
                    aws_code="IncompleteBody",
                )
            chunk = message.get("body", b"")
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                self._complete = True
                return
