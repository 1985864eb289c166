"""Request size limits for the native API."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BodyLimit"]

#: Native routes that stream object bodies; their limit is the object size limit instead.
_STREAMING_MARKER = "/objects/"


class BodyLimit:
    """Refuse native request bodies over ``limit`` bytes with a 413 in the native error shape.

    Bodies with a ``Content-Length`` are refused before they are read; chunked bodies are
    counted as they arrive and refused once past the limit. Object uploads (``.../objects/...``)
    are exempt: the lake enforces its own object size limit while streaming them to disk.
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
        # JSON bodies are parsed whole anyway, so read up to the limit first and replay: this
        # answers 413 before the route runs, even for chunked bodies without a length.
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            seen += len(chunks[-1])
            if seen > self.limit:
                await self._refuse(send)
                return
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

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
