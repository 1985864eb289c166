"""The four AWS wire protocols: how a request names its action and input, and how results and
errors go back.

- JSON 1.x (SageMaker, Glue, Athena, …): ``POST /`` with ``X-Amz-Target: <Prefix>.<Action>`` and a
  JSON body; results are JSON; errors ``{"__type", "message"}``.
- awsquery (STS): a form body (``Action=…&Version=…``); results ``<ActionResponse>`` XML; errors
  ``<ErrorResponse>``.
- REST-JSON (SageMaker Runtime, Lambda): the method and path name the action; errors as JSON.
- REST-XML (S3): the method, path and query name the action; errors ``<Error>`` XML.
"""

from __future__ import annotations

import abc
import base64
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar
from xml.etree import ElementTree

from starlette.responses import Response

from lakeworks.core.errors import LakeworksError, ValidationError
from lakeworks.core.settings import Settings
from lakeworks.server.aws.payload import Payload
from lakeworks.server.aws.request import AwsRequest
from lakeworks.server.aws.service import AwsCall, AwsService, ProtocolName, parse_json_object
from lakeworks.server.errors import (
    aws_json_error_response,
    aws_query_error_response,
    aws_xml_error_response,
)

__all__ = [
    "PROTOCOLS",
    "MethodNotAllowed",
    "Unsupported",
    "WireProtocol",
    "guess_protocol",
    "json_body",
    "unknown_service",
]


class Unsupported(LakeworksError):
    """An AWS operation or feature Lakeworks does not implement (501, S3's ``NotImplemented``)."""

    status = 501
    code = "NotImplemented"


class MethodNotAllowed(LakeworksError):
    """The HTTP method is not allowed on this resource (405)."""

    status = 405
    code = "MethodNotAllowed"


def unknown_service(name: str | None, supported: list[str]) -> ValidationError:
    """The error for a request addressed to a service Lakeworks does not speak."""
    what = f"the AWS service {name!r}" if name else "this request's AWS service"
    return ValidationError(
        f"Lakeworks does not implement {what}; supported services: {', '.join(supported)}",
        aws_code="UnknownOperationException",
    )


class WireProtocol(abc.ABC):
    """Base of the protocols; subclasses fill in parsing and rendering."""

    name: ClassVar[ProtocolName]

    @abc.abstractmethod
    async def parse(
        self, request: AwsRequest, payload: Payload, service: AwsService, settings: Settings
    ) -> tuple[str, dict[str, Any]]:
        """Return the action the request names and its parsed input.

        Raises:
            LakeworksError: Malformed input, or an action the service does not know.
        """

    def render(self, call: AwsCall, result: Any) -> Response:
        """Turn a handler's result into the response."""
        if isinstance(result, Response):
            return result
        raise TypeError(f"{call.service.name}.{call.action} returned {type(result).__name__}")

    @abc.abstractmethod
    def render_error(
        self,
        error: LakeworksError,
        request_id: str,
        request: AwsRequest,
        service: AwsService | None,
    ) -> Response:
        """Render ``error`` in this protocol's shape."""

    def unknown_operation(self, service: AwsService, action: str) -> LakeworksError:
        """The error for an action the service's table lacks."""
        return ValidationError(
            f"{service.name} operation {action!r} is not supported by Lakeworks; supported: "
            f"{', '.join(sorted(service.actions))}",
            aws_code="UnknownOperationException",
        )


class JsonProtocol(WireProtocol):
    """JSON 1.0/1.1 with ``X-Amz-Target``."""

    name = "json"

    async def parse(
        self, request: AwsRequest, payload: Payload, service: AwsService, settings: Settings
    ) -> tuple[str, dict[str, Any]]:
        target = request.target or ""
        action = target.rsplit(".", 1)[1] if "." in target else ""
        if action not in service.actions:
            raise self.unknown_operation(service, action)
        body = await payload.read_all(settings.server.max_body_bytes)
        return action, parse_json_object(body)

    def render(self, call: AwsCall, result: Any) -> Response:
        if isinstance(result, Response):
            return result
        return Response(
            json_body(result),
            headers={"x-amzn-RequestId": call.ctx.request_id},
            media_type=f"application/x-amz-json-{call.service.json_version}",
        )

    def render_error(
        self,
        error: LakeworksError,
        request_id: str,
        request: AwsRequest,
        service: AwsService | None,
    ) -> Response:
        version = service.json_version if service else _json_version_of(request)
        return aws_json_error_response(error, request_id, json_version=version)


def _json_value(value: Any) -> Any:
    # AWS's JSON protocols send timestamps as epoch seconds and blobs as base64.
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def json_body(result: Any) -> bytes:
    """Serialise a JSON-protocol result: datetimes as epoch seconds, bytes as base64."""
    return json.dumps({} if result is None else result, default=_json_value).encode()


def _json_version_of(request: AwsRequest) -> str:
    return "1.0" if request.content_type == "application/x-amz-json-1.0" else "1.1"


