"""S3 versioning: GetBucketVersioning, PutBucketVersioning and ListObjectVersions."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from lakeworks.core.errors import ValidationError
from lakeworks.schemas.lake import VersionListing
from lakeworks.server.aws import s3_xml
from lakeworks.server.aws.protocol import Unsupported
from lakeworks.server.aws.s3_routing import bucket_of
from lakeworks.server.aws.s3_xml import add, document, iso_time, quote_etag, url_encoded
from lakeworks.server.aws.service import AwsCall

__all__ = ["get_bucket_versioning", "list_object_versions", "put_bucket_versioning"]

#: ListObjectVersions returns at most this many entries per page, whatever max-keys asks.
MAX_KEYS = 1000


async def get_bucket_versioning(call: AwsCall) -> Response:
    """GetBucketVersioning: ``<Status>`` only once versioning was enabled (as S3 answers)."""
    state = await run_in_threadpool(
        call.platform.lake.get_bucket_versioning, call.ctx, bucket_of(call)
    )
    root = document("VersioningConfiguration")
    if state.status is not None:
        add(root, "Status", state.status)
    return s3_xml.xml_response(root)


async def put_bucket_versioning(call: AwsCall) -> Response:
    """PutBucketVersioning: ``<VersioningConfiguration><Status>Enabled|Suspended``.

    MFA delete is not implemented: ``<MfaDelete>Enabled`` is refused (501).
    """
    bucket = bucket_of(call)
    body = await call.payload.read_all(call.settings.server.max_body_bytes)
    root = s3_xml.parse(body, "VersioningConfiguration")
    mfa = s3_xml.text_of(root, "MfaDelete")
    if mfa is not None and mfa.strip() not in ("", "Disabled"):
        raise Unsupported("MFA delete is not implemented by Lakeworks; use MfaDelete Disabled")
    status = s3_xml.text_of(root, "Status")
    await run_in_threadpool(
        call.platform.lake.put_bucket_versioning,
        call.ctx,
        bucket,
        status.strip() if status is not None else None,
    )
    return Response(status_code=200)


def _max_keys(call: AwsCall) -> int:
    raw = call.request.query.get("max-keys")
    if raw is None:
        return MAX_KEYS
    if not raw.strip().isdigit():
        raise ValidationError(
            f"Invalid max-keys {raw!r}: use a number from 0 to {MAX_KEYS}",
            aws_code="InvalidArgument",
        )
    return min(int(raw), MAX_KEYS)


async def list_object_versions(call: AwsCall) -> Response:
    """ListObjectVersions (``GET ?versions``): prefix, delimiter, key-marker,
    version-id-marker, max-keys and ``encoding-type=url``; versions and delete markers in key
    order, newest first."""
    bucket = bucket_of(call)
    query = call.request.query
    encoding = query.get("encoding-type")
    if encoding is not None and encoding != "url":
        raise ValidationError(
            f"Invalid encoding-type {encoding!r}: the only encoding is 'url'",
            aws_code="InvalidArgument",
        )
    encode = encoding == "url"
    prefix = query.get("prefix", "")
    delimiter = query.get("delimiter") or None
    key_marker = query.get("key-marker", "")
    id_marker = query.get("version-id-marker", "")
    max_keys = _max_keys(call)
    if max_keys == 0:
        await run_in_threadpool(call.platform.lake.describe_bucket, call.ctx, bucket)
        listing = VersionListing(bucket=bucket, prefix=prefix, delimiter=delimiter, versions=[])
    else:
        listing = await run_in_threadpool(
            lambda: call.platform.lake.list_object_versions(
                call.ctx,
                bucket,
                prefix=prefix,
                delimiter=delimiter,
                key_marker=key_marker or None,
                version_id_marker=id_marker or None,
                max_keys=max_keys,
            )
        )
    root = document("ListVersionsResult")
    add(root, "Name", bucket)
    add(root, "Prefix", url_encoded(prefix, encode))
    add(root, "KeyMarker", url_encoded(key_marker, encode))
    add(root, "VersionIdMarker", id_marker)
    if listing.is_truncated:
        add(root, "NextKeyMarker", url_encoded(listing.next_key_marker or "", encode))
        if listing.next_version_id_marker is not None:
            add(root, "NextVersionIdMarker", listing.next_version_id_marker)
    add(root, "MaxKeys", max_keys)
    if delimiter is not None:
        add(root, "Delimiter", url_encoded(delimiter, encode))
    add(root, "IsTruncated", listing.is_truncated)
    for version in listing.versions:
        item = add(root, "DeleteMarker" if version.delete_marker else "Version")
        add(item, "Key", url_encoded(version.key, encode))
        add(item, "VersionId", version.version_id)
        add(item, "IsLatest", version.is_latest)
        add(item, "LastModified", iso_time(version.last_modified))
        if not version.delete_marker:
            add(item, "ETag", quote_etag(version.etag or ""))
            add(item, "Size", version.size)
            add(item, "StorageClass", "STANDARD")
        owner = add(item, "Owner")
        add(owner, "ID", version.owner or "")
        add(owner, "DisplayName", version.owner or "")
    for common in listing.common_prefixes:
        add(add(root, "CommonPrefixes"), "Prefix", url_encoded(common, encode))
    if encode:
        add(root, "EncodingType", "url")
    return s3_xml.xml_response(root)
