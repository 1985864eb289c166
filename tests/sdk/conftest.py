"""Fixtures for SDK tests: an in-process server and a client bound to it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lakeworks.sdk.client import Client
from lakeworks.testing import InProcessServer, temporary_server


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # No test may reach (or start) a server from the developer's own environment.
    monkeypatch.delenv("LAKEWORKS_URL", raising=False)
    monkeypatch.delenv("LAKEWORKS_TOKEN", raising=False)
    monkeypatch.setenv("LAKEWORKS_HOME", str(tmp_path / "default-home"))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    """One in-process server per test module."""
    with temporary_server(tmp_path_factory.mktemp("home")) as running:
        yield running


@pytest.fixture
def client(server: InProcessServer) -> Client:
    """An SDK client talking to the in-process server as admin."""
    return Client(http=server.client, home=server.settings.home)


def _mounted(server: InProcessServer, prefix: str) -> bool:
    paths = server.client.get("/openapi.json").json()["paths"]
    return any(path.startswith(prefix) for path in paths)


@pytest.fixture
def lake_client(server: InProcessServer, client: Client) -> Client:
    """The client, for tests that need the lake routes (skipped until they are mounted)."""
    if not _mounted(server, "/api/v1/buckets"):
        pytest.skip("the lake router is not mounted in server/rest ROUTERS yet")
    return client


@pytest.fixture
def jobs_client(server: InProcessServer, client: Client) -> Client:
    """The client, for tests that need the jobs routes (skipped until they are mounted)."""
    if not _mounted(server, "/api/v1/jobs"):
        pytest.skip("the jobs router is not mounted in server/rest ROUTERS yet")
    return client
