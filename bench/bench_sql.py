"""SQL over the lake and crawling, through a real Lakeworks server vs raw DuckDB.

1. A 10 M-row Parquet table (4 files) in the lake: the same aggregation through
   ``POST /api/v1/sql`` (Arrow IPC back) and through raw DuckDB over the same files in place
   (a fresh connection per query, as Lakeworks makes one per query). Ratio of medians.
2. Fixed per-query overhead: ``SELECT 1`` through ``/api/v1/sql`` and as an Athena-style
   query execution (start, poll until SUCCEEDED, results CSV written to the lake) vs raw DuckDB.
3. A crawler over 10 000 small CSV files (100 partition folders x 100 files).

Run: ``.venv/bin/python bench/bench_sql.py``.
"""

from __future__ import annotations

import io
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import httpx
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from lakeworks.core.context import RequestContext
from lakeworks.db import Database
from lakeworks.lake.service import LakeService
from lakeworks.testing import make_settings
from lakeworks.testing.process import server_process

ROWS = 10_000_000
FILES = 4
ROUNDS = 5
SMALL_ROUNDS = 20
CRAWL_FOLDERS = 100
CRAWL_FILES_PER_FOLDER = 100
AGGREGATION = (
    "SELECT category, count(*) AS n, avg(value) AS mean, sum(id) AS total "
    "FROM {table} GROUP BY category ORDER BY category"
)


