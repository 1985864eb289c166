"""Classifying files like Glue's built-in classifiers, parsing Athena DDL, writing results."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakeworks.core.errors import ValidationError
from lakeworks.lake.catalog import ddl
from lakeworks.lake.catalog.classify import classify_parquet, classify_text
from lakeworks.lake.catalog.results import parse_csv_rows, parse_txt_rows, to_athena_csv

BOOK = Path("/work/shared/datasets/book")


def test_book_csv_with_quotes_uses_open_csv() -> None:
    schema = classify_text((BOOK / "wine-canvas.csv").read_bytes(), complete=True)
    assert schema.fmt is not None
    assert (schema.fmt.delimiter, schema.fmt.quote, schema.fmt.header_lines) == (",", '"', 1)
    assert schema.columns[:4] == [
        ("country", "string"),
        ("designation", "string"),
        ("points", "double"),
        ("price", "double"),
    ]
    assert schema.issues == []


def test_gzipped_semicolon_csv() -> None:
    head = (BOOK / "winemag-data_first150k.csv.gz").read_bytes()[: 1024 * 1024]
    schema = classify_text(head, complete=False)
    assert schema.fmt is not None
    assert (schema.fmt.delimiter, schema.fmt.compression, schema.fmt.quote) == (";", "gzip", None)
    assert ("points", "bigint") in schema.columns
    assert ("last_year_points", "bigint") in schema.columns


def test_mixed_types_are_reported_with_line() -> None:
    schema = classify_text((BOOK / "house-prices.csv").read_bytes(), complete=True)
    assert ("lotfrontage", "string") in schema.columns
    assert ("lotarea", "bigint") in schema.columns
    issue = next(i for i in schema.issues if "lotfrontage" in i.message)
    assert issue.line == 9
    assert "'NA' is not bigint" in issue.message


def test_ragged_rows_are_reported_with_line() -> None:
    data = b"a|b|c\n1|2|3\n4|5\n6|7|8|9\n10|11|12\n"
    schema = classify_text(data, complete=True)
    assert schema.fmt is not None
    assert schema.fmt.delimiter == "|"
    assert [(i.line, i.message) for i in schema.issues] == [
        (3, "Row has 2 fields; the table has 3 columns"),
        (4, "Row has 4 fields; the table has 3 columns"),
    ]


def test_header_rule() -> None:
    # all strings everywhere: no header can be told apart (Glue names the columns col0...)
    no_header = classify_text(b"x,y\na,b\nc,d\n", complete=True)
    assert [n for n, _ in no_header.columns] == ["col0", "col1"]
    assert no_header.fmt is not None
    assert no_header.fmt.header_lines == 0
    numeric_first = classify_text(b"1,2\n3,4\n", complete=True)
    assert numeric_first.columns == [("col0", "bigint"), ("col1", "bigint")]
    dupes = classify_text(b"Id,id,name\n1,2,x\n", complete=True)
    assert [n for n, _ in dupes.columns] == ["id", "id_1", "name"]


def test_tab_and_timestamps() -> None:
    schema = classify_text(b"ts\tv\tok\n2024-01-01 10:00:00\t1.5\ttrue\n", complete=True)
    assert schema.columns == [("ts", "timestamp"), ("v", "double"), ("ok", "boolean")]


def test_json_lines() -> None:
    data = (
        b'{"Id": 1, "name": "a", "tags": ["x"], "geo": {"lat": 1.5}}\n'
        b'{"Id": 2.5, "name": null, "extra": true}\n'
        b"not json\n"
        b"[1, 2]\n"
    )
    schema = classify_text(data, complete=True)
    assert schema.classification == "json"
    assert schema.columns == [
        ("id", "double"),
        ("name", "string"),
        ("tags", "array<string>"),
        ("geo", "struct<lat:double>"),
        ("extra", "boolean"),
    ]
    assert [(i.line, i.severity) for i in schema.issues] == [(3, "ERROR"), (4, "ERROR")]
    assert "not valid JSON" in schema.issues[0].message


def test_unclassifiable_files() -> None:
    assert classify_text(b"", complete=True).fmt is None
    assert classify_text(b"just one column\nof text\n", complete=True).fmt is None
    assert (
        classify_text(b"\x00\x01\x02binary", complete=True)
        .issues[0]
        .message.startswith("The file is binary")
    )
    assert classify_text(b'[{"a": 1}]', complete=True).fmt is None


def test_parquet_schema_from_footer() -> None:
    sink = io.BytesIO()
    pq.write_table(pa.table({"A": [1, 2], "when": pa.array([0, 1], pa.timestamp("ms"))}), sink)
    sink.seek(0)
    schema = classify_parquet(sink)
    assert schema.columns == [("a", "bigint"), ("when", "timestamp")]
    assert schema.records == 2
    assert classify_parquet(io.BytesIO(b"PAR1 broken")).fmt is None


def test_gzip_sample_truncated_mid_stream() -> None:
    text = "a,b\n" + "".join(f"{i},{i * 0.5}\n" for i in range(200_000))
    head = gzip.compress(text.encode())[:50_000]
    schema = classify_text(head, complete=False)
    assert schema.columns == [("a", "bigint"), ("b", "double")]
    assert schema.issues == []


def test_ddl_create_external_table() -> None:
    statement = ddl.parse_statement(
        """CREATE EXTERNAL TABLE IF NOT EXISTS `Sales`.wine (
             country string COMMENT 'where', price double, tags array<struct<a:int>>)
           PARTITIONED BY (year string)
           ROW FORMAT DELIMITED FIELDS TERMINATED BY '\\t'
           STORED AS TEXTFILE
           LOCATION 's3://b/wine/'
           TBLPROPERTIES ('skip.header.line.count'='1');"""
    )
    assert isinstance(statement, ddl.CreateExternalTable)
    assert statement.table == ddl.TableName("Sales", "wine")
    assert statement.columns[0] == ("country", "string", "where")
    assert statement.columns[2][1] == "array<struct<a:int>>"
    assert statement.partition_keys == [("year", "string", None)]
    assert statement.serde_properties == {"field.delim": "\t"}
    assert statement.properties == {"skip.header.line.count": "1"}


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("CREATE TABLE t WITH (format='PARQUET') AS SELECT 1", ddl.CreateTableAs),
        ("create or replace view v as select 1", ddl.CreateView),
        ("DROP TABLE IF EXISTS awsdatacatalog.d.t", ddl.DropTable),
        ("SHOW TABLES IN d 'w*|x'", ddl.ShowTables),
        ("SHOW SCHEMAS", ddl.ShowDatabases),
        ("DESCRIBE d.t", ddl.Describe),
        ("MSCK REPAIR TABLE t", ddl.MsckRepair),
        ("ALTER TABLE t ADD PARTITION (y='1') LOCATION 's3://b/y=1/'", ddl.AlterPartitions),
        ("CREATE DATABASE IF NOT EXISTS d COMMENT 'x'", ddl.CreateDatabase),
        ("DROP SCHEMA d CASCADE", ddl.DropDatabase),
    ],
)
def test_ddl_statement_kinds(sql: str, kind: type) -> None:
    assert isinstance(ddl.parse_statement(sql), kind)


@pytest.mark.parametrize(
    "sql", ["SELECT 1", "with q as (select 1) select * from q", "EXPLAIN SELECT 1"]
)
def test_queries_are_not_ddl(sql: str) -> None:
    assert ddl.parse_statement(sql) is None


@pytest.mark.parametrize(
    ("sql", "where"),
    [
        ("CREATE EXTERNAL TABLE t (a int)", "line 1:32"),
        ("CREATE EXTERNAL TABLE t (a int)\nSTORED AS PARQUET\nLOCATIO 's3://b/'", "line 3:1"),
        ("CREATE TABLE t (a int)", "line 1:16"),
        ("ALTER TABLE t RENAME TO u", "line 1:15"),
    ],
)
def test_bad_ddl_names_line_and_column(sql: str, where: str) -> None:
    with pytest.raises(ValidationError, match=where):
        ddl.parse_statement(sql)


def test_views_are_stored_as_athena_does() -> None:
    text = ddl.encode_view("SELECT 1 AS x", "d", [("x", "int")])
    assert text.startswith("/* Presto View: ")
    assert ddl.decode_view(text) == "SELECT 1 AS x"
    assert ddl.decode_view("SELECT 2") == "SELECT 2"
    pattern = ddl.show_pattern("w*|sales")
    assert pattern is not None
    assert pattern.match("wine")
    assert pattern.match("SALES")
    assert not pattern.match("sales2")


def test_athena_csv_round_trip() -> None:
    table = pa.table(
        {
            "s": ["plain", 'with "quotes"', None, "two\nlines", ""],
            "d": [1.5, None, 2.0, float("nan"), 0.1],
            "b": [True, False, None, True, False],
            "l": [[1], None, [], [2, 3], [4]],
        }
    )
    data = to_athena_csv(table)
    assert data.splitlines()[0] == b'"s","d","b","l"'
    rows, used = parse_csv_rows(data, final=True, limit=100)
    assert used == len(data)
    assert rows[1] == ["plain", "1.5", "true", "[1]"]
    assert rows[2] == ['with "quotes"', None, "false", None]
    assert rows[3] == [None, "2.0", None, "[]"]
    assert rows[4] == ["two\nlines", "NaN", "true", "[2, 3]"]
    assert rows[5] == ["", "0.1", "false", "[4]"]
    # a buffer that ends inside a row yields the whole rows before it
    partial, consumed = parse_csv_rows(data[:30], final=False, limit=100)
    assert partial == [["s", "d", "b", "l"]]
    assert data[consumed:].startswith(b'"plain"')


def test_txt_rows() -> None:
    rows, used = parse_txt_rows(b"a\tb\nc\td\ne", final=False, limit=10, width=2)
    assert rows == [["a", "b"], ["c", "d"]]
    assert used == 8
