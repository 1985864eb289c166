"""``lakeworks catalog`` and ``lakeworks crawlers`` against a real server process."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from typer.testing import Result

from lakeworks.testing.datasets import book_dataset

Run = Callable[..., Result]


def failed(result: Result, message: str) -> None:
    """The command exited 1 with ``message`` on stderr and no traceback."""
    assert result.exit_code == 1, result.stdout
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.usefixtures("needs_lake")
def test_crawl_then_browse_the_catalog(cli: Run, cli_json: Callable[..., Any]) -> None:
    assert cli("lake", "mb", "s3://cli-cat").exit_code == 0
    up = cli("lake", "cp", str(book_dataset("wine-canvas.csv")), "s3://cli-cat/raw/wine/")
    assert up.exit_code == 0, up.stderr
    made = cli("catalog", "create-database", "CliWine")
    assert made.exit_code == 0, made.stderr
    assert made.stdout == "create_database: cliwine\n"
    assert "cliwine" in [d["name"] for d in cli_json("catalog", "databases")]
    assert "cliwine" in cli("catalog", "databases").stdout

    crawler = cli_json(
        "crawlers",
        "create",
        "cli-wine",
        "--database",
        "cliwine",
        "--target",
        "s3://cli-cat/raw/",
        "--schedule",
        "cron(0 3 * * ? *)",
    )
    assert crawler["state"] == "READY"
    assert crawler["schedule"]["schedule_expression"] == "cron(0 3 * * ? *)"
    assert crawler["targets"]["s3_targets"][0]["path"] == "s3://cli-cat/raw/"
    listed = cli("crawlers", "list")
    assert "cli-wine" in listed.stdout
    assert "s3://cli-cat/raw/" in listed.stdout

    started = cli("crawlers", "start", "cli-wine")
    assert started.exit_code == 0, started.stderr
    assert started.stdout.startswith("start_crawler: cli-wine (crawl ")
    waited = cli_json("crawlers", "wait", "cli-wine", "--timeout", "120")
    assert waited["state"] == "READY"
    assert waited["last_crawl"]["status"] == "SUCCEEDED"
    described = cli("crawlers", "describe", "cli-wine")
    assert "SUCCEEDED" in described.stdout

    tables = cli_json("catalog", "tables", "cliwine")
    assert [t["name"] for t in tables] == ["wine"]
    table_text = cli("catalog", "tables", "cliwine").stdout
    assert "wine" in table_text
    assert "s3://cli-cat/raw/wine/" in table_text
    assert "csv" in table_text

    full = cli_json("catalog", "describe", "cliwine", "wine")
    columns = {c["name"]: c["type"] for c in full["storage_descriptor"]["columns"]}
    assert columns["price"] == "double"
    assert cli_json("catalog", "describe", "cliwine.wine")["name"] == "wine"
    text = cli("catalog", "describe", "cliwine.wine").stdout
    assert "price" in text
    assert "double" in text
    assert "s3://cli-cat/raw/wine/" in text

    deleted = cli("crawlers", "delete", "cli-wine")
    assert deleted.exit_code == 0
    failed(cli("crawlers", "describe", "cli-wine"), "cli-wine")


def test_catalog_bad_input(cli: Run) -> None:
    failed(cli("catalog", "tables", "no-such-db"), "no-such-db")
    failed(cli("catalog", "describe", "no-such-db", "t"), "no-such-db")
    failed(cli("catalog", "describe", "justonename"), "DATABASE.TABLE")
    failed(cli("catalog", "create-database", "bad name"), "bad name")
    assert cli("catalog", "create-database", "clidup").exit_code == 0
    failed(cli("catalog", "create-database", "clidup"), "clidup")


def test_crawler_bad_input(cli: Run, cli_json: Callable[..., Any]) -> None:
    assert cli("catalog", "create-database", "clicrawlbad").exit_code == 0
    bad = cli(
        "crawlers",
        "create",
        "cli-bad",
        "-d",
        "clicrawlbad",
        "-t",
        "s3://x/",
        "--schedule",
        "daily",
    )
    failed(bad, "daily")
    assert "cli-bad" not in [c["name"] for c in cli_json("crawlers", "list")]
    failed(cli("crawlers", "start", "no-such-crawler"), "no-such-crawler")
    failed(cli("crawlers", "wait", "no-such-crawler"), "no-such-crawler")
    missing = cli("crawlers", "create", "c", "-t", "s3://x/")
    assert missing.exit_code == 2  # usage error: --database is required
    assert "--database" in missing.stderr


def test_failed_crawl_exits_1(cli: Run) -> None:
    assert cli("catalog", "create-database", "clifail").exit_code == 0
    made = cli("crawlers", "create", "cli-fail", "-d", "clifail", "-t", "s3://no-such-bucket/")
    assert made.exit_code == 0, made.stderr
    result = cli("crawlers", "start", "cli-fail", "--wait", "--timeout", "120")
    failed(result, "crawler cli-fail FAILED")
