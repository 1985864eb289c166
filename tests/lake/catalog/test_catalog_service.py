"""Databases, tables, versions and partitions (Glue semantics) on the catalog service."""

from __future__ import annotations

import pytest

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import AccessDenied, AlreadyExists, NotFound, ValidationError
from lakeworks.lake.catalog.service import CatalogService
from lakeworks.schemas.catalog import (
    DatabaseInput,
    PartitionInput,
    StorageDescriptor,
    TableColumn,
    TableInput,
)


def _table(name: str = "Sales", *, columns: int = 2, keys: tuple[str, ...] = ()) -> TableInput:
    return TableInput(
        name=name,
        table_type="EXTERNAL_TABLE",
        storage_descriptor=StorageDescriptor(
            columns=[TableColumn(name=f"C{i}", type="bigint") for i in range(columns)],
            location="s3://b/sales/",
        ),
        partition_keys=[TableColumn(name=k, type="string") for k in keys],
        parameters={"classification": "csv"},
    )


def test_database_lifecycle(catalog: CatalogService, ctx: RequestContext) -> None:
    created = catalog.create_database(ctx, DatabaseInput(name="Sales", description="d"))
    assert created.name == "sales"
    assert created.catalog_id == "000000000000"
    assert catalog.get_database(ctx, "SALES").description == "d"
    with pytest.raises(AlreadyExists) as caught:
        catalog.create_database(ctx, DatabaseInput(name="sales"))
    assert caught.value.aws_code == "AlreadyExistsException"
    for name in ("a", "b", "c"):
        catalog.create_database(ctx, DatabaseInput(name=name))
    first = catalog.list_databases(ctx, max_results=2)
    assert [d.name for d in first.items] == ["a", "b"]
    second = catalog.list_databases(ctx, max_results=2, next_token=first.next_token)
    assert [d.name for d in second.items] == ["c", "sales"]
    assert second.next_token is None
    updated = catalog.update_database(
        ctx, "sales", DatabaseInput(name="sales", location_uri="s3://b/")
    )
    assert updated.location_uri == "s3://b/"
    catalog.create_table(ctx, "sales", _table())
    catalog.delete_database(ctx, "sales")
    with pytest.raises(NotFound) as missing:
        catalog.get_database(ctx, "sales")
    assert missing.value.aws_code == "EntityNotFoundException"
    with pytest.raises(NotFound):
        catalog.get_table(ctx, "sales", "sales")


def test_bad_database_input(catalog: CatalogService, ctx: RequestContext) -> None:
    for bad in (DatabaseInput(name="no spaces"), DatabaseInput(name="ok", location_uri="/tmp/x")):
        with pytest.raises(ValidationError) as caught:
            catalog.create_database(ctx, bad)
        assert caught.value.aws_code == "InvalidInputException"
    assert catalog.list_databases(ctx).items == []
    catalog.create_database(ctx, DatabaseInput(name="a"))
    with pytest.raises(ValidationError, match="Renaming"):
        catalog.update_database(ctx, "a", DatabaseInput(name="b"))
    with pytest.raises(ValidationError, match="max_results"):
        catalog.list_databases(ctx, max_results=0)
    with pytest.raises(ValidationError, match="continuation token"):
        catalog.list_databases(ctx, next_token="garbage")


