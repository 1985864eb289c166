"""S3 through the front door, end to end: a real server process and the real boto3."""

from __future__ import annotations

import base64
import hashlib
import os
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

from lakeworks.testing.process import ServerProcess

pytestmark = pytest.mark.slow

MiB = 1024 * 1024


def _error(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture(scope="module")
def bucket(s3: Any) -> str:
    s3.create_bucket(Bucket="objects")
    return "objects"


def _keys(s3: Any, bucket: str, prefix: str = "") -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


# -- buckets -------------------------------------------------------------------------------------


def test_bucket_lifecycle(s3: Any) -> None:
    s3.create_bucket(Bucket="life-cycle")
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert "life-cycle" in names
    head = s3.head_bucket(Bucket="life-cycle")
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "us-east-1"
    assert s3.get_bucket_location(Bucket="life-cycle")["LocationConstraint"] is None
    with pytest.raises(ClientError) as caught:
        s3.create_bucket(Bucket="life-cycle")
    assert _error(caught) == ("BucketAlreadyOwnedByYou", 409)
    s3.put_object(Bucket="life-cycle", Key="k", Body=b"x")
    with pytest.raises(ClientError) as caught:
        s3.delete_bucket(Bucket="life-cycle")
    assert _error(caught) == ("BucketNotEmpty", 409)
    s3.delete_object(Bucket="life-cycle", Key="k")
    s3.delete_bucket(Bucket="life-cycle")
    with pytest.raises(ClientError) as caught:
        s3.head_bucket(Bucket="life-cycle")
    assert _error(caught) == ("404", 404)
    with pytest.raises(ClientError) as caught:
        s3.delete_bucket(Bucket="life-cycle")
    assert _error(caught) == ("NoSuchBucket", 404)


def test_list_buckets_prefix_and_pages(s3: Any) -> None:
    for name in ("page-a", "page-b", "page-c"):
        s3.create_bucket(Bucket=name)
    first = s3.list_buckets(Prefix="page-", MaxBuckets=2)
    assert [b["Name"] for b in first["Buckets"]] == ["page-a", "page-b"]
    assert first["Prefix"] == "page-"
    second = s3.list_buckets(
        Prefix="page-", MaxBuckets=2, ContinuationToken=first["ContinuationToken"]
    )
    assert [b["Name"] for b in second["Buckets"]] == ["page-c"]
    assert "ContinuationToken" not in second
    for name in ("page-a", "page-b", "page-c"):
        s3.delete_bucket(Bucket=name)


def test_create_bucket_with_a_location_constraint(s3: Any) -> None:
    s3.create_bucket(
        Bucket="elsewhere", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    s3.delete_bucket(Bucket="elsewhere")


@pytest.mark.parametrize("name", ["ab", "Upper_Case", "api", "a..b", "192.168.1.1"])
def test_bad_bucket_names_are_refused(s3: Any, name: str) -> None:
    with pytest.raises(ClientError) as caught:
        s3.create_bucket(Bucket=name)
    assert _error(caught) == ("InvalidBucketName", 400)
    assert (
        "3-63 lowercase" in caught.value.response["Error"]["Message"]
        or "reserved" in (caught.value.response["Error"]["Message"])
    )
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


# -- objects -------------------------------------------------------------------------------------


def test_put_get_head_with_metadata_and_ranges(s3: Any, bucket: str) -> None:
    body = bytes(range(256)) * 4
    put = s3.put_object(
        Bucket=bucket,
        Key="dir/data.bin",
        Body=body,
        ContentType="application/x-test",
        Metadata={"origin": "unit-test", "Mixed-Case": "v"},
    )
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    got = s3.get_object(Bucket=bucket, Key="dir/data.bin")
    assert got["Body"].read() == body
    assert got["ContentType"] == "application/x-test"
    assert got["ContentLength"] == len(body)
    assert got["Metadata"] == {"origin": "unit-test", "mixed-case": "v"}
    assert got["ETag"] == put["ETag"]
    assert abs(got["LastModified"] - datetime.now(UTC)) < timedelta(hours=1)
    head = s3.head_object(Bucket=bucket, Key="dir/data.bin")
    assert head["ContentLength"] == len(body)
    assert head["Metadata"]["origin"] == "unit-test"
    part = s3.get_object(Bucket=bucket, Key="dir/data.bin", Range="bytes=10-19")
    assert part["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert part["ContentRange"] == f"bytes 10-19/{len(body)}"
    assert part["Body"].read() == body[10:20]
    suffix = s3.get_object(Bucket=bucket, Key="dir/data.bin", Range="bytes=-5")
    assert suffix["Body"].read() == body[-5:]
    tail = s3.get_object(Bucket=bucket, Key="dir/data.bin", Range="bytes=1000-")
    assert tail["Body"].read() == body[1000:]
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="dir/data.bin", Range="bytes=5000-6000")
    assert _error(caught) == ("InvalidRange", 416)


def test_conditional_get(s3: Any, bucket: str) -> None:
    etag = s3.put_object(Bucket=bucket, Key="cond", Body=b"v1")["ETag"]
    assert s3.get_object(Bucket=bucket, Key="cond", IfMatch=etag)["Body"].read() == b"v1"
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="cond", IfMatch='"0123"')
    assert _error(caught) == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="cond", IfNoneMatch=etag)
    assert _error(caught)[1] == 304


