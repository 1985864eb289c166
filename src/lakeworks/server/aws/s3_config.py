"""S3 bucket configuration: default encryption, bucket policies and lifecycle rules.

``?encryption`` documents are ``ServerSideEncryptionConfiguration``; ``?policy`` bodies are the
policy's JSON text itself; ``?lifecycle`` documents are ``LifecycleConfiguration``. Storage-class
transitions in lifecycle rules are refused (501): Lakeworks has one storage class.
"""

from __future__ import annotations

from datetime import datetime
from xml.etree import ElementTree

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from lakeworks.lake.policies import malformed
from lakeworks.schemas.lake import (
    AbortIncompleteMultipartUpload,
    BucketEncryption,
    LifecycleExpiration,
    LifecycleFilter,
    LifecycleRule,
    NoncurrentVersionExpiration,
)
from lakeworks.server.aws import s3_xml
from lakeworks.server.aws.protocol import Unsupported
from lakeworks.server.aws.s3_routing import bucket_of
from lakeworks.server.aws.s3_tagging import parse_tagging_document
from lakeworks.server.aws.s3_xml import add, children, document, iso_time, text_of
from lakeworks.server.aws.service import AwsCall

__all__ = [
    "delete_bucket_encryption",
    "delete_bucket_lifecycle",
    "delete_bucket_policy",
    "get_bucket_encryption",
    "get_bucket_lifecycle",
    "get_bucket_policy",
    "parse_lifecycle",
    "put_bucket_encryption",
    "put_bucket_lifecycle",
    "put_bucket_policy",
]


async def _body(call: AwsCall) -> bytes:
    return await call.payload.read_all(call.settings.server.max_body_bytes)


# -- encryption ------------------------------------------------------------------------------------


async def get_bucket_encryption(call: AwsCall) -> Response:
    """GetBucketEncryption; ``ServerSideEncryptionConfigurationNotFoundError`` when none."""
    config = await run_in_threadpool(
        call.platform.lake.get_bucket_encryption, call.ctx, bucket_of(call)
    )
    root = document("ServerSideEncryptionConfiguration")
    rule = add(root, "Rule")
    default = add(rule, "ApplyServerSideEncryptionByDefault")
    add(default, "SSEAlgorithm", config.algorithm)
    if config.kms_key_id:
        add(default, "KMSMasterKeyID", config.kms_key_id)
    add(rule, "BucketKeyEnabled", config.bucket_key_enabled)
    return s3_xml.xml_response(root)


async def put_bucket_encryption(call: AwsCall) -> Response:
    """PutBucketEncryption: one rule with ``ApplyServerSideEncryptionByDefault``."""
    bucket = bucket_of(call)
    root = s3_xml.parse(await _body(call), "ServerSideEncryptionConfiguration")
    rules = children(root, "Rule")
    if len(rules) != 1:
        raise s3_xml.malformed("a ServerSideEncryptionConfiguration needs exactly one <Rule>")
    defaults = children(rules[0], "ApplyServerSideEncryptionByDefault")
    if len(defaults) != 1:
        raise s3_xml.malformed("the <Rule> needs one <ApplyServerSideEncryptionByDefault>")
    algorithm = (text_of(defaults[0], "SSEAlgorithm") or "").strip()
    if not algorithm:
        raise s3_xml.malformed("<ApplyServerSideEncryptionByDefault> needs an <SSEAlgorithm>")
    key_id = (text_of(defaults[0], "KMSMasterKeyID") or "").strip() or None
    bucket_key = (text_of(rules[0], "BucketKeyEnabled") or "").strip().lower() == "true"
    spec = BucketEncryption(algorithm=algorithm, kms_key_id=key_id, bucket_key_enabled=bucket_key)
    await run_in_threadpool(call.platform.lake.put_bucket_encryption, call.ctx, bucket, spec)
    return Response(status_code=200)


async def delete_bucket_encryption(call: AwsCall) -> Response:
    """DeleteBucketEncryption: 204."""
    await run_in_threadpool(call.platform.lake.delete_bucket_encryption, call.ctx, bucket_of(call))
    return Response(status_code=204)


# -- policies --------------------------------------------------------------------------------------


