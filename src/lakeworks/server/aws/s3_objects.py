"""S3 object operations: PutObject, GetObject, HeadObject, DeleteObject, DeleteObjects and
CopyObject.

Uploads stream through :meth:`Payload.spool` into a temporary file under ``<home>/tmp`` while
their signature and checksums are verified; only a fully verified body reaches the lake.
Downloads stream from the lake in chunks; nothing holds a whole object in memory.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.responses import Response, StreamingResponse

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import LakeworksError, PreconditionFailed, ValidationError
from lakeworks.lake.service import LakeService
from lakeworks.schemas.lake import ObjectInfo
from lakeworks.server.aws import s3_xml
from lakeworks.server.aws.protocol import Unsupported
from lakeworks.server.aws.s3_routing import bucket_of, object_of
from lakeworks.server.aws.s3_xml import add, document, http_date, iso_time, quote_etag
from lakeworks.server.aws.service import AwsCall

__all__ = [
    "copy_object",
    "delete_object",
    "delete_objects",
    "get_object",
    "head_object",
    "metadata_of",
    "object_headers",
    "parse_copy_source",
    "parse_range",
    "prepare_upload",
    "put_object",
    "spool_dir",
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
    return headers


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


async def prepare_upload(call: AwsCall, bucket: str, key: str) -> None:
    """Refuse now what the upload would be refused for after its body was read.

    A bad key, a missing bucket or a read-only caller then costs the client one round trip
    instead of a whole upload, and nothing is spooled.

    Raises:
        AccessDenied, ValidationError, NotFound: As the lake would after the upload.
    """
    await run_in_threadpool(call.platform.lake.check_writable, call.ctx, bucket, key)


async def put_object(call: AwsCall) -> Response:
    """PutObject: Content-Type, Content-MD5, ``x-amz-meta-*``; ETag in the response."""
    bucket, key = object_of(call)
    await prepare_upload(call, bucket, key)
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
            )
        )
    return Response(status_code=200, headers={"ETag": quote_etag(info.etag)})


def _http_time(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _etag_matches(header: str, etag: str) -> bool:
    wanted = {item.strip().removeprefix("W/").strip('"') for item in header.split(",")}
    return "*" in wanted or etag in wanted


def check_conditions(call: AwsCall, info: ObjectInfo) -> Response | None:
    """Apply If-Match, If-None-Match, If-Modified-Since and If-Unmodified-Since.

    Returns:
        A 304 response when the client's copy is current, else ``None`` to go on.

    Raises:
        PreconditionFailed: If-Match or If-Unmodified-Since does not hold (412).
    """
    header = call.request.header
    modified = info.last_modified.replace(microsecond=0)
    if_match, if_none = header("if-match"), header("if-none-match")
    if if_match is not None and not _etag_matches(if_match, info.etag):
        raise PreconditionFailed("At least one of the pre-conditions you specified did not hold")
    since = header("if-unmodified-since")
    if if_match is None and since is not None:
        moment = _http_time(since)
        if moment is not None and modified > moment:
            raise PreconditionFailed(
                "At least one of the pre-conditions you specified did not hold"
            )
    not_modified = Response(
        status_code=304,
        headers={"ETag": quote_etag(info.etag), "Last-Modified": http_date(info.last_modified)},
    )
    if if_none is not None:
        return not_modified if _etag_matches(if_none, info.etag) else None
    since = header("if-modified-since")
    if since is not None:
        moment = _http_time(since)
        if moment is not None and modified <= moment:
            return not_modified
    return None


_CONDITIONS = ("if-match", "if-none-match", "if-modified-since", "if-unmodified-since")


async def get_object(call: AwsCall) -> Response:
    """GetObject: whole object or one range (206 + Content-Range), conditional headers, and
    ``response-*`` header overrides."""
    bucket, key = object_of(call)
    lake = call.platform.lake
    if any(call.request.header(name) is not None for name in _CONDITIONS):
        info = await run_in_threadpool(lake.head_object, call.ctx, bucket, key)
        early = check_conditions(call, info)
        if early is not None:
            return early
    byte_range = parse_range(call.request.header("range"))
    info, first, last, chunks = await run_in_threadpool(
        lambda: lake.get_object(call.ctx, bucket, key, byte_range=byte_range)
    )
    headers = object_headers(info)
    headers["Content-Length"] = str(last - first + 1)
    status = 200
    if byte_range is not None:
        status = 206
        headers["Content-Range"] = f"bytes {first}-{last}/{info.size}"
    for name, header in _RESPONSE_OVERRIDES.items():
        value = call.request.query.get(name)
        if value is not None:
            if not _PRINTABLE.fullmatch(value):
                raise ValidationError(
                    f"{name} must be printable ASCII text", aws_code="InvalidArgument"
                )
            headers[header] = value
    return StreamingResponse(iterate_in_threadpool(chunks), status, headers)


async def head_object(call: AwsCall) -> Response:
    """HeadObject: the object's headers and size, no body."""
    bucket, key = object_of(call)
    info = await run_in_threadpool(call.platform.lake.head_object, call.ctx, bucket, key)
    early = check_conditions(call, info)
    if early is not None:
        return early
    headers = object_headers(info)
    headers["Content-Length"] = str(info.size)
    return Response(status_code=200, headers=headers)


