"""SQL over the lake (Athena semantics): queries, results, workgroups, DDL, the sandbox."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import AccessDenied, NotFound, ValidationError
from lakeworks.lake.catalog.service import CatalogService
from lakeworks.lake.service import LakeService, parse_s3_uri
from lakeworks.schemas.catalog import (
    CrawlerInput,
    CrawlerTargets,
    DatabaseInput,
    QueryExecution,
    ResultConfiguration,
    S3Target,
    WorkGroupConfiguration,
    WorkGroupConfigurationUpdates,
    WorkGroupInput,
    WorkGroupUpdate,
)

BOOK = Path("/work/shared/datasets/book")
Wait = Callable[[str], QueryExecution]


def put(lake: LakeService, ctx: RequestContext, uri: str, data: bytes) -> None:
    bucket, key = parse_s3_uri(uri)
    lake.put_object(ctx, bucket, key, io.BytesIO(data))


def read(lake: LakeService, ctx: RequestContext, uri: str) -> bytes:
    bucket, key = parse_s3_uri(uri)
    return b"".join(lake.get_object(ctx, bucket, key)[3])


@pytest.fixture
def crawled(catalog: CatalogService, ctx: RequestContext, book: str) -> str:
    """The book data crawled into database ``book``."""
    catalog.create_database(ctx, DatabaseInput(name="book"))
    catalog.crawlers.create_crawler(
        ctx,
        CrawlerInput(
            name="book",
            database_name="book",
            targets=CrawlerTargets(s3_targets=[S3Target(path="s3://book/raw/")]),
        ),
    )
    catalog.crawlers.start_crawler(ctx, "book")
    crawl = catalog.crawlers.wait("book", timeout=60)
    assert crawl is not None
    assert crawl.state == "COMPLETED"
    return "book"


def start(catalog: CatalogService, ctx: RequestContext, sql: str, **kwargs: Any) -> str:
    kwargs.setdefault("database", "book")
    kwargs.setdefault("output_location", "s3://results/athena/")
    return catalog.queries.start_query_execution(ctx, sql, **kwargs)


def all_rows(catalog: CatalogService, ctx: RequestContext, query_id: str, page: int) -> list[Any]:
    rows: list[Any] = []
    token = None
    while True:
        result = catalog.queries.get_query_results(
            ctx, query_id, next_token=token, max_results=page
        )
        rows += [[d.var_char_value for d in r.data] for r in result.result_set.rows]
        token = result.next_token
        if token is None:
            return rows


def test_sql_answers_like_pandas(
    catalog: CatalogService, ctx: RequestContext, crawled: str
) -> None:
    got = catalog.queries.sql(
        ctx,
        "SELECT country, avg(price) AS avg_price, count(*) AS n FROM winemag "
        # LazySimpleSerDe reads an empty field of a string column as '' (not NULL), as Athena
        "WHERE country <> '' GROUP BY country ORDER BY country",
        crawled,
    ).to_pandas()
    frame = pd.read_csv(BOOK / "winemag-data_first150k.csv.gz", sep=";")
    expected = frame.groupby("country").agg(avg_price=("price", "mean"), n=("price", "size"))
    assert list(got["country"]) == list(expected.index)
    assert got["avg_price"].tolist() == pytest.approx(expected["avg_price"].tolist(), nan_ok=True)
    assert got["n"].tolist() == expected["n"].tolist()

    houses = pd.read_csv(BOOK / "house-prices.csv")
    by_hood = catalog.queries.sql(
        ctx,
        "SELECT neighborhood, max(saleprice) AS top, sum(lotarea) AS area FROM houses "
        "GROUP BY 1 ORDER BY 1",
        crawled,
    ).to_pandas()
    expected_hood = houses.groupby("Neighborhood").agg(
        top=("SalePrice", "max"), area=("LotArea", "sum")
    )
    assert by_hood["top"].tolist() == expected_hood["top"].tolist()
    assert by_hood["area"].tolist() == expected_hood["area"].tolist()
    assert pa.types.is_int64(
        catalog.queries.sql(ctx, "SELECT sum(lotarea) s FROM houses", crawled).schema.field(0).type
    )

    wine = pd.read_csv(BOOK / "wine-canvas.csv")
    totals = catalog.queries.sql(
        ctx, "SELECT count(*) AS n, avg(points) AS p FROM awsdatacatalog.book.wine", None
    ).to_pylist()[0]
    assert totals["n"] == len(wine)
    assert totals["p"] == pytest.approx(wine["points"].mean())
    # 'NA' in a column typed string reads as text; a bigint cast of it is NULL, as in Athena
    nulls = catalog.queries.sql(
        ctx, "SELECT count(*) - count(TRY_CAST(lotfrontage AS BIGINT)) AS na FROM houses", crawled
    ).to_pylist()[0]["na"]
    assert nulls == int((houses["LotFrontage"].isna()).sum())


def test_json_and_parquet_tables(
    catalog: CatalogService, ctx: RequestContext, lake: LakeService
) -> None:
    lake.create_bucket(ctx, "data")
    lines = "".join(
        json.dumps({"UserId": i, "score": i * 1.5, "tag": f"t{i % 2}"}) + "\n" for i in range(10)
    )
    put(lake, ctx, "s3://data/j/events/a.json", lines.encode())
    for year in (2023, 2024):
        sink = io.BytesIO()
        pq.write_table(pa.table({"v": [year, year + 1], "name": ["a", "b"]}), sink)
        put(lake, ctx, f"s3://data/j/metrics/year={year}/p.parquet", sink.getvalue())
    catalog.create_database(ctx, DatabaseInput(name="j"))
    catalog.crawlers.create_crawler(
        ctx,
        CrawlerInput(
            name="j",
            database_name="j",
            targets=CrawlerTargets(s3_targets=[S3Target(path="s3://data/j/")]),
        ),
    )
    catalog.crawlers.start_crawler(ctx, "j")
    catalog.crawlers.wait("j", 60)
    events = catalog.queries.sql(
        ctx,
        "SELECT tag, sum(userid) AS s, max(score) AS m FROM events GROUP BY tag ORDER BY tag",
        "j",
    ).to_pylist()
    assert events == [{"tag": "t0", "s": 20, "m": 12.0}, {"tag": "t1", "s": 25, "m": 13.5}]
    metrics = catalog.queries.sql(
        ctx, "SELECT year, sum(v) AS s FROM metrics WHERE year = '2024' GROUP BY year", "j"
    ).to_pylist()
    assert metrics == [{"year": "2024", "s": 4049}]


def test_query_execution_writes_athena_results(
    catalog: CatalogService, ctx: RequestContext, lake: LakeService, crawled: str, wait_query: Wait
) -> None:
    sql = "SELECT country, variety, price FROM wine WHERE price > 100 ORDER BY price DESC, variety"
    query_id = start(catalog, ctx, sql)
    execution = wait_query(query_id)
    assert execution.status.state == "SUCCEEDED", execution.status.state_change_reason
    assert (execution.statement_type, execution.substatement_type) == ("DML", "SELECT")
    assert execution.work_group == "primary"
    assert execution.query_execution_context.database == "book"
    wine_size = lake.head_object(ctx, "book", "raw/wine/wine-canvas.csv").size
    assert execution.statistics.data_scanned_in_bytes == wine_size
    assert execution.statistics.total_execution_time_in_millis >= 0
    location = f"s3://results/athena/{query_id}.csv"
    assert execution.result_configuration.output_location == location
    written = read(lake, ctx, location).decode()
    metadata = json.loads(read(lake, ctx, location + ".metadata"))
    assert [c["name"] for c in metadata["column_info"]] == ["country", "variety", "price"]
    expected = catalog.queries.sql(ctx, sql, "book").to_pylist()
    parsed = list(csv.reader(io.StringIO(written)))
    assert parsed[0] == ["country", "variety", "price"]
    assert len(parsed) == len(expected) + 1
    first = catalog.queries.get_query_results(ctx, query_id, max_results=5)
    header = [d.var_char_value for d in first.result_set.rows[0].data]
    assert header == ["country", "variety", "price"]
    info = first.result_set.result_set_metadata.column_info
    assert [(c.name, c.type) for c in info] == [
        ("country", "varchar"),
        ("variety", "varchar"),
        ("price", "double"),
    ]
    rows = all_rows(catalog, ctx, query_id, page=7)
    assert rows[0] == header
    assert [[r[0], r[1], float(r[2])] for r in rows[1:]] == [
        [e["country"], e["variety"], e["price"]] for e in expected
    ]
    assert all_rows(catalog, ctx, query_id, page=1000) == rows


def test_nulls_and_types_in_results(
    catalog: CatalogService, ctx: RequestContext, crawled: str, wait_query: Wait
) -> None:
    query_id = start(
        catalog,
        ctx,
        "SELECT NULL AS nothing, '' AS empty, true AS yes, DATE '2024-01-31' AS d, "
        "CAST(1.25 AS DECIMAL(5,2)) AS money, [1, 2] AS list",
    )
    assert wait_query(query_id).status.state == "SUCCEEDED"
    result = catalog.queries.get_query_results(ctx, query_id)
    values = [d.var_char_value for d in result.result_set.rows[1].data]
    assert values == [None, "", "true", "2024-01-31", "1.25", "[1, 2]"]
    types = [c.type for c in result.result_set.result_set_metadata.column_info]
    assert types == ["varchar", "varchar", "boolean", "date", "decimal", "array"]


def test_failures_name_the_reason(
    catalog: CatalogService, ctx: RequestContext, crawled: str, wait_query: Wait
) -> None:
    syntax = wait_query(start(catalog, ctx, "SELECT country FORM wine"))
    assert syntax.status.state == "FAILED"
    reason = syntax.status.state_change_reason or ""
    assert "syntax error" in reason
    assert "LINE 1" in reason
    assert syntax.status.athena_error is not None
    assert syntax.status.athena_error.error_category == 2
    missing = wait_query(start(catalog, ctx, "SELECT * FROM no_such_table"))
    assert "no_such_table" in (missing.status.state_change_reason or "")
    no_db = wait_query(start(catalog, ctx, "SELECT 1", database="nope"))
    assert no_db.status.state_change_reason == "Database 'nope' not found"
    two = wait_query(start(catalog, ctx, "SELECT 1; SELECT 2"))
    assert "Only one sql statement" in (two.status.state_change_reason or "")
    insert = wait_query(start(catalog, ctx, "INSERT INTO wine VALUES (1)"))
    assert "not supported" in (insert.status.state_change_reason or "")
    with pytest.raises(ValidationError, match="did not finish successfully"):
        catalog.queries.get_query_results(ctx, syntax.query_execution_id)
    with pytest.raises(ValidationError, match="syntax error") as caught:
        catalog.queries.sql(ctx, "SELEC 1", "book")
    assert caught.value.aws_code == "InvalidRequestException"
    with pytest.raises(NotFound) as unknown:
        catalog.queries.get_query_execution(ctx, "00000000-0000-0000-0000-000000000000")
    assert unknown.value.aws_code == "InvalidRequestException"
    with pytest.raises(ValidationError, match="No output location"):
        catalog.queries.start_query_execution(ctx, "SELECT 1", output_location=None)
    with pytest.raises(ValidationError, match="s3://"):
        catalog.queries.start_query_execution(ctx, "SELECT 1", output_location="/tmp/x")


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_text('/etc/passwd')",
        "SELECT * FROM read_csv('/work/shared/datasets/book/wine-canvas.csv')",
        "SELECT * FROM read_text('{home}/lakeworks.db')",
        "COPY (SELECT 1) TO '/tmp/lakeworks-escape.csv'",
        "SET enable_external_access = true",
        "ATTACH '/tmp/x.db'",
        "INSTALL httpfs",
        "PRAGMA version",
    ],
)
def test_sandbox_refuses_server_files(
    catalog: CatalogService, ctx: RequestContext, crawled: str, sql: str
) -> None:
    with pytest.raises(ValidationError):
        catalog.queries.sql(ctx, sql.format(home=catalog.settings.home), "book")
    assert not Path("/tmp/lakeworks-escape.csv").exists()


def test_workgroup_cutoff_and_configuration(
    catalog: CatalogService, ctx: RequestContext, lake: LakeService, wait_query: Wait
) -> None:
    lake.create_bucket(ctx, "big")
    lake.create_bucket(ctx, "results")
    row = b"0123456789,abcdefghijabcdefghijabcdefghijabcdefghij\n"
    put(lake, ctx, "s3://big/t/data.csv", b"n,s\n" + row * (10_500_000 // len(row)))
    put(lake, ctx, "s3://big/small/data.csv", b"n,s\n1,x\n")
    catalog.create_database(ctx, DatabaseInput(name="big"))
    for name in ("t", "small"):
        catalog.queries.sql(
            ctx,
            f"CREATE EXTERNAL TABLE {name} (n bigint, s string) ROW FORMAT DELIMITED "
            f"FIELDS TERMINATED BY ',' LOCATION 's3://big/{name}/' "
            "TBLPROPERTIES ('skip.header.line.count'='1')",
            "big",
        )
    with pytest.raises(ValidationError):
        catalog.workgroups.create_work_group(
            ctx,
            WorkGroupInput.model_construct(
                name="bad name", configuration=WorkGroupConfiguration(), tags={}
            ),
        )
    limited = WorkGroupConfiguration(
        bytes_scanned_cutoff_per_query=10_000_000,
        result_configuration=ResultConfiguration(output_location="s3://results/limited/"),
    )
    catalog.workgroups.create_work_group(ctx, WorkGroupInput(name="limited", configuration=limited))
    over = wait_query(
        start(catalog, ctx, "SELECT count(*) FROM t", database="big", workgroup="limited")
    )
    assert over.status.state == "FAILED"
    assert "BytesScannedCutoffPerQuery of 10000000 bytes" in (over.status.state_change_reason or "")
    small = wait_query(
        start(catalog, ctx, "SELECT count(*) FROM small", database="big", workgroup="limited")
    )
    assert small.status.state == "SUCCEEDED"
    # the workgroup enforces its location over the query's
    assert (small.result_configuration.output_location or "").startswith("s3://results/limited/")
    catalog.workgroups.update_work_group(
        ctx,
        "limited",
        WorkGroupUpdate(
            configuration_updates=WorkGroupConfigurationUpdates(
                remove_bytes_scanned_cutoff_per_query=True
            )
        ),
    )
    fine = wait_query(
        start(catalog, ctx, "SELECT count(*) FROM t", database="big", workgroup="limited")
    )
    assert fine.status.state == "SUCCEEDED"
    assert fine.statistics.data_scanned_in_bytes > 10_000_000
    catalog.workgroups.update_work_group(ctx, "limited", WorkGroupUpdate(state="DISABLED"))
    with pytest.raises(ValidationError, match="disabled"):
        start(catalog, ctx, "SELECT 1", workgroup="limited")
    names = [w.name for w in catalog.workgroups.list_work_groups(ctx)]
    assert names == ["limited", "primary"]
    listed = catalog.queries.list_query_executions(ctx, workgroup="limited", max_results=2)
    assert [q.query_execution_id for q in listed.items] == [
        fine.query_execution_id,
        small.query_execution_id,
    ]
    more = catalog.queries.list_query_executions(
        ctx, workgroup="limited", next_token=listed.next_token
    )
    assert [q.query_execution_id for q in more.items] == [over.query_execution_id]
    with pytest.raises(ValidationError, match="primary workgroup cannot be deleted"):
        catalog.workgroups.delete_work_group(ctx, "primary")
    catalog.workgroups.delete_work_group(ctx, "limited")
    with pytest.raises(NotFound):
        catalog.workgroups.get_work_group(ctx, "limited")


def test_ddl_tables_partitions_and_views(
    catalog: CatalogService, ctx: RequestContext, lake: LakeService, wait_query: Wait
) -> None:
    lake.create_bucket(ctx, "data")
    lake.create_bucket(ctx, "results")
    for year, month, rows in (("2023", "12", 3), ("2024", "01", 4), ("2024", "02", 5)):
        body = "id|amount\n" + "".join(f"{i}|{i * 10}\n" for i in range(rows))
        put(lake, ctx, f"s3://data/sales/year={year}/month={month}/part.txt", body.encode())
    queries = catalog.queries
    queries.sql(ctx, "CREATE DATABASE shop COMMENT 'the shop'")
    queries.sql(
        ctx,
        """CREATE EXTERNAL TABLE IF NOT EXISTS shop.sales (id bigint, amount double)
           PARTITIONED BY (year string, month string)
           ROW FORMAT DELIMITED FIELDS TERMINATED BY '|'
           LOCATION 's3://data/sales/'
           TBLPROPERTIES ('skip.header.line.count'='1')""",
    )
    assert queries.sql(ctx, "SELECT count(*) AS n FROM sales", "shop").to_pylist() == [{"n": 0}]
    repaired = queries.sql(ctx, "MSCK REPAIR TABLE sales", "shop").column("result").to_pylist()
    assert repaired[0] == "Repair: Added partition to metastore sales:year=2023/month=12"
    assert len(repaired) == 3
    totals = queries.sql(
        ctx,
        "SELECT year, count(*) AS n, sum(amount) AS s FROM sales GROUP BY year ORDER BY year",
        "shop",
    ).to_pylist()
    assert totals == [{"year": "2023", "n": 3, "s": 30.0}, {"year": "2024", "n": 9, "s": 160.0}]
    assert queries.sql(ctx, "SHOW PARTITIONS sales", "shop").column(0).to_pylist() == [
        "year=2023/month=12",
        "year=2024/month=01",
        "year=2024/month=02",
    ]
    queries.sql(ctx, "ALTER TABLE sales DROP PARTITION (year='2023', month='12')", "shop")
    assert queries.sql(ctx, "SELECT count(*) AS n FROM sales", "shop").to_pylist() == [{"n": 9}]
    described = queries.sql(ctx, "DESCRIBE sales", "shop").to_pylist()
    assert described[0] == {"col_name": "id", "data_type": "bigint", "comment": ""}
    assert any(r["col_name"] == "# Partition Information" for r in described)

    queries.sql(
        ctx, "CREATE VIEW big_sales AS SELECT id, amount FROM sales WHERE amount >= 30", "shop"
    )
    view = catalog.get_table(ctx, "shop", "big_sales")
    assert view.table_type == "VIRTUAL_VIEW"
    assert (view.view_original_text or "").startswith("/* Presto View: ")
    assert queries.sql(ctx, "SELECT count(*) AS n FROM shop.big_sales", None).to_pylist() == [
        {"n": 3}
    ]
    query_id = start(
        catalog,
        ctx,
        "CREATE TABLE sales_by_year WITH (format='PARQUET', external_location="
        "'s3://data/ctas/by_year/', partitioned_by=ARRAY['year']) AS "
        "SELECT id, amount, year FROM sales",
        database="shop",
    )
    ctas = wait_query(query_id)
    assert ctas.status.state == "SUCCEEDED", ctas.status.state_change_reason
    assert (ctas.statement_type, ctas.substatement_type) == ("DDL", "CREATE_TABLE_AS_SELECT")
    assert catalog.queries.get_query_results(ctx, query_id).update_count == 9
    keys = [o.key for o in lake.list_objects(ctx, "data", prefix="ctas/").items]
    assert keys == [f"ctas/by_year/year=2024/{query_id}-00000.parquet"]
    created = catalog.get_table(ctx, "shop", "sales_by_year")
    assert [k.name for k in created.partition_keys] == ["year"]
    assert queries.sql(
        ctx, "SELECT year, sum(amount) AS s FROM sales_by_year GROUP BY year", "shop"
    ).to_pylist() == [{"year": "2024", "s": 160.0}]
    again = wait_query(
        start(
            catalog,
            ctx,
            "CREATE TABLE other WITH (external_location='s3://data/ctas/by_year/') "
            "AS SELECT 1 AS x",
            database="shop",
        )
    )
    assert "HIVE_PATH_ALREADY_EXISTS" in (again.status.state_change_reason or "")
    shown = start(catalog, ctx, "SHOW TABLES", database="shop")
    assert wait_query(shown).status.state == "SUCCEEDED"
    text = read(lake, ctx, f"s3://results/athena/{shown}.txt").decode()
    assert text == "big_sales\nsales\nsales_by_year\n"
    assert [
        r.data[0].var_char_value for r in queries.get_query_results(ctx, shown).result_set.rows
    ] == [
        "big_sales",
        "sales",
        "sales_by_year",
    ]
    with pytest.raises(ValidationError, match="is a view"):
        queries.sql(ctx, "DROP TABLE big_sales", "shop")
    queries.sql(ctx, "DROP VIEW big_sales", "shop")
    queries.sql(ctx, "DROP TABLE IF EXISTS nothing", "shop")
    with pytest.raises(ValidationError, match="not empty"):
        queries.sql(ctx, "DROP DATABASE shop")
    queries.sql(ctx, "DROP DATABASE shop CASCADE")
    assert queries.sql(ctx, "SHOW DATABASES").num_rows == 0


def test_readers_cannot_change_the_catalog(
    catalog: CatalogService,
    ctx: RequestContext,
    reader: RequestContext,
    crawled: str,
    wait_query: Wait,
) -> None:
    with pytest.raises(AccessDenied):
        catalog.queries.sql(reader, "DROP TABLE wine", "book")
    failed = wait_query(start(catalog, reader, "DROP TABLE wine"))
    assert failed.status.state == "FAILED"
    assert "write" in (failed.status.state_change_reason or "")
    assert catalog.get_table(ctx, "book", "wine").name == "wine"
    assert catalog.queries.sql(reader, "SELECT count(*) AS n FROM wine", "book").num_rows == 1


def test_stop_batch_get_and_idempotency(
    catalog: CatalogService, ctx: RequestContext, lake: LakeService, wait_query: Wait
) -> None:
    lake.create_bucket(ctx, "results")
    catalog.create_database(ctx, DatabaseInput(name="book"))
    slow = start(catalog, ctx, "SELECT count(*) FROM range(100000000000) a WHERE a.range % 7 = 3")
    catalog.queries.stop_query_execution(ctx, slow)
    stopped = wait_query(slow)
    assert stopped.status.state == "CANCELLED"
    assert stopped.status.state_change_reason == "Query cancelled by user"
    token = "t" * 40
    first = start(catalog, ctx, "SELECT 42 AS answer", client_request_token=token)
    assert start(catalog, ctx, "SELECT 42 AS answer", client_request_token=token) == first
    assert wait_query(first).status.state == "SUCCEEDED"
    catalog.queries.stop_query_execution(ctx, first)  # finished: nothing changes
    batch = catalog.queries.batch_get_query_execution(ctx, [first, slow, "nope"])
    assert [q.query_execution_id for q in batch.query_executions] == [first, slow]
    assert [u.query_execution_id for u in batch.unprocessed_query_execution_ids] == ["nope"]
    with pytest.raises(ValidationError):
        catalog.queries.batch_get_query_execution(ctx, [])


def test_sql_on_an_s3_compatible_store(
    tmp_path: Path,
    ctx: RequestContext,
    make_lake_settings: Callable[[Path, str], Any],
) -> None:
    from lakeworks.db import Database

    settings = make_lake_settings(tmp_path / "s3home", "s3")
    db = Database(settings.database_url)
    db.upgrade()
    catalog = CatalogService(settings, db, LakeService(settings, db))
    try:
        catalog.lake.create_bucket(ctx, "data")
        catalog.lake.upload_file(ctx, BOOK / "wine-canvas.csv", "s3://data/wine/wine.csv")
        catalog.create_database(ctx, DatabaseInput(name="s3db"))
        catalog.queries.sql(
            ctx,
            "CREATE EXTERNAL TABLE wine (country string, designation string, points double, "
            "price double) ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde' "
            "LOCATION 's3://data/wine/' TBLPROPERTIES ('skip.header.line.count'='1')",
            "s3db",
        )
        got = catalog.queries.sql(ctx, "SELECT count(*) AS n, max(price) AS m FROM wine", "s3db")
        wine = pd.read_csv(BOOK / "wine-canvas.csv")
        assert got.to_pylist() == [{"n": len(wine), "m": wine["price"].max()}]
        staged = list((settings.home / "cache" / "sql" / "objects" / "data").iterdir())
        assert len(staged) == 1
    finally:
        catalog.close()
        catalog.lake.close()
        db.dispose()


@pytest.mark.parametrize(
    "body",
    [
        "SELECT 1 AS x; COPY (SELECT 1) TO '{escape}'",
        "SELECT content AS x FROM read_text('/etc/passwd')",
        "COPY (SELECT 1) TO '{escape}'",
    ],
)
def test_views_from_the_catalog_run_sandboxed(
    catalog: CatalogService, ctx: RequestContext, tmp_path: Path, body: str
) -> None:
    from lakeworks.schemas.catalog import StorageDescriptor, TableColumn, TableInput

    escape = tmp_path / "escape.csv"
    catalog.create_database(ctx, DatabaseInput(name="v"))
    catalog.create_table(
        ctx,
        "v",
        TableInput(
            name="sneaky",
            table_type="VIRTUAL_VIEW",
            view_original_text=body.format(escape=escape),
            storage_descriptor=StorageDescriptor(columns=[TableColumn(name="x", type="int")]),
        ),
    )
    with pytest.raises(ValidationError):
        catalog.queries.sql(ctx, "SELECT * FROM sneaky", "v")
    assert not escape.exists()


def test_a_restart_fails_what_was_left_running(tmp_path: Path, ctx: RequestContext) -> None:
    from datetime import UTC, datetime

    from lakeworks.core.settings import load_settings
    from lakeworks.db import Database
    from lakeworks.lake.catalog.store import CrawlerRecord, CrawlRecord, QueryRecord

    settings = load_settings(home=tmp_path / "restart")
    db = Database(settings.database_url)
    db.upgrade()
    now = datetime(2024, 1, 1, tzinfo=UTC)
    with db.session() as session:
        session.add(
            QueryRecord(
                query_id="q-1",
                query="SELECT 1",
                statement_type="DML",
                substatement_type="SELECT",
                workgroup="primary",
                database=None,
                principal="x",
                client_request_token=None,
                output_location="s3://r/q-1.csv",
                state="RUNNING",
                state_change_reason=None,
                error=None,
                submission_time=now,
                completion_time=None,
                statistics={},
                columns=[],
                result_kind="csv",
            )
        )
        session.add(
            CrawlerRecord(
                name="c",
                spec={},
                schedule=None,
                schedule_state="NOT_SCHEDULED",
                next_run=None,
                state="RUNNING",
                version=1,
                creation_time=now,
                last_updated=now,
                tags={},
            )
        )
        session.flush()
        session.add(
            CrawlRecord(
                crawl_id="k-1",
                crawler_name="c",
                state="RUNNING",
                start_time=now,
                end_time=None,
                error_message=None,
                report={},
            )
        )
    catalog = CatalogService(settings, db, LakeService(settings, db))
    catalog.start()
    try:
        query = catalog.queries.get_query_execution(ctx, "q-1")
        assert query.status.state == "FAILED"
        assert "server stopped" in (query.status.state_change_reason or "")
        with db.session() as session:
            crawler_state = session.get(CrawlerRecord, "c")
            crawl = session.get(CrawlRecord, "k-1")
            assert crawler_state is not None
            assert crawl is not None
            assert crawler_state.state == "READY"
            assert (crawl.state, crawl.error_message) == (
                "FAILED",
                "The server stopped while the crawl was running",
            )
    finally:
        catalog.close()
        catalog.lake.close()
        db.dispose()


def test_encrypted_objects_are_read_through_the_lake(
    catalog: CatalogService, ctx: RequestContext, lake: LakeService
) -> None:
    from lakeworks.schemas.lake import BucketEncryption

    lake.create_bucket(ctx, "sealed")
    lake.put_bucket_encryption(ctx, "sealed", BucketEncryption(algorithm="AES256"))
    put(lake, ctx, "s3://sealed/t/points/a.csv", b"name,points\nann,3\nbob,4\n")
    on_disk = catalog.settings.home / "lake" / "sealed" / "t" / "points" / "a.csv"
    assert b"ann" not in on_disk.read_bytes()  # sealed at rest
    catalog.create_database(ctx, DatabaseInput(name="sealed"))
    catalog.crawlers.create_crawler(
        ctx,
        CrawlerInput(
            name="sealed",
            database_name="sealed",
            targets=CrawlerTargets(s3_targets=[S3Target(path="s3://sealed/t/")]),
        ),
    )
    catalog.crawlers.start_crawler(ctx, "sealed")
    crawl = catalog.crawlers.wait("sealed", 60)
    assert crawl is not None
    assert crawl.tables_created == ["points"]
    got = catalog.queries.sql(ctx, "SELECT sum(points) AS s FROM points", "sealed")
    assert got.to_pylist() == [{"s": 7}]
    # the plaintext copy of a sealed object lives only as long as its query
    scratch = catalog.queries.engine.scratch_dir
    assert not scratch.exists() or list(scratch.iterdir()) == []


def test_bucket_policies_apply_to_sql(
    catalog: CatalogService, ctx: RequestContext, reader: RequestContext, lake: LakeService
) -> None:
    lake.create_bucket(ctx, "guarded")
    put(lake, ctx, "s3://guarded/open/a.csv", b"a,b\n1,2\n")
    put(lake, ctx, "s3://guarded/secret/a.csv", b"a,b\n3,4\n")
    catalog.create_database(ctx, DatabaseInput(name="g"))
    for name in ("open", "secret"):
        catalog.queries.sql(
            ctx,
            f"CREATE EXTERNAL TABLE {name} (a bigint, b bigint) ROW FORMAT DELIMITED "
            f"FIELDS TERMINATED BY ',' LOCATION 's3://guarded/{name}/' "
            "TBLPROPERTIES ('skip.header.line.count'='1')",
            "g",
        )
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": {"AWS": "arn:aws:iam::000000000000:user/reader"},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::guarded/secret/*",
            }
        ],
    }
    lake.put_bucket_policy(ctx, "guarded", policy)
    assert catalog.queries.sql(reader, "SELECT a FROM open", "g").to_pylist() == [{"a": 1}]
    with pytest.raises(AccessDenied):
        catalog.queries.sql(reader, "SELECT a FROM secret", "g")
    assert catalog.queries.sql(ctx, "SELECT a FROM secret", "g").to_pylist() == [{"a": 3}]
