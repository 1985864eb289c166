"""The only renderer of errors.

Native routes answer ``{"error": {"code", "type", "message", "details", "request_id"}}``; the AWS
front door renders the same exceptions in the shape of the protocol the request came through
(see ``server/aws/protocol.py``, which calls :func:`aws_error_parts`).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from lakeworks.core.errors import LakeworksError, NotFound, ValidationError

__all__ = ["install_error_handlers", "native_error_response"]

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