async def get_bucket_policy(call: AwsCall) -> Response:
    """GetBucketPolicy: the policy's JSON text as the body; ``NoSuchBucketPolicy`` when none."""
    policy = await run_in_threadpool(
        call.platform.lake.get_bucket_policy, call.ctx, bucket_of(call)
    )
    return Response(policy.policy.encode("utf-8"), 200, media_type="application/json")


async def put_bucket_policy(call: AwsCall) -> Response:
    """PutBucketPolicy: the body is the policy document; ``MalformedPolicy`` with the reason."""
    bucket = bucket_of(call)
    raw = await _body(call)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise malformed("Policies must be valid JSON text in UTF-8") from None
    await run_in_threadpool(call.platform.lake.put_bucket_policy, call.ctx, bucket, text)
    return Response(status_code=204)


async def delete_bucket_policy(call: AwsCall) -> Response:
    """DeleteBucketPolicy: 204."""
    await run_in_threadpool(call.platform.lake.delete_bucket_policy, call.ctx, bucket_of(call))
    return Response(status_code=204)


# -- lifecycle -------------------------------------------------------------------------------------


def _int(element: ElementTree.Element, tag: str) -> int | None:
    text = text_of(element, tag)
    if text is None:
        return None
    try:
        return int(text.strip())
    except ValueError:
        raise s3_xml.malformed(f"<{tag}> must be a whole number, got {text!r}") from None


def _date(element: ElementTree.Element, tag: str) -> datetime | None:
    text = text_of(element, tag)
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise s3_xml.malformed(f"<{tag}> must be an ISO 8601 date, got {text!r}") from None


def _filter(element: ElementTree.Element) -> LifecycleFilter:
    parts = [child for child in element if child.tag.rsplit("}", 1)[-1] != "And"]
    ands = children(element, "And")
    if len(parts) + len(ands) > 1:
        raise s3_xml.malformed("a <Filter> holds one condition; combine several with <And>")
    scope = ands[0] if ands else element
    tags = children(scope, "Tag")
    if not ands and len(tags) > 1:
        raise s3_xml.malformed("several <Tag> conditions need <And>")
    tag_document = (
        b"<Tagging><TagSet>"
        + b"".join(ElementTree.tostring(tag) for tag in tags)
        + b"</TagSet></Tagging>"
    )
    return LifecycleFilter(
        prefix=text_of(scope, "Prefix") or "",
        tags=parse_tagging_document(tag_document) if tags else {},
        object_size_greater_than=_int(scope, "ObjectSizeGreaterThan"),
        object_size_less_than=_int(scope, "ObjectSizeLessThan"),
    )


def _rule(item: ElementTree.Element) -> LifecycleRule:
    if children(item, "Transition") or children(item, "NoncurrentVersionTransition"):
        raise Unsupported(
            "Lifecycle transitions between storage classes are not implemented by Lakeworks "
            "(it has one storage class); use expiration actions"
        )
    status = text_of(item, "Status")
    if status is None:
        raise s3_xml.malformed("every <Rule> needs a <Status>")
    filters = children(item, "Filter")
    legacy = text_of(item, "Prefix")
    if filters and legacy is not None:
        raise s3_xml.malformed("a <Rule> has either <Filter> or <Prefix>, not both")
    rule_filter = _filter(filters[0]) if filters else LifecycleFilter(prefix=legacy or "")
    expiration = noncurrent = abort = None
    for found in children(item, "Expiration")[:1]:
        marker = text_of(found, "ExpiredObjectDeleteMarker")
        expiration = LifecycleExpiration(
            days=_int(found, "Days"),
            date=_date(found, "Date"),
            expired_object_delete_marker=(
                marker.strip().lower() == "true" if marker is not None else None
            ),
        )
    for found in children(item, "NoncurrentVersionExpiration")[:1]:
        days = _int(found, "NoncurrentDays")
        if days is None:
            raise s3_xml.malformed("<NoncurrentVersionExpiration> needs <NoncurrentDays>")
        noncurrent = NoncurrentVersionExpiration(
            noncurrent_days=days, newer_noncurrent_versions=_int(found, "NewerNoncurrentVersions")
        )
    for found in children(item, "AbortIncompleteMultipartUpload")[:1]:
        days = _int(found, "DaysAfterInitiation")
        if days is None:
            raise s3_xml.malformed("<AbortIncompleteMultipartUpload> needs <DaysAfterInitiation>")
        abort = AbortIncompleteMultipartUpload(days_after_initiation=days)
    return LifecycleRule(
        id=text_of(item, "ID") or None,
        status=status.strip(),
        filter=rule_filter,
        expiration=expiration,
        noncurrent_version_expiration=noncurrent,
        abort_incomplete_multipart_upload=abort,
    )


