"""Object and bucket tagging through the front door, with the real boto3."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.slow

_names = itertools.count()


def _error(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def tag_set(tags: dict[str, str]) -> dict[str, list[dict[str, str]]]:
    return {"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]}


def as_dict(response: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in response["TagSet"]}


@pytest.fixture
def bucket(s3: Any) -> str:
    name = f"tags-{next(_names)}"
    s3.create_bucket(Bucket=name)
    return name


def test_object_tagging(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="obj", Body=b"v", Tagging="project=lake&stage=raw")
    assert as_dict(s3.get_object_tagging(Bucket=bucket, Key="obj")) == {
        "project": "lake",
        "stage": "raw",
    }
    assert s3.get_object(Bucket=bucket, Key="obj")["TagCount"] == 2
    s3.put_object_tagging(Bucket=bucket, Key="obj", Tagging=tag_set({"stage": "clean"}))
    assert as_dict(s3.get_object_tagging(Bucket=bucket, Key="obj")) == {"stage": "clean"}
    assert s3.get_object(Bucket=bucket, Key="obj")["Body"].read() == b"v"
    s3.delete_object_tagging(Bucket=bucket, Key="obj")
    assert s3.get_object_tagging(Bucket=bucket, Key="obj")["TagSet"] == []
    with pytest.raises(ClientError) as caught:
        s3.get_object_tagging(Bucket=bucket, Key="missing")
    assert _error(caught) == ("NoSuchKey", 404)


def test_copy_and_multipart_tags(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"v", Tagging="a=1")
    s3.copy_object(Bucket=bucket, Key="kept", CopySource=f"{bucket}/src")
    assert as_dict(s3.get_object_tagging(Bucket=bucket, Key="kept")) == {"a": "1"}
    s3.copy_object(
        Bucket=bucket,
        Key="replaced",
        CopySource=f"{bucket}/src",
        TaggingDirective="REPLACE",
        Tagging="b=2",
    )
    assert as_dict(s3.get_object_tagging(Bucket=bucket, Key="replaced")) == {"b": "2"}
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp", Tagging="batch=9")["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"p")["ETag"]
    s3.complete_multipart_upload(
        Bucket=bucket,
        Key="mp",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]},
    )
    assert as_dict(s3.get_object_tagging(Bucket=bucket, Key="mp")) == {"batch": "9"}


def test_tags_of_versions(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="v", Body=b"1", Tagging="gen=1")["VersionId"]
    s3.put_object(Bucket=bucket, Key="v", Body=b"2", Tagging="gen=2")
    old = s3.get_object_tagging(Bucket=bucket, Key="v", VersionId=v1)
    assert (as_dict(old), old["VersionId"]) == ({"gen": "1"}, v1)
    put = s3.put_object_tagging(
        Bucket=bucket, Key="v", VersionId=v1, Tagging=tag_set({"gen": "one"})
    )
    assert put["VersionId"] == v1
    assert as_dict(s3.get_object_tagging(Bucket=bucket, Key="v", VersionId=v1)) == {"gen": "one"}
    assert as_dict(s3.get_object_tagging(Bucket=bucket, Key="v")) == {"gen": "2"}


@pytest.mark.parametrize(
    "tags",
    [
        {f"k{i}": "v" for i in range(11)},
        {"k" * 129: "v"},
        {"k": "v" * 257},
        {"aws:owner": "me"},
    ],
)
def test_invalid_object_tags(s3: Any, bucket: str, tags: dict[str, str]) -> None:
    s3.put_object(Bucket=bucket, Key="t", Body=b"v", Tagging="ok=1")
    with pytest.raises(ClientError) as caught:
        s3.put_object_tagging(Bucket=bucket, Key="t", Tagging=tag_set(tags))
    assert _error(caught) == ("InvalidTag", 400)
    assert as_dict(s3.get_object_tagging(Bucket=bucket, Key="t")) == {"ok": "1"}
    header = "&".join(f"{k}={v}" for k, v in tags.items())
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="never", Body=b"v", Tagging=header)
    assert _error(caught) == ("InvalidTag", 400)
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="never")


def test_duplicate_tag_keys(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="t", Body=b"v")
    with pytest.raises(ClientError) as caught:
        s3.put_object_tagging(
            Bucket=bucket,
            Key="t",
            Tagging={"TagSet": [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]},
        )
    assert _error(caught) == ("InvalidTag", 400)


def test_bucket_tagging(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as caught:
        s3.get_bucket_tagging(Bucket=bucket)
    assert _error(caught) == ("NoSuchTagSet", 404)
    s3.put_bucket_tagging(Bucket=bucket, Tagging=tag_set({"team": "ml", "cost": "42"}))
    assert as_dict(s3.get_bucket_tagging(Bucket=bucket)) == {"team": "ml", "cost": "42"}
    with pytest.raises(ClientError) as caught:
        s3.put_bucket_tagging(Bucket=bucket, Tagging=tag_set({f"k{i}": "v" for i in range(51)}))
    assert _error(caught) == ("InvalidTag", 400)
    s3.delete_bucket_tagging(Bucket=bucket)
    with pytest.raises(ClientError):
        s3.get_bucket_tagging(Bucket=bucket)
