"""The app factory: assembles routers, middleware and lifespan; makes no decisions.

One port serves two faces. Requests under the native prefixes go to the FastAPI app (REST API,
OpenAPI, console); everything else — SigV4-signed or addressed like S3 — goes to the AWS front
door, which answers in AWS's own shapes.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from lakeworks import __version__
from lakeworks.core.settings import Settings
from lakeworks.server.aws import create_aws_app, is_aws_request
from lakeworks.server.errors import install_error_handlers
from lakeworks.server.limits import BodyLimit
from lakeworks.server.platform import Platform
from lakeworks.server.rest import ROUTERS

__all__ = ["FrontDoor", "create_app"]

log = logging.getLogger("lakeworks.server")


class FrontDoor:
    """Pure ASGI dispatcher between the native app and the AWS front door."""

    def __init__(self, native: FastAPI, aws: ASGIApp) -> None:
        self.native = native
        self.aws = aws

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and is_aws_request(scope):
            await self.aws(scope, receive, send)
        else:
            await self.native(scope, receive, send)


def create_native_app(platform: Platform) -> FastAPI:
    """The native REST API under ``/api/v1`` (plus ``/healthz`` and OpenAPI)."""

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        platform.start()
        try:
            yield
        finally:
            platform.close()

    app = FastAPI(
        title="Lakeworks",
        version=__version__,
        lifespan=lifespan,
        # Swagger UI would load its assets from a CDN (we are offline) and every route but
        # /healthz needs credentials, so the OpenAPI document is served by an authenticated route.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.platform = platform
    app.add_middleware(BodyLimit, limit=platform.settings.server.max_body_bytes)
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    return app


def create_app(settings: Settings, platform: Platform | None = None) -> FrontDoor:
    """Build the whole server for ``settings``.

    Args:
        settings: The settings tree.
        platform: Services to use; opened from ``settings`` when omitted.

    Returns:
        An ASGI app serving both faces on one port.
    """
    platform = platform or Platform.open(settings)
    native = create_native_app(platform)
    aws = create_aws_app(platform)
    return FrontDoor(native, aws)