def test_missing_objects_and_buckets(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="nope")
    assert _error(caught) == ("NoSuchKey", 404)
    assert caught.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as caught:
        s3.head_object(Bucket=bucket, Key="nope")
    assert _error(caught) == ("404", 404)
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket="no-such-bucket", Key="k")
    assert _error(caught) == ("NoSuchBucket", 404)
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket="no-such-bucket", Key="k", Body=b"x")
    assert _error(caught) == ("NoSuchBucket", 404)


def test_delete_and_delete_objects(s3: Any, bucket: str) -> None:
    for key in ("del/a", "del/b", "del/c"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    s3.delete_object(Bucket=bucket, Key="del/a")
    s3.delete_object(Bucket=bucket, Key="del/never-existed")
    result = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": "del/b"}, {"Key": "del/zzz"}]}
    )
    assert sorted(d["Key"] for d in result["Deleted"]) == ["del/b", "del/zzz"]
    assert "Errors" not in result
    quiet = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "del/c"}], "Quiet": True})
    assert "Deleted" not in quiet
    assert _keys(s3, bucket, "del/") == []


def test_copy_object(s3: Any, bucket: str) -> None:
    s3.put_object(
        Bucket=bucket, Key="copy/src", Body=b"copied", ContentType="text/plain", Metadata={"a": "1"}
    )
    result = s3.copy_object(
        Bucket=bucket, Key="copy/same-meta", CopySource={"Bucket": bucket, "Key": "copy/src"}
    )
    assert result["CopyObjectResult"]["ETag"] == f'"{hashlib.md5(b"copied").hexdigest()}"'
    head = s3.head_object(Bucket=bucket, Key="copy/same-meta")
    assert (head["ContentType"], head["Metadata"]) == ("text/plain", {"a": "1"})
    s3.copy_object(
        Bucket=bucket,
        Key="copy/new-meta",
        CopySource=f"{bucket}/copy/src",
        MetadataDirective="REPLACE",
        ContentType="text/csv",
        Metadata={"b": "2"},
    )
    head = s3.head_object(Bucket=bucket, Key="copy/new-meta")
    assert (head["ContentType"], head["Metadata"]) == ("text/csv", {"b": "2"})
    with pytest.raises(ClientError) as caught:
        s3.copy_object(Bucket=bucket, Key="copy/src", CopySource=f"{bucket}/copy/src")
    assert _error(caught) == ("InvalidRequest", 400)
    with pytest.raises(ClientError) as caught:
        s3.copy_object(Bucket=bucket, Key="copy/x", CopySource=f"{bucket}/copy/missing")
    assert _error(caught) == ("NoSuchKey", 404)


@pytest.mark.parametrize("key", ["a/../b", "../escape", "./x", "a/./b"])
def test_keys_with_dot_segments_are_refused_and_nothing_is_written(
    s3: Any, bucket: str, aws_server: ServerProcess, key: str
) -> None:
    before = _keys(s3, bucket)
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key=key, Body=b"evil")
    assert _error(caught) == ("InvalidArgument", 400)
    assert key in caught.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as caught:
        s3.create_multipart_upload(Bucket=bucket, Key=key)
    assert _error(caught) == ("InvalidArgument", 400)
    assert _keys(s3, bucket) == before
    assert not (aws_server.home / "lake" / "escape").exists()
    assert not (aws_server.home / "escape").exists()
    assert not list((aws_server.home / "tmp").glob("*"))


