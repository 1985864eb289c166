"""Crawlers: classify lake data into tables and partitions; schedules, stops, reports."""

from __future__ import annotations

import contextlib
import io
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import AlreadyExists, NotFound, ResourceInUse, ValidationError
from lakeworks.lake.catalog import crawl as crawl_module
from lakeworks.lake.catalog.service import CatalogService
from lakeworks.lake.service import LakeService, parse_s3_uri
from lakeworks.schemas.catalog import (
    Crawl,
    CrawlerInput,
    CrawlerTargets,
    CrawlerUpdate,
    DatabaseInput,
    S3Target,
    SchemaChangePolicy,
)


def put(lake: LakeService, ctx: RequestContext, uri: str, data: bytes) -> None:
    bucket, key = parse_s3_uri(uri)
    lake.put_object(ctx, bucket, key, io.BytesIO(data))


def parquet_bytes(**columns: list[Any]) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.table(columns), sink)
    return sink.getvalue()


def crawler(
    catalog: CatalogService, ctx: RequestContext, *paths: str, **extra: Any
) -> CrawlerInput:
    with contextlib.suppress(AlreadyExists):
        catalog.create_database(ctx, DatabaseInput(name="lake"))
    spec = CrawlerInput(
        name=extra.pop("name", "crawler-1"),
        database_name="lake",
        targets=CrawlerTargets(s3_targets=[S3Target(path=p) for p in paths]),
        **extra,
    )
    catalog.crawlers.create_crawler(ctx, spec)
    return spec


def run(catalog: CatalogService, ctx: RequestContext, name: str = "crawler-1") -> Crawl:
    catalog.crawlers.start_crawler(ctx, name)
    result = catalog.crawlers.wait(name, timeout=60)
    assert result is not None
    return result


def test_crawl_the_book_data(catalog: CatalogService, ctx: RequestContext, book: str) -> None:
    crawler(catalog, ctx, "s3://book/raw/")
    result = run(catalog, ctx)
    assert result.state == "COMPLETED", result.error_message
    assert sorted(result.tables_created) == ["houses", "wine", "winemag"]
    warning = next(m for m in result.messages if "lotfrontage" in m.message)
    assert (warning.path, warning.line) == ("s3://book/raw/houses/house-prices.csv", 9)
    winemag = catalog.get_table(ctx, "lake", "winemag")
    assert winemag.storage_descriptor is not None
    assert winemag.storage_descriptor.location == "s3://book/raw/winemag/"
    assert winemag.storage_descriptor.serde_info is not None
    assert winemag.storage_descriptor.serde_info.parameters == {"field.delim": ";"}
    assert winemag.parameters["classification"] == "csv"
    assert winemag.parameters["compressionType"] == "gzip"
    assert winemag.parameters["skip.header.line.count"] == "1"
    assert winemag.parameters["UPDATED_BY_CRAWLER"] == "crawler-1"
    got = catalog.crawlers.get_crawler(ctx, "crawler-1")
    assert got.state == "READY"
    assert got.last_crawl is not None
    assert got.last_crawl.status == "SUCCEEDED"
    metrics = catalog.crawlers.get_crawler_metrics(ctx, ["crawler-1"])[0]
    assert metrics.tables_created == 3
    assert metrics.last_runtime_seconds > 0
    # a second crawl over unchanged data changes nothing
    again = run(catalog, ctx)
    assert (again.tables_created, again.tables_updated) == ([], [])
    assert catalog.get_table(ctx, "lake", "winemag").version_id == "0"
    assert [c.crawl_id for c in catalog.crawlers.list_crawls(ctx, "crawler-1")] == [
        again.crawl_id,
        result.crawl_id,
    ]


