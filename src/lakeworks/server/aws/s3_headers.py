"""S3 request and response headers shared by object operations: conditions, encryption,
tagging, versions, and errors that carry headers (304, delete markers).

Element and header names follow botocore's ``s3/2006-03-01/service-2.json``.
"""

from __future__ import annotations

from datetime import datetime

from starlette.responses import Response

from lakeworks.core.errors import LakeworksError
from lakeworks.lake.conditions import Conditions, NotModified
from lakeworks.lake.tagging import parse_tagging
from lakeworks.schemas.lake import ObjectInfo
from lakeworks.server.aws.protocol import Unsupported
from lakeworks.server.aws.s3_xml import http_date, quote_etag
from lakeworks.server.aws.service import AwsCall
from lakeworks.server.errors import aws_xml_error_response

__all__ = [
    "SSE_HEADER",
    "SSE_KMS_HEADER",
    "conditions_of",
    "encryption_headers",
    "object_headers",
    "special_error",
    "sse_of",
    "tagging_of",
    "version_headers",
]

SSE_HEADER = "x-amz-server-side-encryption"
SSE_KMS_HEADER = "x-amz-server-side-encryption-aws-kms-key-id"
_SSE_C = "x-amz-server-side-encryption-customer-algorithm"
_COPY_SSE_C = "x-amz-copy-source-server-side-encryption-customer-algorithm"


def conditions_of(call: AwsCall, prefix: str = "") -> Conditions:
    """The conditional headers of a request (``prefix`` ``x-amz-copy-source-`` for a copy's
    source conditions)."""
    header = call.request.header
    return Conditions(
        if_match=header(f"{prefix}if-match"),
        if_none_match=header(f"{prefix}if-none-match"),
        if_modified_since=header(f"{prefix}if-modified-since"),
        if_unmodified_since=header(f"{prefix}if-unmodified-since"),
    )


def sse_of(call: AwsCall) -> tuple[str | None, str | None]:
    """The requested server-side encryption: ``(algorithm, kms key id)``.

    Raises:
        Unsupported: Customer-provided keys (SSE-C): ignoring them would store plaintext the
            client believes is sealed with its key.
    """
    if call.request.header(_SSE_C) is not None or call.request.header(_COPY_SSE_C) is not None:
        raise Unsupported(
            "Server-side encryption with customer-provided keys (SSE-C) is not implemented by "
            "Lakeworks; use x-amz-server-side-encryption: AES256 or aws:kms"
        )
    return call.request.header(SSE_HEADER) or None, call.request.header(SSE_KMS_HEADER) or None


def tagging_of(call: AwsCall) -> dict[str, str] | None:
    """Tags from ``x-amz-tagging`` (``None`` when absent).

    Raises:
        ValidationError: ``InvalidTag``.
    """
    return parse_tagging(call.request.header("x-amz-tagging"))


def encryption_headers(algorithm: str | None, kms_key_id: str | None) -> dict[str, str]:
    """``x-amz-server-side-encryption`` (and the KMS key id) of a sealed object."""
    headers: dict[str, str] = {}
    if algorithm:
        headers[SSE_HEADER] = algorithm
        if kms_key_id:
            headers[SSE_KMS_HEADER] = kms_key_id
    return headers


def version_headers(version_id: str | None) -> dict[str, str]:
    """``x-amz-version-id`` in buckets with versioning."""
    return {"x-amz-version-id": version_id} if version_id else {}


def object_headers(info: ObjectInfo) -> dict[str, str]:
    """The headers describing an object in GET and HEAD responses."""
    headers = {
        "ETag": quote_etag(info.etag),
        "Last-Modified": http_date(info.last_modified),
        "Content-Type": info.content_type,
        "Accept-Ranges": "bytes",
    }
    for name, value in info.metadata.items():
        headers[f"x-amz-meta-{name}"] = value
    headers.update(version_headers(info.version_id))
    headers.update(encryption_headers(info.server_side_encryption, info.kms_key_id))
    if info.tag_count:
        headers["x-amz-tagging-count"] = str(info.tag_count)
    return headers


def special_error(call: AwsCall, error: LakeworksError) -> Response:
    """The response for a lake error that S3 answers with headers, or raise it again.

    ``NotModified`` is a bodiless 304 with the ETag; a missing key whose latest version is a
    delete marker, and a version that is one, carry ``x-amz-delete-marker`` and the version id.
    """
    if isinstance(error, NotModified):
        headers = {"ETag": quote_etag(str(error.details.get("etag", "")))}
        modified = error.details.get("last_modified")
        if isinstance(modified, str):
            headers["Last-Modified"] = http_date(datetime.fromisoformat(modified))
        return Response(status_code=304, headers=headers)
    if not error.details.get("delete_marker"):
        raise error
    response = aws_xml_error_response(
        error,
        call.ctx.request_id,
        resource=call.request.display_path,
        head=call.request.method == "HEAD",
    )
    response.headers["x-amz-delete-marker"] = "true"
    version = error.details.get("version_id")
    if isinstance(version, str):
        response.headers["x-amz-version-id"] = version
    modified = error.details.get("last_modified")
    if isinstance(modified, str):
        response.headers["Last-Modified"] = http_date(datetime.fromisoformat(modified))
    return response