def test_tables_and_versions(catalog: CatalogService, ctx: RequestContext) -> None:
    catalog.create_database(ctx, DatabaseInput(name="db"))
    table = catalog.create_table(ctx, "db", _table())
    assert (table.name, table.version_id, table.created_by) == ("sales", "0", "system")
    assert table.storage_descriptor is not None
    assert [c.name for c in table.storage_descriptor.columns] == ["c0", "c1"]
    with pytest.raises(AlreadyExists):
        catalog.create_table(ctx, "db", _table())
    updated = catalog.update_table(ctx, "db", _table(columns=3))
    assert updated.version_id == "1"
    assert updated.create_time == table.create_time
    catalog.update_table(ctx, "db", _table(columns=4))
    versions = catalog.get_table_versions(ctx, "db", "sales")
    assert [v.version_id for v in versions.items] == ["2", "1", "0"]
    old = catalog.get_table_version(ctx, "db", "sales", "0").table
    assert old.storage_descriptor is not None
    assert len(old.storage_descriptor.columns) == 2
    page = catalog.get_table_versions(ctx, "db", "sales", max_results=2)
    rest = catalog.get_table_versions(ctx, "db", "sales", next_token=page.next_token)
    assert [v.version_id for v in rest.items] == ["0"]
    skipped = catalog.update_table(ctx, "db", _table(columns=1), skip_archive=True)
    assert skipped.version_id == "2"
    with pytest.raises(NotFound):
        catalog.get_table_version(ctx, "db", "sales", "9")
    for name in ("orders", "order_lines", "users"):
        catalog.create_table(ctx, "db", _table(name))
    assert [t.name for t in catalog.list_tables(ctx, "db", expression="order.*").items] == [
        "order_lines",
        "orders",
    ]
    first = catalog.list_tables(ctx, "db", max_results=3)
    rest_tables = catalog.list_tables(ctx, "db", next_token=first.next_token)
    assert [t.name for t in first.items + rest_tables.items] == [
        "order_lines",
        "orders",
        "sales",
        "users",
    ]
    catalog.delete_table(ctx, "db", "SALES")
    with pytest.raises(NotFound) as caught:
        catalog.get_table(ctx, "db", "sales")
    assert caught.value.aws_code == "EntityNotFoundException"
    assert "sales" in caught.value.message


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (TableInput(name="bad name"), "Invalid table name"),
        (
            TableInput(
                name="t",
                storage_descriptor=StorageDescriptor(
                    columns=[TableColumn(name="a", type="bigintt")]
                ),
            ),
            "Invalid column type",
        ),
        (
            TableInput(
                name="t",
                storage_descriptor=StorageDescriptor(columns=[TableColumn(name="a")]),
                partition_keys=[TableColumn(name="A")],
            ),
            "unique",
        ),
        (TableInput(name="t", storage_descriptor=StorageDescriptor(location="/etc")), "s3://"),
        (TableInput(name="t", table_type="BOGUS"), "Invalid table type"),
    ],
)
def test_bad_table_input_writes_nothing(
    catalog: CatalogService, ctx: RequestContext, spec: TableInput, message: str
) -> None:
    catalog.create_database(ctx, DatabaseInput(name="db"))
    with pytest.raises(ValidationError, match=message) as caught:
        catalog.create_table(ctx, "db", spec)
    assert caught.value.aws_code == "InvalidInputException"
    assert catalog.list_tables(ctx, "db").items == []


def test_missing_database_and_scopes(
    catalog: CatalogService, ctx: RequestContext, reader: RequestContext
) -> None:
    with pytest.raises(NotFound, match="Database 'nope' not found"):
        catalog.create_table(ctx, "nope", _table())
    with pytest.raises(AccessDenied):
        catalog.create_database(reader, DatabaseInput(name="x"))
    catalog.create_database(ctx, DatabaseInput(name="x"))
    assert catalog.get_database(reader, "x").name == "x"
    with pytest.raises(AccessDenied):
        catalog.delete_database(reader, "x")


def test_partitions(catalog: CatalogService, ctx: RequestContext) -> None:
    catalog.create_database(ctx, DatabaseInput(name="db"))
    catalog.create_table(ctx, "db", _table("events", keys=("year", "month")))
    inputs = [
        PartitionInput(
            values=[y, m],
            storage_descriptor=StorageDescriptor(location=f"s3://b/events/year={y}/month={m}/"),
        )
        for y in ("2023", "2024")
        for m in ("01", "02", "03")
    ]
    result = catalog.batch_create_partition(ctx, "db", "events", inputs)
    assert result.errors == []
    again = catalog.batch_create_partition(
        ctx,
        "db",
        "events",
        [
            PartitionInput(values=["2024", "01"]),
            PartitionInput(values=["2025"]),
            PartitionInput(values=["2025", "01"]),
            PartitionInput(values=["2025", "01"]),
        ],
    )
    assert [(e.partition_values, e.error_detail.error_code) for e in again.errors] == [
        (["2024", "01"], "AlreadyExistsException"),
        (["2025"], "InvalidInputException"),
        (["2025", "01"], "AlreadyExistsException"),
    ]
    chosen = catalog.get_partitions(ctx, "db", "events", expression="year='2024' AND month='01'")
    assert [p.values for p in chosen.items] == [["2024", "01"]]
    assert chosen.items[0].storage_descriptor is not None
    assert chosen.items[0].storage_descriptor.location == "s3://b/events/year=2024/month=01/"
    wide = catalog.get_partitions(ctx, "db", "events", expression="month IN ('02','03')")
    assert len(wide.items) == 4
    page = catalog.get_partitions(ctx, "db", "events", max_results=5)
    rest = catalog.get_partitions(ctx, "db", "events", next_token=page.next_token)
    assert len(page.items) + len(rest.items) == 7
    assert catalog.get_partition(ctx, "db", "events", ["2023", "02"]).values == ["2023", "02"]
    catalog.delete_partition(ctx, "db", "events", ["2023", "02"])
    with pytest.raises(NotFound) as caught:
        catalog.get_partition(ctx, "db", "events", ["2023", "02"])
    assert caught.value.aws_code == "EntityNotFoundException"
    with pytest.raises(ValidationError, match="position 16"):
        catalog.get_partitions(ctx, "db", "events", expression="year = 2024 AND")
    with pytest.raises(ValidationError, match="not a partition key"):
        catalog.get_partitions(ctx, "db", "events", expression="colour='red'")
    catalog.delete_table(ctx, "db", "events")
    catalog.create_table(ctx, "db", _table("events", keys=("year", "month")))
    assert catalog.get_partitions(ctx, "db", "events").items == []