def test_json_parquet_and_partitions(
    catalog: CatalogService, ctx: RequestContext, lake: LakeService
) -> None:
    lake.create_bucket(ctx, "data")
    for year in ("2023", "2024"):
        for month in ("01", "02"):
            put(
                lake,
                ctx,
                f"s3://data/in/sales/year={year}/month={month}/part-0.parquet",
                parquet_bytes(item=["a", "b"], amount=[1.5, 2.0], qty=[1, 2]),
            )
    events = "".join(json.dumps({"id": i, "kind": "click", "ok": True}) + "\n" for i in range(5))
    put(lake, ctx, "s3://data/in/events/2024/01/e.json", events.encode())
    put(lake, ctx, "s3://data/in/events/2024/02/e.json", events.encode())
    put(lake, ctx, "s3://data/in/events/_SUCCESS", b"x")
    put(lake, ctx, "s3://data/in/events/2024/01/.hidden", b"x")
    crawler(catalog, ctx, "s3://data/in/", table_prefix="raw_")
    result = run(catalog, ctx)
    assert result.state == "COMPLETED", result.error_message
    assert sorted(result.tables_created) == ["raw_events", "raw_sales"]
    assert result.partitions_added == 6
    sales = catalog.get_table(ctx, "lake", "raw_sales")
    assert [k.name for k in sales.partition_keys] == ["year", "month"]
    assert sales.storage_descriptor is not None
    assert [(c.name, c.type) for c in sales.storage_descriptor.columns] == [
        ("item", "string"),
        ("amount", "double"),
        ("qty", "bigint"),
    ]
    assert sales.parameters["classification"] == "parquet"
    parts = catalog.get_partitions(ctx, "lake", "raw_sales", expression="year='2024'").items
    assert sorted(p.values for p in parts) == [["2024", "01"], ["2024", "02"]]
    assert parts[0].storage_descriptor is not None
    assert parts[0].storage_descriptor.location is not None
    assert parts[0].storage_descriptor.location.startswith("s3://data/in/sales/year=2024/month=")
    events_table = catalog.get_table(ctx, "lake", "raw_events")
    assert [k.name for k in events_table.partition_keys] == ["partition_0", "partition_1"]
    assert events_table.parameters["classification"] == "json"
    event_parts = catalog.get_partitions(ctx, "lake", "raw_events").items
    assert sorted(p.values for p in event_parts) == [["2024", "01"], ["2024", "02"]]

    # new data: a new partition is added; a new column makes a new table version
    put(
        lake,
        ctx,
        "s3://data/in/sales/year=2025/month=01/part-0.parquet",
        parquet_bytes(item=["c"], amount=[3.0], qty=[3], store=["north"]),
    )
    lake.delete_object(ctx, "data", "in/sales/year=2023/month=01/part-0.parquet")
    second = run(catalog, ctx)
    assert second.tables_updated == ["raw_sales"]
    assert (second.partitions_added, second.partitions_deleted) == (1, 1)
    updated = catalog.get_table(ctx, "lake", "raw_sales")
    assert updated.version_id == "1"
    assert updated.storage_descriptor is not None
    assert updated.storage_descriptor.columns[-1].name == "store"
    versions = catalog.get_table_versions(ctx, "lake", "raw_sales").items
    assert [v.version_id for v in versions] == ["1", "0"]


def test_target_that_is_one_partitioned_dataset(
    catalog: CatalogService, ctx: RequestContext, lake: LakeService
) -> None:
    lake.create_bucket(ctx, "data")
    for day in ("1", "2"):
        put(lake, ctx, f"s3://data/logs/day={day}/a.csv", b"level,count\ninfo,3\nwarn,1\n")
    put(lake, ctx, "s3://data/logs/day=3/extra/deep.csv", b"level,count\ninfo,3\n")
    crawler(catalog, ctx, "s3://data/logs")
    result = run(catalog, ctx)
    assert result.tables_created == ["logs"]
    table = catalog.get_table(ctx, "lake", "logs")
    assert [k.name for k in table.partition_keys] == ["day"]
    skipped = [m for m in result.messages if m.path.endswith("deep.csv")]
    assert "Skipped" in skipped[0].message


