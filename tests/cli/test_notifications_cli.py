"""``lakeworks lake notifications get|put|deliveries`` against a real server process and a real
HTTP server receiving the events."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.lake.webhook_support import Hook, closed_port_url, running_hook
from typer.testing import Result

Run = Callable[..., Result]

pytestmark = pytest.mark.usefixtures("needs_lake")


@pytest.fixture
def hook() -> Iterator[Hook]:
    """A local webhook receiver."""
    with running_hook() as running:
        yield running


def failed(result: Result, message: str) -> None:
    assert result.exit_code == 1, result.stdout
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def settled(cli_json: Callable[..., Any], bucket: str, count: int) -> list[dict[str, Any]]:
    """The history once ``count`` deliveries stopped being Pending (deadline against hangs)."""
    deadline = time.monotonic() + 60
    while True:
        rows: list[dict[str, Any]] = cli_json("lake", "notifications", "deliveries", bucket)
        if len(rows) == count and all(r["status"] != "Pending" for r in rows):
            return rows
        assert time.monotonic() < deadline, rows
        time.sleep(0.1)


def test_put_get_and_deliveries(
    cli: Run, cli_json: Callable[..., Any], hook: Hook, tmp_path: Path
) -> None:
    assert cli("lake", "mb", "s3://cli-notify").exit_code == 0
    dead = closed_port_url()
    config = {
        "webhook_configurations": [
            {"id": "live", "url": hook.url, "events": ["s3:ObjectCreated:*"]},
            {"id": "dead", "url": dead, "events": ["s3:ObjectCreated:*"]},
        ]
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    put = cli("lake", "notifications", "put", "s3://cli-notify", str(tmp_path / "config.json"))
    assert put.exit_code == 0, put.stderr
    assert put.stdout == "put_notifications: cli-notify (2 targets)\n"
    got = json.loads(cli("lake", "notifications", "get", "s3://cli-notify").stdout)
    assert [w["url"] for w in got["webhook_configurations"]] == [hook.url, dead]

    (tmp_path / "f.csv").write_text("a,b\n")
    copied = cli("lake", "cp", str(tmp_path / "f.csv"), "s3://cli-notify/in/f.csv")
    assert copied.exit_code == 0, copied.stderr

    rows = settled(cli_json, "s3://cli-notify", 2)
    by_target = {r["target"]: r for r in rows}
    assert by_target[hook.url]["status"] == "Delivered"
    assert by_target[dead]["status"] == "Failed"
    assert by_target[dead]["attempts"] == 4
    assert hook.received[0]["Records"][0]["s3"]["object"]["key"] == "in/f.csv"

    table = cli("lake", "notifications", "deliveries", "s3://cli-notify", "--status", "Failed")
    assert table.exit_code == 0, table.stderr
    lines = table.stdout.splitlines()
    assert "LAST ERROR" in lines[0]
    assert len(lines) == 3  # header, rule, the failed delivery
    for shown in (dead, "Failed", "in/f.csv"):
        assert shown in lines[2]
    only_live = cli_json(
        "lake", "notifications", "deliveries", "s3://cli-notify", "--target", hook.url
    )
    assert [r["status"] for r in only_live] == ["Delivered"]

    cleared = cli("lake", "notifications", "put", "s3://cli-notify", "-", input="{}")
    assert cleared.exit_code == 0, cleared.stderr
    assert cleared.stdout == "put_notifications: cli-notify (0 targets)\n"


def test_bad_inputs(cli: Run, tmp_path: Path) -> None:
    assert cli("lake", "mb", "s3://cli-notify-bad").exit_code == 0
    bad_url = {"webhook_configurations": [{"url": "http://", "events": ["s3:ObjectCreated:*"]}]}
    failed(
        cli("lake", "notifications", "put", "s3://cli-notify-bad", "-", input=json.dumps(bad_url)),
        "absolute http:// or https:// URL",
    )
    failed(
        cli("lake", "notifications", "put", "s3://cli-notify-bad", "-", input="[]"),
        "must be a JSON object",
    )
    failed(
        cli("lake", "notifications", "put", "s3://cli-notify-bad", str(tmp_path / "nope.json")),
        "Cannot read",
    )
    failed(cli("lake", "notifications", "get", "s3://no-such-bucket-x"), "no-such-bucket-x")
    failed(cli("lake", "notifications", "get", "s3://cli-notify-bad/key"), "with no key")
    failed(
        cli("lake", "notifications", "deliveries", "s3://cli-notify-bad", "--status", "Lost"),
        "Pending",
    )