async def delete_object(call: AwsCall) -> Response:
    """DeleteObject: 204, also when the key did not exist (as S3 does)."""
    bucket, key = object_of(call)
    await run_in_threadpool(call.platform.lake.delete_object, call.ctx, bucket, key)
    return Response(status_code=204)


def _delete_many(
    lake: LakeService, ctx: RequestContext, bucket: str, keys: list[str]
) -> list[tuple[str, LakeworksError | None]]:
    lake.describe_bucket(ctx, bucket)  # a missing bucket fails the whole request
    results: list[tuple[str, LakeworksError | None]] = []
    for key in keys:
        try:
            lake.delete_object(ctx, bucket, key)
        except LakeworksError as exc:
            results.append((key, exc))
        else:
            results.append((key, None))
    return results


async def delete_objects(call: AwsCall) -> Response:
    """DeleteObjects (``POST ?delete``): up to 1000 keys; per-key errors; Quiet mode."""
    bucket = bucket_of(call)
    body = await call.payload.read_all(call.settings.server.max_body_bytes)
    keys, quiet = s3_xml.parse_delete(body)
    results = await run_in_threadpool(_delete_many, call.platform.lake, call.ctx, bucket, keys)
    root = document("DeleteResult")
    for key, error in results:
        if error is None:
            if not quiet:
                add(add(root, "Deleted"), "Key", key)
            continue
        item = add(root, "Error")
        add(item, "Key", key)
        add(item, "Code", "AccessDenied" if error.status == 403 else error.aws_code)
        add(item, "Message", error.message)
    return s3_xml.xml_response(root)


def parse_copy_source(value: str) -> tuple[str, str]:
    """Split ``x-amz-copy-source`` (``[/]bucket/key``, URL-encoded) into bucket and key.

    Raises:
        ValidationError: ``InvalidArgument`` when it does not name a bucket and a key.
        Unsupported: It names an object version.
    """
    source, _, query = value.partition("?")
    if query:
        version = dict(p.partition("=")[::2] for p in query.split("&")).get("versionId")
        if version not in (None, "null"):
            raise Unsupported("Object versions are not implemented by Lakeworks (versionId)")
    bucket, _, key = unquote(source).lstrip("/").partition("/")
    if not bucket or not key:
        raise ValidationError(
            f"Invalid x-amz-copy-source {value!r}: use '<bucket>/<key>' (URL-encoded)",
            aws_code="InvalidArgument",
        )
    return bucket, key


async def copy_object(call: AwsCall) -> Response:
    """CopyObject: ``x-amz-copy-source``, ``x-amz-metadata-directive`` COPY or REPLACE."""
    bucket, key = object_of(call)
    source = call.request.header("x-amz-copy-source") or ""
    src_bucket, src_key = parse_copy_source(source)
    directive = (call.request.header("x-amz-metadata-directive") or "COPY").upper()
    if directive not in ("COPY", "REPLACE"):
        raise ValidationError(
            f"Invalid x-amz-metadata-directive {directive!r}: use COPY or REPLACE",
            aws_code="InvalidArgument",
        )
    replace = directive == "REPLACE"
    if (src_bucket, src_key) == (bucket, key) and not replace:
        raise ValidationError(
            "This copy request is illegal because it is trying to copy an object to itself "
            "without changing the object's metadata; use x-amz-metadata-directive: REPLACE",
            aws_code="InvalidRequest",
        )
    kwargs: dict[str, Any] = {"replace_metadata": replace}
    if replace:
        kwargs["content_type"] = call.request.header("content-type") or None
        kwargs["metadata"] = metadata_of(call)
    info = await run_in_threadpool(
        lambda: call.platform.lake.copy_object(call.ctx, src_bucket, src_key, bucket, key, **kwargs)
    )
    root = document("CopyObjectResult")
    add(root, "ETag", quote_etag(info.etag))
    add(root, "LastModified", iso_time(info.last_modified))
    return s3_xml.xml_response(root)
