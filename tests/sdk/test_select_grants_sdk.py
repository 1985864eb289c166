"""Object select and table grants through the native SDK (in-process server)."""

from __future__ import annotations

import bz2
import gzip
import json

import pytest

from lakeworks.core.errors import AccessDenied, NotFound, ValidationError
from lakeworks.sdk.client import Client
from lakeworks.testing import InProcessServer

BUCKET = "native-select"
PEOPLE = b"name,age\nann,31\nbob,25\ncid,40\n"
ALICE = "arn:aws:iam::000000000000:user/alice"


def test_select_csv_json_and_stats(lake_client: Client) -> None:
    lake_client.buckets.create(BUCKET)
    lake_client.objects.put(BUCKET, "people.csv", PEOPLE)
    result = lake_client.objects.select(
        BUCKET,
        "people.csv",
        "SELECT s.name, CAST(s.age AS INT) AS age FROM S3Object s WHERE CAST(s.age AS INT) > 30",
        input_serialization={"csv": {"file_header_info": "USE"}},
        output_serialization={"json": {}},
    )
    assert [json.loads(line) for line in result.records.splitlines()] == [
        {"name": "ann", "age": 31},
        {"name": "cid", "age": 40},
    ]
    assert result.stats.bytes_scanned == result.stats.bytes_processed == len(PEOPLE)
    assert result.stats.bytes_returned == len(result.records.encode())

    # the header still names the columns when the scan range starts past it
    ranged = lake_client.objects.select(
        BUCKET,
        "people.csv",
        "SELECT s.name FROM S3Object s",
        input_serialization={"csv": {"file_header_info": "USE"}},
        scan_range={"start": 10, "end": 20},
    )
    assert ranged.records == "bob\n"

    lake_client.objects.put(BUCKET, "people.csv.gz", gzip.compress(PEOPLE))
    result = lake_client.objects.select(
        BUCKET,
        "people.csv.gz",
        "SELECT COUNT(*) FROM S3Object",
        input_serialization={"csv": {"file_header_info": "IGNORE"}, "compression_type": "GZIP"},
    )
    assert result.records == "3\n"
    assert result.stats.bytes_processed == len(PEOPLE)

    # rows starting with the comment character (S3's default "#") are skipped, a "#" inside
    # a row is data; bzip2 streams are read like gzip ones
    notes = b"# exported 2024\nann,flat #3\n;bob,house\n"
    lake_client.objects.put(BUCKET, "notes.csv.bz2", bz2.compress(notes))
    result = lake_client.objects.select(
        BUCKET,
        "notes.csv.bz2",
        "SELECT s._2 FROM S3Object s",
        input_serialization={"csv": {}, "compression_type": "BZIP2"},
    )
    assert result.records == "flat #3\nhouse\n"
    result = lake_client.objects.select(
        BUCKET,
        "notes.csv.bz2",
        "SELECT COUNT(*) FROM S3Object",
        input_serialization={"csv": {"comments": ";"}, "compression_type": "BZIP2"},
    )
    assert result.records == "2\n"

    # CRLF records, a quoted field spanning lines, a ragged row
    lake_client.objects.put(BUCKET, "crlf.csv", b'a,b\r\n"x\r\ny",2\r\nz\r\n')
    result = lake_client.objects.select(
        BUCKET,
        "crlf.csv",
        "SELECT s.a, s.b FROM S3Object s",
        input_serialization={"csv": {"file_header_info": "USE", "record_delimiter": "\r\n"}},
        output_serialization={"json": {}},
    )
    assert [json.loads(line) for line in result.records.splitlines()] == [
        {"a": "x\r\ny", "b": "2"},
        {"a": "z", "b": None},
    ]

    with pytest.raises(ValidationError) as bad:
        lake_client.objects.select(BUCKET, "people.csv", "SELECT s._1 FROM S3Object s GROUP BY 1")
    assert bad.value.aws_code == "UnsupportedSqlStructure"
    assert "GROUP" in bad.value.message
    assert "line 1, column 29" in bad.value.message
    with pytest.raises(ValidationError) as unknown_field:
        lake_client.objects.select(
            BUCKET, "people.csv", "SELECT * FROM S3Object", input_serialization={"xml": {}}
        )
    assert "xml" in unknown_field.value.message
    with pytest.raises(NotFound):
        lake_client.objects.select(BUCKET, "missing.csv", "SELECT * FROM S3Object")
    # an object that is not what the request says it is
    for serialization, code in [
        ({"json": {"type": "LINES"}}, "JSONParsingError"),
        ({"parquet": {}}, "ParquetParsingError"),
    ]:
        with pytest.raises(ValidationError) as wrong:
            lake_client.objects.select(
                BUCKET, "notes.csv.bz2", "SELECT * FROM S3Object", input_serialization=serialization
            )
        assert wrong.value.aws_code == code


def test_native_grants(server: InProcessServer, client: Client) -> None:
    client.sql("CREATE DATABASE staff")
    client.buckets.create("native-grants")
    client.objects.put("native-grants", "t/part.csv", b"1,a\n2,b\n")
    client.sql(
        "CREATE EXTERNAL TABLE pay (id int, code string) ROW FORMAT DELIMITED FIELDS "
        "TERMINATED BY ',' LOCATION 's3://native-grants/t/'",
        database="staff",
    )
    alice = Client(http=server.client, token=client.tokens.create("alice", ["read"]).token)
    bob = Client(http=server.client, token=client.tokens.create("bob", ["read"]).token)
    assert bob.sql("SELECT count(*) AS n FROM pay", "staff").to_pylist() == [{"n": 2}]

    client.catalog.grants.create(ALICE, ["SELECT"], database="staff", table="pay")
    assert alice.sql("SELECT max(id) AS top FROM pay", "staff").to_pylist() == [{"top": 2}]
    with pytest.raises(AccessDenied) as denied:
        bob.sql("SELECT * FROM pay", "staff")
    assert denied.value.status == 403
    assert "SELECT on table staff.pay" in denied.value.message
    with pytest.raises(AccessDenied):
        bob.catalog.grants.create(ALICE, ["ALL"], database="staff", table="pay")

    listed = list(client.catalog.grants.list(database="staff", table="pay"))
    assert [(g.principal, g.permissions) for g in listed] == [(ALICE, ["SELECT"])]
    assert list(bob.catalog.grants.list()) == []
    with pytest.raises(ValidationError) as bad:
        client.catalog.grants.create(
            ALICE, ["DESCRIBE"], database="staff", table=None, grantable=["DROP"]
        )
    assert "PermissionsWithGrantOption" in bad.value.message

    client.catalog.grants.revoke(ALICE, ["SELECT"], database="staff", table="pay")
    assert list(client.catalog.grants.list(principal=ALICE)) == []
    assert bob.sql("SELECT count(*) AS n FROM pay", "staff").to_pylist() == [{"n": 2}]

    # a dropped table takes its grants along: a new table of that name starts open
    client.catalog.grants.create(ALICE, ["SELECT"], database="staff", table="pay")
    client.sql("DROP TABLE pay", database="staff")
    assert list(client.catalog.grants.list(database="staff")) == []
