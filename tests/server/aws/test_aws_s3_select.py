"""S3 SelectObjectContent through boto3 against a real server: CSV (with and without a header,
gzip), JSON lines, Parquet, statistics, bad SQL, bucket policies and encrypted objects."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Callable
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from botocore.exceptions import ClientError, EventStreamError

from lakeworks.testing.datasets import book_dataset
from lakeworks.testing.process import ServerProcess

pytestmark = pytest.mark.slow

BUCKET = "select-data"
CSV_NO_HEADER = b"ann,31,Paris\nbob,25,Oslo\ncid,40,Lima\n"
JSON_LINES = b'{"name":"ann","age":31,"tags":["a","b"]}\n{"name":"bob","age":25,"tags":["c"]}\n'


def select(s3: Any, key: str, expression: str, **kwargs: Any) -> tuple[bytes, dict[str, int]]:
    """Run a select; returns the concatenated records and the Stats details."""
    kwargs.setdefault("InputSerialization", {"CSV": {"FileHeaderInfo": "NONE"}})
    kwargs.setdefault("OutputSerialization", {"CSV": {}})
    response = s3.select_object_content(
        Bucket=BUCKET, Key=key, Expression=expression, ExpressionType="SQL", **kwargs
    )
    records, stats, ended = b"", {}, False
    for event in response["Payload"]:
        if "Records" in event:
            records += event["Records"]["Payload"]
        elif "Stats" in event:
            stats = event["Stats"]["Details"]
        elif "End" in event:
            ended = True
    assert ended, "the stream must finish with an End event"
    return records, stats


def _error(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response = caught.value.response
    return (
        response["Error"]["Code"],
        response["Error"]["Message"],
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


@pytest.fixture(scope="module")
def data(s3: Any) -> dict[str, bytes]:
    """The objects the tests select from."""
    houses = book_dataset("house-prices.csv").read_bytes()
    wine = book_dataset("winemag-data_first150k.csv.gz").read_bytes()
    table = pa.table({"id": [1, 2, 3, 4], "score": [0.5, 1.5, 2.5, 3.5], "kind": list("abab")})
    sink = io.BytesIO()
    pq.write_table(table, sink)
    objects = {
        "plain.csv": CSV_NO_HEADER,
        "houses.csv": houses,
        "wine.csv.gz": wine,
        "people.jsonl": JSON_LINES,
        "scores.parquet": sink.getvalue(),
    }
    s3.create_bucket(Bucket=BUCKET)
    for key, body in objects.items():
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    return objects


def test_csv_without_header_by_position(s3: Any, data: dict[str, bytes]) -> None:
    out, stats = select(
        s3, "plain.csv", "SELECT s._1, s._3 FROM S3Object s WHERE CAST(s._2 AS INT) > 30"
    )
    assert out == b"ann,Paris\ncid,Lima\n"
    size = len(data["plain.csv"])
    assert stats == {"BytesScanned": size, "BytesProcessed": size, "BytesReturned": len(out)}
    response = s3.select_object_content(
        Bucket=BUCKET,
        Key="plain.csv",
        Expression="SELECT s._1 FROM S3Object s",
        ExpressionType="SQL",
        InputSerialization={"CSV": {}},
        OutputSerialization={"CSV": {"FieldDelimiter": "|", "RecordDelimiter": ";"}},
        RequestProgress={"Enabled": True},
    )
    events = list(response["Payload"])
    assert [next(iter(e)) for e in events] == ["Records", "Progress", "Stats", "End"]
    assert events[0]["Records"]["Payload"] == b"ann;bob;cid;"
    assert events[1]["Progress"]["Details"]["BytesProcessed"] == size


def test_csv_with_header_by_name_and_aggregates(s3: Any, data: dict[str, bytes]) -> None:
    rows = list(csv.DictReader(io.StringIO(data["houses.csv"].decode())))
    pool = [r for r in rows if r["PoolArea"] != "0"]
    out, _ = select(
        s3,
        "houses.csv",
        'SELECT COUNT(*), SUM(CAST(s."SalePrice" AS INT)), MAX(CAST(s.SalePrice AS INT)) '
        "FROM S3Object s WHERE s.PoolArea <> '0'",
        InputSerialization={"CSV": {"FileHeaderInfo": "USE"}},
        OutputSerialization={"JSON": {}},
    )
    assert json.loads(out) == {
        "_1": len(pool),
        "_2": sum(int(r["SalePrice"]) for r in pool),
        "_3": max(int(r["SalePrice"]) for r in pool),
    }
    # positions still work with a header, and names come out in JSON
    out, _ = select(
        s3,
        "houses.csv",
        "SELECT s.Id, s._81 AS price FROM S3Object s LIMIT 2",
        InputSerialization={"CSV": {"FileHeaderInfo": "USE"}},
        OutputSerialization={"JSON": {}},
    )
    assert [json.loads(line) for line in out.splitlines()] == [
        {"Id": rows[0]["Id"], "price": rows[0]["SalePrice"]},
        {"Id": rows[1]["Id"], "price": rows[1]["SalePrice"]},
    ]
    # IGNORE skips the header line and leaves only positions
    out, _ = select(
        s3,
        "houses.csv",
        "SELECT COUNT(*) FROM S3Object",
        InputSerialization={"CSV": {"FileHeaderInfo": "IGNORE"}},
    )
    assert out == f"{len(rows)}\n".encode()


def test_gzip_csv_with_semicolons(s3: Any, data: dict[str, bytes]) -> None:
    text = gzip.decompress(data["wine.csv.gz"]).decode()
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    expected = sum(1 for r in rows if r["country"] == "Italy")
    out, stats = select(
        s3,
        "wine.csv.gz",
        "SELECT COUNT(*) FROM S3Object s WHERE s.country = 'Italy'",
        InputSerialization={
            "CSV": {"FileHeaderInfo": "USE", "FieldDelimiter": ";"},
            "CompressionType": "GZIP",
        },
    )
    assert out == f"{expected}\n".encode()
    assert stats["BytesScanned"] == len(data["wine.csv.gz"])
    assert stats["BytesProcessed"] == len(text.encode())


def test_json_lines_and_parquet(s3: Any, data: dict[str, bytes]) -> None:
    out, _ = select(
        s3,
        "people.jsonl",
        "SELECT s.name, s.tags[0] AS first_tag FROM S3Object[*] s WHERE s.age < 30",
        InputSerialization={"JSON": {"Type": "LINES"}},
        OutputSerialization={"JSON": {"RecordDelimiter": ","}},
    )
    assert out == b'{"name":"bob","first_tag":"c"},'
    out, _ = select(
        s3,
        "scores.parquet",
        "SELECT s.kind, s.score FROM S3Object s WHERE s.id >= 3",
        InputSerialization={"Parquet": {}},
        OutputSerialization={"CSV": {"QuoteFields": "ALWAYS"}},
    )
    assert out == b'"a","2.5"\n"b","3.5"\n'


def test_scan_range_reads_records_starting_in_it(s3: Any, data: dict[str, bytes]) -> None:
    # "bob,25,Oslo\n" starts at byte 13; a range from 5 to 14 holds only its start
    out, stats = select(
        s3, "plain.csv", "SELECT s._1 FROM S3Object s", ScanRange={"Start": 5, "End": 14}
    )
    assert out == b"bob\n"
    assert stats["BytesProcessed"] == len(b"bob,25,Oslo\n")


def test_large_output_comes_in_several_records_events(s3: Any, data: dict[str, bytes]) -> None:
    response = s3.select_object_content(
        Bucket=BUCKET,
        Key="houses.csv",
        Expression="SELECT * FROM S3Object",
        ExpressionType="SQL",
        InputSerialization={"CSV": {"FileHeaderInfo": "NONE"}},
        OutputSerialization={"CSV": {}},
    )
    chunks = [e["Records"]["Payload"] for e in response["Payload"] if "Records" in e]
    assert len(chunks) > 1
    assert b"".join(chunks).decode().splitlines() == data["houses.csv"].decode().splitlines()


@pytest.mark.parametrize(
    ("expression", "code", "fragment"),
    [
        ("SELECT s._1 FORM S3Object s", "ParseUnexpectedToken", "line 1, column 18"),
        ("SELECT * FROM S3Object s ORDER BY s._1", "UnsupportedSqlStructure", "ORDER"),
        ("SELECT read_text('/etc/passwd') FROM S3Object", "UnsupportedFunction", "read_text"),
        ("SELECT s._7 FROM S3Object s", "InvalidColumnIndex", "_1 to _3"),
        ("SELECT * FROM elsewhere", "InvalidDataSource", "S3Object"),
        ("SELECT SUM(s._2) FROM S3Object s", "IncorrectSqlFunctionArgumentType", "CAST"),
        ("SELECT CAST(s._1 AS INT) FROM S3Object s", "CastFailed", "ann"),
    ],
)
def test_bad_sql_is_a_400_with_s3_select_codes(
    s3: Any, data: dict[str, bytes], expression: str, code: str, fragment: str
) -> None:
    with pytest.raises(ClientError) as caught:
        select(s3, "plain.csv", expression)
    got_code, message, status = _error(caught)
    assert (got_code, status) == (code, 400)
    assert fragment in message


def test_bad_serializations_say_what_is_allowed(s3: Any, data: dict[str, bytes]) -> None:
    with pytest.raises(ClientError) as caught:
        select(
            s3,
            "plain.csv",
            "SELECT * FROM S3Object",
            InputSerialization={"CSV": {"FileHeaderInfo": "MAYBE"}},
        )
    assert _error(caught)[0] == "InvalidFileHeaderInfo"
    assert "USE, IGNORE or NONE" in _error(caught)[1]
    with pytest.raises(ClientError) as caught:
        select(
            s3,
            "plain.csv",
            "SELECT * FROM S3Object",
            InputSerialization={"CSV": {}, "CompressionType": "GZIP"},
        )
    assert _error(caught)[:1] == ("InvalidCompressionFormat",)
    with pytest.raises(ClientError) as caught:
        select(s3, "nothing-here.csv", "SELECT * FROM S3Object")
    assert _error(caught)[0] == "NoSuchKey"


def test_policy_denied_select_and_encrypted_objects(
    aws_server: ServerProcess, client: Callable[..., Any], s3: Any, data: dict[str, bytes]
) -> None:
    s3.put_object(
        Bucket=BUCKET, Key="secret/plain.csv", Body=CSV_NO_HEADER, ServerSideEncryption="AES256"
    )
    out, _ = select(s3, "secret/plain.csv", "SELECT COUNT(*) FROM S3Object")
    assert out == b"3\n"
    keys = httpx.post(
        f"{aws_server.url}/api/v1/access-keys",
        json={"principal": "selector", "scopes": ["read"]},
        headers={"Authorization": f"Bearer {aws_server.token}"},
    ).json()
    reader = client("s3", key_id=keys["access_key_id"], secret=keys["secret_access_key"])
    out, _ = select(reader, "plain.csv", "SELECT s._1 FROM S3Object s LIMIT 1")
    assert out == b"ann\n"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "NoSecrets",
                "Effect": "Deny",
                "Principal": {"AWS": "arn:aws:iam::000000000000:user/selector"},
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{BUCKET}/secret/*",
            }
        ],
    }
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy))
    try:
        with pytest.raises(ClientError) as caught:
            select(reader, "secret/plain.csv", "SELECT * FROM S3Object")
        code, message, status = _error(caught)
        assert (code, status) == ("AccessDenied", 403)
        assert "NoSecrets" in message
        assert select(s3, "secret/plain.csv", "SELECT s._2 FROM S3Object s LIMIT 1")[0] == b"31\n"
    finally:
        s3.delete_bucket_policy(Bucket=BUCKET)


def test_mid_stream_failure_is_an_error_event(s3: Any, data: dict[str, bytes]) -> None:
    # the bad value sits far past the first batch of rows, so the stream has started
    body = b"".join(b"%d\n" % i for i in range(300_000)) + b"oops\n"
    s3.put_object(Bucket=BUCKET, Key="late-error.csv", Body=body)
    response = s3.select_object_content(
        Bucket=BUCKET,
        Key="late-error.csv",
        Expression="SELECT CAST(s._1 AS INT) FROM S3Object s",
        ExpressionType="SQL",
        InputSerialization={"CSV": {}},
        OutputSerialization={"CSV": {}},
    )
    try:
        with pytest.raises(EventStreamError) as caught:
            for _ in response["Payload"]:
                pass
    finally:
        response["Payload"].close()
    assert "CastFailed" in str(caught.value)
    assert "oops" in str(caught.value)
