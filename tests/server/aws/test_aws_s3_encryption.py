"""Server-side encryption through the front door: configuration, headers, and the bytes at rest
(read from the server's lake directory) holding no plaintext."""

from __future__ import annotations

import hashlib
import io
import itertools
import os
from pathlib import Path
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from lakeworks.testing.process import ServerProcess

pytestmark = pytest.mark.slow

MiB = 1024 * 1024
SECRET = b"name,salary\nalice,123456\nbob,654321\n" * 1000
_names = itertools.count()


def _error(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def at_rest(server: ServerProcess, bucket: str, key: str) -> bytes:
    """The file the local store keeps for ``key`` (keys here need no escaping)."""
    return (server.home / "lake" / bucket / Path(*key.split("/"))).read_bytes()


@pytest.fixture
def bucket(s3: Any) -> str:
    name = f"sealed-{next(_names)}"
    s3.create_bucket(Bucket=name)
    return name


def test_bucket_encryption_configuration(s3: Any, aws_server: ServerProcess, bucket: str) -> None:
    with pytest.raises(ClientError) as caught:
        s3.get_bucket_encryption(Bucket=bucket)
    assert _error(caught) == ("ServerSideEncryptionConfigurationNotFoundError", 404)
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}

    put = s3.put_object(Bucket=bucket, Key="payroll.csv", Body=SECRET)
    assert put["ServerSideEncryption"] == "AES256"
    assert put["ETag"] == f'"{hashlib.md5(SECRET).hexdigest()}"'
    raw = at_rest(aws_server, bucket, "payroll.csv")
    assert b"alice" not in raw
    assert b"salary" not in raw
    got = s3.get_object(Bucket=bucket, Key="payroll.csv")
    assert got["Body"].read() == SECRET
    assert got["ServerSideEncryption"] == "AES256"
    listed = s3.list_objects_v2(Bucket=bucket)["Contents"][0]
    assert (listed["Size"], listed["ETag"]) == (len(SECRET), put["ETag"])
    part = s3.get_object(Bucket=bucket, Key="payroll.csv", Range="bytes=12-16")
    assert part["Body"].read() == SECRET[12:17]

    s3.delete_bucket_encryption(Bucket=bucket)
    plain = s3.put_object(Bucket=bucket, Key="plain.txt", Body=b"alice in plain text")
    assert "ServerSideEncryption" not in plain
    assert at_rest(aws_server, bucket, "plain.txt") == b"alice in plain text"
    assert s3.get_object(Bucket=bucket, Key="payroll.csv")["Body"].read() == SECRET


def test_kms_requests_and_copies(s3: Any, aws_server: ServerProcess, bucket: str) -> None:
    put = s3.put_object(
        Bucket=bucket,
        Key="k.csv",
        Body=SECRET,
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId="team-a",
    )
    assert (put["ServerSideEncryption"], put["SSEKMSKeyId"]) == ("aws:kms", "team-a")
    head = s3.head_object(Bucket=bucket, Key="k.csv")
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", "team-a")
    copy = s3.copy_object(
        Bucket=bucket, Key="copy.csv", CopySource=f"{bucket}/k.csv", ServerSideEncryption="AES256"
    )
    assert copy["ServerSideEncryption"] == "AES256"
    assert b"alice" not in at_rest(aws_server, bucket, "copy.csv")
    s3.copy_object(Bucket=bucket, Key="plain-copy.csv", CopySource=f"{bucket}/k.csv")
    assert at_rest(aws_server, bucket, "plain-copy.csv") == SECRET


def test_encrypted_multipart_upload(s3: Any, aws_server: ServerProcess, bucket: str) -> None:
    data = os.urandom(6 * MiB) + b"alice's secret tail"
    config = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
    s3.upload_fileobj(
        io.BytesIO(data),
        bucket,
        "big.bin",
        ExtraArgs={"ServerSideEncryption": "AES256"},
        Config=config,
    )
    head = s3.head_object(Bucket=bucket, Key="big.bin")
    assert head["ServerSideEncryption"] == "AES256"
    assert head["ContentLength"] == len(data)
    assert head["ETag"].endswith('-2"')
    assert b"secret tail" not in at_rest(aws_server, bucket, "big.bin")
    out = io.BytesIO()
    s3.download_fileobj(bucket, "big.bin", out)
    assert out.getvalue() == data
    tail = s3.get_object(Bucket=bucket, Key="big.bin", Range=f"bytes=-{len('secret tail')}")
    assert tail["Body"].read() == b"secret tail"
    staged = list((aws_server.home / "lake" / ".uploads").iterdir())
    assert staged == []  # the staged parts are gone


def test_bad_encryption_requests(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as caught:
        s3.put_bucket_encryption(
            Bucket=bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:fsx"}}]
            },
        )
    assert _error(caught) == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as caught:
        s3.put_object(
            Bucket=bucket, Key="x", Body=b"x", ServerSideEncryption="AES256", SSEKMSKeyId="k"
        )
    assert _error(caught) == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as caught:
        s3.head_object(Bucket=bucket, Key="x")
    assert _error(caught)[1] == 404  # nothing was written
    with pytest.raises(ClientError) as caught:
        s3.get_bucket_encryption(Bucket=bucket)
    assert _error(caught)[1] == 404
