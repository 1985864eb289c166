"""The local server under a home directory: find it, start it in the background, stop it.

The server process (``python -m lakeworks.server``) writes ``<home>/server.json`` (pid, url,
port) once it listens and removes it on a clean exit; its first start writes
``<home>/credentials.json`` (0600). This module only reads those files and sends signals, so the
SDK and the CLI manage a server without importing it.
"""

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
from typing import Any

from lakeworks.sdk.errors import ServerUnreachable

__all__ = [
    "CREDENTIALS_FILE",
    "LOG_FILE",
    "SERVER_FILE",
    "LocalServer",
    "find_server",
    "read_credentials",
    "server_command",
    "start_server",
    "stop_server",
]

SERVER_FILE = "server.json"
CREDENTIALS_FILE = "credentials.json"
LOG_FILE = "server.log"
_LOCK_FILE = "server.lock"


@dataclass(frozen=True)
class LocalServer:
    """A server process found (or just started) under ``home``."""

    home: Path
    pid: int
    url: str
    port: int
    started: bool = False  # True when this call started it, False when it was running already

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view for ``--output json``."""
        return {
            "running": True,
            "home": str(self.home),
            "pid": self.pid,
            "url": self.url,
            "port": self.port,
        }


#: Servers this process started, by pid. Keeping the Popen objects alive matters: a running
#: Popen that is garbage-collected warns, and ``poll`` reaps the child once it exits (an unreaped
#: child stays a zombie that still answers ``kill(pid, 0)``).
_children: dict[int, subprocess.Popen[bytes]] = {}


def _alive(pid: int) -> bool:
    child = _children.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _healthy(url: str, timeout: float = 2.0) -> bool:
    # urllib, not httpx: ``lakeworks server status`` stays quick by loading nothing heavy.
    import urllib.error
    import urllib.request

    if not url.startswith(("http://", "https://")):
        return False
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=timeout) as response:  # noqa: S310 - scheme checked above
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def find_server(home: Path, *, check_health: bool = True) -> LocalServer | None:
    """Return the server running under ``home``, or ``None``.

    A ``server.json`` left behind by a killed server (its pid is gone) counts as not running.

    Args:
        home: The server's home directory.
        check_health: Also require ``/healthz`` to answer (not just a live pid).
    """
    info = _read_json(home / SERVER_FILE)
    if info is None:
        return None
    try:
        pid, url, port = int(info["pid"]), str(info["url"]), int(info.get("port", 0))
    except (KeyError, TypeError, ValueError):
        return None
    if not _alive(pid) or (check_health and not _healthy(url)):
        return None
    return LocalServer(home=home, pid=pid, url=url.rstrip("/"), port=port)


def read_credentials(home: Path) -> dict[str, str] | None:
    """The admin credentials the first start wrote under ``home``, or ``None``."""
    data = _read_json(home / CREDENTIALS_FILE)
    return {str(k): str(v) for k, v in data.items()} if data else None


def server_command(home: Path, host: str | None = None, port: int | None = None) -> list[str]:
    """The argv that runs the server in the foreground (no shell involved)."""
    argv = [sys.executable, "-m", "lakeworks.server", "--home", str(home)]
    if host:
        argv += ["--host", host]
    if port is not None:
        argv += ["--port", str(port)]
    return argv


@contextlib.contextmanager
def _start_lock(home: Path) -> Iterator[None]:
    # Two clients starting the same home at once must not race for the port: serialize them.
    import fcntl

    with (home / _LOCK_FILE).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _log_tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def start_server(
    home: Path,
    *,
    host: str | None = None,
    port: int | None = None,
    timeout: float = 60.0,
) -> LocalServer:
    """Start a server under ``home`` in the background unless one runs; wait until healthy.

    The process runs in its own session (it outlives the caller and ignores the caller's
    Ctrl-C) and logs to ``<home>/server.log``.

    Args:
        home: State directory (created if missing).
        host: Interface to bind; the server's setting when omitted.
        port: TCP port (0: any free port); the server's setting when omitted.
        timeout: Seconds to wait for ``/healthz``.

    Returns:
        The server; ``started`` tells whether this call started it.

    Raises:
        ServerUnreachable: The process exited or did not become healthy in time; the message
            carries the end of its log.
    """
    home = home.expanduser().resolve()
    home.mkdir(parents=True, exist_ok=True)
    with _start_lock(home):
        running = find_server(home)
        if running is not None:
            return running
        log_path = home / LOG_FILE
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                server_command(home, host, port),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _children[process.pid] = process
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = process.poll()
            if code is not None:
                raise ServerUnreachable(
                    f"The Lakeworks server under {home} exited with code {code} while "
                    f"starting; end of {log_path}:\n{_log_tail(log_path)}",
                    details={"home": str(home), "exit_code": code},
                )
            found = find_server(home)
            if found is not None and found.pid == process.pid:
                return LocalServer(found.home, found.pid, found.url, found.port, started=True)
            time.sleep(0.05)
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
        raise ServerUnreachable(
            f"The Lakeworks server under {home} did not answer /healthz within {timeout:g}s; "
            f"end of {log_path}:\n{_log_tail(log_path)}",
            details={"home": str(home)},
        )


def stop_server(home: Path, *, timeout: float = 20.0) -> LocalServer | None:
    """Stop the server under ``home``: SIGTERM, then SIGKILL if it outlives ``timeout``.

    Returns:
        The server that was stopped, or ``None`` when none was running.
    """
    home = home.expanduser().resolve()
    server = find_server(home, check_health=False)
    if server is None:
        return None
    with contextlib.suppress(ProcessLookupError):
        os.kill(server.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(server.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(server.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(server.pid, signal.SIGKILL)
        while _alive(server.pid):
            time.sleep(0.05)
    # A killed server cannot remove its own state file; do it so status reads "not running".
    info = _read_json(home / SERVER_FILE)
    if info is not None and info.get("pid") == server.pid:
        with contextlib.suppress(OSError):
            (home / SERVER_FILE).unlink()
    return server