# -- listings ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def listed(s3: Any) -> list[str]:
    s3.create_bucket(Bucket="listing")
    keys = [
        "a.txt",
        "dir/one.txt",
        "dir/two.txt",
        "dir/sub/three.txt",
        "other/x y+z.txt",
        "other/é.txt",
        "z",
    ]
    for key in keys:
        s3.put_object(Bucket="listing", Key=key, Body=key.encode())
    return sorted(keys, key=lambda k: k.encode())


def test_list_objects_v2_prefix_delimiter(s3: Any, listed: list[str]) -> None:
    top = s3.list_objects_v2(Bucket="listing", Delimiter="/")
    assert [c["Key"] for c in top["Contents"]] == ["a.txt", "z"]
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["dir/", "other/"]
    assert top["KeyCount"] == 4
    inner = s3.list_objects_v2(Bucket="listing", Prefix="dir/", Delimiter="/")
    assert [c["Key"] for c in inner["Contents"]] == ["dir/one.txt", "dir/two.txt"]
    assert [p["Prefix"] for p in inner["CommonPrefixes"]] == ["dir/sub/"]
    special = s3.list_objects_v2(Bucket="listing", Prefix="other/")
    assert [c["Key"] for c in special["Contents"]] == ["other/x y+z.txt", "other/é.txt"]
    item = special["Contents"][0]
    assert item["Size"] == len(b"other/x y+z.txt")
    assert item["ETag"] == f'"{hashlib.md5(b"other/x y+z.txt").hexdigest()}"'
    after = s3.list_objects_v2(Bucket="listing", StartAfter="dir/two.txt")
    assert [c["Key"] for c in after["Contents"]] == ["other/x y+z.txt", "other/é.txt", "z"]
    owner = s3.list_objects_v2(Bucket="listing", Prefix="z", FetchOwner=True)
    assert owner["Contents"][0]["Owner"]["ID"] == "admin"
    assert s3.list_objects_v2(Bucket="listing", MaxKeys=0)["KeyCount"] == 0


def test_list_objects_v2_paginates(s3: Any, listed: list[str]) -> None:
    pages = list(
        s3.get_paginator("list_objects_v2").paginate(
            Bucket="listing", PaginationConfig={"PageSize": 2}
        )
    )
    assert len(pages) == 4
    assert [c["Key"] for p in pages for c in p["Contents"]] == listed
    assert all(p["IsTruncated"] for p in pages[:-1])
    assert not pages[-1]["IsTruncated"]


def test_list_objects_v1_paginates_with_markers(s3: Any, listed: list[str]) -> None:
    pages = list(
        s3.get_paginator("list_objects").paginate(
            Bucket="listing", Delimiter="/", PaginationConfig={"PageSize": 1}
        )
    )
    keys = [c["Key"] for p in pages for c in p.get("Contents", [])]
    prefixes = [c["Prefix"] for p in pages for c in p.get("CommonPrefixes", [])]
    assert keys == ["a.txt", "z"]
    assert prefixes == ["dir/", "other/"]
    flat = s3.list_objects(Bucket="listing", Marker="dir/two.txt", MaxKeys=2)
    assert [c["Key"] for c in flat["Contents"]] == ["other/x y+z.txt", "other/é.txt"]
    assert flat["IsTruncated"]
    assert flat["NextMarker"] == "other/é.txt"


def test_list_errors(s3: Any, listed: list[str]) -> None:
    with pytest.raises(ClientError) as caught:
        s3.list_objects_v2(Bucket="no-such-bucket")
    assert _error(caught) == ("NoSuchBucket", 404)
    with pytest.raises(ClientError) as caught:
        s3.list_objects_v2(Bucket="listing", ContinuationToken="not-a-token")
    assert _error(caught) == ("InvalidArgument", 400)


# -- multipart -----------------------------------------------------------------------------------


