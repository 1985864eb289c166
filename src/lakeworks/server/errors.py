"""The only renderer of errors.

Native routes answer ``{"error": {"code", "type", "message", "details", "request_id"}}``; the AWS
front door renders the same exceptions in the shape of the protocol the request came through
(S3's REST-XML, awsquery XML, JSON 1.x, REST-JSON; ``server/aws/protocol.py`` picks one).
"""

from __future__ import annotations

import json
import logging
from typing import Any, Literal
from xml.etree import ElementTree

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from lakeworks.core.errors import LakeworksError, NotFound, ValidationError

__all__ = [
    "aws_error_code",
    "aws_json_error_response",
    "aws_query_error_response",
    "aws_xml_error_response",
    "install_error_handlers",
    "native_error_response",
]

log = logging.getLogger("lakeworks.server")

_HTTP_CODES = {
    400: "ValidationException",
    401: "UnrecognizedClientException",
    403: "AccessDeniedException",
    404: "ResourceNotFound",
    405: "MethodNotAllowed",
    409: "ResourceInUse",
    413: "EntityTooLarge",
    415: "UnsupportedMediaType",
    429: "ThrottlingException",
}


def native_error_response(
    error: LakeworksError, request_id: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    """Render ``error`` in the native shape."""
    body: dict[str, Any] = {
        "error": {
            "code": error.aws_code,
            "type": type(error).__name__,
            "message": error.message,
            "details": error.details,
            "request_id": request_id,
        }
    }
    if error.status >= 500:
        body["error"]["message"] = error.message or "Internal error"
    return JSONResponse(body, status_code=error.status, headers=headers)


def _request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def install_error_handlers(app: FastAPI) -> None:
    """Make every error on the native API come out in the one native shape."""

    @app.exception_handler(LakeworksError)
    async def _lakeworks(request: Request, exc: LakeworksError) -> JSONResponse:
        return native_error_response(exc, _request_id(request))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {
                "location": ".".join(str(p) for p in err.get("loc", ())),
                "message": err.get("msg", ""),
                "type": err.get("type", ""),
            }
            for err in exc.errors()
        ]
        summary = "; ".join(f"{p['location']}: {p['message']}" for p in problems)
        error = ValidationError(f"Invalid request: {summary}", details={"errors": problems})
        return native_error_response(error, _request_id(request))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            error: LakeworksError = NotFound(f"No route for {request.method} {request.url.path}")
        else:
            error = LakeworksError(str(exc.detail))
            error.aws_code = _HTTP_CODES.get(exc.status_code, "HttpError")
        response = native_error_response(error, _request_id(request))
        response.status_code = exc.status_code
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        error = LakeworksError(f"Internal error ({type(exc).__name__}); see the server log")
        return native_error_response(error, _request_id(request))


# -- the AWS front door ------------------------------------------------------------------------

AwsShape = Literal["xml", "query", "json", "rest-json"]

#: Error codes as each AWS protocol family spells them. The exception tree carries S3's or the
#: class's generic code; JSON services and query services name the same condition differently.
_AWS_CODES: dict[AwsShape, dict[str, str]] = {
    "xml": {
        "AccessDeniedException": "AccessDenied",
        "MissingAuthenticationToken": "AccessDenied",
        "UnrecognizedClientException": "InvalidAccessKeyId",
        "ValidationException": "InvalidArgument",
        "InternalFailure": "InternalError",
        "ThrottlingException": "SlowDown",
    },
    "query": {
        "AccessDeniedException": "AccessDenied",
        "InvalidAccessKeyId": "InvalidClientTokenId",
        "UnrecognizedClientException": "InvalidClientTokenId",
        "ValidationException": "ValidationError",
        "ThrottlingException": "Throttling",
    },
    "json": {
        "AccessDenied": "AccessDeniedException",
        "MissingAuthenticationToken": "MissingAuthenticationTokenException",
        "InvalidAccessKeyId": "UnrecognizedClientException",
        "SignatureDoesNotMatch": "InvalidSignatureException",
        "RequestTimeTooSkewed": "InvalidSignatureException",
    },
}
_AWS_CODES["rest-json"] = _AWS_CODES["json"]


def aws_error_code(error: LakeworksError, shape: AwsShape) -> str:
    """The AWS error code of ``error`` as the protocol family ``shape`` spells it."""
    return _AWS_CODES[shape].get(error.aws_code, error.aws_code)


def _aws_status(error: LakeworksError) -> int:
    # AWS answers unknown or invalid credentials with 403; 401 is a native-API status.
    return 403 if error.status == 401 else error.status


def _aws_message(error: LakeworksError) -> str:
    if error.status >= 500 and not error.message:
        return "We encountered an internal error. Please try again."
    return error.message


def _xml_bytes(root: ElementTree.Element) -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root)


def _child(parent: ElementTree.Element, tag: str, text: str) -> None:
    ElementTree.SubElement(parent, tag).text = text


def aws_xml_error_response(
    error: LakeworksError, request_id: str, *, resource: str = "", head: bool = False
) -> Response:
    """Render ``error`` the way S3 (REST-XML) does.

    ``<Error><Code/><Message/><Resource/><RequestId/></Error>``; a HEAD request gets the status
    and headers only, as S3 sends no body there.
    """
    headers = {"x-amz-request-id": request_id, "x-amz-id-2": request_id}
    status = _aws_status(error)
    if head:
        return Response(status_code=status, headers=headers)
    root = ElementTree.Element("Error")
    _child(root, "Code", aws_error_code(error, "xml"))
    _child(root, "Message", _aws_message(error))
    if resource:
        _child(root, "Resource", resource)
    _child(root, "RequestId", request_id)
    return Response(_xml_bytes(root), status, headers, media_type="application/xml")


def aws_query_error_response(error: LakeworksError, request_id: str) -> Response:
    """Render ``error`` the way awsquery services (STS, IAM) do.

    ``<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>``.
    """
    root = ElementTree.Element("ErrorResponse")
    inner = ElementTree.SubElement(root, "Error")
    _child(inner, "Type", "Receiver" if error.status >= 500 else "Sender")
    _child(inner, "Code", aws_error_code(error, "query"))
    _child(inner, "Message", _aws_message(error))
    _child(root, "RequestId", request_id)
    return Response(
        _xml_bytes(root),
        _aws_status(error),
        {"x-amzn-RequestId": request_id},
        media_type="text/xml",
    )


def aws_json_error_response(
    error: LakeworksError, request_id: str, *, shape: AwsShape = "json", json_version: str = "1.1"
) -> Response:
    """Render ``error`` the way JSON 1.x and REST-JSON services do.

    Body ``{"__type": code, "message": ...}`` and the code again in ``x-amzn-ErrorType``.
    """
    code = aws_error_code(error, shape)
    body = json.dumps({"__type": code, "message": _aws_message(error)}).encode()
    media = "application/json" if shape == "rest-json" else f"application/x-amz-json-{json_version}"
    return Response(
        body,
        _aws_status(error),
        {"x-amzn-RequestId": request_id, "x-amzn-ErrorType": code},
        media_type=media,
    )