def test_ragged_csv_is_reported_with_file_and_line(
    catalog: CatalogService, ctx: RequestContext, lake: LakeService
) -> None:
    lake.create_bucket(ctx, "data")
    put(lake, ctx, "s3://data/csv/people/a.csv", b"name,age\nann,31\nbob\ncarl,40,extra\n")
    put(lake, ctx, "s3://data/csv/people/b.csv", b"name,age\ndora,x29\n")
    put(lake, ctx, "s3://data/csv/blob/b.bin", b"\x00\x01\x02\x03")
    crawler(catalog, ctx, "s3://data/csv/")
    result = run(catalog, ctx)
    assert result.state == "COMPLETED"
    found = {(m.path, m.line, m.severity) for m in result.messages}
    assert ("s3://data/csv/people/a.csv", 3, "WARNING") in found
    assert ("s3://data/csv/people/a.csv", 4, "WARNING") in found
    assert ("s3://data/csv/blob/b.bin", None, "ERROR") in found
    assert result.tables_created == ["people"]
    mixed = next(m for m in result.messages if m.path.endswith("b.csv"))
    assert "typed string" in mixed.message
    people = catalog.get_table(ctx, "lake", "people")
    assert people.storage_descriptor is not None
    assert [(c.name, c.type) for c in people.storage_descriptor.columns] == [
        ("name", "string"),
        ("age", "string"),
    ]


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("s3://no-such-bucket/x/", "unreachable: No bucket named 'no-such-bucket'"),
        ("s3://data/nothing-here/", "holds no objects"),
    ],
)
def test_unreachable_targets_fail_the_crawl(
    catalog: CatalogService, ctx: RequestContext, lake: LakeService, path: str, reason: str
) -> None:
    lake.create_bucket(ctx, "data")
    crawler(catalog, ctx, path)
    result = run(catalog, ctx)
    assert result.state == "FAILED"
    assert result.error_message is not None
    assert reason in result.error_message
    last = catalog.crawlers.get_crawler(ctx, "crawler-1").last_crawl
    assert last is not None
    assert (last.status, last.error_message) == ("FAILED", result.error_message)
    assert catalog.list_tables(ctx, "lake").items == []


def test_missing_database_fails_the_crawl(
    catalog: CatalogService, ctx: RequestContext, lake: LakeService
) -> None:
    lake.create_bucket(ctx, "data")
    put(lake, ctx, "s3://data/t/a.csv", b"a,b\n1,2\n")
    crawler(catalog, ctx, "s3://data/t/")
    catalog.delete_database(ctx, "lake")
    result = run(catalog, ctx)
    assert (result.state, result.error_message) == ("FAILED", "Database 'lake' not found")


def test_delete_policies(catalog: CatalogService, ctx: RequestContext, lake: LakeService) -> None:
    lake.create_bucket(ctx, "data")
    put(lake, ctx, "s3://data/d/keep/a.csv", b"a,b\n1,2\n")
    put(lake, ctx, "s3://data/d/gone/a.csv", b"a,b\n1,2\n")
    put(lake, ctx, "s3://data/d/old/a.csv", b"a,b\n1,2\n")
    crawler(catalog, ctx, "s3://data/d/")
    assert sorted(run(catalog, ctx).tables_created) == ["gone", "keep", "old"]
    lake.delete_object(ctx, "data", "d/old/a.csv")
    deprecated = run(catalog, ctx)
    assert deprecated.tables_deleted == ["old"]
    assert catalog.get_table(ctx, "lake", "old").parameters["DEPRECATED_BY_CRAWLER"] == "1"
    policy = SchemaChangePolicy(delete_behavior="DELETE_FROM_DATABASE")
    catalog.crawlers.update_crawler(ctx, "crawler-1", CrawlerUpdate(schema_change_policy=policy))
    lake.delete_object(ctx, "data", "d/gone/a.csv")
    deleted = run(catalog, ctx)
    assert sorted(deleted.tables_deleted) == ["gone", "old"]
    assert [t.name for t in catalog.list_tables(ctx, "lake").items] == ["keep"]