def test_twenty_megabyte_upload_file_round_trips(s3: Any, bucket: str, tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(20 * MiB))
    config = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
    s3.upload_file(str(source), bucket, "big/file.bin", Config=config)
    head = s3.head_object(Bucket=bucket, Key="big/file.bin")
    assert head["ContentLength"] == 20 * MiB
    assert head["ETag"].endswith('-4"')
    target = tmp_path / "down.bin"
    s3.download_file(bucket, "big/file.bin", str(target), Config=config)
    assert hashlib.sha256(target.read_bytes()).digest() == (
        hashlib.sha256(source.read_bytes()).digest()
    )


def test_multipart_rules(s3: Any, bucket: str) -> None:
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp/obj", ContentType="text/x-mp")
    upload_id = upload["UploadId"]
    small = s3.upload_part(
        Bucket=bucket, Key="mp/obj", UploadId=upload_id, PartNumber=1, Body=b"x" * 100
    )
    last = s3.upload_part(
        Bucket=bucket, Key="mp/obj", UploadId=upload_id, PartNumber=2, Body=b"y" * 10
    )
    listed = s3.list_parts(Bucket=bucket, Key="mp/obj", UploadId=upload_id)
    assert [(p["PartNumber"], p["Size"]) for p in listed["Parts"]] == [(1, 100), (2, 10)]
    uploads = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in uploads] == [("mp/obj", upload_id)]
    parts = [
        {"PartNumber": 1, "ETag": small["ETag"]},
        {"PartNumber": 2, "ETag": last["ETag"]},
    ]
    for bad, code in [
        (parts[::-1], "InvalidPartOrder"),
        ([{"PartNumber": 1, "ETag": last["ETag"]}], "InvalidPart"),
        (parts, "EntityTooSmall"),
    ]:
        with pytest.raises(ClientError) as caught:
            s3.complete_multipart_upload(
                Bucket=bucket, Key="mp/obj", UploadId=upload_id, MultipartUpload={"Parts": bad}
            )
        assert _error(caught) == (code, 400)
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="mp/obj", UploadId=upload_id, MultipartUpload={"Parts": parts[1:2]}
    )
    assert done["ETag"].endswith('-1"')
    assert s3.get_object(Bucket=bucket, Key="mp/obj")["Body"].read() == b"y" * 10
    assert s3.head_object(Bucket=bucket, Key="mp/obj")["ContentType"] == "text/x-mp"
    with pytest.raises(ClientError) as caught:
        s3.abort_multipart_upload(Bucket=bucket, Key="mp/obj", UploadId=upload_id)
    assert _error(caught) == ("NoSuchUpload", 404)


def test_multipart_with_flexible_checksums(s3: Any, bucket: str) -> None:
    data = os.urandom(6 * MiB)
    parts_data = [data[: 5 * MiB], data[5 * MiB :]]
    upload_id = s3.create_multipart_upload(
        Bucket=bucket, Key="mp/checked", ChecksumAlgorithm="CRC32"
    )["UploadId"]
    parts = []
    for number, chunk in enumerate(parts_data, start=1):
        crc = base64.b64encode(zlib.crc32(chunk).to_bytes(4, "big")).decode()
        etag = s3.upload_part(
            Bucket=bucket,
            Key="mp/checked",
            UploadId=upload_id,
            PartNumber=number,
            Body=chunk,
            ChecksumCRC32=crc,
        )["ETag"]
        parts.append({"PartNumber": number, "ETag": etag, "ChecksumCRC32": crc})
    with pytest.raises(ClientError) as caught:
        s3.upload_part(
            Bucket=bucket,
            Key="mp/checked",
            UploadId=upload_id,
            PartNumber=3,
            Body=b"x",
            ChecksumCRC32="AAAAAA==",
        )
    assert _error(caught) == ("BadDigest", 400)
    whole = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    s3.complete_multipart_upload(
        Bucket=bucket,
        Key="mp/checked",
        UploadId=upload_id,
        MultipartUpload={"Parts": parts},
        ChecksumCRC32=whole,
        ChecksumType="FULL_OBJECT",
    )
    assert s3.get_object(Bucket=bucket, Key="mp/checked")["Body"].read() == data


