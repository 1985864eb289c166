"""A real Lakeworks server process on a free port, for end-to-end tests."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

__all__ = ["ServerProcess", "server_process"]


@dataclass
class ServerProcess:
    """A running server: its home, URL, process and admin credentials."""

    home: Path
    url: str
    process: subprocess.Popen[bytes]
    credentials: dict[str, str]

    @property
    def token(self) -> str:
        """The admin bearer token."""
        return self.credentials["token"]

    def aws_env(self) -> dict[str, str]:
        """Environment for boto3 / the aws CLI to talk to this server as admin."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": self.credentials["access_key_id"],
            "AWS_SECRET_ACCESS_KEY": self.credentials["secret_access_key"],
            "AWS_DEFAULT_REGION": "us-east-1",
        }

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to the server (SIGKILL by default: a crash) and reap it."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=30)


def _wait_healthy(process: subprocess.Popen[bytes], home: Path, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    state = home / "server.json"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}; see {home}/server.log")
        if state.exists():
            with contextlib.suppress(ValueError, OSError, httpx.HTTPError):
                url = str(json.loads(state.read_text())["url"])
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    return url
        time.sleep(0.05)
    raise TimeoutError(f"server under {home} not healthy after {timeout}s")


def start_server(
    home: Path, *, env: dict[str, str] | None = None, timeout: float = 60.0
) -> ServerProcess:
    """Start ``python -m lakeworks.server`` on a free port under ``home`` and wait for health."""
    home.mkdir(parents=True, exist_ok=True)
    log = (home / "server.log").open("ab")
    full_env = {**os.environ, **(env or {})}
    full_env.setdefault("LAKEWORKS_SERVER_PORT", "0")
    process = subprocess.Popen(
        [sys.executable, "-m", "lakeworks.server", "--home", str(home)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=full_env,
    )
    log.close()
    url = _wait_healthy(process, home, timeout)
    creds = json.loads((home / "credentials.json").read_text())
    return ServerProcess(home=home, url=url, process=process, credentials=creds)


@contextlib.contextmanager
def server_process(home: Path, *, env: dict[str, str] | None = None) -> Iterator[ServerProcess]:
    """Run a server process for the duration of the block; SIGTERM it afterwards."""
    server = start_server(home, env=env)
    try:
        yield server
    finally:
        if server.process.poll() is None:
            server.process.terminate()
            try:
                server.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait()
