"""S3 tagging: Get/Put/DeleteObjectTagging (by version too) and Get/Put/DeleteBucketTagging.

Documents are ``<Tagging><TagSet><Tag><Key/><Value/></Tag>…</TagSet></Tagging>``.
"""

from __future__ import annotations

from xml.etree import ElementTree

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from lakeworks.lake.tagging import invalid_tag, pairs_to_tags
from lakeworks.server.aws import s3_xml
from lakeworks.server.aws.s3_headers import version_headers
from lakeworks.server.aws.s3_objects import version_of
from lakeworks.server.aws.s3_routing import bucket_of, object_of
from lakeworks.server.aws.s3_xml import add, document
from lakeworks.server.aws.service import AwsCall

__all__ = [
    "delete_bucket_tagging",
    "delete_object_tagging",
    "get_bucket_tagging",
    "get_object_tagging",
    "parse_tagging_document",
    "put_bucket_tagging",
    "put_object_tagging",
    "tagging_document",
]


def parse_tagging_document(body: bytes) -> dict[str, str]:
    """Read a ``<Tagging>`` document.

    Raises:
        ValidationError: ``MalformedXML`` for a bad document; ``InvalidTag`` for a repeated key.
    """
    root = s3_xml.parse(body, "Tagging")
    sets = s3_xml.children(root, "TagSet")
    if len(sets) != 1:
        raise s3_xml.malformed("a <Tagging> document needs exactly one <TagSet>")
    pairs = []
    for tag in s3_xml.children(sets[0], "Tag"):
        key, value = s3_xml.text_of(tag, "Key"), s3_xml.text_of(tag, "Value")
        if key is None or value is None:
            raise s3_xml.malformed("every <Tag> needs a <Key> and a <Value>")
        if key == "":
            raise invalid_tag("A tag key must not be empty")
        pairs.append((key, value))
    return pairs_to_tags(pairs)


def tagging_document(tags: dict[str, str]) -> ElementTree.Element:
    """A ``<Tagging>`` response document."""
    root = document("Tagging")
    tag_set = add(root, "TagSet")
    for key, value in tags.items():
        tag = add(tag_set, "Tag")
        add(tag, "Key", key)
        add(tag, "Value", value)
    return root


async def _tags_body(call: AwsCall) -> dict[str, str]:
    body = await call.payload.read_all(call.settings.server.max_body_bytes)
    return parse_tagging_document(body)


async def get_object_tagging(call: AwsCall) -> Response:
    """GetObjectTagging (``GET /key?tagging``), of a version with ``versionId``."""
    bucket, key = object_of(call)
    version_id = version_of(call)
    result = await run_in_threadpool(
        lambda: call.platform.lake.get_object_tagging(call.ctx, bucket, key, version_id=version_id)
    )
    return s3_xml.xml_response(
        tagging_document(result.tags), headers=version_headers(result.version_id)
    )


async def put_object_tagging(call: AwsCall) -> Response:
    """PutObjectTagging (``PUT /key?tagging``): replaces the tags (at most 10)."""
    bucket, key = object_of(call)
    version_id = version_of(call)
    tags = await _tags_body(call)
    result = await run_in_threadpool(
        lambda: call.platform.lake.put_object_tagging(
            call.ctx, bucket, key, tags, version_id=version_id
        )
    )
    return Response(status_code=200, headers=version_headers(result.version_id))


async def delete_object_tagging(call: AwsCall) -> Response:
    """DeleteObjectTagging (``DELETE /key?tagging``): 204."""
    bucket, key = object_of(call)
    version_id = version_of(call)
    result = await run_in_threadpool(
        lambda: call.platform.lake.delete_object_tagging(
            call.ctx, bucket, key, version_id=version_id
        )
    )
    return Response(status_code=204, headers=version_headers(result.version_id))


async def get_bucket_tagging(call: AwsCall) -> Response:
    """GetBucketTagging: ``NoSuchTagSet`` (404) when the bucket has none."""
    result = await run_in_threadpool(
        call.platform.lake.get_bucket_tagging, call.ctx, bucket_of(call)
    )
    return s3_xml.xml_response(tagging_document(result.tags))


async def put_bucket_tagging(call: AwsCall) -> Response:
    """PutBucketTagging: replaces the bucket's tags (at most 50); 204."""
    bucket = bucket_of(call)
    tags = await _tags_body(call)
    await run_in_threadpool(call.platform.lake.put_bucket_tagging, call.ctx, bucket, tags)
    return Response(status_code=204)


async def delete_bucket_tagging(call: AwsCall) -> Response:
    """DeleteBucketTagging: 204."""
    await run_in_threadpool(call.platform.lake.delete_bucket_tagging, call.ctx, bucket_of(call))
    return Response(status_code=204)
