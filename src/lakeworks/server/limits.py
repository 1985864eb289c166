"""Request size limits for the native API."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BodyLimit", "BodyTooLarge"]

#: Native routes that stream object bodies; their limit is the object size limit instead.
_STREAMING_MARKER = "/objects/"


class BodyTooLarge(Exception):
    """Raised from ``receive`` when a body grows past the limit."""


class BodyLimit:
    """Refuse native request bodies over ``limit`` bytes with a 413 in the native error shape.

    Bodies with a ``Content-Length`` are refused before they are read; chunked bodies are
    counted as they arrive. Object uploads (``.../objects/...``) are exempt: the lake enforces
    its own object size limit while streaming them to disk.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _STREAMING_MARKER in scope.get("path", ""):
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await self._refuse(send)
            return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(
            {
                "error": {
                    "code": "EntityTooLarge",
                    "type": "PayloadTooLarge",
                    "message": f"Request body is larger than the limit of {self.limit} bytes "
                    "(setting server.max_body_bytes)",
                    "details": {"limit": self.limit},
                    "request_id": None,
                }
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