def test_log_policy_keeps_the_schema(
    catalog: CatalogService, ctx: RequestContext, lake: LakeService
) -> None:
    lake.create_bucket(ctx, "data")
    put(lake, ctx, "s3://data/t/x/a.csv", b"a,b\n1,2\n")
    crawler(
        catalog,
        ctx,
        "s3://data/t/",
        schema_change_policy=SchemaChangePolicy(update_behavior="LOG"),
    )
    run(catalog, ctx)
    put(lake, ctx, "s3://data/t/x/a.csv", b"a,b,c\n1,2,3\n")
    result = run(catalog, ctx)
    assert result.tables_updated == []
    assert any("not applied" in m.message for m in result.messages)
    assert catalog.get_table(ctx, "lake", "x").version_id == "0"


def test_exclusions_and_sample_size(
    catalog: CatalogService, ctx: RequestContext, lake: LakeService
) -> None:
    lake.create_bucket(ctx, "data")
    for i in range(4):
        put(lake, ctx, f"s3://data/s/t/f{i}.csv", b"a,b\n1,2\n")
    put(lake, ctx, "s3://data/s/t/skip/bad.json", b"{not json\n")
    put(lake, ctx, "s3://data/s/tmp/x.csv", b"a,b\n1,2\n")
    target = S3Target(path="s3://data/s/", exclusions=["tmp/**", "**/skip/*"], sample_size=2)
    catalog.create_database(ctx, DatabaseInput(name="lake"))
    catalog.crawlers.create_crawler(
        ctx,
        CrawlerInput(name="c", database_name="lake", targets=CrawlerTargets(s3_targets=[target])),
    )
    result = run(catalog, ctx, "c")
    assert result.tables_created == ["t"]
    assert result.messages == []
    table = catalog.get_table(ctx, "lake", "t")
    assert table.parameters["objectCount"] == "4"
    assert table.parameters["recordCount"] == "2"


def test_crawler_definitions_and_bad_input(
    catalog: CatalogService, ctx: RequestContext, reader: RequestContext
) -> None:
    spec = crawler(catalog, ctx, "s3://data/x/", schedule="cron(0 12 * * ? *)")
    got = catalog.crawlers.get_crawler(ctx, spec.name)
    assert got.schedule is not None
    assert (got.schedule.schedule_expression, got.schedule.state) == (
        "cron(0 12 * * ? *)",
        "SCHEDULED",
    )
    assert got.version == 1
    with pytest.raises(AlreadyExists):
        catalog.crawlers.create_crawler(ctx, spec)
    bad_inputs = [
        (spec.model_copy(update={"name": "bad/name"}), "Invalid crawler name"),
        (spec.model_copy(update={"name": "c2", "schedule": "cron(1 2 3)"}), "expected 6 fields"),
        (
            spec.model_copy(
                update={
                    "name": "c3",
                    "targets": CrawlerTargets(s3_targets=[S3Target(path="/etc/")]),
                }
            ),
            "s3://bucket",
        ),
        (spec.model_copy(update={"name": "c4", "database_name": "Bad Name"}), "database name"),
    ]
    for bad, message in bad_inputs:
        with pytest.raises(ValidationError, match=message) as caught:
            catalog.crawlers.create_crawler(ctx, bad)
        assert caught.value.aws_code == "InvalidInputException"
    assert [c.name for c in catalog.crawlers.list_crawlers(ctx).items] == ["crawler-1"]
    with pytest.raises(NotFound) as missing:
        catalog.crawlers.get_crawler(ctx, "nope")
    assert missing.value.aws_code == "EntityNotFoundException"
    updated = catalog.crawlers.update_crawler(
        ctx, spec.name, CrawlerUpdate(description="d", schedule=None)
    )
    assert (updated.description, updated.schedule, updated.version) == ("d", None, 2)
    with pytest.raises(ValidationError) as no_schedule:
        catalog.crawlers.set_schedule_state(ctx, spec.name, True)
    assert no_schedule.value.aws_code == "NoScheduleException"
    with pytest.raises(ResourceInUse) as not_running:
        catalog.crawlers.stop_crawler(ctx, spec.name)
    assert not_running.value.aws_code == "CrawlerNotRunningException"
    with pytest.raises(Exception, match="write"):
        catalog.crawlers.start_crawler(reader, spec.name)
    catalog.crawlers.delete_crawler(ctx, spec.name)
    assert catalog.crawlers.list_crawlers(ctx).items == []