def test_abort_discards_the_upload(s3: Any, bucket: str) -> None:
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="mp/aborted")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="mp/aborted", UploadId=upload_id, PartNumber=1, Body=b"z")
    s3.abort_multipart_upload(Bucket=bucket, Key="mp/aborted", UploadId=upload_id)
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket, Prefix="mp/aborted")
    with pytest.raises(ClientError) as caught:
        s3.upload_part(Bucket=bucket, Key="mp/aborted", UploadId=upload_id, PartNumber=2, Body=b"z")
    assert _error(caught) == ("NoSuchUpload", 404)
    with pytest.raises(ClientError) as caught:
        s3.upload_part(Bucket=bucket, Key="mp/x", UploadId=upload_id, PartNumber=0, Body=b"z")
    assert _error(caught)[1] == 400


def test_upload_part_copy(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="upc/src", Body=b"0123456789")
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="upc/dst")["UploadId"]
    part = s3.upload_part_copy(
        Bucket=bucket,
        Key="upc/dst",
        UploadId=upload_id,
        PartNumber=1,
        CopySource={"Bucket": bucket, "Key": "upc/src"},
        CopySourceRange="bytes=2-5",
    )
    s3.complete_multipart_upload(
        Bucket=bucket,
        Key="upc/dst",
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["CopyPartResult"]["ETag"]}]},
    )
    assert s3.get_object(Bucket=bucket, Key="upc/dst")["Body"].read() == b"2345"


# -- presigned URLs ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def presigner(client: Any) -> Any:
    """boto3 presigns with SigV2 against custom endpoints unless told to use SigV4."""
    return client("s3", config=Config(signature_version="s3v4"))


def test_presigned_get_and_put_with_httpx(presigner: Any, bucket: str) -> None:
    s3 = presigner
    put_url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "presigned/file.txt"}, ExpiresIn=300
    )
    response = httpx.put(put_url, content=b"via presigned PUT")
    assert response.status_code == 200, response.text
    get_url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "presigned/file.txt"}, ExpiresIn=300
    )
    response = httpx.get(get_url)
    assert response.status_code == 200
    assert response.content == b"via presigned PUT"
    tampered = get_url.replace("presigned/file.txt", "presigned/other.txt")
    assert httpx.get(tampered).status_code == 403


def test_expired_presigned_url_is_refused(presigner: Any, bucket: str) -> None:
    s3 = presigner
    s3.put_object(Bucket=bucket, Key="presigned/old", Body=b"x")
    two_hours_ago = datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=2)
    with mock.patch("botocore.auth.get_current_datetime", return_value=two_hours_ago):
        url = s3.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": "presigned/old"}, ExpiresIn=60
        )
    response = httpx.get(url)
    assert response.status_code == 403
    assert "<Code>AccessDenied</Code>" in response.text
    assert "Request has expired" in response.text


def test_signature_version_2_presigned_urls(s3: Any, bucket: str) -> None:
    # boto3's default against a custom endpoint: what unchanged code hands out.
    put_url = s3.generate_presigned_url(
        "put_object",
        Params={"Bucket": bucket, "Key": "v2/file.txt", "ContentType": "text/plain"},
    )
    assert "AWSAccessKeyId=" in put_url
    response = httpx.put(put_url, content=b"v2 body", headers={"Content-Type": "text/plain"})
    assert response.status_code == 200, response.text
    get_url = s3.generate_presigned_url(
        "get_object",
        Params={
            "Bucket": bucket,
            "Key": "v2/file.txt",
            "ResponseContentDisposition": "attachment; filename=x.txt",
        },
    )
    response = httpx.get(get_url)
    assert response.status_code == 200, response.text
    assert response.content == b"v2 body"
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["content-disposition"] == "attachment; filename=x.txt"
    tampered = get_url.replace("filename%3Dx.txt", "filename%3Dy.txt")
    assert tampered != get_url
    refused = httpx.get(tampered)
    assert refused.status_code == 403
    assert "<Code>SignatureDoesNotMatch</Code>" in refused.text
    with mock.patch("time.time", return_value=datetime.now(UTC).timestamp() - 7200):
        old = s3.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": "v2/file.txt"}, ExpiresIn=60
        )
    expired = httpx.get(old)
    assert expired.status_code == 403
    assert "Request has expired" in expired.text
