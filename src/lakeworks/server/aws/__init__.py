"""PLACEHOLDER — the AWS front door, being written by the front-door helper."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

NATIVE_PREFIXES = ("/api/", "/healthz", "/openapi.json", "/docs")


def is_aws_request(scope: Scope) -> bool:
    path: str = scope.get("path", "")
    return not any(path == p.rstrip("/") or path.startswith(p) for p in NATIVE_PREFIXES)


def create_aws_app(platform: Any) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await Response("not yet", status_code=501)(scope, receive, send)

    return app
