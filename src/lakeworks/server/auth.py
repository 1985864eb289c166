"""Authentication of native requests (bearer tokens).

The AWS front door authenticates with SigV4 in ``server/aws/sigv4.py``; both end in a
:class:`~lakeworks.core.context.RequestContext` whose scopes the services check.
"""

from __future__ import annotations

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import Unauthenticated
from lakeworks.server.platform import Platform

__all__ = ["authenticated", "platform_of"]


def platform_of(request: Request) -> Platform:
    """The platform (services) the app was built with."""
    platform: Platform = request.app.state.platform
    return platform


async def authenticated(request: Request) -> RequestContext:
    """FastAPI dependency: the caller's context from ``Authorization: Bearer <token>``.

    Raises:
        Unauthenticated: No, malformed, unknown, expired or revoked token.
    """
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(
            "This route needs credentials: send 'Authorization: Bearer <token>' "
            "(see 'lakeworks env' or <home>/credentials.json)"
        )
    iam = platform_of(request).iam
    # A token verified a moment ago needs no database, so no thread hop either.
    ctx = iam.cached_token_context(token.strip())
    if ctx is None:
        ctx = await run_in_threadpool(iam.authenticate_token, token.strip())
    request.state.request_id = ctx.request_id
    return ctx
