"""S3 versioning, conditional requests and lifecycle rules through the front door: a real
server process and the real boto3."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from lakeworks.testing.process import ServerProcess

pytestmark = pytest.mark.slow

_names = itertools.count()


def _error(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture
def bucket(s3: Any) -> str:
    name = f"versions-{next(_names)}"
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture
def versioned(s3: Any, bucket: str) -> str:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return bucket


def test_versioning_configuration(s3: Any, bucket: str) -> None:
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)  # never enabled
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"
    with pytest.raises(ClientError) as caught:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Paused"})
    assert _error(caught) == ("MalformedXML", 400)
    with pytest.raises(ClientError) as caught:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={})
    assert _error(caught) == ("IllegalVersioningConfigurationException", 400)
    with pytest.raises(ClientError) as caught:
        s3.put_bucket_versioning(
            Bucket=bucket, VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"}
        )
    assert _error(caught)[1] == 501
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"


def test_versions_delete_markers_and_restores(s3: Any, versioned: str) -> None:
    bucket = versioned
    v1 = s3.put_object(Bucket=bucket, Key="doc.txt", Body=b"first")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="doc.txt", Body=b"second")["VersionId"]
    assert v1 != v2
    got = s3.get_object(Bucket=bucket, Key="doc.txt")
    assert (got["Body"].read(), got["VersionId"]) == (b"second", v2)
    old = s3.get_object(Bucket=bucket, Key="doc.txt", VersionId=v1)
    assert (old["Body"].read(), old["VersionId"]) == (b"first", v1)
    assert s3.head_object(Bucket=bucket, Key="doc.txt", VersionId=v1)["ContentLength"] == 5

    deleted = s3.delete_object(Bucket=bucket, Key="doc.txt")
    assert deleted["DeleteMarker"] is True
    marker = deleted["VersionId"]
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="doc.txt")
    assert _error(caught) == ("NoSuchKey", 404)
    headers = caught.value.response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amz-delete-marker"] == "true"
    assert headers["x-amz-version-id"] == marker
    with pytest.raises(ClientError) as caught:
        s3.head_object(Bucket=bucket, Key="doc.txt")
    assert _error(caught)[1] == 404
    assert caught.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"] == "true"
    with pytest.raises(ClientError) as caught:
        s3.head_object(Bucket=bucket, Key="doc.txt", VersionId=marker)
    assert _error(caught)[1] == 405
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="doc.txt", VersionId=marker)
    assert _error(caught) == ("MethodNotAllowed", 405)
    assert caught.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-version-id"] == marker
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="doc.txt", VersionId="0123456789abcdefgh")
    assert _error(caught) == ("NoSuchVersion", 404)

    listing = s3.list_object_versions(Bucket=bucket, Prefix="doc")
    assert [(v["VersionId"], v["IsLatest"]) for v in listing["Versions"]] == [
        (v2, False),
        (v1, False),
    ]
    assert [(m["VersionId"], m["IsLatest"]) for m in listing["DeleteMarkers"]] == [(marker, True)]

    # restore by copying an old version over the key, then remove the marker's successor
    copied = s3.copy_object(
        Bucket=bucket,
        Key="doc.txt",
        CopySource={"Bucket": bucket, "Key": "doc.txt", "VersionId": v1},
    )
    assert copied["CopySourceVersionId"] == v1
    assert s3.get_object(Bucket=bucket, Key="doc.txt")["Body"].read() == b"first"
    s3.delete_object(Bucket=bucket, Key="doc.txt", VersionId=copied["VersionId"])
    with pytest.raises(ClientError):
        s3.get_object(Bucket=bucket, Key="doc.txt")  # the marker is latest again
    removed = s3.delete_object(Bucket=bucket, Key="doc.txt", VersionId=marker)
    assert removed["DeleteMarker"] is True
    assert s3.get_object(Bucket=bucket, Key="doc.txt")["Body"].read() == b"second"


def test_list_object_versions_pages_and_prefixes(s3: Any, versioned: str) -> None:
    bucket = versioned
    for key in ["a.txt", "logs/1", "logs/2", "z.txt"]:
        for n in range(3):
            s3.put_object(Bucket=bucket, Key=key, Body=b"%d" % n)
    pages = s3.get_paginator("list_object_versions").paginate(
        Bucket=bucket, PaginationConfig={"PageSize": 5}
    )
    seen = [(v["Key"], v["VersionId"]) for page in pages for v in page.get("Versions", [])]
    assert len(seen) == 12
    assert len(set(seen)) == 12
    assert [k for k, _ in seen] == sorted(k for k, _ in seen)
    rolled = s3.list_object_versions(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in rolled["CommonPrefixes"]] == ["logs/"]
    assert {v["Key"] for v in rolled["Versions"]} == {"a.txt", "z.txt"}
    assert s3.list_object_versions(Bucket=bucket, MaxKeys=0).get("Versions") is None
    with pytest.raises(ClientError) as caught:
        s3.list_object_versions(Bucket=bucket, VersionIdMarker="x")
    assert _error(caught) == ("InvalidArgument", 400)


def test_presigned_get_of_a_version(client: Any, s3: Any, versioned: str) -> None:
    v1 = s3.put_object(Bucket=versioned, Key="p", Body=b"old")["VersionId"]
    s3.put_object(Bucket=versioned, Key="p", Body=b"new")
    signer = client("s3", config=Config(signature_version="s3v4"))
    url = signer.generate_presigned_url(
        "get_object", Params={"Bucket": versioned, "Key": "p", "VersionId": v1}, ExpiresIn=60
    )
    response = httpx.get(url)
    assert response.status_code == 200
    assert response.content == b"old"
    assert response.headers["x-amz-version-id"] == v1


def test_suspended_versioning_writes_null_versions(s3: Any, versioned: str) -> None:
    bucket = versioned
    kept = s3.put_object(Bucket=bucket, Key="s", Body=b"kept")["VersionId"]
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    assert s3.put_object(Bucket=bucket, Key="s", Body=b"n1")["VersionId"] == "null"
    assert s3.put_object(Bucket=bucket, Key="s", Body=b"n2")["VersionId"] == "null"
    ids = [v["VersionId"] for v in s3.list_object_versions(Bucket=bucket)["Versions"]]
    assert ids == ["null", kept]


def test_delete_objects_by_version(s3: Any, versioned: str) -> None:
    bucket = versioned
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"1")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"2")["VersionId"]
    result = s3.delete_objects(
        Bucket=bucket,
        Delete={"Objects": [{"Key": "k", "VersionId": v1}, {"Key": "other"}]},
    )
    deleted = {(d["Key"], d.get("VersionId")): d for d in result["Deleted"]}
    assert ("k", v1) in deleted
    assert deleted[("other", None)]["DeleteMarker"] is True
    assert [
        v["VersionId"] for v in s3.list_object_versions(Bucket=bucket, Prefix="k")["Versions"]
    ] == [v2]


def test_objects_from_before_versioning_are_null_versions(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="old", Body=b"before")
    assert "VersionId" not in s3.head_object(Bucket=bucket, Key="old")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="old", Body=b"after")
    old = s3.get_object(Bucket=bucket, Key="old", VersionId="null")
    assert old["Body"].read() == b"before"
    with pytest.raises(ClientError) as caught:
        s3.delete_bucket(Bucket=bucket)
    assert _error(caught) == ("BucketNotEmpty", 409)


# -- conditional requests --------------------------------------------------------------------


def test_conditional_requests(s3: Any, bucket: str) -> None:
    etag = s3.put_object(Bucket=bucket, Key="c", Body=b"v1", IfNoneMatch="*")["ETag"]
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="c", Body=b"v2", IfNoneMatch="*")
    assert _error(caught) == ("PreconditionFailed", 412)
    assert s3.get_object(Bucket=bucket, Key="c")["Body"].read() == b"v1"
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="c", Body=b"v2", IfMatch='"0123"')
    assert _error(caught) == ("PreconditionFailed", 412)
    s3.put_object(Bucket=bucket, Key="c", Body=b"v2", IfMatch=etag)
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="absent", Body=b"x", IfMatch=etag)
    assert _error(caught) == ("NoSuchKey", 404)

    current = s3.head_object(Bucket=bucket, Key="c")
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="c", IfNoneMatch=current["ETag"])
    assert _error(caught)[1] == 304
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    with pytest.raises(ClientError) as caught:
        s3.head_object(Bucket=bucket, Key="c", IfModifiedSince=tomorrow)
    assert _error(caught)[1] == 304
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="c", IfUnmodifiedSince=datetime(2000, 1, 1, tzinfo=UTC))
    assert _error(caught) == ("PreconditionFailed", 412)
    assert s3.get_object(Bucket=bucket, Key="c", IfModifiedSince=datetime(2000, 1, 1))[
        "Body"
    ].read()

    with pytest.raises(ClientError) as caught:
        s3.copy_object(
            Bucket=bucket, Key="copy", CopySource=f"{bucket}/c", CopySourceIfMatch='"nope"'
        )
    assert _error(caught) == ("PreconditionFailed", 412)
    s3.copy_object(
        Bucket=bucket, Key="copy", CopySource=f"{bucket}/c", CopySourceIfMatch=current["ETag"]
    )


def test_conditional_complete_multipart(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="mp", Body=b"exists")
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"p")["ETag"]
    parts = {"Parts": [{"PartNumber": 1, "ETag": etag}]}
    with pytest.raises(ClientError) as caught:
        s3.complete_multipart_upload(
            Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload=parts, IfNoneMatch="*"
        )
    assert _error(caught) == ("PreconditionFailed", 412)
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == b"exists"
    s3.abort_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload)


# -- lifecycle -------------------------------------------------------------------------------


def test_lifecycle_configuration(s3: Any, aws_server: ServerProcess, bucket: str) -> None:
    with pytest.raises(ClientError) as caught:
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert _error(caught) == ("NoSuchLifecycleConfiguration", 404)
    rules = [
        {
            "ID": "trim-old-versions",
            "Filter": {"Prefix": "data/"},
            "Status": "Enabled",
            "NoncurrentVersionExpiration": {"NoncurrentDays": 30, "NewerNoncurrentVersions": 3},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
        },
        {
            "ID": "expire-scratch",
            "Filter": {"And": {"Prefix": "tmp/", "Tags": [{"Key": "scratch", "Value": "yes"}]}},
            "Status": "Disabled",
            "Expiration": {"Days": 1},
        },
    ]
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})
    got = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert [r["ID"] for r in got] == ["trim-old-versions", "expire-scratch"]
    assert got[0]["NoncurrentVersionExpiration"] == {
        "NoncurrentDays": 30,
        "NewerNoncurrentVersions": 3,
    }
    assert got[0]["Filter"] == {"Prefix": "data/"}
    assert got[1]["Filter"]["And"]["Tags"] == [{"Key": "scratch", "Value": "yes"}]

    bad = [{"ID": "x", "Filter": {}, "Status": "Enabled", "Expiration": {"Days": 0}}]
    with pytest.raises(ClientError) as caught:
        s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": bad})
    assert _error(caught) == ("InvalidArgument", 400)
    transition = [
        {
            "ID": "t",
            "Filter": {},
            "Status": "Enabled",
            "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}],
        }
    ]
    with pytest.raises(ClientError) as caught:
        s3.put_bucket_lifecycle_configuration(
            Bucket=bucket, LifecycleConfiguration={"Rules": transition}
        )
    assert _error(caught) == ("NotImplemented", 501)
    assert len(s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]) == 2  # unchanged

    # the sweeper can be asked to run now (nothing is due yet)
    run = httpx.post(
        f"{aws_server.url}/api/v1/lifecycle/runs",
        headers={"Authorization": f"Bearer {aws_server.token}"},
    )
    assert run.status_code == 200
    assert run.json()["expired_versions"] == 0
    s3.delete_bucket_lifecycle(Bucket=bucket)
    with pytest.raises(ClientError):
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