def _median(fn: Callable[[], Any], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _parquet_files(work: Path) -> list[Path]:
    rng = np.random.default_rng(7)
    per_file = ROWS // FILES
    categories = np.array([f"cat-{i:02d}" for i in range(50)])
    paths = []
    for index in range(FILES):
        table = pa.table(
            {
                "id": np.arange(index * per_file, (index + 1) * per_file, dtype=np.int64),
                "category": pa.array(categories[rng.integers(0, 50, per_file)]),
                "value": rng.normal(100, 15, per_file),
                "flag": rng.integers(0, 2, per_file).astype(bool),
            }
        )
        path = work / f"part-{index}.parquet"
        pq.write_table(table, path)
        paths.append(path)
    return paths


def _seed_crawl_data(home: Path) -> None:
    """Write the crawler's 10k small files straight into the lake before the server starts."""
    settings = make_settings(home)
    db = Database(settings.database_url)
    db.upgrade()
    lake = LakeService(settings, db)
    ctx = RequestContext.system()
    lake.create_bucket(ctx, "crawl")
    for folder in range(CRAWL_FOLDERS):
        for number in range(CRAWL_FILES_PER_FOLDER):
            day = f"2024-01-{1 + folder % 28:02d}"
            body = f"id,name,score,day\n{number},n{number},{number * 0.5},{day}\n"
            key = f"small/events/day={folder}/f-{number}.csv"
            lake.put_object(ctx, "crawl", key, io.BytesIO(body.encode()))
    lake.close()
    db.dispose()


def _sql(client: httpx.Client, query: str, database: str | None = "bench") -> pa.Table:
    response = client.post("/api/v1/sql", json={"query": query, "database": database})
    response.raise_for_status()
    return pa.ipc.open_stream(response.content).read_all()


def _athena(client: httpx.Client, query: str) -> None:
    started = client.post(
        "/api/v1/queries",
        json={"query": query, "database": "bench", "output_location": "s3://bench/results/"},
    )
    started.raise_for_status()
    query_id = started.json()["query_execution_id"]
    while True:
        state = client.get(f"/api/v1/queries/{query_id}").json()["status"]["state"]
        if state == "SUCCEEDED":
            return
        if state in ("FAILED", "CANCELLED"):
            raise RuntimeError(f"query {query_id} {state}")
        time.sleep(0.005)


def _raw(files: list[str], query: str) -> pa.Table:
    connection = duckdb.connect()
    try:
        view = "read_parquet([" + ", ".join(f"'{f}'" for f in files) + "])"
        return connection.sql(query.format(table=view)).to_arrow_table()
    finally:
        connection.close()


def _same(mine: pa.Table, theirs: pa.Table) -> None:
    """Both answers agree (means up to float summation order, which threads change)."""
    for a, b in zip(mine.to_pylist(), theirs.to_pylist(), strict=True):
        assert (a["category"], a["n"], int(a["total"])) == (b["category"], b["n"], int(b["total"]))
        assert abs(a["mean"] - b["mean"]) < 1e-9 * abs(b["mean"]), (a, b)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        print(f"generating {ROWS:,} rows in {FILES} Parquet files ...")
        paths = _parquet_files(work)
        print(f"writing {CRAWL_FOLDERS * CRAWL_FILES_PER_FOLDER:,} small CSV files ...")
        home = work / "home"
        _seed_crawl_data(home)
        with server_process(home) as server:
            headers = {"Authorization": f"Bearer {server.token}"}
            with httpx.Client(base_url=server.url, headers=headers, timeout=600) as client:
                client.post("/api/v1/buckets", json={"name": "bench"}).raise_for_status()
                for path in paths:
                    with path.open("rb") as body:
                        client.put(
                            f"/api/v1/buckets/bench/objects/big/{path.name}", content=body
                        ).raise_for_status()
                _sql(client, "CREATE DATABASE bench", None)
                _sql(
                    client,
                    "CREATE EXTERNAL TABLE big (id bigint, category string, value double, "
                    "flag boolean) STORED AS PARQUET LOCATION 's3://bench/big/'",
                )
                in_place = [str(home / "lake" / "bench" / "big" / p.name) for p in paths]
                mine = _sql(client, AGGREGATION.format(table="big"))
                theirs = _raw(in_place, AGGREGATION)
                _same(mine, theirs)
                lw_agg = _median(lambda: _sql(client, AGGREGATION.format(table="big")), ROUNDS)
                raw_agg = _median(lambda: _raw(in_place, AGGREGATION), ROUNDS)
                lw_one = _median(lambda: _sql(client, "SELECT 1", None), SMALL_ROUNDS)
                raw_one = _median(lambda: _raw([], "SELECT 1"), SMALL_ROUNDS)
                lw_table = _median(
                    lambda: _sql(client, "SELECT count(*) FROM big WHERE id = 5"), SMALL_ROUNDS
                )
                raw_table = _median(
                    lambda: _raw(in_place, "SELECT count(*) FROM {table} WHERE id = 5"),
                    SMALL_ROUNDS,
                )
                lw_async = _median(lambda: _athena(client, "SELECT 1"), SMALL_ROUNDS // 2)

                client.post("/api/v1/catalog/databases", json={"name": "crawled"})
                crawler = {
                    "name": "small-files",
                    "database_name": "crawled",
                    "targets": {"s3_targets": [{"path": "s3://crawl/small/"}]},
                }
                client.post("/api/v1/crawlers", json=crawler).raise_for_status()
                start = time.perf_counter()
                client.post("/api/v1/crawlers/small-files/start").raise_for_status()
                while True:
                    body = client.get("/api/v1/crawlers/small-files").json()
                    if body["state"] == "READY" and body["last_crawl"]:
                        break
                    time.sleep(0.1)
                crawl_seconds = time.perf_counter() - start
                crawl = client.get("/api/v1/crawlers/small-files/crawls").json()["items"][0]
                partitions = client.get(
                    "/api/v1/catalog/databases/crawled/tables/events/partitions"
                ).json()["items"]

        files = CRAWL_FOLDERS * CRAWL_FILES_PER_FOLDER
        print()
        print(f"aggregation over {ROWS:,} rows (median of {ROUNDS})")
        print(f"  lakeworks /api/v1/sql     {lw_agg * 1000:8.1f} ms")
        print(f"  raw duckdb, same files    {raw_agg * 1000:8.1f} ms")
        print(f"  ratio                     {lw_agg / raw_agg:8.2f} x")
        print(f"fixed per-query overhead (median of {SMALL_ROUNDS})")
        print(f"  SELECT 1 lakeworks        {lw_one * 1000:8.1f} ms   raw {raw_one * 1000:.1f} ms")
        print(
            f"  point query on the table  {lw_table * 1000:8.1f} ms   raw {raw_table * 1000:.1f} ms"
        )
        print(f"  overhead (table query)    {(lw_table - raw_table) * 1000:8.1f} ms")
        print(f"  Athena-style SELECT 1     {lw_async * 1000:8.1f} ms   (start, poll, CSV in lake)")
        print(f"crawler over {files:,} small CSV files in {CRAWL_FOLDERS} partition folders")
        print(
            f"  {crawl['state']}: {crawl_seconds:.1f} s  ({files / crawl_seconds:.0f} files/s), "
            f"tables created {crawl['tables_created']}, partitions {len(partitions)}"
        )


if __name__ == "__main__":
    main()
