"""S3 multipart uploads: CreateMultipartUpload, UploadPart, UploadPartCopy,
CompleteMultipartUpload, AbortMultipartUpload, ListParts and ListMultipartUploads."""

from __future__ import annotations

import re
import tempfile
from urllib.parse import quote
from xml.etree import ElementTree

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import ValidationError
from lakeworks.lake.service import LakeService
from lakeworks.schemas.lake import PartInfo
from lakeworks.server.aws import s3_xml
from lakeworks.server.aws.s3_copy import parse_copy_source
from lakeworks.server.aws.s3_headers import (
    conditions_of,
    encryption_headers,
    sse_of,
    tagging_of,
    version_headers,
)
from lakeworks.server.aws.s3_objects import metadata_of, prepare_upload, spool_dir
from lakeworks.server.aws.s3_routing import bucket_of, object_of
from lakeworks.server.aws.s3_xml import add, document, iso_time, quote_etag
from lakeworks.server.aws.service import AwsCall

__all__ = [
    "abort_multipart_upload",
    "complete_multipart_upload",
    "create_multipart_upload",
    "list_multipart_uploads",
    "list_parts",
    "upload_part",
    "upload_part_copy",
]

#: Listings of parts and uploads return at most this many entries per page.
MAX_LISTED = 1000
_COPY_RANGE = re.compile(r"^bytes=(\d+)-(\d+)$")


def _int_param(call: AwsCall, name: str, default: int, *, low: int = 0) -> int:
    raw = call.request.query.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) < low:
        raise ValidationError(
            f"Invalid {name} {raw!r}: use a whole number of at least {low}",
            aws_code="InvalidArgument",
        )
    return int(raw)


def _upload_id(call: AwsCall) -> str:
    return call.request.query.get("uploadId", "")


def _part_number(call: AwsCall) -> int:
    raw = call.request.query.get("partNumber", "")
    if not raw.isdigit():
        raise ValidationError(
            f"Invalid partNumber {raw!r}: use a number from 1 to 10000",
            aws_code="InvalidArgument",
        )
    return int(raw)


async def create_multipart_upload(call: AwsCall) -> Response:
    """CreateMultipartUpload (``POST ?uploads``): Content-Type, ``x-amz-meta-*``,
    ``x-amz-tagging`` and server-side encryption are kept for the object the upload completes
    into."""
    bucket, key = object_of(call)
    content_type = call.request.header("content-type") or None
    metadata = metadata_of(call)
    tags = tagging_of(call)
    sse, kms_key_id = sse_of(call)
    upload = await run_in_threadpool(
        lambda: call.platform.lake.create_multipart_upload(
            call.ctx,
            bucket,
            key,
            content_type=content_type,
            metadata=metadata,
            tags=tags,
            sse=sse,
            kms_key_id=kms_key_id,
        )
    )
    root = document("InitiateMultipartUploadResult")
    add(root, "Bucket", bucket)
    add(root, "Key", key)
    add(root, "UploadId", upload.upload_id)
    headers = encryption_headers(upload.server_side_encryption, upload.kms_key_id)
    return s3_xml.xml_response(root, headers=headers)


async def upload_part(call: AwsCall) -> Response:
    """UploadPart (``PUT ?partNumber&uploadId``): the body streams, verified, into the part."""
    bucket, key = object_of(call)
    part_number = _part_number(call)
    upload_id = _upload_id(call)
    await prepare_upload(call, bucket, key)
    md5 = call.request.header("content-md5")
    async with call.payload.spool(spool_dir(call), call.settings.server.max_object_bytes) as body:
        part = await run_in_threadpool(
            lambda: call.platform.lake.upload_part(
                call.ctx, bucket, key, upload_id, part_number, body, content_md5=md5
            )
        )
    headers = {"ETag": quote_etag(part.etag)}
    headers.update(encryption_headers(part.server_side_encryption, part.kms_key_id))
    return Response(status_code=200, headers=headers)


def _copy_part(
    lake: LakeService,
    ctx: RequestContext,
    source: tuple[str, str, str | None],
    byte_range: tuple[int, int] | None,
    target: tuple[str, str, str, int],
    directory: str,
) -> PartInfo:
    src_bucket, src_key, src_version = source
    _, _, _, chunks = lake.get_object(
        ctx, src_bucket, src_key, byte_range=byte_range, version_id=src_version
    )
    with tempfile.TemporaryFile(dir=directory) as spool:
        for chunk in chunks:
            spool.write(chunk)
        spool.seek(0)
        bucket, key, upload_id, part_number = target
        return lake.upload_part(ctx, bucket, key, upload_id, part_number, spool)


async def upload_part_copy(call: AwsCall) -> Response:
    """UploadPartCopy: a part made of (a byte range of) an existing object."""
    bucket, key = object_of(call)
    part_number = _part_number(call)
    upload_id = _upload_id(call)
    source = parse_copy_source(call.request.header("x-amz-copy-source") or "")
    byte_range: tuple[int, int] | None = None
    raw_range = call.request.header("x-amz-copy-source-range")
    if raw_range is not None:
        match = _COPY_RANGE.match(raw_range.strip())
        if match is None or int(match.group(2)) < int(match.group(1)):
            raise ValidationError(
                f"Invalid x-amz-copy-source-range {raw_range!r}: use 'bytes=first-last'",
                aws_code="InvalidArgument",
            )
        byte_range = (int(match.group(1)), int(match.group(2)))
    directory = spool_dir(call)
    directory.mkdir(parents=True, exist_ok=True)
    part = await run_in_threadpool(
        _copy_part,
        call.platform.lake,
        call.ctx,
        source,
        byte_range,
        (bucket, key, upload_id, part_number),
        str(directory),
    )
    root = document("CopyPartResult")
    add(root, "ETag", quote_etag(part.etag))
    add(root, "LastModified", iso_time(part.last_modified))
    return s3_xml.xml_response(root)


