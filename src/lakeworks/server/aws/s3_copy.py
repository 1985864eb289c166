"""S3 CopyObject and DeleteObjects.

CopyObject reads ``x-amz-copy-source`` (``bucket/key``, optionally ``?versionId=``), the metadata
and tagging directives (``COPY`` or ``REPLACE``), encryption for the copy, source conditions
(``x-amz-copy-source-if-*``) and conditions on the destination. DeleteObjects deletes up to 1000
keys or versions, reporting each.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, unquote

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import LakeworksError, ValidationError
from lakeworks.lake.service import LakeService
from lakeworks.schemas.lake import DeleteResult
from lakeworks.server.aws import s3_xml
from lakeworks.server.aws.s3_headers import (
    conditions_of,
    encryption_headers,
    sse_of,
    tagging_of,
    version_headers,
)
from lakeworks.server.aws.s3_objects import metadata_of
from lakeworks.server.aws.s3_routing import bucket_of, object_of
from lakeworks.server.aws.s3_xml import add, document, iso_time, quote_etag
from lakeworks.server.aws.service import AwsCall

__all__ = ["copy_object", "delete_objects", "parse_copy_source"]


def parse_copy_source(value: str) -> tuple[str, str, str | None]:
    """Split ``x-amz-copy-source`` (``[/]bucket/key[?versionId=v]``, URL-encoded).

    Returns:
        The bucket, the key and the version id (``None`` for the current object).

    Raises:
        ValidationError: ``InvalidArgument`` when it does not name a bucket and a key.
    """
    source, _, query = value.partition("?")
    version = dict(parse_qsl(query, keep_blank_values=True)).get("versionId") if query else None
    bucket, _, key = unquote(source).lstrip("/").partition("/")
    if not bucket or not key:
        raise ValidationError(
            f"Invalid x-amz-copy-source {value!r}: use '<bucket>/<key>' (URL-encoded)",
            aws_code="InvalidArgument",
        )
    return bucket, key, version or None


def _directive(call: AwsCall, header: str) -> bool:
    """Whether a COPY/REPLACE directive header says ``REPLACE``.

    Raises:
        ValidationError: Neither value (``InvalidArgument``).
    """
    value = (call.request.header(header) or "COPY").upper()
    if value not in ("COPY", "REPLACE"):
        raise ValidationError(
            f"Invalid {header} {value!r}: use COPY or REPLACE", aws_code="InvalidArgument"
        )
    return value == "REPLACE"


async def copy_object(call: AwsCall) -> Response:
    """CopyObject: metadata and tagging directives, a source version, encryption, conditions;
    the new version id and the source's in the response headers."""
    bucket, key = object_of(call)
    source = call.request.header("x-amz-copy-source") or ""
    src_bucket, src_key, src_version = parse_copy_source(source)
    replace = _directive(call, "x-amz-metadata-directive")
    replace_tags = _directive(call, "x-amz-tagging-directive")
    sse, kms_key_id = sse_of(call)
    kwargs: dict[str, Any] = {
        "replace_metadata": replace,
        "src_version_id": src_version,
        "tags": (tagging_of(call) or {}) if replace_tags else None,
        "sse": sse,
        "kms_key_id": kms_key_id,
        "source_conditions": conditions_of(call, "x-amz-copy-source-"),
        "conditions": conditions_of(call),
    }
    if replace:
        kwargs["content_type"] = call.request.header("content-type") or None
        kwargs["metadata"] = metadata_of(call)
    info = await run_in_threadpool(
        lambda: call.platform.lake.copy_object(call.ctx, src_bucket, src_key, bucket, key, **kwargs)
    )
    root = document("CopyObjectResult")
    add(root, "ETag", quote_etag(info.etag))
    add(root, "LastModified", iso_time(info.last_modified))
    headers = version_headers(info.version_id)
    if src_version:
        headers["x-amz-copy-source-version-id"] = src_version
    headers.update(encryption_headers(info.server_side_encryption, info.kms_key_id))
    return s3_xml.xml_response(root, headers=headers)


def _delete_many(
    lake: LakeService, ctx: RequestContext, bucket: str, keys: list[tuple[str, str | None]]
) -> list[tuple[str, str | None, DeleteResult | LakeworksError]]:
    lake.describe_bucket(ctx, bucket)  # a missing bucket fails the whole request
    results: list[tuple[str, str | None, DeleteResult | LakeworksError]] = []
    for key, version_id in keys:
        try:
            results.append(
                (key, version_id, lake.delete_object(ctx, bucket, key, version_id=version_id))
            )
        except LakeworksError as exc:
            results.append((key, version_id, exc))
    return results


async def delete_objects(call: AwsCall) -> Response:
    """DeleteObjects (``POST ?delete``): up to 1000 keys or versions; per-key errors; Quiet."""
    bucket = bucket_of(call)
    body = await call.payload.read_all(call.settings.server.max_body_bytes)
    keys, quiet = s3_xml.parse_delete(body)
    results = await run_in_threadpool(_delete_many, call.platform.lake, call.ctx, bucket, keys)
    root = document("DeleteResult")
    for key, version_id, outcome in results:
        if isinstance(outcome, DeleteResult):
            if quiet:
                continue
            item = add(root, "Deleted")
            add(item, "Key", key)
            if version_id is not None:
                add(item, "VersionId", version_id)
            if outcome.delete_marker:
                add(item, "DeleteMarker", True)
                if outcome.version_id:
                    add(item, "DeleteMarkerVersionId", outcome.version_id)
            continue
        item = add(root, "Error")
        add(item, "Key", key)
        if version_id is not None:
            add(item, "VersionId", version_id)
        add(item, "Code", "AccessDenied" if outcome.status == 403 else outcome.aws_code)
        add(item, "Message", outcome.message)
    return s3_xml.xml_response(root)
