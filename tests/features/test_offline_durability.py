"""The offline store is durable: an acknowledged PutRecord/DeleteRecord reaches the Parquet
files exactly once, even when the server is killed before it flushes or while it flushes."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import boto3
import pyarrow.parquet as pq

from lakeworks import Client
from lakeworks.features import store
from lakeworks.testing import temporary_server
from lakeworks.testing.process import ServerProcess, server_process

BASE = 1_709_287_200.0  # 2024-03-01T10:00:00Z
DEFINITIONS = [
    {"FeatureName": "customer_id", "FeatureType": "String"},
    {"FeatureName": "event_time", "FeatureType": "Fractional"},
    {"FeatureName": "balance", "FeatureType": "Fractional"},
]
#: Never flushes on its own while a test runs: rows stay pending until the kill.
NO_FLUSH = {"LAKEWORKS_FEATURES_OFFLINE_FLUSH_SECONDS": "3600"}
FAST_FLUSH = {"LAKEWORKS_FEATURES_OFFLINE_FLUSH_SECONDS": "0.2"}


def _clients(server: ServerProcess) -> tuple[Any, Any, Any]:
    env = server.aws_env()
    session = boto3.session.Session(
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name="us-east-1",
    )
    return tuple(  # type: ignore[return-value]
        session.client(name, endpoint_url=env["AWS_ENDPOINT_URL"])
        for name in ("sagemaker", "sagemaker-featurestore-runtime", "s3")
    )


def _record(customer: str, at: float, balance: float) -> list[dict[str, str]]:
    values = {"customer_id": customer, "event_time": str(at), "balance": str(balance)}
    return [{"FeatureName": k, "ValueAsString": v} for k, v in values.items()]


def _parquet_keys(s3: Any, bucket: str, prefix: str) -> list[str]:
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return [o["Key"] for o in listed if o["Key"].endswith(".parquet")]


def test_kill_9_before_flush_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    count = 40
    with server_process(home, env=NO_FLUSH) as server:
        sm, rt, s3 = _clients(server)
        s3.create_bucket(Bucket="durable")
        described = sm.create_feature_group(
            FeatureGroupName="durable",
            RecordIdentifierFeatureName="customer_id",
            EventTimeFeatureName="event_time",
            FeatureDefinitions=DEFINITIONS,
            OnlineStoreConfig={"EnableOnlineStore": True},
            OfflineStoreConfig={"S3StorageConfig": {"S3Uri": "s3://durable/offline"}},
        )
        assert described["FeatureGroupArn"]
        info = sm.describe_feature_group(FeatureGroupName="durable")
        location = info["OfflineStoreConfig"]["S3StorageConfig"]["ResolvedOutputS3Uri"]
        table = info["OfflineStoreConfig"]["DataCatalogConfig"]["TableName"]
        for i in range(count):
            # two hours of event time; every fourth write goes to the offline store alone
            at = BASE + (i % 2) * 3600 + i
            stores = {"TargetStores": ["OfflineStore"]} if i % 4 == 3 else {}
            rt.put_record(FeatureGroupName="durable", Record=_record(f"c{i}", at, i), **stores)
        rt.delete_record(
            FeatureGroupName="durable",
            RecordIdentifierValueAsString="c0",
            EventTime=str(BASE + 7200),
        )
        prefix = location.removeprefix("s3://durable/")
        assert _parquet_keys(s3, "durable", prefix) == []  # all still pending
        server.kill()  # SIGKILL: no shutdown flush
        for made in (sm, rt, s3):
            made.close()

    with server_process(home, env=FAST_FLUSH) as server:
        sm, rt, s3 = _clients(server)
        deadline = time.monotonic() + 30
        while not _parquet_keys(s3, "durable", prefix) and time.monotonic() < deadline:
            time.sleep(0.2)
        client = Client(server.url, server.token)
        rows: list[dict[str, Any]] = []
        for made in (sm, rt):
            made.close()
        while time.monotonic() < deadline:
            result = client.sql(
                f'SELECT customer_id, balance, is_deleted, "hour" FROM "{table}"',
                database="sagemaker_featurestore",
            )
            rows = result.to_pylist()
            if len(rows) >= count + 1:
                break
            time.sleep(0.2)
        writes = sorted(r["customer_id"] for r in rows if not r["is_deleted"])
        assert writes == sorted(f"c{i}" for i in range(count))  # each exactly once
        deletions = [r for r in rows if r["is_deleted"]]
        assert [(r["customer_id"], r["hour"]) for r in deletions] == [("c0", "12")]
        assert {r["hour"] for r in rows} == {"10", "11", "12"}
        assert {r["balance"] for r in rows if r["customer_id"] == "c7"} == {7.0}
        # nothing is left pending once written
        keys = _parquet_keys(s3, "durable", prefix)
        assert len(keys) == 3  # one batch, one file per hour partition
        client.close()
        s3.close()


def test_a_batch_written_again_after_a_crash_overwrites_its_files(tmp_path: Path) -> None:
    # A crash after a batch's files are written but before the batch is deleted: the next flush
    # writes the same batch under the same names, so no row appears twice.
    with temporary_server(tmp_path / "home", features={"offline_flush_seconds": 3600}) as server:
        client = Client(http=server.client)
        client.buckets.create("fs-replay")
        client.feature_groups.create(
            feature_group_name="replay",
            record_identifier_feature_name="customer_id",
            event_time_feature_name="event_time",
            feature_definitions=[
                {"feature_name": d["FeatureName"], "feature_type": d["FeatureType"]}
                for d in DEFINITIONS
            ],
            offline_store_config={"s3_storage_config": {"s3_uri": "s3://fs-replay/offline"}},
        )
        for i in range(5):
            client.feature_groups.put_record(
                "replay", {"customer_id": f"c{i}", "event_time": BASE + i, "balance": i}
            )
        features = server.platform.features
        offline, db = features.offline, features.db
        target = features.group("replay").offline
        assert target is not None
        batch = store.claim_offline_batch(db, "replay", 100)
        assert batch is not None
        offline._write(target, batch, store.read_offline_batch(db, "replay", batch))  # the crash
        # a write after the claim joins the next batch, not the claimed one
        client.feature_groups.put_record(
            "replay", {"customer_id": "c5", "event_time": BASE + 5, "balance": 5}
        )
        assert store.claimed_offline_batches(db, "replay") == [batch]
        assert offline.flush() == 6
        assert store.offline_pending_groups(db) == []
        root = server.settings.home
        files = sorted(
            p for p in root.rglob("*.parquet") if "fs-replay" in str(p) and ".meta" not in p.parts
        )
        assert len(files) == 2  # the replayed batch's file (overwritten) and the next batch's
        ids = sorted(i for f in files for i in pq.read_table(f).column("customer_id").to_pylist())
        assert ids == [f"c{i}" for i in range(6)]
        assert offline.flush() == 0


def test_a_deleted_group_takes_its_pending_rows(tmp_path: Path) -> None:
    with temporary_server(tmp_path / "home", features={"offline_flush_seconds": 3600}) as server:
        client = Client(http=server.client)
        client.buckets.create("fs-gone")
        client.feature_groups.create(
            feature_group_name="gone",
            record_identifier_feature_name="customer_id",
            event_time_feature_name="event_time",
            feature_definitions=[
                {"feature_name": d["FeatureName"], "feature_type": d["FeatureType"]}
                for d in DEFINITIONS
            ],
            offline_store_config={"s3_storage_config": {"s3_uri": "s3://fs-gone/offline"}},
        )
        client.feature_groups.put_record(
            "gone", {"customer_id": "c1", "event_time": BASE, "balance": 1}
        )
        db = server.platform.features.db
        assert store.offline_pending_groups(db) == ["gone"]
        client.feature_groups.delete("gone")  # flushes what is pending first, as before
        assert store.offline_pending_groups(db) == []
        files = [
            p
            for p in server.settings.home.rglob("*.parquet")
            if "fs-gone" in str(p) and ".meta" not in p.parts
        ]
        assert len(files) == 1