def parse_lifecycle(body: bytes) -> list[LifecycleRule]:
    """Read a ``LifecycleConfiguration`` document into rules (checked later by the lake).

    Raises:
        ValidationError: ``MalformedXML``.
        Unsupported: Storage-class transitions.
    """
    root = s3_xml.parse(body, "LifecycleConfiguration")
    try:
        return [_rule(item) for item in children(root, "Rule")]
    except ValueError as exc:  # pydantic refused a value
        raise s3_xml.malformed(str(exc).splitlines()[0]) from None


def _add_filter(rule: ElementTree.Element, spec: LifecycleFilter) -> None:
    element = add(rule, "Filter")
    conditions = sum(
        [
            bool(spec.prefix),
            len(spec.tags),
            spec.object_size_greater_than is not None,
            spec.object_size_less_than is not None,
        ]
    )
    scope = add(element, "And") if conditions > 1 else element
    if spec.prefix or conditions == 0:
        add(scope, "Prefix", spec.prefix)
    for key, value in spec.tags.items():
        tag = add(scope, "Tag")
        add(tag, "Key", key)
        add(tag, "Value", value)
    if spec.object_size_greater_than is not None:
        add(scope, "ObjectSizeGreaterThan", spec.object_size_greater_than)
    if spec.object_size_less_than is not None:
        add(scope, "ObjectSizeLessThan", spec.object_size_less_than)


async def get_bucket_lifecycle(call: AwsCall) -> Response:
    """GetBucketLifecycleConfiguration; ``NoSuchLifecycleConfiguration`` when none."""
    config = await run_in_threadpool(
        call.platform.lake.get_bucket_lifecycle, call.ctx, bucket_of(call)
    )
    root = document("LifecycleConfiguration")
    for spec in config.rules:
        rule = add(root, "Rule")
        if spec.expiration is not None:
            expiration = add(rule, "Expiration")
            if spec.expiration.days is not None:
                add(expiration, "Days", spec.expiration.days)
            if spec.expiration.date is not None:
                add(expiration, "Date", iso_time(spec.expiration.date))
            if spec.expiration.expired_object_delete_marker is not None:
                add(
                    expiration,
                    "ExpiredObjectDeleteMarker",
                    spec.expiration.expired_object_delete_marker,
                )
        add(rule, "ID", spec.id or "")
        _add_filter(rule, spec.filter)
        add(rule, "Status", spec.status)
        if spec.noncurrent_version_expiration is not None:
            noncurrent = add(rule, "NoncurrentVersionExpiration")
            add(noncurrent, "NoncurrentDays", spec.noncurrent_version_expiration.noncurrent_days)
            newer = spec.noncurrent_version_expiration.newer_noncurrent_versions
            if newer is not None:
                add(noncurrent, "NewerNoncurrentVersions", newer)
        if spec.abort_incomplete_multipart_upload is not None:
            abort = add(rule, "AbortIncompleteMultipartUpload")
            days = spec.abort_incomplete_multipart_upload.days_after_initiation
            add(abort, "DaysAfterInitiation", days)
    return s3_xml.xml_response(root)


async def put_bucket_lifecycle(call: AwsCall) -> Response:
    """PutBucketLifecycleConfiguration: replaces the rules (checked as S3 checks them)."""
    bucket = bucket_of(call)
    rules = parse_lifecycle(await _body(call))
    await run_in_threadpool(call.platform.lake.put_bucket_lifecycle, call.ctx, bucket, rules)
    return Response(status_code=200)


async def delete_bucket_lifecycle(call: AwsCall) -> Response:
    """DeleteBucketLifecycle: 204."""
    await run_in_threadpool(call.platform.lake.delete_bucket_lifecycle, call.ctx, bucket_of(call))
    return Response(status_code=204)
