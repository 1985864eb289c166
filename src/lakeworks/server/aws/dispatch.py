"""The AWS front door's ASGI app: find the service, authenticate, run the action, render.

Every failure leaves as the AWS error shape of the protocol the request came through; a request
nobody could place (unsigned, or for an unknown service) is answered in the shape it looks like.
"""

from __future__ import annotations

import logging
import uuid

from starlette.types import Receive, Scope, Send

from lakeworks.core.clock import utcnow
from lakeworks.core.context import RequestContext
from lakeworks.core.errors import InternalError, LakeworksError
from lakeworks.server.aws import sigv2, sigv4
from lakeworks.server.aws.auth import anonymous_error, authenticate
from lakeworks.server.aws.payload import Payload
from lakeworks.server.aws.protocol import (
    PROTOCOLS,
    Unsupported,
    guess_protocol,
    unknown_service,
)
from lakeworks.server.aws.request import AwsRequest
from lakeworks.server.aws.s3_routing import virtual_host_bucket
from lakeworks.server.aws.service import AwsCall, AwsService, ServiceRegistry
from lakeworks.server.platform import Platform

__all__ = ["AwsFrontDoor"]

log = logging.getLogger("lakeworks.server.aws")


class AwsFrontDoor:
    """ASGI app serving the AWS-compatible APIs.

    Args:
        platform: The services every action calls.
        registry: The AWS services spoken.
    """

    def __init__(self, platform: Platform, registry: ServiceRegistry) -> None:
        self.platform = platform
        self.registry = registry

    async def _authenticate_v2(
        self, request: AwsRequest, info: sigv2.V2Signature, request_id: str
    ) -> tuple[RequestContext, Payload]:
        # Version 2 signs the path with the bucket in it, also for virtual-host requests.
        bucket = virtual_host_bucket(request, self.platform.settings)
        resource = f"/{bucket}{request.raw_path}" if bucket else request.raw_path
        return await sigv2.authenticate_v2(
            request, info, self.platform.iam, utcnow(), resource, request_id
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = AwsRequest(scope, receive)
        request_id = uuid.uuid4().hex
        protocol = guess_protocol(request)
        service: AwsService | None = None
        try:
            info = sigv4.parse_signature(request.parts(), request.query)
            legacy = sigv2.parse_v2(request.query) if info is None else None
            signing_name = info.credential.service if info else ("s3" if legacy else None)
            service = self.registry.resolve(request.target, signing_name, request.raw_path)
            if service is not None:
                protocol = PROTOCOLS[service.protocol]
            if info is not None:
                ctx, payload = await authenticate(
                    request, info, self.platform.iam, self.platform.settings, request_id
                )
            elif legacy is not None:
                ctx, payload = await self._authenticate_v2(request, legacy, request_id)
            else:
                raise anonymous_error()
            if service is None:
                name = request.target.rsplit(".", 1)[0] if request.target else signing_name
                raise unknown_service(name, self.registry.names)
            action, params = await protocol.parse(request, payload, service, self.platform.settings)
            call = AwsCall(request, payload, ctx, self.platform, service, action, params)
            response = protocol.render(call, await service.actions[action](call))
        except LakeworksError as exc:
            if exc.status >= 500 and exc.status != Unsupported.status:
                log.error("%s %s failed: %s", request.method, request.path, exc.message)
            response = protocol.render_error(exc, request_id, request, service)
        except Exception as exc:
            log.exception("unhandled error on %s %s", request.method, request.path)
            error = InternalError(f"Internal error ({type(exc).__name__}); see the server log")
            response = protocol.render_error(error, request_id, request, service)
        if request.body_left_unread:
            response.headers["Connection"] = "close"
        await response(scope, receive, send)
