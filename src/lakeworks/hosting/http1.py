"""Just enough HTTP/1.1 for the hop between the router and a model server, kept lean.

The router and the model servers are both ours and sit on one machine, so this hop needs no
general HTTP stack: requests and responses always carry ``Content-Length`` (no chunked bodies),
connections are kept alive, and headers are few. Doing it by hand keeps the single-row
invocation path to a parse, a predict and a format, with no framework in between.

* :class:`ServerProtocol` serves a synchronous ``app(request) -> response`` on an asyncio
  server: the model server predicts inline (one model server = one core; see
  :mod:`lakeworks.hosting.model_server`).
* :class:`ConnectionPool` is the router's client: idle keep-alive connections to one instance,
  reused request after request.

Both sides refuse what they do not expect (chunked bodies, oversized headers or bodies) instead
of guessing. Imports only the standard library: the model server process uses this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

__all__ = [
    "MAX_BODY",
    "ConnectionPool",
    "HttpRequest",
    "HttpResponse",
    "ProtocolError",
    "ServerProtocol",
]

#: Largest body either side accepts: AWS's 6 MB invocation limit plus room for the response.
MAX_BODY = 64 * 1024 * 1024
_MAX_HEAD = 64 * 1024
_REASONS = {
    200: b"OK",
    400: b"Bad Request",
    404: b"Not Found",
    405: b"Method Not Allowed",
    411: b"Length Required",
    413: b"Payload Too Large",
    415: b"Unsupported Media Type",
    424: b"Failed Dependency",
    500: b"Internal Server Error",
    503: b"Service Unavailable",
}


class ProtocolError(Exception):
    """The peer sent something this module does not speak (or the connection broke)."""


@dataclass
class HttpRequest:
    """One request as the model server sees it; header names are lower-case."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class HttpResponse:
    """One response; ``headers`` are extra headers besides Content-Type and Content-Length."""

    status: int
    body: bytes = b""
    content_type: str = "text/plain"
    headers: dict[str, str] = field(default_factory=dict)


def _parse_head(head: bytes) -> tuple[str, dict[str, str]]:
    """Split a request/status line and headers; names lower-cased."""
    lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise ProtocolError(f"malformed header line {line[:60]!r}")
        headers[name.strip().lower()] = value.strip()
    return lines[0], headers


def _content_length(headers: dict[str, str]) -> int:
    if "transfer-encoding" in headers:
        raise ProtocolError("chunked bodies are not supported here; send Content-Length")
    raw = headers.get("content-length", "0")
    if not raw.isdigit():
        raise ProtocolError(f"invalid Content-Length {raw[:20]!r}")
    length = int(raw)
    if length > MAX_BODY:
        raise ProtocolError(f"body of {length} bytes is over the limit of {MAX_BODY}")
    return length


def _serialize(response: HttpResponse, keep_alive: bool) -> bytes:
    reason = _REASONS.get(response.status, b"Status")
    head = [
        b"HTTP/1.1 %d %s\r\n" % (response.status, reason),
        b"Content-Type: %s\r\n" % response.content_type.encode("latin-1"),
        b"Content-Length: %d\r\n" % len(response.body),
    ]
    for name, value in response.headers.items():
        head.append(f"{name}: {value}\r\n".encode("latin-1", "replace"))
    if not keep_alive:
        head.append(b"Connection: close\r\n")
    head.append(b"\r\n")
    return b"".join(head) + response.body


class ServerProtocol(asyncio.Protocol):
    """Serves ``app`` on one connection: keep-alive, pipelining-safe, Content-Length only.

    Args:
        app: Called once per complete request, inline on the event loop; returns the response.
    """

    def __init__(self, app: Callable[[HttpRequest], HttpResponse]) -> None:
        self.app = app
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but behave as one.
        self.transport = cast(asyncio.Transport, transport)
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.transport is not None and not self.transport.is_closing():
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > _MAX_HEAD:
                    self._fail(400, "request head too large")
                return
            try:
                line, headers = _parse_head(bytes(self.buffer[:end]))
                length = _content_length(headers)
                method, path, _version = line.split(" ", 2)
            except (ProtocolError, ValueError) as exc:
                self._fail(411 if "chunked" in str(exc) else 400, str(exc))
                return
            if len(self.buffer) < end + 4 + length:
                return
            body = bytes(self.buffer[end + 4 : end + 4 + length])
            del self.buffer[: end + 4 + length]
            keep_alive = headers.get("connection", "").lower() != "close"
            response = self.app(HttpRequest(method, path, headers, body))
            self.transport.write(_serialize(response, keep_alive))
            if not keep_alive:
                self.transport.close()

    def _fail(self, status: int, message: str) -> None:
        assert self.transport is not None
        response = HttpResponse(status, message.encode(), "text/plain")
        self.transport.write(_serialize(response, keep_alive=False))
        self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


