"""S3 object operations: PutObject, GetObject, HeadObject and DeleteObject (CopyObject and
DeleteObjects are in ``s3_copy``).

Uploads stream through :meth:`Payload.spool` into a temporary file under ``<home>/tmp`` while
their signature and checksums are verified; only a fully verified body reaches the lake.
Downloads stream from the lake in chunks; nothing holds a whole object in memory. Versions
(``versionId``), conditional requests, tags (``x-amz-tagging``) and server-side encryption
(``x-amz-server-side-encryption``) pass to the lake service, which decides; this module only
translates headers.
"""

from __future__ import annotations

import re
from pathlib import Path

from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.responses import Response, StreamingResponse

from lakeworks.core.errors import LakeworksError, ValidationError
from lakeworks.lake.conditions import Conditions
from lakeworks.server.aws.s3_headers import (
    conditions_of,
    encryption_headers,
    object_headers,
    special_error,
    sse_of,
    tagging_of,
    version_headers,
)
from lakeworks.server.aws.s3_routing import object_of
from lakeworks.server.aws.s3_xml import quote_etag
from lakeworks.server.aws.service import AwsCall

__all__ = [
    "delete_object",
    "get_object",
    "head_object",
    "metadata_of",
    "object_headers",
    "parse_range",
    "prepare_upload",
    "put_object",
    "spool_dir",
    "version_of",
]

_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$")
_PRINTABLE = re.compile(r"[\x20-\x7e]*")
#: ``response-*`` query parameters of GetObject that override response headers.
_RESPONSE_OVERRIDES = {
    "response-cache-control": "Cache-Control",
    "response-content-disposition": "Content-Disposition",
    "response-content-encoding": "Content-Encoding",
    "response-content-language": "Content-Language",
    "response-content-type": "Content-Type",
    "response-expires": "Expires",
}


def spool_dir(call: AwsCall) -> Path:
    """Where uploads are spooled while they are verified: ``<home>/tmp``."""
    return call.settings.home / "tmp"


def metadata_of(call: AwsCall) -> dict[str, str]:
    """User metadata from the ``x-amz-meta-*`` headers (names lower case)."""
    return call.request.headers_with_prefix("x-amz-meta-")


def version_of(call: AwsCall) -> str | None:
    """The ``versionId`` query parameter, if any."""
    return call.request.query.get("versionId")


def parse_range(value: str | None) -> tuple[int | None, int | None] | None:
    """A ``Range: bytes=first-last`` header as ``(first, last)``; ``None`` to serve it all.

    Like S3, a range that cannot be parsed (or several ranges) is ignored, not an error.
    """
    if value is None:
        return None
    match = _RANGE.match(value)
    if match is None or (not match.group(1) and not match.group(2)):
        return None
    first = int(match.group(1)) if match.group(1) else None
    last = int(match.group(2)) if match.group(2) else None
    if first is not None and last is not None and last < first:
        return None
    return first, last


async def prepare_upload(
    call: AwsCall, bucket: str, key: str, *, tags: dict[str, str] | None = None
) -> None:
    """Refuse now what the upload would be refused for after its body was read.

    A bad key, a missing bucket or a refused caller then costs the client one round trip
    instead of a whole upload, and nothing is spooled.

    Raises:
        AccessDenied, ValidationError, NotFound: As the lake would after the upload.
    """
    sse, kms_key_id = sse_of(call)
    await run_in_threadpool(
        lambda: call.platform.lake.check_writable(
            call.ctx, bucket, key, sse=sse, kms_key_id=kms_key_id, tags=tags
        )
    )


async def put_object(call: AwsCall) -> Response:
    """PutObject: Content-Type, Content-MD5, ``x-amz-meta-*``, ``x-amz-tagging``,
    server-side encryption and ``If-None-Match: *`` / ``If-Match``; ETag and version id (and
    the encryption) in the response."""
    bucket, key = object_of(call)
    tags = tagging_of(call)
    await prepare_upload(call, bucket, key, tags=tags)
    sse, kms_key_id = sse_of(call)
    conditions = conditions_of(call)
    content_type = call.request.header("content-type")
    md5 = call.request.header("content-md5")
    metadata = metadata_of(call)
    async with call.payload.spool(spool_dir(call), call.settings.server.max_object_bytes) as body:
        info = await run_in_threadpool(
            lambda: call.platform.lake.put_object(
                call.ctx,
                bucket,
                key,
                body,
                content_type=content_type or None,
                metadata=metadata,
                content_md5=md5,
                tags=tags,
                sse=sse,
                kms_key_id=kms_key_id,
                conditions=conditions,
            )
        )
    headers = {"ETag": quote_etag(info.etag)}
    headers.update(version_headers(info.version_id))
    headers.update(encryption_headers(info.server_side_encryption, info.kms_key_id))
    return Response(status_code=200, headers=headers)


async def get_object(call: AwsCall) -> Response:
    """GetObject: whole object or one range (206 + Content-Range), a version, conditional
    headers (304/412), and ``response-*`` header overrides."""
    bucket, key = object_of(call)
    lake = call.platform.lake
    byte_range = parse_range(call.request.header("range"))
    version_id = version_of(call)
    conditions = conditions_of(call)
    overrides = _overrides(call)
    try:
        info, first, last, chunks = await run_in_threadpool(
            lambda: lake.get_object(
                call.ctx,
                bucket,
                key,
                byte_range=byte_range,
                version_id=version_id,
                conditions=conditions,
            )
        )
    except LakeworksError as exc:
        return special_error(call, exc)
    headers = object_headers(info)
    headers["Content-Length"] = str(last - first + 1)
    status = 200
    if byte_range is not None:
        status = 206
        headers["Content-Range"] = f"bytes {first}-{last}/{info.size}"
    headers.update(overrides)
    return StreamingResponse(iterate_in_threadpool(chunks), status, headers)


def _overrides(call: AwsCall) -> dict[str, str]:
    headers = {}
    for name, header in _RESPONSE_OVERRIDES.items():
        value = call.request.query.get(name)
        if value is not None:
            if not _PRINTABLE.fullmatch(value):
                raise ValidationError(
                    f"{name} must be printable ASCII text", aws_code="InvalidArgument"
                )
            headers[header] = value
    return headers


async def head_object(call: AwsCall) -> Response:
    """HeadObject: the object's (or a version's) headers and size, no body."""
    bucket, key = object_of(call)
    version_id = version_of(call)
    conditions = conditions_of(call)
    try:
        info = await run_in_threadpool(
            lambda: call.platform.lake.head_object(
                call.ctx, bucket, key, version_id=version_id, conditions=conditions
            )
        )
    except LakeworksError as exc:
        return special_error(call, exc)
    headers = object_headers(info)
    headers["Content-Length"] = str(info.size)
    return Response(status_code=200, headers=headers)


async def delete_object(call: AwsCall) -> Response:
    """DeleteObject: 204, also when the key did not exist (as S3 does); with ``versionId`` it
    deletes that version for good; ``If-Match`` makes it conditional."""
    bucket, key = object_of(call)
    version_id = version_of(call)
    conditions = Conditions(if_match=call.request.header("if-match"))
    result = await run_in_threadpool(
        lambda: call.platform.lake.delete_object(
            call.ctx, bucket, key, version_id=version_id, conditions=conditions
        )
    )
    headers = version_headers(result.version_id)
    if result.delete_marker:
        headers["x-amz-delete-marker"] = "true"
    return Response(status_code=204, headers=headers)
