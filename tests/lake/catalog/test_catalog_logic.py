"""Pure logic of the catalog: types, names, formats, partition filters, cron schedules."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest

from lakeworks.core.errors import ValidationError
from lakeworks.lake.catalog.cron import parse_cron
from lakeworks.lake.catalog.expressions import parse_filter
from lakeworks.lake.catalog.formats import (
    LAZY_SIMPLE_SERDE,
    OPEN_CSV_SERDE,
    PARQUET_SERDE,
    DataFormat,
    descriptor_for,
    format_of,
    table_parameters,
)
from lakeworks.lake.catalog.names import catalog_name, sanitize_name, workgroup_name
from lakeworks.lake.catalog.types import (
    arrow_to_hive,
    athena_result_type,
    duckdb_to_hive,
    infer_value,
    merge_types,
    parse_type,
    to_duckdb,
)
from lakeworks.schemas.catalog import SerDeInfo, StorageDescriptor, Table, TableColumn, to_aws


@pytest.mark.parametrize(
    ("hive", "duck"),
    [
        ("string", "VARCHAR"),
        ("BIGINT", "BIGINT"),
        ("int", "INTEGER"),
        ("decimal(10,2)", "DECIMAL(10,2)"),
        ("decimal", "DECIMAL(10,0)"),
        ("varchar(20)", "VARCHAR"),
        ("array<string>", "VARCHAR[]"),
        ("map<string,int>", "MAP(VARCHAR, INTEGER)"),
        ("struct<a:int,b:array<double>>", 'STRUCT("a" INTEGER, "b" DOUBLE[])'),
        ("timestamp", "TIMESTAMP"),
    ],
)
def test_hive_types_map_to_duckdb(hive: str, duck: str) -> None:
    assert to_duckdb(hive) == duck


@pytest.mark.parametrize(
    "bad", ["", "strin", "decimal(40,2)", "decimal(5,6)", "array<int", "int(3)", "map<int>"]
)
def test_bad_types_are_refused_with_the_rule(bad: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_type(bad)
    assert caught.value.aws_code == "InvalidInputException"


def test_type_round_trip_and_result_types() -> None:
    assert str(parse_type("struct< A : int , b:map<string,decimal(4,1)> >")) == (
        "struct<a:int,b:map<string,decimal(4,1)>>"
    )
    assert athena_result_type("HUGEINT") == ("bigint", 19, 0)
    assert athena_result_type("DECIMAL(18,3)") == ("decimal", 18, 3)
    assert athena_result_type("INTEGER[]")[0] == "array"
    assert duckdb_to_hive("DECIMAL(9,2)") == "decimal(9,2)"
    assert duckdb_to_hive("VARCHAR[]") == "array<string>"
    assert arrow_to_hive(pa.list_(pa.struct([("X", pa.int32())]))) == "array<struct<x:int>>"
    assert arrow_to_hive(pa.dictionary(pa.int8(), pa.string())) == "string"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("42", "bigint"),
        ("-7", "bigint"),
        ("99999999999999999999", "double"),
        ("3.5", "double"),
        ("1e3", "double"),
        ("TRUE", "boolean"),
        ("2024-02-29", "date"),
        ("2024-13-01", "string"),
        ("2024-01-31 12:00:00.5", "timestamp"),
        ("NA", "string"),
        ("  ", None),
    ],
)
def test_value_inference(text: str, kind: str | None) -> None:
    assert infer_value(text) == kind


def test_type_widening() -> None:
    assert merge_types("bigint", "double") == "double"
    assert merge_types("date", "timestamp") == "timestamp"
    assert merge_types(None, "bigint") == "bigint"
    assert merge_types("boolean", None) == "boolean"
    assert merge_types("bigint", "string") is None


def test_names_are_lower_cased_and_checked() -> None:
    assert catalog_name("Sales_2024", "table") == "sales_2024"
    for bad in ("", "-x", "a b", "a.b", "x" * 256, 3):
        with pytest.raises(ValidationError, match="letters, digits"):
            catalog_name(bad, "table")
    assert sanitize_name("Sales Data-2024!", prefix="raw_") == "raw_sales_data_2024"
    assert len(sanitize_name("x" * 400)) <= 255
    assert workgroup_name("team.a-1") == "team.a-1"
    with pytest.raises(ValidationError):
        workgroup_name("has space")


def test_formats_round_trip_through_descriptors() -> None:
    csv = DataFormat("csv", delimiter=";", header_lines=1, compression="gzip")
    descriptor = descriptor_for(csv, [TableColumn(name="a", type="bigint")], "s3://b/t/")
    assert descriptor.serde_info is not None
    assert descriptor.serde_info.serialization_library == LAZY_SIMPLE_SERDE
    assert descriptor.serde_info.parameters == {"field.delim": ";"}
    params = table_parameters(csv)
    assert params["skip.header.line.count"] == "1"
    assert params["classification"] == "csv"
    assert format_of(descriptor, params) == DataFormat(
        "csv", delimiter=";", header_lines=1, compression="gzip"
    )
    quoted = descriptor_for(DataFormat("csv", quote='"'), [], "s3://b/t/")
    assert quoted.serde_info is not None
    assert quoted.serde_info.serialization_library == OPEN_CSV_SERDE
    assert format_of(quoted, {}).quote == '"'
    parquet = descriptor_for(DataFormat("parquet"), [], "s3://b/t/")
    assert parquet.serde_info is not None
    assert parquet.serde_info.serialization_library == PARQUET_SERDE
    assert format_of(parquet, {}).kind == "parquet"


def test_unknown_serde_is_refused() -> None:
    descriptor = StorageDescriptor(serde_info=SerDeInfo(serialization_library="x.OrcSerde"))
    with pytest.raises(ValidationError, match="cannot read tables stored with SerDe"):
        format_of(descriptor, {})
    with pytest.raises(ValidationError, match=r"skip\.header\.line\.count"):
        format_of(StorageDescriptor(input_format="Text"), {"skip.header.line.count": "x"})


def test_aws_names() -> None:
    table = Table(
        name="t",
        database_name="d",
        create_time=datetime(2024, 1, 1, tzinfo=UTC),
        update_time=datetime(2024, 1, 1, tzinfo=UTC),
        catalog_id="000000000000",
        version_id="0",
        storage_descriptor=StorageDescriptor(
            serde_info=SerDeInfo(parameters={"field.delim": ","}), location="s3://b/t/"
        ),
        parameters={"skip.header.line.count": "1"},
    )
    rendered = to_aws(table)
    assert rendered["StorageDescriptor"]["SerdeInfo"]["Parameters"] == {"field.delim": ","}
    assert rendered["Parameters"] == {"skip.header.line.count": "1"}
    assert rendered["VersionId"] == "0"
    assert "Description" not in rendered


KEYS = [("year", "string"), ("month", "int")]


@pytest.mark.parametrize(
    ("expression", "values", "expected"),
    [
        ("year='2024' AND month=1", ["2024", "01"], True),
        ("year='2024' AND month=2", ["2024", "01"], False),
        ("year = '2023' OR month > 6", ["2024", "07"], True),
        ("NOT (year <> '2024')", ["2024", "1"], True),
        ("month IN (1, 2, 3)", ["2024", "3"], True),
        ("month NOT IN (1, 2)", ["2024", "1"], False),
        ("month BETWEEN 2 AND 11", ["2024", "12"], False),
        ("year LIKE '20%'", ["2024", "1"], True),
        ("`year` = '2024'", ["2024", "1"], True),
        ("month >= 10", ["2024", "9"], False),
        ("year IS NOT NULL", ["2024", "9"], True),
    ],
)
def test_partition_filters(expression: str, values: list[str], expected: bool) -> None:
    assert parse_filter(expression, KEYS).matches(values) is expected


@pytest.mark.parametrize(
    ("expression", "position"),
    [("year = ", 8), ("colour = 'red'", 1), ("year == '1'", 7), ("year = '1' AND", 15)],
)
def test_bad_partition_filters_name_the_position(expression: str, position: int) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_filter(expression, KEYS)
    assert caught.value.details["position"] == position
    assert caught.value.aws_code == "InvalidInputException"


def _at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("cron(0 12 * * ? *)", _at(2024, 1, 1, 12, 0), _at(2024, 1, 2, 12, 0)),
        ("cron(0 12 * * ? *)", _at(2024, 1, 1, 11, 59, 30), _at(2024, 1, 1, 12, 0)),
        ("cron(*/15 * * * ? *)", _at(2024, 1, 1, 10, 7), _at(2024, 1, 1, 10, 15)),
        ("cron(0 9 ? * MON-FRI *)", _at(2024, 1, 5, 10, 0), _at(2024, 1, 8, 9, 0)),
        ("cron(30 1 L * ? *)", _at(2024, 2, 3, 0, 0), _at(2024, 2, 29, 1, 30)),
        ("cron(0 0 ? * 6#3 *)", _at(2024, 1, 1, 0, 0), _at(2024, 1, 19, 0, 0)),
        ("cron(0 0 ? * 2L *)", _at(2024, 1, 1, 0, 0), _at(2024, 1, 29, 0, 0)),
        ("cron(0 0 15W * ? *)", _at(2024, 6, 1, 0, 0), _at(2024, 6, 14, 0, 0)),
        ("cron(0 0 1 JAN ? 2025)", _at(2024, 3, 1, 0, 0), _at(2025, 1, 1, 0, 0)),
    ],
)
def test_cron_next_fire_time(expression: str, after: datetime, expected: datetime) -> None:
    assert parse_cron(expression).next_after(after) == expected


def test_cron_without_future_fire_is_none() -> None:
    assert parse_cron("cron(0 0 1 1 ? 2020)").next_after(_at(2024, 1, 1)) is None


@pytest.mark.parametrize(
    "bad",
    [
        "rate(5 minutes)",
        "cron(0 12 * * *)",
        "cron(0 12 * * * *)",
        "cron(0 12 ? * ? *)",
        "cron(60 12 * * ? *)",
        "cron(0 12 * FOO ? *)",
        "cron(0 12 ? * 9 *)",
    ],
)
def test_bad_cron_is_refused_with_the_rule(bad: str) -> None:
    with pytest.raises(ValidationError, match=r"cron\(Minutes Hours"):
        parse_cron(bad)
