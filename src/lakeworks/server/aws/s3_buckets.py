"""S3 bucket operations and listings: ListBuckets, CreateBucket, HeadBucket, DeleteBucket,
GetBucketLocation, ListObjectsV2 and ListObjects (V1)."""

from __future__ import annotations

from xml.etree import ElementTree

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from lakeworks.core.errors import ValidationError
from lakeworks.schemas.lake import ObjectListing
from lakeworks.server.aws import s3_xml
from lakeworks.server.aws.s3_routing import bucket_of
from lakeworks.server.aws.s3_xml import add, document, iso_time, quote_etag, url_encoded
from lakeworks.server.aws.service import AwsCall

__all__ = [
    "create_bucket",
    "delete_bucket",
    "get_bucket_location",
    "head_bucket",
    "list_buckets",
    "list_objects",
    "list_objects_v2",
]

#: S3 returns at most this many keys per listing page, whatever max-keys asks.
MAX_KEYS = 1000
#: ListBuckets pages hold at most this many buckets.
MAX_BUCKETS = 10000
#: Sorts after every character a key can hold: ``<prefix>\U0010ffff`` is past all keys under
#: ``<prefix>`` in UTF-8 byte order too.
_PAST_PREFIX = "\U0010ffff"


def _owner(parent: ElementTree.Element, principal: str) -> None:
    owner = add(parent, "Owner")
    add(owner, "ID", principal)
    add(owner, "DisplayName", principal)


async def list_buckets(call: AwsCall) -> Response:
    """ListBuckets: every bucket, with the caller as owner; ``prefix``, ``max-buckets`` and
    ``continuation-token`` (the last name of the previous page) narrow and paginate."""
    query = call.request.query
    prefix = query.get("prefix", "")
    after = query.get("continuation-token", "")
    limit = _count(call, "max-buckets", MAX_BUCKETS, high=MAX_BUCKETS)
    buckets = await run_in_threadpool(call.platform.lake.list_buckets, call.ctx)
    chosen = [b for b in buckets if b.name.startswith(prefix) and b.name > after]
    page = chosen[:limit]
    root = document("ListAllMyBucketsResult")
    _owner(root, call.ctx.principal)
    listed = add(root, "Buckets")
    for bucket in page:
        item = add(listed, "Bucket")
        add(item, "Name", bucket.name)
        add(item, "CreationDate", iso_time(bucket.creation_time))
        add(item, "BucketRegion", call.settings.aws.region)
    if len(chosen) > len(page):
        add(root, "ContinuationToken", page[-1].name)
    if prefix:
        add(root, "Prefix", prefix)
    return s3_xml.xml_response(root)


async def create_bucket(call: AwsCall) -> Response:
    """CreateBucket; a CreateBucketConfiguration body is accepted.

    Its LocationConstraint is accepted whatever region it names: Lakeworks has one place for
    data, and refusing clients configured for another region would break them for nothing.
    """
    bucket = bucket_of(call)
    body = await call.payload.read_all(call.settings.server.max_body_bytes)
    s3_xml.parse_create_bucket(body)
    await run_in_threadpool(call.platform.lake.create_bucket, call.ctx, bucket)
    return Response(status_code=200, headers={"Location": f"/{bucket}"})


async def head_bucket(call: AwsCall) -> Response:
    """HeadBucket: 200 if the bucket exists (404 without a body otherwise)."""
    await run_in_threadpool(call.platform.lake.describe_bucket, call.ctx, bucket_of(call))
    return Response(
        status_code=200,
        headers={
            "x-amz-bucket-region": call.settings.aws.region,
            "x-amz-bucket-location-type": "Region",
        },
    )


async def delete_bucket(call: AwsCall) -> Response:
    """DeleteBucket: 204; ``BucketNotEmpty`` while objects remain."""
    await run_in_threadpool(call.platform.lake.delete_bucket, call.ctx, bucket_of(call))
    return Response(status_code=204)


async def get_bucket_location(call: AwsCall) -> Response:
    """GetBucketLocation: the configured region (empty for us-east-1, as AWS answers)."""
    await run_in_threadpool(call.platform.lake.describe_bucket, call.ctx, bucket_of(call))
    root = document("LocationConstraint")
    region = call.settings.aws.region
    if region != "us-east-1":
        root.text = region
    return s3_xml.xml_response(root)


# -- listings ------------------------------------------------------------------------------------


def _count(call: AwsCall, name: str, default: int, *, high: int) -> int:
    """A count parameter (``max-keys``, ``max-buckets``), capped at ``high`` like S3 does."""
    raw = call.request.query.get(name)
    if raw is None:
        return default
    if not raw.strip().isdigit():
        raise ValidationError(
            f"Invalid {name} {raw!r}: use a number from 0 to {high}",
            aws_code="InvalidArgument",
        )
    return min(int(raw), high)