async def complete_multipart_upload(call: AwsCall) -> Response:
    """CompleteMultipartUpload (``POST ?uploadId``): join the listed parts into the object."""
    bucket, key = object_of(call)
    upload_id = _upload_id(call)
    # x-amz-checksum-* headers here describe the whole object, not this XML document.
    limit = call.settings.server.max_body_bytes
    body = await call.payload.read_all(limit, header_checksums=False)
    parts = s3_xml.parse_complete_multipart(body)
    conditions = conditions_of(call)
    info = await run_in_threadpool(
        lambda: call.platform.lake.complete_multipart_upload(
            call.ctx, bucket, key, upload_id, parts, conditions=conditions
        )
    )
    root = document("CompleteMultipartUploadResult")
    add(root, "Location", f"{call.settings.public_url}/{bucket}/{quote(key, safe='/')}")
    add(root, "Bucket", bucket)
    add(root, "Key", key)
    add(root, "ETag", quote_etag(info.etag))
    headers = version_headers(info.version_id)
    headers.update(encryption_headers(info.server_side_encryption, info.kms_key_id))
    return s3_xml.xml_response(root, headers=headers)


async def abort_multipart_upload(call: AwsCall) -> Response:
    """AbortMultipartUpload (``DELETE ?uploadId``): 204; the parts are discarded."""
    bucket, key = object_of(call)
    await run_in_threadpool(
        call.platform.lake.abort_multipart_upload, call.ctx, bucket, key, _upload_id(call)
    )
    return Response(status_code=204)


def _owner(parent: ElementTree.Element, tag: str, principal: str) -> None:
    element = add(parent, tag)
    add(element, "ID", principal)
    add(element, "DisplayName", principal)


async def list_parts(call: AwsCall) -> Response:
    """ListParts (``GET ?uploadId``): max-parts and part-number-marker paginate."""
    bucket, key = object_of(call)
    upload_id = _upload_id(call)
    max_parts = min(_int_param(call, "max-parts", MAX_LISTED), MAX_LISTED)
    marker = _int_param(call, "part-number-marker", 0)
    parts = await run_in_threadpool(call.platform.lake.list_parts, call.ctx, bucket, key, upload_id)
    following = [p for p in sorted(parts, key=lambda p: p.part_number) if p.part_number > marker]
    page = following[:max_parts]
    root = document("ListPartsResult")
    add(root, "Bucket", bucket)
    add(root, "Key", key)
    add(root, "UploadId", upload_id)
    add(root, "PartNumberMarker", marker)
    if page:
        add(root, "NextPartNumberMarker", page[-1].part_number)
    add(root, "MaxParts", max_parts)
    add(root, "IsTruncated", len(following) > len(page))
    _owner(root, "Initiator", call.ctx.principal)
    _owner(root, "Owner", call.ctx.principal)
    add(root, "StorageClass", "STANDARD")
    for part in page:
        item = add(root, "Part")
        add(item, "PartNumber", part.part_number)
        add(item, "LastModified", iso_time(part.last_modified))
        add(item, "ETag", quote_etag(part.etag))
        add(item, "Size", part.size)
    return s3_xml.xml_response(root)


async def list_multipart_uploads(call: AwsCall) -> Response:
    """ListMultipartUploads (``GET ?uploads``): prefix, key-marker, upload-id-marker and
    max-uploads."""
    bucket = bucket_of(call)
    query = call.request.query
    prefix = query.get("prefix", "")
    key_marker = query.get("key-marker", "")
    id_marker = query.get("upload-id-marker", "")
    max_uploads = min(_int_param(call, "max-uploads", MAX_LISTED), MAX_LISTED)
    uploads = await run_in_threadpool(call.platform.lake.list_multipart_uploads, call.ctx, bucket)
    ordered = sorted(
        (u for u in uploads if u.key.startswith(prefix)), key=lambda u: (u.key, u.upload_id)
    )
    if key_marker:
        ordered = [u for u in ordered if (u.key, u.upload_id) > (key_marker, id_marker or "\uffff")]
    page = ordered[:max_uploads]
    truncated = len(ordered) > len(page)
    root = document("ListMultipartUploadsResult")
    add(root, "Bucket", bucket)
    add(root, "KeyMarker", key_marker)
    add(root, "UploadIdMarker", id_marker)
    if truncated:
        add(root, "NextKeyMarker", page[-1].key)
        add(root, "NextUploadIdMarker", page[-1].upload_id)
    add(root, "Prefix", prefix)
    add(root, "MaxUploads", max_uploads)
    add(root, "IsTruncated", truncated)
    for upload in page:
        item = add(root, "Upload")
        add(item, "Key", upload.key)
        add(item, "UploadId", upload.upload_id)
        _owner(item, "Initiator", call.ctx.principal)
        _owner(item, "Owner", call.ctx.principal)
        add(item, "StorageClass", "STANDARD")
        add(item, "Initiated", iso_time(upload.initiated))
    return s3_xml.xml_response(root)
