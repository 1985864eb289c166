"""Buckets and objects on the native API.

Object bodies travel raw: a PUT streams the request body to a temp file under ``<home>/tmp``
(counting it against ``server.max_object_bytes`` as it arrives) and hands the file to the lake
service; a GET streams the object back in chunks. User metadata travels in
``x-lakeworks-meta-<name>`` headers, both ways; tags in ``x-lakeworks-tagging`` (``k=v&k2=v2``)
and encryption in ``x-lakeworks-server-side-encryption`` (``AES256`` or ``aws:kms``, with
``x-lakeworks-server-side-encryption-kms-key-id``). Versions are addressed with the
``version_id`` query parameter and reported in ``x-lakeworks-version-id``; the standard
conditional headers (``If-Match``, ``If-None-Match``, ``If-Modified-Since``,
``If-Unmodified-Since``) work as on S3. Bucket configuration routes are in ``lake_config``.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC
from email.utils import format_datetime
from pathlib import Path

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import PayloadTooLarge, ValidationError
from lakeworks.lake.conditions import Conditions, NotModified
from lakeworks.lake.objects import CHUNK_SIZE, ByteRange
from lakeworks.lake.tagging import parse_tagging
from lakeworks.schemas.common import Page
from lakeworks.schemas.lake import BucketCreate, BucketInfo, ObjectInfo, ObjectListing
from lakeworks.server.auth import authenticated, platform_of
from lakeworks.server.platform import Platform

__all__ = [
    "META_HEADER",
    "SSE_HEADER",
    "SSE_KMS_HEADER",
    "TAGGING_HEADER",
    "VERSION_HEADER",
    "parse_range",
    "router",
]

router = APIRouter(prefix="/api/v1", tags=["lake"])

#: Prefix of the headers that carry user metadata.
META_HEADER = "x-lakeworks-meta-"
#: Tags of an object being written (``k=v&k2=v2``).
TAGGING_HEADER = "x-lakeworks-tagging"
#: Server-side encryption requested for, or applied to, an object.
SSE_HEADER = "x-lakeworks-server-side-encryption"
SSE_KMS_HEADER = "x-lakeworks-server-side-encryption-kms-key-id"
#: The version id of the object a response describes.
VERSION_HEADER = "x-lakeworks-version-id"
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(header: str | None) -> ByteRange | None:
    """Read a ``Range`` header; ``None`` means "the whole object".

    Like S3, a header that is malformed, names several ranges, or ends before it starts is
    ignored rather than refused.
    """
    match = _RANGE.match(header.strip()) if header else None
    if match is None:
        return None
    first, last = match.groups()
    if not first:
        return (None, int(last)) if last else None
    if last and int(last) < int(first):
        return None
    return int(first), int(last) if last else None


def _object_headers(info: ObjectInfo) -> dict[str, str]:
    headers = {
        "etag": f'"{info.etag}"',
        "last-modified": format_datetime(info.last_modified.astimezone(UTC), usegmt=True),
        "content-type": info.content_type,
        "accept-ranges": "bytes",
    }
    headers.update({f"{META_HEADER}{name}": value for name, value in info.metadata.items()})
    if info.version_id:
        headers[VERSION_HEADER] = info.version_id
    if info.server_side_encryption:
        headers[SSE_HEADER] = info.server_side_encryption
        if info.kms_key_id:
            headers[SSE_KMS_HEADER] = info.kms_key_id
    if info.tag_count:
        headers["x-lakeworks-tagging-count"] = str(info.tag_count)
    return headers


def _conditions(request: Request) -> Conditions:
    return Conditions(
        if_match=request.headers.get("if-match"),
        if_none_match=request.headers.get("if-none-match"),
        if_modified_since=request.headers.get("if-modified-since"),
        if_unmodified_since=request.headers.get("if-unmodified-since"),
    )


def _not_modified(error: NotModified) -> Response:
    """304 without a body (an error body is not allowed on it)."""
    headers = {"etag": f'"{error.details.get("etag", "")}"'}
    version = error.details.get("version_id")
    if isinstance(version, str):
        headers[VERSION_HEADER] = version
    return Response(status_code=304, headers=headers)


@contextlib.asynccontextmanager
async def _spooled(request: Request, directory: Path, limit: int) -> AsyncIterator[Path]:
    """Stream the request body into a temp file (refusing it past ``limit`` bytes)."""
    await run_in_threadpool(directory.mkdir, parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=directory, prefix="upload-")
    try:
        with os.fdopen(fd, "wb") as spool:
            size = 0
            buffer = bytearray()
            try:
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > limit:
                        raise _too_large(limit)
                    buffer += chunk
                    if len(buffer) >= CHUNK_SIZE:  # write in big pieces, off the event loop
                        await run_in_threadpool(spool.write, bytes(buffer))
                        buffer.clear()
            except ClientDisconnect:
                raise ValidationError(
                    "The request body ended before it was complete; nothing was stored",
                    aws_code="IncompleteBody",
                ) from None
            if buffer:
                await run_in_threadpool(spool.write, bytes(buffer))
        yield Path(name)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"Object is larger than the limit of {limit} bytes (setting server.max_object_bytes)",
        aws_code="EntityTooLarge",
        details={"limit": limit},
    )


# -- buckets -------------------------------------------------------------------------------


@router.post("/buckets", status_code=201)
def create_bucket(
    spec: BucketCreate,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> BucketInfo:
    """Create a bucket."""
    return platform.lake.create_bucket(ctx, spec.name, tags=spec.tags)


@router.get("/buckets")
def list_buckets(
    ctx: RequestContext = Depends(authenticated), platform: Platform = Depends(platform_of)
) -> Page[BucketInfo]:
    """List every bucket."""
    return Page(items=platform.lake.list_buckets(ctx))


@router.get("/buckets/{bucket}")
def describe_bucket(
    bucket: str,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> BucketInfo:
    """Describe a bucket."""
    return platform.lake.describe_bucket(ctx, bucket)


@router.delete("/buckets/{bucket}", status_code=204)
def delete_bucket(
    bucket: str,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> Response:
    """Delete an empty bucket."""
    platform.lake.delete_bucket(ctx, bucket)
    return Response(status_code=204)


# -- objects -------------------------------------------------------------------------------


@router.get("/buckets/{bucket}/objects")
def list_objects(
    bucket: str,
    prefix: str = "",
    delimiter: str | None = None,
    max_keys: int = Query(1000, ge=1, le=1000),
    next_token: str | None = None,
    start_after: str | None = None,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> ObjectListing:
    """One page of a bucket's keys; pass ``next_token`` back for the next page."""
    return platform.lake.list_objects(
        ctx,
        bucket,
        prefix=prefix,
        delimiter=delimiter,
        start_after=start_after,
        continuation_token=next_token,
        max_keys=max_keys,
    )


