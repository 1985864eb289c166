"""kill -9 during ingestion: after a restart every acknowledged record lands exactly once."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from lakeworks.testing.process import ServerProcess, server_process

#: One attempt per call: a retry could legitimately put a record twice.
NO_RETRIES = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=2)


def _client(server: ServerProcess, service: str) -> Any:
    env = server.aws_env()
    return boto3.session.Session(
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name="us-east-1",
    ).client(service, endpoint_url=env["AWS_ENDPOINT_URL"], config=NO_RETRIES)


def _delivered_ids(s3: Any) -> Counter[int]:
    ids: Counter[int] = Counter()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket="crash"):
        for obj in page.get("Contents", []):
            body = s3.get_object(Bucket="crash", Key=obj["Key"])["Body"].read()
            ids.update(json.loads(line)["id"] for line in body.splitlines())
    return ids


def test_kill_9_mid_stream_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    acknowledged: list[int] = []
    with server_process(home) as server:
        s3, firehose = _client(server, "s3"), _client(server, "firehose")
        s3.create_bucket(Bucket="crash")
        firehose.create_delivery_stream(
            DeliveryStreamName="crash",
            ExtendedS3DestinationConfiguration={
                "RoleARN": "arn:aws:iam::000000000000:role/firehose",
                "BucketARN": "arn:aws:s3:::crash",
                "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 0},
            },
        )
        lock = threading.Lock()
        stop = threading.Event()

        def put(worker: int) -> None:
            client = _client(server, "firehose")
            batch = 0
            while not stop.is_set():
                ids = [worker * 10_000_000 + batch * 100 + i for i in range(100)]
                records = [{"Data": json.dumps({"id": n}).encode() + b"\n"} for n in ids]
                try:
                    answer = client.put_record_batch(DeliveryStreamName="crash", Records=records)
                except Exception:  # the server died mid-request: not acknowledged
                    return
                assert answer["FailedPutCount"] == 0
                with lock:
                    acknowledged.extend(ids)
                batch += 1

        workers = [threading.Thread(target=put, args=(w,)) for w in range(3)]
        for worker in workers:
            worker.start()
        deadline = time.monotonic() + 30
        while len(acknowledged) < 3000 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.kill()  # SIGKILL, while the clients are still putting
        stop.set()
        for worker in workers:
            worker.join(timeout=30)
    assert len(acknowledged) >= 3000

    with server_process(home) as server:
        s3 = _client(server, "s3")
        wanted = set(acknowledged)
        deadline = time.monotonic() + 60
        delivered = _delivered_ids(s3)
        while not wanted <= set(delivered) and time.monotonic() < deadline:
            time.sleep(0.5)
            delivered = _delivered_ids(s3)
        missing = wanted - set(delivered)
        assert not missing, f"{len(missing)} acknowledged records were lost"
        twice = [n for n, count in delivered.items() if count > 1]
        assert not twice, f"{len(twice)} records were delivered more than once"
        stream = _client(server, "firehose").describe_delivery_stream(DeliveryStreamName="crash")
        assert stream["DeliveryStreamDescription"]["DeliveryStreamStatus"] == "ACTIVE"
