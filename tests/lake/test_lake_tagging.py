"""Object and bucket tags: S3's limits alone, then on every store kind."""

from __future__ import annotations

import io

import pytest

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import LakeworksError, NotFound, ValidationError
from lakeworks.lake.multipart import MIN_PART_BYTES
from lakeworks.lake.service import LakeService
from lakeworks.lake.tagging import encode_tagging, parse_tagging, validate_object_tags


def body(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)


BAD_TAGS = [
    {f"k{i}": "v" for i in range(11)},  # more than 10
    {"k" * 129: "v"},
    {"k": "v" * 257},
    {"aws:reserved": "v"},
    {"": "v"},
    {"bad\x00key": "v"},
]


@pytest.mark.parametrize("tags", BAD_TAGS)
def test_tag_limits(tags: dict[str, str]) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_object_tags(tags)
    assert caught.value.aws_code == "InvalidTag"
    assert caught.value.status == 400


def test_tagging_header_round_trip() -> None:
    tags = {"project": "lake house", "cost/center": "a=b+c @x", "empty": ""}
    assert parse_tagging(encode_tagging(tags)) == tags
    assert parse_tagging(None) is None
    with pytest.raises(ValidationError) as caught:
        parse_tagging("a=1&a=2")
    assert caught.value.aws_code == "InvalidTag"


def test_object_tags(lake: LakeService, admin: RequestContext, bucket: str) -> None:
    info = lake.put_object(admin, bucket, "t", body(b"v"), tags={"a": "1", "b": "2"})
    assert lake.get_object_tagging(admin, bucket, "t").tags == {"a": "1", "b": "2"}
    assert lake.get_object(admin, bucket, "t")[0].tag_count == 2
    assert info.etag == lake.head_object(admin, bucket, "t").etag
    result = lake.put_object_tagging(admin, bucket, "t", {"c": "3"})
    assert result.tags == {"c": "3"}
    assert result.version_id is None
    assert lake.get_object_tagging(admin, bucket, "t").tags == {"c": "3"}
    assert b"".join(lake.get_object(admin, bucket, "t")[3]) == b"v"  # the bytes are untouched
    lake.delete_object_tagging(admin, bucket, "t")
    assert lake.get_object_tagging(admin, bucket, "t").tags == {}
    # a new put replaces the tags with its own (none)
    lake.put_object_tagging(admin, bucket, "t", {"old": "x"})
    lake.put_object(admin, bucket, "t", body(b"v2"))
    assert lake.get_object_tagging(admin, bucket, "t").tags == {}


def test_copies_keep_or_replace_tags(lake: LakeService, admin: RequestContext, bucket: str) -> None:
    lake.put_object(admin, bucket, "src", body(b"v"), tags={"keep": "me"})
    lake.copy_object(admin, bucket, "src", bucket, "same")
    assert lake.get_object_tagging(admin, bucket, "same").tags == {"keep": "me"}
    lake.copy_object(admin, bucket, "src", bucket, "new", tags={"fresh": "1"})
    assert lake.get_object_tagging(admin, bucket, "new").tags == {"fresh": "1"}


def test_multipart_uploads_tag_the_object(
    lake: LakeService, admin: RequestContext, bucket: str
) -> None:
    upload = lake.create_multipart_upload(admin, bucket, "mp", tags={"batch": "7"})
    e1 = lake.upload_part(admin, bucket, "mp", upload.upload_id, 1, body(b"x" * MIN_PART_BYTES))
    e2 = lake.upload_part(admin, bucket, "mp", upload.upload_id, 2, body(b"tail"))
    lake.complete_multipart_upload(
        admin, bucket, "mp", upload.upload_id, [(1, e1.etag), (2, e2.etag)]
    )
    assert lake.get_object_tagging(admin, bucket, "mp").tags == {"batch": "7"}


def test_tags_per_version(lake: LakeService, admin: RequestContext, bucket: str) -> None:
    lake.put_bucket_versioning(admin, bucket, "Enabled")
    v1 = lake.put_object(admin, bucket, "v", body(b"1"), tags={"gen": "1"})
    v2 = lake.put_object(admin, bucket, "v", body(b"2"), tags={"gen": "2"})
    assert lake.get_object_tagging(admin, bucket, "v").tags == {"gen": "2"}
    old = lake.get_object_tagging(admin, bucket, "v", version_id=v1.version_id)
    assert (old.tags, old.version_id) == ({"gen": "1"}, v1.version_id)
    lake.put_object_tagging(admin, bucket, "v", {"gen": "one"}, version_id=v1.version_id)
    assert lake.get_object_tagging(admin, bucket, "v", version_id=v1.version_id).tags == {
        "gen": "one"
    }
    assert lake.get_object_tagging(admin, bucket, "v").version_id == v2.version_id
    current = lake.put_object_tagging(admin, bucket, "v", {"gen": "two"}, version_id=v2.version_id)
    assert current.version_id == v2.version_id
    assert lake.get_object_tagging(admin, bucket, "v").tags == {"gen": "two"}
    with pytest.raises(NotFound) as caught:
        lake.get_object_tagging(admin, bucket, "v", version_id="0123456789abcdef")
    assert caught.value.aws_code == "NoSuchVersion"


def test_bad_tags_write_nothing(lake: LakeService, admin: RequestContext, bucket: str) -> None:
    for tags in BAD_TAGS:
        with pytest.raises(ValidationError) as caught:
            lake.put_object(admin, bucket, "never", body(b"x"), tags=tags)
        assert caught.value.aws_code == "InvalidTag"
    with pytest.raises(NotFound):
        lake.head_object(admin, bucket, "never")
    lake.put_object(admin, bucket, "tagged", body(b"x"), tags={"ok": "1"})
    with pytest.raises(ValidationError):
        lake.put_object_tagging(admin, bucket, "tagged", {"aws:x": "1"})
    assert lake.get_object_tagging(admin, bucket, "tagged").tags == {"ok": "1"}
    with pytest.raises(NotFound) as caught:
        lake.put_object_tagging(admin, bucket, "missing", {"a": "b"})
    assert caught.value.aws_code == "NoSuchKey"


def test_bucket_tags(
    lake: LakeService, admin: RequestContext, reader: RequestContext, bucket: str
) -> None:
    with pytest.raises(NotFound) as caught:
        lake.get_bucket_tagging(admin, bucket)
    assert caught.value.aws_code == "NoSuchTagSet"
    lake.put_bucket_tagging(admin, bucket, {f"k{i}": "v" for i in range(50)})
    assert len(lake.get_bucket_tagging(admin, bucket).tags) == 50
    assert len(lake.describe_bucket(admin, bucket).tags) == 50
    with pytest.raises(ValidationError) as caught:
        lake.put_bucket_tagging(admin, bucket, {f"k{i}": "v" for i in range(51)})
    assert caught.value.aws_code == "InvalidTag"
    with pytest.raises(LakeworksError) as denied:
        lake.put_bucket_tagging(reader, bucket, {"a": "b"})
    assert denied.value.status == 403
    lake.delete_bucket_tagging(admin, bucket)
    with pytest.raises(NotFound):
        lake.get_bucket_tagging(admin, bucket)
