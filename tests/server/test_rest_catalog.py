"""The catalog, crawlers, queries, workgroups and SQL over the native REST API."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pytest

from lakeworks.testing import InProcessServer, temporary_server
from lakeworks.testing.process import server_process

BOOK = Path("/work/shared/datasets/book")
ARROW = "application/vnd.apache.arrow.stream"


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    """One in-process server for the module, with the book's wine data in bucket ``cat``."""
    with temporary_server(tmp_path_factory.mktemp("home")) as running:
        client = running.client
        for bucket in ("cat", "cat-results"):
            assert client.post("/api/v1/buckets", json={"name": bucket}).status_code == 201
        body = (BOOK / "wine-canvas.csv").read_bytes()
        put = client.put("/api/v1/buckets/cat/objects/raw/wine/wine.csv", content=body)
        assert put.status_code in (200, 201), put.text
        yield running


def error_of(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The native error body, after checking status and code."""
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code, error
    return error


def wait_for(check: Any, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.05)


def test_catalog_routes(srv: InProcessServer) -> None:
    client = srv.client
    base = "/api/v1/catalog/databases"
    created = client.post(base, json={"name": "Rest", "description": "d"})
    assert created.status_code == 201
    assert created.json()["name"] == "rest"
    error_of(client.post(base, json={"name": "rest"}), 409, "AlreadyExistsException")
    error_of(client.post(base, json={"name": "bad name"}), 400, "InvalidInputException")
    error_of(client.post(base, json={"name": "x", "bogus": 1}), 400, "ValidationException")
    assert "rest" in [d["name"] for d in client.get(base).json()["items"]]
    error_of(client.get(f"{base}/nope"), 404, "EntityNotFoundException")
    table = {
        "name": "Events",
        "table_type": "EXTERNAL_TABLE",
        "storage_descriptor": {
            "columns": [{"name": "id", "type": "bigint"}],
            "location": "s3://cat/events/",
            "serde_info": {"serialization_library": "org.openx.data.jsonserde.JsonSerDe"},
        },
        "partition_keys": [{"name": "day", "type": "string"}],
        "parameters": {"classification": "json"},
    }
    made = client.post(f"{base}/rest/tables", json=table)
    assert made.status_code == 201, made.text
    assert made.json()["version_id"] == "0"
    error_of(client.get(f"{base}/rest/tables/nope"), 404, "EntityNotFoundException")
    bad_type = {**table, "name": "t2", "partition_keys": [{"name": "d", "type": "nope"}]}
    error_of(client.post(f"{base}/rest/tables", json=bad_type), 400, "InvalidInputException")
    table["description"] = "v2"
    updated = client.put(f"{base}/rest/tables/events", json=table)
    assert updated.json()["version_id"] == "1"
    error_of(client.put(f"{base}/rest/tables/other", json=table), 400, "InvalidInputException")
    versions = client.get(f"{base}/rest/tables/events/versions").json()["items"]
    assert [v["version_id"] for v in versions] == ["1", "0"]
    assert (
        client.get(f"{base}/rest/tables/events/versions/0").json()["table"]["description"] is None
    )
    parts = {"partition_input_list": [{"values": ["2024-01-01"]}, {"values": ["a", "b"]}]}
    result = client.post(f"{base}/rest/tables/events/partitions", json=parts).json()
    assert [e["error_detail"]["error_code"] for e in result["errors"]] == ["InvalidInputException"]
    listed = client.get(
        f"{base}/rest/tables/events/partitions", params={"expression": "day >= '2024'"}
    ).json()["items"]
    assert [p["values"] for p in listed] == [["2024-01-01"]]
    error_of(
        client.get(f"{base}/rest/tables/events/partitions", params={"expression": "day ="}),
        400,
        "InvalidInputException",
    )
    assert client.delete(f"{base}/rest/tables/events").status_code == 204
    assert client.delete(f"{base}/rest").status_code == 204
    error_of(client.delete(f"{base}/rest"), 404, "EntityNotFoundException")


def test_crawl_then_query(srv: InProcessServer) -> None:
    client = srv.client
    assert client.post("/api/v1/catalog/databases", json={"name": "wine"}).status_code == 201
    spec = {
        "name": "wine-crawler",
        "database_name": "wine",
        "targets": {"s3_targets": [{"path": "s3://cat/raw/"}]},
        "schedule": "cron(0 3 * * ? *)",
    }
    assert client.post("/api/v1/crawlers", json=spec).status_code == 201
    error_of(
        client.post("/api/v1/crawlers", json={**spec, "name": "c2", "schedule": "daily"}),
        400,
        "InvalidInputException",
    )
    started = client.post("/api/v1/crawlers/wine-crawler/start")
    assert started.status_code == 202

    def crawled() -> Any:
        crawler = client.get("/api/v1/crawlers/wine-crawler").json()
        return crawler if crawler["state"] == "READY" and crawler["last_crawl"] else None

    crawler = wait_for(crawled)
    assert crawler["last_crawl"]["status"] == "SUCCEEDED"
    assert crawler["schedule"]["state"] == "SCHEDULED"
    crawls = client.get("/api/v1/crawlers/wine-crawler/crawls").json()["items"]
    assert crawls[0]["tables_created"] == ["wine"]
    metrics = client.get("/api/v1/crawlers/wine-crawler/metrics").json()
    assert metrics["tables_created"] == 1
    patched = client.patch("/api/v1/crawlers/wine-crawler", json={"schedule": None})
    assert patched.json()["schedule"] is None
    error_of(client.post("/api/v1/crawlers/wine-crawler/stop"), 409, "CrawlerNotRunningException")
    error_of(client.get("/api/v1/crawlers/nope"), 404, "EntityNotFoundException")

    start = client.post(
        "/api/v1/queries",
        json={
            "query": "SELECT country, count(*) AS n FROM wine GROUP BY country ORDER BY n DESC",
            "database": "wine",
            "output_location": "s3://cat-results/q/",
        },
    )
    assert start.status_code == 201, start.text
    query_id = start.json()["query_execution_id"]

    def finished() -> Any:
        body = client.get(f"/api/v1/queries/{query_id}").json()
        return body if body["status"]["state"] in ("SUCCEEDED", "FAILED") else None

    execution = wait_for(finished)
    assert execution["status"]["state"] == "SUCCEEDED", execution["status"]
    assert execution["statistics"]["data_scanned_in_bytes"] > 0
    page = client.get(f"/api/v1/queries/{query_id}/results", params={"max_results": 2}).json()
    assert [d["var_char_value"] for d in page["result_set"]["rows"][0]["data"]] == ["country", "n"]
    assert page["result_set"]["rows"][1]["data"][0]["var_char_value"] == "US"
    assert page["next_token"]
    listed = client.get("/api/v1/queries").json()["items"]
    assert query_id in [q["query_execution_id"] for q in listed]
    batch = client.post(
        "/api/v1/queries/batch-get", json={"query_execution_ids": [query_id, "nope"]}
    ).json()
    assert len(batch["query_executions"]) == 1
    assert client.post(f"/api/v1/queries/{query_id}/stop").status_code == 202
    error_of(client.get("/api/v1/queries/nope"), 404, "InvalidRequestException")
    error_of(
        client.post("/api/v1/queries", json={"query": "SELECT 1"}), 400, "InvalidRequestException"
    )

    arrow = client.post(
        "/api/v1/sql",
        json={"query": "SELECT count(*) AS n, max(price) AS m FROM wine", "database": "wine"},
    )
    assert arrow.headers["content-type"] == ARROW
    table = pa.ipc.open_stream(arrow.content).read_all()
    assert table.to_pylist()[0]["n"] == 2000
    rows = client.post(
        "/api/v1/sql",
        json={
            "query": "SELECT country, DATE '2024-01-02' AS d FROM wine LIMIT 1",
            "database": "wine",
        },
        headers={"Accept": "application/json"},
    ).json()
    assert rows["columns"] == [
        {"name": "country", "type": "string"},
        {"name": "d", "type": "date32[day]"},
    ]
    assert rows["rows"] == [["US", "2024-01-02"]]
    error_of(
        client.post("/api/v1/sql", json={"query": "SELECT * FROM nowhere", "database": "wine"}),
        400,
        "InvalidRequestException",
    )
    assert client.delete("/api/v1/crawlers/wine-crawler").status_code == 204


def test_workgroup_routes(srv: InProcessServer) -> None:
    client = srv.client
    spec = {
        "name": "team",
        "configuration": {
            "bytes_scanned_cutoff_per_query": 10_000_000,
            "result_configuration": {"output_location": "s3://cat-results/team/"},
        },
    }
    assert client.post("/api/v1/workgroups", json=spec).status_code == 201
    error_of(client.post("/api/v1/workgroups", json=spec), 409, "InvalidRequestException")
    too_small = {"name": "t2", "configuration": {"bytes_scanned_cutoff_per_query": 5}}
    error_of(client.post("/api/v1/workgroups", json=too_small), 400, "ValidationException")
    names = [w["name"] for w in client.get("/api/v1/workgroups").json()["items"]]
    assert names == ["primary", "team"]
    changed = client.patch("/api/v1/workgroups/team", json={"state": "DISABLED"}).json()
    assert changed["state"] == "DISABLED"
    assert changed["configuration"]["bytes_scanned_cutoff_per_query"] == 10_000_000
    assert client.delete("/api/v1/workgroups/team").status_code == 204
    error_of(client.get("/api/v1/workgroups/team"), 404, "InvalidRequestException")
    error_of(client.delete("/api/v1/workgroups/primary"), 400, "InvalidRequestException")


def test_catalog_routes_need_credentials(srv: InProcessServer) -> None:
    bare = httpx.Client(transport=srv.client._transport, base_url="http://127.0.0.1:8600")  # type: ignore[attr-defined]
    with bare:
        for method, path in [
            ("GET", "/api/v1/catalog/databases"),
            ("POST", "/api/v1/sql"),
            ("GET", "/api/v1/queries"),
            ("GET", "/api/v1/crawlers"),
        ]:
            assert bare.request(method, path).status_code == 401


@pytest.mark.slow
def test_sql_through_a_real_server(tmp_path: Path) -> None:
    with server_process(tmp_path / "home") as server:
        headers = {"Authorization": f"Bearer {server.token}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as client:
            assert client.post("/api/v1/buckets", json={"name": "real"}).status_code == 201
            data = (BOOK / "winemag-data_first150k.csv.gz").read_bytes()
            client.put("/api/v1/buckets/real/objects/wm/wm.csv.gz", content=data)
            client.post("/api/v1/catalog/databases", json={"name": "real"})
            ddl = client.post(
                "/api/v1/sql",
                json={
                    "query": "CREATE EXTERNAL TABLE wm (country string, designation string, "
                    "points bigint, price double) ROW FORMAT DELIMITED FIELDS TERMINATED BY ';' "
                    "LOCATION 's3://real/wm/' TBLPROPERTIES ('skip.header.line.count'='1')",
                    "database": "real",
                },
            )
            assert ddl.status_code == 200, ddl.text
            answer = client.post(
                "/api/v1/sql",
                json={
                    "query": "SELECT count(*) AS n FROM wm WHERE points >= 95",
                    "database": "real",
                },
            )
            table = pa.ipc.open_stream(answer.content).read_all()
            assert table.to_pylist() == [{"n": 2803}]  # pandas: (points >= 95).sum()
