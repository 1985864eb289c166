"""The local server under a home: Client() starts it, find/stop manage it (real processes)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from lakeworks.sdk.client import Client
from lakeworks.sdk.errors import ServerUnreachable
from lakeworks.sdk.local import (
    SERVER_FILE,
    find_server,
    read_credentials,
    start_server,
    stop_server,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("LAKEWORKS_HOME", str(home))
    # Any free port: tests run side by side and 8600 may be taken.
    monkeypatch.setenv("LAKEWORKS_SERVER_PORT", "0")
    return home


def test_client_starts_the_local_server_and_stop_ends_it(home: Path) -> None:
    try:
        client = Client()
        assert client.whoami().principal == "admin"
        running = find_server(home)
        assert running is not None
        assert client.url == running.url
        assert client.home == home.resolve()
        credentials = read_credentials(home)
        assert credentials is not None
        assert (home / "credentials.json").stat().st_mode & 0o077 == 0

        again = start_server(home)
        assert again.pid == running.pid
        assert not again.started, "a second start finds the running server"

        env = client.aws_env()
        assert env is not None
        assert env["AWS_ACCESS_KEY_ID"] == credentials["access_key_id"]
        client.close()
    finally:
        stopped = stop_server(home)
    assert stopped is not None
    assert find_server(home) is None
    assert not (home / SERVER_FILE).exists()
    assert stop_server(home) is None, "stopping a stopped server is a no-op"


def test_client_without_start_does_not_start_one(home: Path) -> None:
    with pytest.raises(ServerUnreachable) as caught:
        Client(start=False)
    assert str(home.resolve()) in caught.value.message
    assert "lakeworks server start" in caught.value.message
    assert not (home / SERVER_FILE).exists()


def test_a_stale_server_file_counts_as_not_running(home: Path) -> None:
    home.mkdir()
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead = int(finished.stdout)
    (home / SERVER_FILE).write_text(json.dumps({"pid": dead, "url": "http://127.0.0.1:1"}))
    assert find_server(home) is None
    assert stop_server(home) is None


def test_a_server_that_cannot_start_reports_its_log(home: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ServerUnreachable) as caught:
            start_server(home, port=port)
    message = caught.value.message
    assert "exited with code" in message
    assert "server.log" in message
    assert "address already in use" in message.lower()
    assert find_server(home) is None
