"""Firehose PutRecordBatch (500 × 200-byte JSON records) acknowledged records/s vs raw fsync.

Lakeworks acknowledges a batch only once it is in the stream's write-ahead log on disk, so the
baseline is the same bytes appended to a file and fsynced by a bare loop, one fsync per batch.
Lakeworks is measured twice: through boto3 (client cost included) and with pre-signed raw HTTP
requests replayed by several connections (the server's own ceiling), each with concurrent
clients so group commit can share syncs.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from lakeworks.testing.process import ServerProcess, server_process

BATCH = 500
RECORD = 200
SECONDS = 5.0
CLIENTS = 4


def _records() -> list[bytes]:
    out = []
    for i in range(BATCH):
        head = json.dumps({"id": i, "sensor": f"s{i % 7}", "pad": ""})[:-2]
        out.append((head + "x" * (RECORD - len(head) - 3) + '"}\n').encode())
    return out


def _raw_fsync(work: Path, records: list[bytes]) -> float:
    payload = b"".join(records)
    fd = os.open(work / "raw.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    count, start = 0, time.perf_counter()
    try:
        while time.perf_counter() - start < SECONDS:
            os.write(fd, payload)
            os.fdatasync(fd)
            count += len(records)
    finally:
        os.close(fd)
    return count / (time.perf_counter() - start)


def _concurrently(work: Any) -> float:
    counts = [0] * CLIENTS
    stop = time.perf_counter() + SECONDS

    def run(index: int) -> None:
        while time.perf_counter() < stop:
            counts[index] += work()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(CLIENTS)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.perf_counter() - start)


def _boto3(server: ServerProcess, records: list[bytes]) -> float:
    env = server.aws_env()
    local = threading.local()
    entries = [{"Data": r} for r in records]

    def put() -> int:
        if not hasattr(local, "client"):
            local.client = boto3.session.Session().client(
                "firehose",
                endpoint_url=env["AWS_ENDPOINT_URL"],
                aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                region_name="us-east-1",
                config=Config(retries={"max_attempts": 1}),
            )
        answer = local.client.put_record_batch(DeliveryStreamName="bench", Records=entries)
        assert answer["FailedPutCount"] == 0
        return len(records)

    return _concurrently(put)


def _presigned(server: ServerProcess, records: list[bytes]) -> float:
    env = server.aws_env()
    body = json.dumps(
        {
            "DeliveryStreamName": "bench",
            "Records": [{"Data": base64.b64encode(r).decode()} for r in records],
        }
    ).encode()
    request = AWSRequest(
        method="POST",
        url=env["AWS_ENDPOINT_URL"] + "/",
        data=body,
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "Firehose_20150804.PutRecordBatch",
        },
    )
    credentials = Credentials(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"])
    SigV4Auth(credentials, "firehose", "us-east-1").add_auth(request)
    headers = dict(request.headers.items())
    url = urlsplit(env["AWS_ENDPOINT_URL"])
    local = threading.local()

    def put() -> int:
        if not hasattr(local, "conn"):
            local.conn = http.client.HTTPConnection(url.hostname or "", url.port)
        local.conn.request("POST", "/", body=body, headers=headers)
        response = local.conn.getresponse()
        answer = json.loads(response.read())
        assert response.status == 200, answer
        assert answer["FailedPutCount"] == 0, answer
        return len(records)

    return _concurrently(put)


def main() -> None:
    records = _records()
    assert all(len(r) == RECORD for r in records)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        raw = _raw_fsync(work, records)
        with server_process(work / "home") as server:
            env = server.aws_env()
            s3 = boto3.client(
                "s3",
                endpoint_url=env["AWS_ENDPOINT_URL"],
                aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                region_name="us-east-1",
            )
            s3.create_bucket(Bucket="bench")
            boto3.client(
                "firehose",
                endpoint_url=env["AWS_ENDPOINT_URL"],
                aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                region_name="us-east-1",
            ).create_delivery_stream(
                DeliveryStreamName="bench",
                ExtendedS3DestinationConfiguration={
                    "RoleARN": "arn:aws:iam::000000000000:role/bench",
                    "BucketARN": "arn:aws:s3:::bench",
                    "BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 60},
                },
            )
            presigned = _presigned(server, records)
            through_boto3 = _boto3(server, records)
    print(
        f"PutRecordBatch of {BATCH} × {RECORD}-byte records, {CLIENTS} clients, {SECONDS:.0f}s each"
    )
    print(f"  raw append + fdatasync per batch (1 writer): {raw:12,.0f} records/s")
    print(
        f"  Lakeworks, pre-signed raw HTTP:               {presigned:12,.0f} records/s "
        f"({presigned / raw:.2f}× raw)"
    )
    print(
        f"  Lakeworks, boto3:                             {through_boto3:12,.0f} records/s "
        f"({through_boto3 / raw:.2f}× raw)"
    )
    print(f"  goal ≥ 50,000 acknowledged records/s: {'met' if presigned >= 50_000 else 'NOT met'}")


if __name__ == "__main__":
    main()
