"""End to end: ``lakeworks server start|status|stop`` and ``eval "$(lakeworks env)"``, run as
real subprocesses the way a user types them."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lakeworks.cli.env import export_lines
from lakeworks.sdk.local import SERVER_FILE, find_server, stop_server

pytestmark = pytest.mark.slow

LAKEWORKS = str(Path(sys.executable).with_name("lakeworks"))


def lakeworks(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LAKEWORKS, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        check=False,
    )


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    home = tmp_path / "home"
    yield home
    stop_server(home, timeout=5)  # whatever a failed test left running


def test_start_status_env_stop(home: Path) -> None:
    started = lakeworks("server", "start", "--home", str(home), "--port", "0")
    assert started.returncode == 0, started.stderr
    assert started.stdout.startswith("Lakeworks started at http://127.0.0.1:")
    server = find_server(home)
    assert server is not None
    assert server.url in started.stdout
    assert (home / "server.log").exists()

    again = lakeworks("server", "start", "--home", str(home), "--port", "0")
    assert again.returncode == 0
    assert "already running" in again.stdout
    assert find_server(home) == server

    status = lakeworks("server", "status", "--home", str(home), "-o", "json")
    assert status.returncode == 0
    assert json.loads(status.stdout) == {
        "running": True,
        "home": str(home.resolve()),
        "pid": server.pid,
        "url": server.url,
        "port": server.port,
    }

    # What a user does: eval the exports in a shell, then use the CLI and boto3 unchanged.
    script = (
        f'eval "$({shlex.quote(LAKEWORKS)} env --home {shlex.quote(str(home))})" && '
        f"{shlex.quote(LAKEWORKS)} whoami -o json && "
        f"{shlex.quote(sys.executable)} -c "
        + shlex.quote(
            "import boto3, json, os; "
            "ident = boto3.client('sts').get_caller_identity(); "
            "print(json.dumps({'arn': ident['Arn'], 'url': os.environ['AWS_ENDPOINT_URL'],"
            " 'region': os.environ['AWS_DEFAULT_REGION']}))"
        )
    )
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LAKEWORKS_"))}
    shell = subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={**clean_env, "HOME": str(home.parent)},
        check=False,
    )
    assert shell.returncode == 0, shell.stderr
    decoder = json.JSONDecoder()
    whoami, end = decoder.raw_decode(shell.stdout)
    boto = json.loads(shell.stdout[end:])
    assert whoami["principal"] == "admin"
    assert boto == {"arn": whoami["arn"], "url": server.url, "region": "us-east-1"}

    stopped = lakeworks("server", "stop", "--home", str(home))
    assert stopped.returncode == 0
    assert f"pid {server.pid}" in stopped.stdout
    assert not (home / SERVER_FILE).exists()

    down = lakeworks("server", "status", "--home", str(home))
    assert down.returncode == 3
    assert "not running" in down.stdout
    again_stopped = lakeworks("server", "stop", "--home", str(home))
    assert again_stopped.returncode == 0
    assert "not running" in again_stopped.stdout


def test_env_exports_survive_shell_quoting() -> None:
    tricky = {"A": 'it\'s $HOME `x` "q"', "B": "plain"}
    script = export_lines(tricky) + '\nprintf "%s\\n%s" "$A" "$B"'
    done = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, check=True, timeout=30
    )
    assert done.stdout == f"{tricky['A']}\n{tricky['B']}"


def test_env_without_a_server_and_without_start_fails_cleanly(home: Path) -> None:
    result = lakeworks("env", "--home", str(home), "--no-start")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("Error: Lakeworks is not running under")
    assert not (home / SERVER_FILE).exists()


def test_foreground_runs_the_server_in_this_process(home: Path) -> None:
    process = subprocess.Popen(
        [LAKEWORKS, "server", "start", "--foreground", "--home", str(home), "--port", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        server = None
        while server is None and time.monotonic() < deadline and process.poll() is None:
            server = find_server(home)
            time.sleep(0.1)
        assert server is not None, "the foreground server never answered"
        assert server.pid == process.pid, "the CLI process became the server (exec)"
        process.send_signal(signal.SIGTERM)
        # uvicorn re-raises the SIGTERM it handled once it has shut down gracefully.
        assert process.wait(timeout=30) in (0, -signal.SIGTERM)
        assert find_server(home) is None
        assert lakeworks("server", "status", "--home", str(home)).returncode == 3
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_the_console_script_is_installed() -> None:
    assert shutil.which(LAKEWORKS) is not None


def test_data_commands_start_the_local_server_when_none_runs(home: Path) -> None:
    from typer.testing import CliRunner

    from lakeworks.cli.main import app

    env = {"LAKEWORKS_HOME": str(home), "LAKEWORKS_SERVER_PORT": "0"}
    first = CliRunner().invoke(app, ["whoami", "-o", "json"], env=env)
    assert first.exit_code == 0, first.stderr
    assert json.loads(first.stdout)["principal"] == "admin"
    assert first.stderr.startswith("Started Lakeworks at http://127.0.0.1:")
    second = CliRunner().invoke(app, ["whoami", "-o", "json"], env=env)
    assert second.exit_code == 0
    assert second.stderr == "", "the running server is reused silently"