@pytest.fixture
def blocked_crawl(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Make every file classification wait until the event is set."""
    release = threading.Event()
    original = crawl_module._classify

    def slow(lake: LakeService, ctx: RequestContext, item: Any) -> Any:
        release.wait(30)
        return original(lake, ctx, item)

    monkeypatch.setattr(crawl_module, "_classify", slow)
    yield release
    release.set()


def test_stop_a_running_crawl(
    catalog: CatalogService,
    ctx: RequestContext,
    lake: LakeService,
    blocked_crawl: threading.Event,
) -> None:
    lake.create_bucket(ctx, "data")
    for i in range(3):
        put(lake, ctx, f"s3://data/t/x/{i}.csv", b"a,b\n1,2\n")
    crawler(catalog, ctx, "s3://data/t/")
    started = catalog.crawlers.start_crawler(ctx, "crawler-1")
    assert started.state == "RUNNING"
    with pytest.raises(ResourceInUse) as running:
        catalog.crawlers.start_crawler(ctx, "crawler-1")
    assert running.value.aws_code == "CrawlerRunningException"
    with pytest.raises(ResourceInUse):
        catalog.crawlers.update_crawler(ctx, "crawler-1", CrawlerUpdate(description="x"))
    with pytest.raises(ResourceInUse):
        catalog.crawlers.delete_crawler(ctx, "crawler-1")
    metrics = catalog.crawlers.get_crawler_metrics(ctx)[0]
    assert metrics.still_estimating is True
    catalog.crawlers.stop_crawler(ctx, "crawler-1")
    assert catalog.crawlers.get_crawler(ctx, "crawler-1").state == "STOPPING"
    with pytest.raises(ResourceInUse) as stopping:
        catalog.crawlers.stop_crawler(ctx, "crawler-1")
    assert stopping.value.aws_code == "CrawlerStoppingException"
    blocked_crawl.set()
    result = catalog.crawlers.wait("crawler-1", timeout=30)
    assert result is not None
    assert result.state == "STOPPED"
    got = catalog.crawlers.get_crawler(ctx, "crawler-1")
    assert got.state == "READY"
    assert got.last_crawl is not None
    assert got.last_crawl.status == "CANCELLED"
    assert catalog.list_tables(ctx, "lake").items == []


def test_schedule_runs_with_an_injected_clock(
    catalog: CatalogService, ctx: RequestContext, lake: LakeService
) -> None:
    crawlers = catalog.crawlers
    crawlers.close()  # drive the scheduler by hand: no background thread
    now = [datetime(2024, 1, 1, 10, 0, tzinfo=UTC)]
    crawlers.clock = lambda: now[0]
    lake.create_bucket(ctx, "data")
    put(lake, ctx, "s3://data/t/x/a.csv", b"a,b\n1,2\n")
    crawler(catalog, ctx, "s3://data/t/", schedule="cron(0 12 * * ? *)")
    assert crawlers.run_due(datetime(2024, 1, 1, 11, 59, tzinfo=UTC)) == []
    now[0] = datetime(2024, 1, 1, 12, 0, 30, tzinfo=UTC)
    assert crawlers.run_due(now[0]) == ["crawler-1"]
    result = crawlers.wait("crawler-1", timeout=30)
    assert result is not None
    assert result.tables_created == ["x"]
    assert crawlers.run_due(datetime(2024, 1, 1, 12, 1, tzinfo=UTC)) == []
    assert crawlers.run_due(datetime(2024, 1, 2, 12, 0, tzinfo=UTC)) == ["crawler-1"]
    crawlers.wait("crawler-1", timeout=30)
    paused = crawlers.set_schedule_state(ctx, "crawler-1", False)
    assert paused.schedule is not None
    assert paused.schedule.state == "NOT_SCHEDULED"
    assert crawlers.run_due(datetime(2024, 1, 9, 12, 0, tzinfo=UTC)) == []
    assert len(crawlers.list_crawls(ctx, "crawler-1")) == 2