def _encode(call: AwsCall) -> bool:
    value = call.request.query.get("encoding-type")
    if value is None:
        return False
    if value != "url":
        raise ValidationError(
            f"Invalid encoding-type {value!r}: the only encoding is 'url'",
            aws_code="InvalidArgument",
        )
    return True


def _delimiter(call: AwsCall) -> str | None:
    return call.request.query.get("delimiter") or None


async def _listing(
    call: AwsCall,
    bucket: str,
    *,
    max_keys: int,
    start_after: str | None = None,
    continuation_token: str | None = None,
) -> ObjectListing:
    prefix = call.request.query.get("prefix", "")
    if max_keys == 0:  # nothing to list; still answer NoSuchBucket for a missing bucket
        await run_in_threadpool(call.platform.lake.describe_bucket, call.ctx, bucket)
        return ObjectListing(bucket=bucket, prefix=prefix, items=[])
    return await run_in_threadpool(
        lambda: call.platform.lake.list_objects(
            call.ctx,
            bucket,
            prefix=prefix,
            delimiter=_delimiter(call),
            start_after=start_after or None,
            continuation_token=continuation_token,
            max_keys=max_keys,
        )
    )


def _add_contents(
    root: ElementTree.Element, listing: ObjectListing, encode: bool, owner: str | None
) -> None:
    for item in listing.items:
        entry = add(root, "Contents")
        add(entry, "Key", url_encoded(item.key, encode))
        add(entry, "LastModified", iso_time(item.last_modified))
        add(entry, "ETag", quote_etag(item.etag))
        add(entry, "Size", item.size)
        add(entry, "StorageClass", "STANDARD")
        if owner is not None:
            _owner(entry, owner)
    for common in listing.common_prefixes:
        add(add(root, "CommonPrefixes"), "Prefix", url_encoded(common, encode))


def _add_header(root: ElementTree.Element, call: AwsCall, bucket: str, encode: bool) -> None:
    add(root, "Name", bucket)
    add(root, "Prefix", url_encoded(call.request.query.get("prefix", ""), encode))
    delimiter = _delimiter(call)
    if delimiter is not None:
        add(root, "Delimiter", url_encoded(delimiter, encode))
    if encode:
        add(root, "EncodingType", "url")


async def list_objects_v2(call: AwsCall) -> Response:
    """ListObjectsV2 (``?list-type=2``): prefix, delimiter, max-keys, continuation-token,
    start-after, fetch-owner and ``encoding-type=url``."""
    bucket = bucket_of(call)
    query = call.request.query
    encode = _encode(call)
    max_keys = _count(call, "max-keys", MAX_KEYS, high=MAX_KEYS)
    token = query.get("continuation-token") or None
    start_after = query.get("start-after") or None
    listing = await _listing(
        call, bucket, max_keys=max_keys, start_after=start_after, continuation_token=token
    )
    root = document("ListBucketResult")
    _add_header(root, call, bucket, encode)
    add(root, "MaxKeys", max_keys)
    add(root, "KeyCount", len(listing.items) + len(listing.common_prefixes))
    if token is not None:
        add(root, "ContinuationToken", token)
    if start_after is not None:
        add(root, "StartAfter", url_encoded(start_after, encode))
    add(root, "IsTruncated", listing.next_token is not None)
    if listing.next_token is not None:
        add(root, "NextContinuationToken", listing.next_token)
    fetch_owner = query.get("fetch-owner", "").lower() == "true"
    _add_contents(root, listing, encode, call.ctx.principal if fetch_owner else None)
    return s3_xml.xml_response(root)


async def list_objects(call: AwsCall) -> Response:
    """ListObjects (V1): prefix, delimiter, max-keys, marker; NextMarker when truncated.

    A marker that is a common prefix (the previous page's NextMarker) skips every key under
    it, so a page never repeats a prefix the previous one ended with.
    """
    bucket = bucket_of(call)
    encode = _encode(call)
    max_keys = _count(call, "max-keys", MAX_KEYS, high=MAX_KEYS)
    marker = call.request.query.get("marker", "")
    prefix = call.request.query.get("prefix", "")
    delimiter = _delimiter(call)
    start_after = marker
    rest = marker[len(prefix) :] if marker.startswith(prefix) else ""
    if delimiter and rest.endswith(delimiter):
        start_after = marker + _PAST_PREFIX
    listing = await _listing(call, bucket, max_keys=max_keys, start_after=start_after)
    root = document("ListBucketResult")
    _add_header(root, call, bucket, encode)
    add(root, "Marker", url_encoded(marker, encode))
    add(root, "MaxKeys", max_keys)
    truncated = listing.next_token is not None
    add(root, "IsTruncated", truncated)
    if truncated:
        last = max([i.key for i in listing.items] + listing.common_prefixes)
        add(root, "NextMarker", url_encoded(last, encode))
    _add_contents(root, listing, encode, call.ctx.principal)
    return s3_xml.xml_response(root)
