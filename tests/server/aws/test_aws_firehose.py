"""Firehose through boto3 against a real server: streams, records, delivery, Parquet, limits."""

from __future__ import annotations

import gzip
import json
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

ClientFactory = Callable[..., Any]
ROLE = "arn:aws:iam::000000000000:role/firehose"


@pytest.fixture(scope="module")
def firehose(client: ClientFactory) -> Any:
    return client("firehose")


def _wait_for_objects(s3: Any, bucket: str, prefix: str, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
        if len(found) >= count:
            return list(found)
        time.sleep(0.2)
    raise AssertionError(f"expected {count} objects under s3://{bucket}/{prefix}")


def _create(firehose: Any, name: str, **destination: Any) -> None:
    config = {
        "RoleARN": ROLE,
        "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 0},
        **destination,
    }
    firehose.create_delivery_stream(
        DeliveryStreamName=name,
        DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration=config,
    )


def test_records_land_in_the_default_layout_as_sent(firehose: Any, s3: Any) -> None:
    s3.create_bucket(Bucket="fh-raw")
    _create(firehose, "clicks", BucketARN="arn:aws:s3:::fh-raw", Prefix="raw/")
    described = firehose.describe_delivery_stream(DeliveryStreamName="clicks")
    stream = described["DeliveryStreamDescription"]
    assert stream["DeliveryStreamStatus"] == "ACTIVE"
    assert stream["DeliveryStreamARN"].endswith(":deliverystream/clicks")
    destination = stream["Destinations"][0]["ExtendedS3DestinationDescription"]
    assert destination["Prefix"] == "raw/"
    assert "clicks" in firehose.list_delivery_streams()["DeliveryStreamNames"]

    records = [{"Data": json.dumps({"n": i}).encode() + b"\n"} for i in range(300)]
    answer = firehose.put_record_batch(DeliveryStreamName="clicks", Records=records)
    assert answer["FailedPutCount"] == 0
    ids = [r["RecordId"] for r in answer["RequestResponses"]]
    assert len(set(ids)) == 300
    # no newline added: Firehose concatenates the bytes as given
    firehose.put_record(DeliveryStreamName="clicks", Record={"Data": b"tail-without-newline"})

    now = datetime.now(UTC)
    expected = b"".join(r["Data"] for r in records) + b"tail-without-newline"
    deadline = time.monotonic() + 20
    while True:
        objects = _wait_for_objects(s3, "fh-raw", "raw/", 1)
        if sum(o["Size"] for o in objects) >= len(expected):
            break
        assert time.monotonic() < deadline, objects
        time.sleep(0.2)
    bodies = [s3.get_object(Bucket="fh-raw", Key=o["Key"])["Body"].read() for o in objects]
    # one object per delivered buffer; each holds its records' bytes exactly as sent
    bodies.sort(key=lambda b: b.endswith(b"tail-without-newline"))
    assert b"".join(bodies) == expected
    key = objects[0]["Key"]
    assert key.startswith(f"raw/{now:%Y/%m/%d}/")
    name = key.rsplit("/", 1)[1]
    assert re.fullmatch(r"clicks-1-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-[0-9a-f-]{36}", name)
    stream = firehose.describe_delivery_stream(DeliveryStreamName="clicks")
    assert stream["DeliveryStreamDescription"]["DeliveryStreamStatus"] == "ACTIVE"


def test_expression_prefix_and_gzip(firehose: Any, s3: Any) -> None:
    s3.create_bucket(Bucket="fh-expr")
    _create(
        firehose,
        "expr",
        BucketARN="arn:aws:s3:::fh-expr",
        Prefix="events/year=!{timestamp:yyyy}/month=!{timestamp:MM}/",
        ErrorOutputPrefix="errors/!{firehose:error-output-type}/",
        CompressionFormat="GZIP",
    )
    firehose.put_record_batch(
        DeliveryStreamName="expr", Records=[{"Data": b"a\n"}, {"Data": b"b\n"}]
    )
    now = datetime.now(UTC)
    (obj,) = _wait_for_objects(s3, "fh-expr", "events/", 1)
    assert obj["Key"].startswith(f"events/year={now:%Y}/month={now:%m}/expr-1-")
    assert obj["Key"].endswith(".gz")
    data = s3.get_object(Bucket="fh-expr", Key=obj["Key"])["Body"].read()
    assert gzip.decompress(data) == b"a\nb\n"


def test_parquet_conversion_is_queryable_and_keeps_the_table_in_sync(
    firehose: Any, s3: Any, client: ClientFactory
) -> None:
    glue, athena = client("glue"), client("athena")
    s3.create_bucket(Bucket="fh-parquet")
    glue.create_database(DatabaseInput={"Name": "streams"})
    glue.create_table(
        DatabaseName="streams",
        TableInput={
            "Name": "readings",
            "StorageDescriptor": {
                "Columns": [
                    {"Name": "sensor", "Type": "string"},
                    {"Name": "value", "Type": "double"},
                    {"Name": "ok", "Type": "boolean"},
                ]
            },
            "PartitionKeys": [{"Name": "dt", "Type": "string"}],
        },
    )
    conversion = {
        "Enabled": True,
        "SchemaConfiguration": {
            "DatabaseName": "streams",
            "TableName": "readings",
            "RoleARN": ROLE,
        },
        "InputFormatConfiguration": {"Deserializer": {"OpenXJsonSerDe": {}}},
        "OutputFormatConfiguration": {"Serializer": {"ParquetSerDe": {}}},
    }
    _create(
        firehose,
        "readings",
        BucketARN="arn:aws:s3:::fh-parquet",
        Prefix="readings/dt=!{timestamp:yyyy-MM-dd}/",
        ErrorOutputPrefix="failed/!{firehose:error-output-type}/",
        DataFormatConversionConfiguration=conversion,
    )
    good = [{"Sensor": f"s{i % 3}", "value": i / 2, "ok": i % 2 == 0} for i in range(60)]
    records = [{"Data": json.dumps(r).encode()} for r in good]
    records.append({"Data": b"not json"})
    records.append({"Data": json.dumps({"sensor": "x", "value": "high"}).encode()})
    firehose.put_record_batch(DeliveryStreamName="readings", Records=records)

    _wait_for_objects(s3, "fh-parquet", "readings/", 1)
    (error,) = _wait_for_objects(s3, "fh-parquet", "failed/format-conversion-failed/", 1)
    docs = s3.get_object(Bucket="fh-parquet", Key=error["Key"])["Body"].read().splitlines()
    assert len(docs) == 2
    assert "not valid JSON" in json.loads(docs[0])["errorMessage"]
    assert "value" in json.loads(docs[1])["errorMessage"]

    table = glue.get_table(DatabaseName="streams", Name="readings")["Table"]
    assert table["StorageDescriptor"]["Location"] == "s3://fh-parquet/readings/"
    assert "parquet" in table["StorageDescriptor"]["InputFormat"].lower()
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    partitions = glue.get_partitions(DatabaseName="streams", TableName="readings")["Partitions"]
    assert [p["Values"] for p in partitions] == [[today]]

    started = athena.start_query_execution(
        QueryString="SELECT sensor, count(*) AS n, sum(value) AS total, "
        "count_if(ok) AS oks FROM readings GROUP BY sensor ORDER BY sensor",
        QueryExecutionContext={"Database": "streams"},
        ResultConfiguration={"OutputLocation": "s3://fh-parquet/athena-results/"},
    )
    query_id = started["QueryExecutionId"]
    deadline = time.monotonic() + 30
    while True:
        state = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        if state["Status"]["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            break
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert state["Status"]["State"] == "SUCCEEDED", state["Status"]
    rows = athena.get_query_results(QueryExecutionId=query_id)["ResultSet"]["Rows"][1:]
    got = [[c.get("VarCharValue") for c in row["Data"]] for row in rows]
    expected = []
    for sensor in ("s0", "s1", "s2"):
        mine = [r for r in good if r["Sensor"] == sensor]
        total = sum(r["value"] for r in mine)
        oks = sum(1 for r in mine if r["ok"])
        expected.append([sensor, str(len(mine)), str(total), str(oks)])
    assert got == expected


def test_bad_input_is_refused_with_the_reason(firehose: Any, s3: Any) -> None:
    s3.create_bucket(Bucket="fh-limits")
    _create(firehose, "limits", BucketARN="arn:aws:s3:::fh-limits")
    with pytest.raises(ClientError) as too_big:
        firehose.put_record_batch(
            DeliveryStreamName="limits",
            Records=[{"Data": b"ok"}, {"Data": b"x" * 1_024_001}],
        )
    assert too_big.value.response["Error"]["Code"] == "ValidationException"
    assert "records.2.member.data" in too_big.value.response["Error"]["Message"]
    assert "1024000" in too_big.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as too_many:
        firehose.put_record_batch(DeliveryStreamName="limits", Records=[{"Data": b"r"}] * 501)
    assert "less than or equal to 500" in too_many.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as too_large:
        firehose.put_record_batch(
            DeliveryStreamName="limits", Records=[{"Data": b"y" * 1_000_000}] * 5
        )
    assert too_large.value.response["Error"]["Code"] == "InvalidArgumentException"
    assert "4 MB" in too_large.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as missing:
        firehose.put_record(DeliveryStreamName="nope", Record={"Data": b"x"})
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as taken:
        _create(firehose, "limits", BucketARN="arn:aws:s3:::fh-limits")
    assert taken.value.response["Error"]["Code"] == "ResourceInUseException"
    with pytest.raises(ClientError) as no_bucket:
        _create(firehose, "nobucket", BucketARN="arn:aws:s3:::does-not-exist")
    assert no_bucket.value.response["Error"]["Code"] == "NoSuchBucket"
    with pytest.raises(ClientError) as expression:
        _create(
            firehose,
            "badprefix",
            BucketARN="arn:aws:s3:::fh-limits",
            Prefix="x/!{timestamp:yyyy}/",
        )
    assert expression.value.response["Error"]["Code"] == "InvalidArgumentException"
    assert "ErrorOutputPrefix" in expression.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as pattern:
        _create(
            firehose,
            "badpattern",
            BucketARN="arn:aws:s3:::fh-limits",
            Prefix="x/!{timestamp:QQ}/",
            ErrorOutputPrefix="e/!{firehose:error-output-type}/",
        )
    assert "Unsupported field 'QQ'" in pattern.value.response["Error"]["Message"]
    names = firehose.list_delivery_streams()["DeliveryStreamNames"]
    assert "badprefix" not in names
    assert "nobucket" not in names


def test_tags_and_delete(firehose: Any, s3: Any) -> None:
    s3.create_bucket(Bucket="fh-tags")
    _create(firehose, "tagged", BucketARN="arn:aws:s3:::fh-tags")
    firehose.tag_delivery_stream(
        DeliveryStreamName="tagged", Tags=[{"Key": "team", "Value": "data"}]
    )
    tags = firehose.list_tags_for_delivery_stream(DeliveryStreamName="tagged")["Tags"]
    assert tags == [{"Key": "team", "Value": "data"}]
    firehose.put_record(DeliveryStreamName="tagged", Record={"Data": b"last words"})
    firehose.delete_delivery_stream(DeliveryStreamName="tagged")
    assert "tagged" not in firehose.list_delivery_streams()["DeliveryStreamNames"]
    with pytest.raises(ClientError) as gone:
        firehose.describe_delivery_stream(DeliveryStreamName="tagged")
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException"
    (obj,) = _wait_for_objects(s3, "fh-tags", "", 1)
    assert s3.get_object(Bucket="fh-tags", Key=obj["Key"])["Body"].read() == b"last words"
