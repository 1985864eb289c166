"""AWS services as action tables, and the registry that finds the one a request is for.

A service is one module exposing an :class:`AwsService`: its protocol, how clients address it
(``X-Amz-Target`` prefix for JSON 1.x services, the SigV4 signing name otherwise) and a table
mapping action names to handlers. Adding a service means writing that module and listing it in
``server/aws/__init__.py``'s ``SERVICES``; the dispatcher does not change.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import ValidationError
from lakeworks.core.settings import Settings
from lakeworks.server.aws.payload import Payload
from lakeworks.server.aws.request import AwsRequest
from lakeworks.server.platform import Platform

__all__ = ["AwsCall", "AwsService", "Handler", "ProtocolName", "ServiceRegistry"]

ProtocolName = Literal["json", "query", "rest-json", "rest-xml"]


@dataclass
class AwsCall:
    """One authenticated call of an action, as a handler receives it.

    Attributes:
        request: The request (headers, path, query).
        payload: Its body, verified while read.
        ctx: The caller.
        platform: The services.
        service: The AWS service called.
        action: The action name (``PutObject``, ``GetCallerIdentity``).
        params: Input already parsed by the protocol: the JSON body of JSON 1.x services, the form
            of query services; empty for REST protocols, whose handlers read the request.
    """

    request: AwsRequest
    payload: Payload
    ctx: RequestContext
    platform: Platform
    service: AwsService
    action: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def settings(self) -> Settings:
        """The settings tree."""
        return self.platform.settings

    async def json_body(self) -> dict[str, Any]:
        """The body as a JSON object (``{}`` when empty), for REST-JSON handlers.

        Raises:
            ValidationError: ``SerializationException`` when it is not a JSON object.
        """
        raw = await self.payload.read_all(self.settings.server.max_body_bytes)
        return parse_json_object(raw)


#: A handler runs one action. JSON 1.x handlers return a dict, query handlers a dict that becomes
#: ``<Action>Result``; REST handlers return a finished ``starlette.responses.Response``.
Handler = Callable[[AwsCall], Awaitable[Any]]


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """Parse a JSON request body that must be an object; an empty body is ``{}``.

    Raises:
        ValidationError: ``SerializationException`` for anything else.
    """
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError(
            f"The request body is not valid JSON: {exc}", aws_code="SerializationException"
        ) from None
    if not isinstance(value, dict):
        raise ValidationError(
            "The request body must be a JSON object", aws_code="SerializationException"
        )
    return value


@dataclass(frozen=True)
class AwsService:
    """One AWS service the front door speaks.

    Attributes:
        name: The service's name in boto3 (``s3``, ``sts``, ``sagemaker-runtime``).
        protocol: Its wire protocol.
        signing_name: The service in the SigV4 credential scope (``s3``, ``sagemaker``).
        actions: Action name → handler.
        target_prefix: JSON 1.x only: ``X-Amz-Target`` is ``<target_prefix>.<Action>``.
        json_version: JSON 1.x only: ``1.0`` or ``1.1`` (the content type's version).
        xml_namespace: Query only: the namespace of the response document.
        resolve: REST protocols only: the action a request names (method, host, path, query),
            or raises the protocol's unknown-operation error.
        path_prefixes: REST protocols only: the paths this service claims from another that
            signs with the same name (Feature Store Runtime's ``/FeatureGroup/`` beside
            SageMaker Runtime); empty for the service that takes the rest.
    """

    name: str
    protocol: ProtocolName
    signing_name: str
    actions: Mapping[str, Handler]
    target_prefix: str | None = None
    json_version: str = "1.1"
    xml_namespace: str = ""
    resolve: Callable[[AwsRequest, Settings], str] | None = None
    path_prefixes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.protocol == "json" and not self.target_prefix:
            raise ValueError(f"JSON service {self.name} needs a target_prefix")
        if self.protocol in ("rest-json", "rest-xml") and self.resolve is None:
            raise ValueError(f"REST service {self.name} needs a resolve function")


class ServiceRegistry:
    """Finds the service a request is for.

    JSON 1.x requests name their service in ``X-Amz-Target``; every other request by the service
    in its SigV4 credential scope. Two services may share a signing name only if one of them is
    addressed by target (SageMaker's JSON API and its REST-JSON runtime both sign as
    ``sagemaker``), or claims its own path prefixes (``AwsService.path_prefixes``).

    Args:
        services: The services, each listed once.
        default: The service of a request that is neither targeted nor signed (S3: anonymous
            requests are S3 requests addressed by path).

    Raises:
        ValueError: Two services claim the same target prefix or signing name.
    """

    def __init__(self, services: Iterable[AwsService], *, default: str = "s3") -> None:
        self.by_target: dict[str, AwsService] = {}
        self.by_signing_name: dict[str, AwsService] = {}
        self.by_path: list[tuple[str, str, AwsService]] = []
        self.services = tuple(services)
        for service in self.services:
            if service.target_prefix is not None:
                if service.target_prefix in self.by_target:
                    raise ValueError(f"two services use target prefix {service.target_prefix}")
                self.by_target[service.target_prefix] = service
            elif service.path_prefixes:
                for prefix in service.path_prefixes:
                    self.by_path.append((service.signing_name, prefix, service))
            else:
                if service.signing_name in self.by_signing_name:
                    raise ValueError(f"two services use signing name {service.signing_name}")
                self.by_signing_name[service.signing_name] = service
        self.default = self.by_signing_name.get(default)

    @property
    def names(self) -> list[str]:
        """The names of the services spoken, sorted."""
        return sorted(s.name for s in self.services)

    def resolve(
        self, target: str | None, signing_name: str | None, path: str = ""
    ) -> AwsService | None:
        """The service addressed by ``X-Amz-Target``, or the signing name and path, or ``None``."""
        if target:
            prefix = target.rsplit(".", 1)[0]
            return self.by_target.get(prefix)
        if signing_name:
            for name, start, service in self.by_path:
                if name == signing_name and (path == start.rstrip("/") or path.startswith(start)):
                    return service
            return self.by_signing_name.get(signing_name)
        return self.default
