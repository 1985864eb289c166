"""Fixtures for CLI tests: one real server process, and a runner pointed at it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner, Result

from lakeworks.cli.main import app
from lakeworks.testing.process import ServerProcess, server_process

Run = Callable[..., Result]


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # No test may reach (or start) a server from the developer's own environment.
    monkeypatch.delenv("LAKEWORKS_URL", raising=False)
    monkeypatch.delenv("LAKEWORKS_TOKEN", raising=False)
    monkeypatch.setenv("LAKEWORKS_HOME", str(tmp_path / "default-home"))


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One real server process for the CLI tests."""
    with server_process(tmp_path_factory.mktemp("cli-home")) as running:
        yield running


@pytest.fixture
def cli(server: ServerProcess) -> Run:
    """Run ``lakeworks ARGS...`` in process against the server; returns the click Result."""

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        full_env = {"LAKEWORKS_URL": server.url, "LAKEWORKS_TOKEN": server.token, **(env or {})}
        return CliRunner().invoke(app, list(args), input=input, env=full_env)

    return run


@pytest.fixture
def cli_json(cli: Run) -> Callable[..., Any]:
    """Run a command with ``--output json``; assert it succeeded and return the parsed JSON."""

    def run(*args: str, **kwargs: Any) -> Any:
        result = cli(*args, "--output", "json", **kwargs)
        assert result.exit_code == 0, result.stderr or result.stdout
        return json.loads(result.stdout)

    return run


def _mounted(server: ServerProcess, prefix: str) -> bool:
    headers = {"Authorization": f"Bearer {server.token}"}
    paths = httpx.get(f"{server.url}/openapi.json", headers=headers, timeout=10).json()["paths"]
    return any(path.startswith(prefix) for path in paths)


@pytest.fixture
def needs_lake(server: ServerProcess) -> None:
    """Skip until the lake routes are mounted."""
    if not _mounted(server, "/api/v1/buckets"):
        pytest.skip("the lake router is not mounted in server/rest ROUTERS yet")


@pytest.fixture
def needs_jobs(server: ServerProcess) -> None:
    """Skip until the jobs routes are mounted."""
    if not _mounted(server, "/api/v1/jobs"):
        pytest.skip("the jobs router is not mounted in server/rest ROUTERS yet")
