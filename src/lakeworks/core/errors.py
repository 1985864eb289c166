"""The one exception tree of Lakeworks.

Every error a user can cause is a :class:`LakeworksError` subclass carrying an HTTP status and an
AWS error code. ``server/errors.py`` renders them (native JSON or the AWS shape of the front door a
request came through); the SDK raises the same classes back from the native shape.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "AccessDenied",
    "AlreadyExists",
    "InternalError",
    "InvalidSignature",
    "LakeworksError",
    "NotFound",
    "PayloadTooLarge",
    "PreconditionFailed",
    "RangeNotSatisfiable",
    "ResourceInUse",
    "ThrottlingException",
    "Unauthenticated",
    "UnsupportedMediaType",
    "ValidationError",
    "error_class_for",
]


class LakeworksError(Exception):
    """Base of all Lakeworks errors.

    Args:
        message: What was wrong and, where it helps, what is allowed.
        details: Extra structured information (field names, limits, …).
        aws_code: An AWS error code more specific than the class default (``NoSuchKey``).
    """

    status: ClassVar[int] = 500
    code: ClassVar[str] = "InternalFailure"

    def __init__(
        self, message: str, *, details: dict[str, Any] | None = None, aws_code: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}
        self.aws_code = aws_code or self.code

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class ValidationError(LakeworksError):
    """The request is malformed or a value is out of range (400)."""

    status = 400
    code = "ValidationException"


class Unauthenticated(LakeworksError):
    """No credentials, or credentials that are unknown, expired or revoked (401)."""

    status = 401
    code = "UnrecognizedClientException"


class InvalidSignature(LakeworksError):
    """A SigV4 signature does not match, or a presigned URL expired (403)."""

    status = 403
    code = "SignatureDoesNotMatch"


class AccessDenied(LakeworksError):
    """The principal lacks the scope the operation needs (403)."""

    status = 403
    code = "AccessDeniedException"


class NotFound(LakeworksError):
    """The named resource does not exist (404)."""

    status = 404
    code = "ResourceNotFound"


class ResourceInUse(LakeworksError):
    """The resource is in a state that forbids the operation (409)."""

    status = 409
    code = "ResourceInUse"


class AlreadyExists(ResourceInUse):
    """A resource of that name exists already (409)."""

    code = "ResourceInUse"


class PreconditionFailed(LakeworksError):
    """A conditional request's condition does not hold (412)."""

    status = 412
    code = "PreconditionFailed"


class PayloadTooLarge(LakeworksError):
    """The request body exceeds a configured limit (413)."""

    status = 413
    code = "EntityTooLarge"


class UnsupportedMediaType(LakeworksError):
    """The request's content type is not one the route accepts (415)."""

    status = 415
    code = "UnsupportedMediaType"


class RangeNotSatisfiable(LakeworksError):
    """A byte range lies outside the object (416)."""

    status = 416
    code = "InvalidRange"


class ThrottlingException(LakeworksError):
    """Too many concurrent requests for a limited resource (429)."""

    status = 429
    code = "ThrottlingException"


class InternalError(LakeworksError):
    """A bug or an unexpected failure on the server (500)."""

    status = 500
    code = "InternalFailure"


_BY_NAME: dict[str, type[LakeworksError]] = {
    cls.__name__: cls
    for cls in (
        ValidationError,
        Unauthenticated,
        InvalidSignature,
        AccessDenied,
        NotFound,
        ResourceInUse,
        AlreadyExists,
        PreconditionFailed,
        PayloadTooLarge,
        UnsupportedMediaType,
        RangeNotSatisfiable,
        ThrottlingException,
        InternalError,
    )
}


def error_class_for(name: str) -> type[LakeworksError]:
    """Return the error class named ``name`` (the native error ``type``), or the base class.

    The SDK uses this to raise the server's error as the same class on the client side.
    """
    return _BY_NAME.get(name, LakeworksError)