@router.put("/buckets/{bucket}/objects/{key:path}")
async def put_object(
    bucket: str,
    key: str,
    request: Request,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> ObjectInfo:
    """Store the raw request body as an object (``Content-Type``, metadata, tagging and
    encryption headers kept; ``If-None-Match: *`` and ``If-Match`` make it conditional)."""
    lake = platform.lake
    tags = parse_tagging(request.headers.get(TAGGING_HEADER))
    sse = request.headers.get(SSE_HEADER) or None
    kms_key_id = request.headers.get(SSE_KMS_HEADER) or None
    await run_in_threadpool(
        lambda: lake.check_writable(ctx, bucket, key, sse=sse, kms_key_id=kms_key_id, tags=tags)
    )
    limit = lake.max_object_bytes
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise _too_large(limit)
    metadata = {
        name[len(META_HEADER) :]: value
        for name, value in request.headers.items()
        if name.lower().startswith(META_HEADER)
    }
    async with _spooled(request, platform.settings.home / "tmp", limit) as path:

        def put() -> ObjectInfo:
            with path.open("rb") as body:
                return lake.put_object(
                    ctx,
                    bucket,
                    key,
                    body,
                    content_type=request.headers.get("content-type"),
                    metadata=metadata,
                    content_md5=request.headers.get("content-md5"),
                    tags=tags,
                    sse=sse,
                    kms_key_id=kms_key_id,
                    conditions=_conditions(request),
                )

        return await run_in_threadpool(put)


@router.get("/buckets/{bucket}/objects/{key:path}", response_model=None)
def get_object(
    bucket: str,
    key: str,
    request: Request,
    version_id: str | None = None,
    range_header: str | None = Header(None, alias="range"),
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> Response:
    """Stream an object (or a version); a ``Range: bytes=`` header gets a 206 with
    ``Content-Range``; conditional headers give 304 or 412."""
    byte_range = parse_range(range_header)
    try:
        info, first, last, chunks = platform.lake.get_object(
            ctx,
            bucket,
            key,
            byte_range=byte_range,
            version_id=version_id,
            conditions=_conditions(request),
        )
    except NotModified as exc:
        return _not_modified(exc)
    headers = _object_headers(info)
    headers["content-length"] = str(last - first + 1)
    status = 200
    if byte_range is not None:
        status = 206
        headers["content-range"] = f"bytes {first}-{last}/{info.size}"
    return StreamingResponse(chunks, status_code=status, headers=headers)


@router.head("/buckets/{bucket}/objects/{key:path}", response_model=None)
def head_object(
    bucket: str,
    key: str,
    request: Request,
    version_id: str | None = None,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> Response:
    """An object's (or a version's) headers, without its body."""
    try:
        info = platform.lake.head_object(
            ctx, bucket, key, version_id=version_id, conditions=_conditions(request)
        )
    except NotModified as exc:
        return _not_modified(exc)
    headers = _object_headers(info)
    headers["content-length"] = str(info.size)
    return Response(status_code=200, headers=headers)


@router.delete("/buckets/{bucket}/objects/{key:path}", status_code=204)
def delete_object(
    bucket: str,
    key: str,
    version_id: str | None = None,
    if_match: str | None = Header(None, alias="if-match"),
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> Response:
    """Delete an object (deleting a missing key succeeds): a delete marker in a versioned
    bucket, or, with ``version_id``, that version for good."""
    result = platform.lake.delete_object(
        ctx, bucket, key, version_id=version_id, conditions=Conditions(if_match=if_match)
    )
    headers = {}
    if result.version_id:
        headers[VERSION_HEADER] = result.version_id
    if result.delete_marker:
        headers["x-lakeworks-delete-marker"] = "true"
    return Response(status_code=204, headers=headers)