class QueryProtocol(WireProtocol):
    """awsquery: form-encoded input, XML output."""

    name = "query"

    async def parse(
        self, request: AwsRequest, payload: Payload, service: AwsService, settings: Settings
    ) -> tuple[str, dict[str, Any]]:
        body = await payload.read_all(settings.server.max_body_bytes)
        params = request.form(body)
        action = params.get("Action")
        if not action:
            raise ValidationError(
                f"The request names no Action; {service.name} supports "
                f"{', '.join(sorted(service.actions))}",
                aws_code="MissingAction",
            )
        if action not in service.actions:
            raise self.unknown_operation(service, action)
        return action, dict(params)

    def unknown_operation(self, service: AwsService, action: str) -> LakeworksError:
        return ValidationError(
            f"Could not find operation {action!r} in {service.name}; Lakeworks supports "
            f"{', '.join(sorted(service.actions))}",
            aws_code="InvalidAction",
        )

    def render(self, call: AwsCall, result: Any) -> Response:
        if isinstance(result, Response):
            return result
        root = ElementTree.Element(f"{call.action}Response")
        if call.service.xml_namespace:
            root.set("xmlns", call.service.xml_namespace)
        _to_xml(ElementTree.SubElement(root, f"{call.action}Result"), result or {})
        meta = ElementTree.SubElement(root, "ResponseMetadata")
        ElementTree.SubElement(meta, "RequestId").text = call.ctx.request_id
        body = b'<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root)
        return Response(
            body, headers={"x-amzn-RequestId": call.ctx.request_id}, media_type="text/xml"
        )

    def render_error(
        self,
        error: LakeworksError,
        request_id: str,
        request: AwsRequest,
        service: AwsService | None,
    ) -> Response:
        return aws_query_error_response(error, request_id)


def _to_xml(element: ElementTree.Element, value: Any) -> None:
    """Serialise a result the awsquery way: dicts become children, lists ``<member>``s."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            if item is not None:
                _to_xml(ElementTree.SubElement(element, str(key)), item)
    elif isinstance(value, list | tuple):
        for item in value:
            _to_xml(ElementTree.SubElement(element, "member"), item)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif isinstance(value, datetime):
        element.text = value.isoformat().replace("+00:00", "Z")
    else:
        element.text = str(value)


class RestJsonProtocol(WireProtocol):
    """REST-JSON: the service's ``resolve`` names the action; handlers build responses."""

    name = "rest-json"

    async def parse(
        self, request: AwsRequest, payload: Payload, service: AwsService, settings: Settings
    ) -> tuple[str, dict[str, Any]]:
        assert service.resolve is not None
        action = service.resolve(request, settings)
        if action not in service.actions:
            raise self.unknown_operation(service, action)
        return action, {}

    def render(self, call: AwsCall, result: Any) -> Response:
        if isinstance(result, Response):
            response = result
        else:
            response = Response(json_body(result), media_type="application/json")
        response.headers["x-amzn-RequestId"] = call.ctx.request_id
        return response

    def render_error(
        self,
        error: LakeworksError,
        request_id: str,
        request: AwsRequest,
        service: AwsService | None,
    ) -> Response:
        return aws_json_error_response(error, request_id, shape="rest-json")


class RestXmlProtocol(WireProtocol):
    """REST-XML (S3): the service's ``resolve`` names the action; handlers build responses."""

    name = "rest-xml"

    async def parse(
        self, request: AwsRequest, payload: Payload, service: AwsService, settings: Settings
    ) -> tuple[str, dict[str, Any]]:
        assert service.resolve is not None
        action = service.resolve(request, settings)
        if action not in service.actions:
            raise self.unknown_operation(service, action)
        return action, {}

    def render(self, call: AwsCall, result: Any) -> Response:
        response = super().render(call, result)
        response.headers["x-amz-request-id"] = call.ctx.request_id
        response.headers["x-amz-id-2"] = call.ctx.request_id
        return response

    def unknown_operation(self, service: AwsService, action: str) -> LakeworksError:
        return Unsupported(
            f"{service.name} operation {action} is not implemented by Lakeworks; supported: "
            f"{', '.join(sorted(service.actions))}"
        )

    def render_error(
        self,
        error: LakeworksError,
        request_id: str,
        request: AwsRequest,
        service: AwsService | None,
    ) -> Response:
        return aws_xml_error_response(
            error, request_id, resource=request.display_path, head=request.method == "HEAD"
        )


PROTOCOLS: dict[ProtocolName, WireProtocol] = {
    p.name: p for p in (JsonProtocol(), QueryProtocol(), RestJsonProtocol(), RestXmlProtocol())
}


def guess_protocol(request: AwsRequest) -> WireProtocol:
    """The protocol to answer in before the service is known (unsigned or unknown service)."""
    if request.target:
        return PROTOCOLS["json"]
    if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
        return PROTOCOLS["query"]
    if request.content_type == "application/json":
        return PROTOCOLS["rest-json"]
    return PROTOCOLS["rest-xml"]
