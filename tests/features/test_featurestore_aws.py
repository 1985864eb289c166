"""The feature store through boto3 against a live server: SageMaker's feature group actions and
the ``sagemaker-featurestore-runtime`` client (online store), the offline store as Parquet in the
lake queried with Athena, and bad input answered with the runtime's error codes."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow.parquet as pq
import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.slow

Client = Callable[[str], Any]
DEFINITIONS = [
    {"FeatureName": "customer_id", "FeatureType": "String"},
    {"FeatureName": "event_time", "FeatureType": "String"},
    {"FeatureName": "balance", "FeatureType": "Fractional"},
    {"FeatureName": "visits", "FeatureType": "Integral"},
]


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _record(cid: str, at: datetime, balance: float, visits: int = 1) -> list[dict[str, str]]:
    return [
        {"FeatureName": "customer_id", "ValueAsString": cid},
        {"FeatureName": "event_time", "ValueAsString": _iso(at)},
        {"FeatureName": "balance", "ValueAsString": str(balance)},
        {"FeatureName": "visits", "ValueAsString": str(visits)},
    ]


def _values(answer: dict[str, Any]) -> dict[str, str]:
    return {v["FeatureName"]: v["ValueAsString"] for v in answer.get("Record", [])}


def _code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def _create(sm: Any, name: str, **extra: Any) -> dict[str, Any]:
    arn = sm.create_feature_group(
        FeatureGroupName=name,
        RecordIdentifierFeatureName="customer_id",
        EventTimeFeatureName="event_time",
        FeatureDefinitions=DEFINITIONS,
        RoleArn="arn:aws:iam::000000000000:role/fs",
        **extra,
    )["FeatureGroupArn"]
    assert arn.endswith(f":feature-group/{name.lower()}")
    described: dict[str, Any] = sm.describe_feature_group(FeatureGroupName=name)
    return described


BASE = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)


def test_feature_groups_and_online_store(aws: Client) -> None:
    sm, rt, s3 = aws("sagemaker"), aws("sagemaker-featurestore-runtime"), aws("s3")
    s3.create_bucket(Bucket="fs-offline")
    described = _create(
        sm,
        "customers",
        OnlineStoreConfig={"EnableOnlineStore": True},
        OfflineStoreConfig={"S3StorageConfig": {"S3Uri": "s3://fs-offline/store"}},
        Description="customer features",
    )
    assert described["FeatureGroupStatus"] == "Created"
    assert described["OfflineStoreStatus"] == {"Status": "Active"}
    offline = described["OfflineStoreConfig"]
    assert re.fullmatch(
        r"s3://fs-offline/store/000000000000/sagemaker/us-east-1/offline-store/"
        r"customers-\d+/data",
        offline["S3StorageConfig"]["ResolvedOutputS3Uri"],
    )
    assert offline["DataCatalogConfig"]["Database"] == "sagemaker_featurestore"
    assert [s["FeatureGroupName"] for s in sm.list_feature_groups()["FeatureGroupSummaries"]] == [
        "customers"
    ]

    # latest event time wins; an older write does not overwrite a newer one
    rt.put_record(FeatureGroupName="customers", Record=_record("c1", BASE, 1.0))
    rt.put_record(
        FeatureGroupName="customers", Record=_record("c1", BASE + timedelta(hours=2), 2.0)
    )
    rt.put_record(
        FeatureGroupName="customers", Record=_record("c1", BASE + timedelta(hours=1), 9.0)
    )
    got = rt.get_record(FeatureGroupName="customers", RecordIdentifierValueAsString="c1")
    assert _values(got)["balance"] == "2.0"
    only = rt.get_record(
        FeatureGroupName=described["FeatureGroupArn"],
        RecordIdentifierValueAsString="c1",
        FeatureNames=["balance", "visits"],
    )
    assert _values(only) == {"balance": "2.0", "visits": "1"}
    missing = rt.get_record(FeatureGroupName="customers", RecordIdentifierValueAsString="zz")
    assert "Record" not in missing

    rt.put_record(FeatureGroupName="customers", Record=_record("c2", BASE, 5.5, 3))
    batch = rt.batch_get_record(
        Identifiers=[
            {"FeatureGroupName": "customers", "RecordIdentifiersValueAsString": ["c1", "c2", "x"]},
            {"FeatureGroupName": "nope", "RecordIdentifiersValueAsString": ["c1"]},
        ]
    )
    assert {
        r["RecordIdentifierValueAsString"]: _values(r)["balance"] for r in batch["Records"]
    } == {
        "c1": "2.0",
        "c2": "5.5",
    }
    assert [(e["FeatureGroupName"], e["ErrorCode"]) for e in batch["Errors"]] == [
        ("nope", "ResourceNotFound")
    ]

    # a soft delete hides the record; writes older than the deletion stay hidden
    rt.delete_record(
        FeatureGroupName="customers",
        RecordIdentifierValueAsString="c1",
        EventTime=_iso(BASE + timedelta(hours=3)),
    )
    assert "Record" not in rt.get_record(
        FeatureGroupName="customers", RecordIdentifierValueAsString="c1"
    )
    rt.put_record(
        FeatureGroupName="customers", Record=_record("c1", BASE + timedelta(hours=2), 7.0)
    )
    assert "Record" not in rt.get_record(
        FeatureGroupName="customers", RecordIdentifierValueAsString="c1"
    )
    rt.put_record(
        FeatureGroupName="customers", Record=_record("c1", BASE + timedelta(hours=4), 4.0)
    )
    got = rt.get_record(FeatureGroupName="customers", RecordIdentifierValueAsString="c1")
    assert _values(got)["balance"] == "4.0"
    rt.delete_record(
        FeatureGroupName="customers",
        RecordIdentifierValueAsString="c2",
        EventTime=_iso(BASE),
        DeletionMode="HardDelete",
    )
    assert "Record" not in rt.get_record(
        FeatureGroupName="customers", RecordIdentifierValueAsString="c2"
    )

    sm.update_feature_group(
        FeatureGroupName="customers",
        FeatureAdditions=[{"FeatureName": "segment", "FeatureType": "String"}],
    )
    record = [*_record("c3", BASE, 1.0), {"FeatureName": "segment", "ValueAsString": "gold"}]
    rt.put_record(FeatureGroupName="customers", Record=record)
    got = rt.get_record(FeatureGroupName="customers", RecordIdentifierValueAsString="c3")
    assert _values(got)["segment"] == "gold"


def test_offline_store_is_parquet_that_athena_queries(aws: Client) -> None:
    sm, rt, s3, athena = (
        aws("sagemaker"),
        aws("sagemaker-featurestore-runtime"),
        aws("s3"),
        aws("athena"),
    )
    s3.create_bucket(Bucket="fs-history")
    described = _create(
        sm,
        "history",
        OfflineStoreConfig={"S3StorageConfig": {"S3Uri": "s3://fs-history/offline"}},
    )
    for hour, balance in ((0, 1.0), (1, 2.0), (25, 3.0)):
        at = BASE + timedelta(hours=hour)
        rt.put_record(FeatureGroupName="history", Record=_record("h1", at, balance))
    rt.delete_record(
        FeatureGroupName="history",
        RecordIdentifierValueAsString="h1",
        EventTime=_iso(BASE + timedelta(hours=26)),
    )
    location = described["OfflineStoreConfig"]["S3StorageConfig"]["ResolvedOutputS3Uri"]
    prefix = location.removeprefix("s3://fs-history/") + "/"
    deadline = time.monotonic() + 30
    keys: list[str] = []
    # four hours of event time (the delete is a record of its own, at +26 h); flushes may split
    while len(keys) < 4 and time.monotonic() < deadline:
        time.sleep(0.2)
        listed = s3.list_objects_v2(Bucket="fs-history", Prefix=prefix).get("Contents", [])
        keys = [o["Key"] for o in listed]
    assert any("/year=2024/month=03/day=01/hour=10/" in k for k in keys), keys
    assert any("/year=2024/month=03/day=02/hour=12/" in k for k in keys), keys
    assert all(re.search(r"/\d{8}T\d{6}Z_[0-9a-f]{16}\.parquet$", k) for k in keys), keys
    body = s3.get_object(Bucket="fs-history", Key=keys[0])["Body"].read()
    table = pq.read_table(io.BytesIO(body))
    assert table.column_names == [
        "customer_id",
        "event_time",
        "balance",
        "visits",
        "write_time",
        "api_invocation_time",
        "is_deleted",
    ]

    table_name = described["OfflineStoreConfig"]["DataCatalogConfig"]["TableName"]
    started = athena.start_query_execution(
        QueryString=f'SELECT balance, is_deleted, "hour" FROM "{table_name}" ORDER BY event_time',
        QueryExecutionContext={"Database": "sagemaker_featurestore"},
        ResultConfiguration={"OutputLocation": "s3://fs-history/athena/"},
    )
    query_id = started["QueryExecutionId"]
    while True:
        state = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]
        if state["State"] not in ("QUEUED", "RUNNING"):
            break
        time.sleep(0.05)
    assert state["State"] == "SUCCEEDED", state
    rows = athena.get_query_results(QueryExecutionId=query_id)["ResultSet"]["Rows"]
    values = [[d.get("VarCharValue") for d in r["Data"]] for r in rows[1:]]
    assert values == [
        ["1.0", "false", "10"],
        ["2.0", "false", "11"],
        ["3.0", "false", "11"],
        [None, "true", "12"],
    ]


def test_bad_input_is_named(aws: Client) -> None:
    sm, rt = aws("sagemaker"), aws("sagemaker-featurestore-runtime")
    _create(sm, "strict", OnlineStoreConfig={"EnableOnlineStore": True})
    cases = [
        (_record("c1", BASE, 1.0)[1:], "customer_id"),  # no identifier
        ([r for r in _record("c1", BASE, 1.0) if r["FeatureName"] != "event_time"], "event_time"),
        ([*_record("c1", BASE, 1.0), {"FeatureName": "nope", "ValueAsString": "1"}], "'nope'"),
        (_record("c1", BASE, 1.0, visits="many"), "'visits' is Integral"),  # type: ignore[arg-type]
        ([*_record("c1", BASE, 1.0)[:3], {"FeatureName": "visits", "ValueAsString": "1.5"}], "1.5"),
        (
            [*_record("c1", BASE, 1.0)[:1], {"FeatureName": "event_time", "ValueAsString": "soon"}],
            "ISO 8601",
        ),
    ]
    for record, named in cases:
        with pytest.raises(ClientError) as bad:
            rt.put_record(FeatureGroupName="strict", Record=record)
        assert _code(bad) == "ValidationError", bad.value.response
        assert named in bad.value.response["Error"]["Message"]
    with pytest.raises(rt.exceptions.ResourceNotFound):
        rt.put_record(FeatureGroupName="absent", Record=_record("c1", BASE, 1.0))
    with pytest.raises(rt.exceptions.ResourceNotFound):
        rt.get_record(FeatureGroupName="absent", RecordIdentifierValueAsString="c1")
    with pytest.raises(ClientError) as unknown_name:
        rt.get_record(
            FeatureGroupName="strict", RecordIdentifierValueAsString="c1", FeatureNames=["nope"]
        )
    assert "nope" in unknown_name.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as mode:
        rt.delete_record(
            FeatureGroupName="strict",
            RecordIdentifierValueAsString="c1",
            EventTime=_iso(BASE),
            DeletionMode="Shred",
        )
    assert "SoftDelete or HardDelete" in mode.value.response["Error"]["Message"]

    with pytest.raises(sm.exceptions.ResourceInUse):
        _create(sm, "strict", OnlineStoreConfig={"EnableOnlineStore": True})
    with pytest.raises(sm.exceptions.ResourceNotFound):
        sm.describe_feature_group(FeatureGroupName="absent")
    with pytest.raises(ClientError) as no_event:
        sm.create_feature_group(
            FeatureGroupName="broken",
            RecordIdentifierFeatureName="customer_id",
            EventTimeFeatureName="when",
            FeatureDefinitions=DEFINITIONS,
            OnlineStoreConfig={"EnableOnlineStore": True},
        )
    assert _code(no_event) == "ValidationException"
    assert (
        "'when' is not among the FeatureDefinitions" in no_event.value.response["Error"]["Message"]
    )
    with pytest.raises(ClientError) as no_store:
        sm.create_feature_group(
            FeatureGroupName="broken",
            RecordIdentifierFeatureName="customer_id",
            EventTimeFeatureName="event_time",
            FeatureDefinitions=DEFINITIONS,
        )
    assert "online store" in no_store.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as no_bucket:
        _create(sm, "broken", OfflineStoreConfig={"S3StorageConfig": {"S3Uri": "s3://no-such/x"}})
    assert "'no-such', which does not exist" in no_bucket.value.response["Error"]["Message"]
    assert "broken" not in str(sm.list_feature_groups())


def test_ttl_expires_online_records(aws: Client) -> None:
    sm, rt = aws("sagemaker"), aws("sagemaker-featurestore-runtime")
    _create(
        sm,
        "ttl",
        OnlineStoreConfig={"EnableOnlineStore": True, "TtlDuration": {"Unit": "Hours", "Value": 1}},
    )
    now = datetime.now(UTC)
    rt.put_record(FeatureGroupName="ttl", Record=_record("old", now - timedelta(hours=2), 1.0))
    rt.put_record(FeatureGroupName="ttl", Record=_record("new", now, 2.0))
    assert "Record" not in rt.get_record(
        FeatureGroupName="ttl", RecordIdentifierValueAsString="old"
    )
    fresh = rt.get_record(
        FeatureGroupName="ttl",
        RecordIdentifierValueAsString="new",
        ExpirationTimeResponse="Enabled",
    )
    assert _values(fresh)["balance"] == "2.0"
    expires = datetime.fromisoformat(fresh["ExpiresAt"].replace("Z", "+00:00"))
    assert abs((expires - now).total_seconds() - 3600) < 2
    # a record's own TtlDuration overrides the group's
    rt.put_record(
        FeatureGroupName="ttl",
        Record=_record("short", now - timedelta(minutes=2), 3.0),
        TtlDuration={"Unit": "Minutes", "Value": 1},
    )
    assert "Record" not in rt.get_record(
        FeatureGroupName="ttl", RecordIdentifierValueAsString="short"
    )
    sm.delete_feature_group(FeatureGroupName="ttl")
    with pytest.raises(rt.exceptions.ResourceNotFound):
        rt.get_record(FeatureGroupName="ttl", RecordIdentifierValueAsString="new")
