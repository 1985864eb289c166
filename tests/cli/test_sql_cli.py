"""``lakeworks sql`` against a real server process."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable

import pandas as pd
import pytest
from typer.testing import Result

from lakeworks.testing.datasets import book_dataset
from lakeworks.testing.process import ServerProcess

Run = Callable[..., Result]
WINE = book_dataset("wine-canvas.csv")


@pytest.fixture(scope="module")
def wine_table(server: ServerProcess) -> str:
    """The wine data as table ``cliwinesql.wine`` (made with SQL DDL: no crawl needed)."""
    import httpx

    headers = {"Authorization": f"Bearer {server.token}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=60) as http:
        for response in (
            http.post("/api/v1/buckets", json={"name": "cli-sql"}),
            http.put("/api/v1/buckets/cli-sql/objects/wine/wine.csv", content=WINE.read_bytes()),
            http.post("/api/v1/catalog/databases", json={"name": "cliwinesql"}),
            http.post(
                "/api/v1/sql",
                json={
                    "query": "CREATE EXTERNAL TABLE wine (country string, designation string, "
                    "points double, price double, province string, region_1 string, "
                    "region_2 string, variety string, winery string) ROW FORMAT SERDE "
                    "'org.apache.hadoop.hive.serde2.OpenCSVSerde' LOCATION 's3://cli-sql/wine/' "
                    "TBLPROPERTIES ('skip.header.line.count'='1')",
                    "database": "cliwinesql",
                },
            ),
        ):
            assert response.status_code < 300, response.text
    return "cliwinesql"


def test_sql_outputs(cli: Run, wine_table: str) -> None:
    query = (
        "SELECT country, count(*) AS n FROM wine WHERE country IN ('Chile', 'Spain') "
        "GROUP BY country ORDER BY country"
    )
    counts = pd.read_csv(WINE)["country"].value_counts()
    as_json = cli("sql", query, "--database", wine_table, "--output", "json")
    assert as_json.exit_code == 0, as_json.stderr
    body = json.loads(as_json.stdout)
    assert [c["name"] for c in body["columns"]] == ["country", "n"]
    assert body["rows"] == [["Chile", counts["Chile"]], ["Spain", counts["Spain"]]]

    as_csv = cli("sql", query, "-d", wine_table, "-o", "csv")
    assert as_csv.exit_code == 0, as_csv.stderr
    assert list(csv.reader(io.StringIO(as_csv.stdout))) == [
        ["country", "n"],
        ["Chile", str(counts["Chile"])],
        ["Spain", str(counts["Spain"])],
    ]

    as_table = cli("sql", query, "-d", wine_table)
    assert as_table.exit_code == 0, as_table.stderr
    lines = as_table.stdout.splitlines()
    assert lines[0].split() == ["country", "n"]
    assert ["Chile", str(counts["Chile"])] in [line.split() for line in lines]
    assert "(2 rows)" in as_table.stderr


def test_sql_matches_pandas(cli: Run, wine_table: str) -> None:
    query = (
        "SELECT country, avg(price) AS price FROM wine WHERE country <> '' "
        "GROUP BY country ORDER BY country"
    )
    result = cli("sql", query, "-d", wine_table, "-o", "csv")
    assert result.exit_code == 0, result.stderr
    got = pd.read_csv(io.StringIO(result.stdout)).set_index("country")["price"]
    expected = pd.read_csv(WINE).groupby("country")["price"].mean().sort_index()
    pd.testing.assert_series_equal(got, expected, check_names=False, rtol=1e-9)


def test_sql_from_stdin_and_nulls(cli: Run, wine_table: str) -> None:
    result = cli("sql", "-", "-o", "csv", input="SELECT NULL AS a, 'x,y' AS b, [1, 2] AS c\n")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == 'a,b,c\n,"x,y","[1,2]"\n'


def test_sql_errors_exit_1(cli: Run, wine_table: str) -> None:
    syntax = cli("sql", "SELEC country FROM wine", "-d", wine_table)
    assert syntax.exit_code == 1
    assert 'syntax error at or near "SELEC"' in syntax.stderr
    assert "LINE 1" in syntax.stderr
    assert "Traceback" not in syntax.stderr
    unknown_db = cli("sql", "SELECT 1", "-d", "no_such_db")
    assert unknown_db.exit_code == 1
    assert "Database 'no_such_db' not found" in unknown_db.stderr
    empty = cli("sql", "  ")
    assert empty.exit_code == 1
    assert "The query is empty" in empty.stderr
    bad_output = cli("sql", "SELECT 1", "-o", "xml")
    assert bad_output.exit_code == 2
