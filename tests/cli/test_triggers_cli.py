"""``lakeworks triggers``, ``functions`` and ``etl-jobs`` against a real server process."""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Callable
from typing import Any

import httpx

from lakeworks.testing.process import ServerProcess

from .conftest import Run


def _zip(text: str) -> str:
    import base64

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("fn.py", text)
    return base64.b64encode(buffer.getvalue()).decode()


def test_event_trigger_from_the_cli(
    server: ServerProcess, cli: Run, cli_json: Callable[..., Any]
) -> None:
    with httpx.Client(
        base_url=f"{server.url}/api/v1", headers={"Authorization": f"Bearer {server.token}"}
    ) as api:
        api.post("/buckets", json={"name": "cli-trig"}).raise_for_status()
        api.post(
            "/functions",
            json={
                "function_name": "cli-echo",
                "runtime": "python3.11",
                "handler": "fn.h",
                "code": {"zip_file": _zip("def h(e, c):\n    print('saw', e['arguments'])\n")},
            },
        ).raise_for_status()

        made = cli_json(
            "triggers", "create", "cli-trig", "--bucket", "cli-trig", "--prefix", "in/",
            "--function", "cli-echo", "--arg", "where={s3_uri}",
        )  # fmt: skip
        assert made["state"] == "ACTIVATED"
        assert [t["name"] for t in cli_json("triggers", "list")] == ["cli-trig"]
        api.put("/buckets/cli-trig/objects/in/a.csv", content=b"1").raise_for_status()

        deadline = time.monotonic() + 60
        while True:
            runs = cli_json("triggers", "runs", "cli-trig")
            if runs and runs[0]["status"] == "SUCCEEDED":
                break
            assert time.monotonic() < deadline, runs
            time.sleep(0.2)
        logs = cli("functions", "logs", "cli-echo")
        assert logs.exit_code == 0
        assert "saw {'where': 's3://cli-trig/in/a.csv'}" in logs.stdout
        assert cli_json("functions", "describe", "cli-echo")["handler"] == "fn.h"

        stopped = cli_json("triggers", "stop", "cli-trig")
        assert stopped["state"] == "DEACTIVATED"
        bad = cli("triggers", "create", "bad", "--bucket", "cli-trig", "--function", "nope")
        assert bad.exit_code == 1
        assert "nope" in bad.stderr