class _Connection(asyncio.Protocol):
    """One keep-alive connection of the router to a model server (a protocol, not streams: the
    response is parsed as it arrives, with no reader tasks or buffers in between)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, dict[str, str], bytes]] | None = None
        self.head: tuple[int, dict[str, str], int] | None = None  # status, headers, body start
        self.lost: BaseException | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.waiter is None or self.waiter.done():
            return
        try:
            if self.head is None:
                end = self.buffer.find(b"\r\n\r\n")
                if end < 0:
                    if len(self.buffer) > _MAX_HEAD:
                        raise ProtocolError("response head too large")
                    return
                line, headers = _parse_head(bytes(self.buffer[:end]))
                try:
                    status = int(line.split(" ", 2)[1])
                except (IndexError, ValueError):
                    raise ProtocolError(f"malformed status line {line[:60]!r}") from None
                self.head = (status, headers, end + 4)
            status, headers, start = self.head
            length = _content_length(headers)
            if len(self.buffer) < start + length:
                return
            body = bytes(self.buffer[start : start + length])
            del self.buffer[: start + length]
            self.head = None
            self.waiter.set_result((status, headers, body))
        except ProtocolError as exc:
            self.waiter.set_exception(exc)
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = exc or ConnectionResetError("the model server closed the connection")
        self.transport = None
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(
                ProtocolError(f"connection to the model server broke ({self.lost!r})")
            )

    async def exchange(self, request: bytes) -> tuple[int, dict[str, str], bytes]:
        if self.transport is None or self.transport.is_closing():
            raise ProtocolError(f"connection to the model server broke ({self.lost!r})")
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return await self.waiter

    @property
    def usable(self) -> bool:
        return self.transport is not None and not self.transport.is_closing() and not self.buffer

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class ConnectionPool:
    """Keep-alive connections to one model server, for the event loop that uses it.

    Args:
        host: The server's address.
        port: Its port.
        max_idle: Idle connections kept for reuse; more are closed after use.
    """

    def __init__(self, host: str, port: int, *, max_idle: int = 64) -> None:
        self.host = host
        self.port = port
        self.max_idle = max_idle
        self._idle: list[_Connection] = []
        self.closed = False

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        _, connection = await loop.create_connection(_Connection, self.host, self.port)
        return connection

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """Send one request and read its response on a pooled connection.

        Raises:
            ProtocolError: The connection broke or the answer was not HTTP we understand; the
                connection is discarded (the request may or may not have reached the model).
            OSError: The server cannot be reached.
        """
        connection = self._idle.pop() if self._idle else None
        while connection is not None and not connection.usable:
            connection.close()  # closed by the server meanwhile, or holding stray bytes
            connection = self._idle.pop() if self._idle else None
        if connection is None:
            connection = await self._connect()
        lines = [f"{method} {path} HTTP/1.1\r\nHost: model\r\nContent-Length: {len(body)}\r\n"]
        lines.extend(f"{name}: {value}\r\n" for name, value in headers.items())
        lines.append("\r\n")
        request = "".join(lines).encode("latin-1", "replace") + body
        try:
            status, response_headers, response_body = await connection.exchange(request)
        except (ConnectionError, OSError) as exc:
            connection.close()
            raise ProtocolError(f"connection to the model server broke ({exc!r})") from None
        except BaseException:
            # Cancelled (a timeout) or a protocol error: the connection's state is unknown.
            connection.close()
            raise
        if (
            self.closed
            or len(self._idle) >= self.max_idle
            or response_headers.get("connection", "").lower() == "close"
        ):
            connection.close()
        else:
            self._idle.append(connection)
        return status, response_headers, response_body

    def close(self) -> None:
        """Close the idle connections; connections in use close when their request ends."""
        self.closed = True
        while self._idle:
            self._idle.pop().close()
