"""The catalog, a crawl and a query on PostgreSQL metadata."""

from __future__ import annotations

import io
import time
import uuid
from pathlib import Path

import pytest

from lakeworks.core.context import RequestContext
from lakeworks.core.settings import load_settings
from lakeworks.db import Database
from lakeworks.lake.catalog.service import CatalogService
from lakeworks.lake.service import LakeService
from lakeworks.schemas.catalog import (
    CrawlerInput,
    CrawlerTargets,
    DatabaseInput,
    PartitionInput,
    S3Target,
)

pytestmark = pytest.mark.postgres


def test_catalog_on_postgres(tmp_path: Path, postgres_url: str, ctx: RequestContext) -> None:
    settings = load_settings(home=tmp_path / "pg", database={"url": postgres_url})
    db = Database(settings.database_url)
    db.upgrade()
    catalog = CatalogService(settings, db, LakeService(settings, db))
    catalog.start()
    suffix = uuid.uuid4().hex[:8]
    bucket, database = f"pg-{suffix}", f"pg_{suffix}"
    try:
        lake = catalog.lake
        lake.create_bucket(ctx, bucket)
        for day in ("1", "2"):
            body = io.BytesIO(b"id,values\n1,2.5\n2,3.5\n")
            lake.put_object(ctx, bucket, f"raw/t/day={day}/a.csv", body)
        catalog.create_database(ctx, DatabaseInput(name=database))
        catalog.crawlers.create_crawler(
            ctx,
            CrawlerInput(
                name=f"c-{suffix}",
                database_name=database,
                targets=CrawlerTargets(s3_targets=[S3Target(path=f"s3://{bucket}/raw/")]),
            ),
        )
        catalog.crawlers.start_crawler(ctx, f"c-{suffix}")
        crawl = catalog.crawlers.wait(f"c-{suffix}", timeout=60)
        assert crawl is not None
        assert (crawl.state, crawl.tables_created, crawl.partitions_added) == (
            "COMPLETED",
            ["t"],
            2,
        )
        result = catalog.batch_create_partition(
            ctx, database, "t", [PartitionInput(values=["1"]), PartitionInput(values=["3"])]
        )
        assert [e.error_detail.error_code for e in result.errors] == ["AlreadyExistsException"]
        filtered = catalog.get_partitions(ctx, database, "t", expression="day > '1'").items
        assert sorted(p.values for p in filtered) == [["2"], ["3"]]
        lake.create_bucket(ctx, f"{bucket}-out")
        query_id = catalog.queries.start_query_execution(
            ctx,
            'SELECT day, sum("values") AS s FROM t GROUP BY day ORDER BY day',
            database,
            output_location=f"s3://{bucket}-out/",
        )
        deadline = time.monotonic() + 60
        while catalog.queries.get_query_execution(ctx, query_id).status.state not in (
            "SUCCEEDED",
            "FAILED",
        ):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        rows = catalog.queries.get_query_results(ctx, query_id).result_set.rows
        assert [[d.var_char_value for d in r.data] for r in rows] == [
            ["day", "s"],
            ["1", "6.0"],
            ["2", "6.0"],
        ]
    finally:
        catalog.close()
        catalog.lake.close()
        db.dispose()
