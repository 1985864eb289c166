"""The wrapper process of a local job: ``python -m lakeworks.jobs.runner <launch.json>``.

:class:`~lakeworks.backends.local.LocalBackend` starts this wrapper in a session of its own, with
stdout and stderr already pointing at the job's log file, so the job outlives the server (even a
``kill -9`` of it). The wrapper

1. reads ``launch.json`` (``argv``, ``cwd``, ``child_file``, ``exit_file``; no secrets: the
   environment arrives as the wrapper's own, which the user command inherits unchanged);
2. starts the user command in a process group of its own (never through a shell) and records its
   pid in ``child_file``, so the backend can SIGKILL the group after the stop grace period;
3. forwards SIGTERM, SIGINT and SIGHUP to that group;
4. when the command ends, kills what it left behind in its group and writes ``exit_file``
   atomically: ``{"exit_code": n, "stop_signal": s | null, "finished_at": epoch seconds}``.

The exit file is how a restarted server learns how a job ended while it was away. Runs inside
the job's environment: it imports nothing but the standard library (see the import-linter
contract in pyproject.toml), never the database or server settings.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

__all__ = ["main", "write_json_atomic"]

#: Exit code recorded when the command cannot be started at all (as a shell would report it).
CANNOT_START = 127
_FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def write_json_atomic(path: Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` as JSON to ``path`` so readers see all of it or nothing.

    Temp file in the same directory, fsync, rename, fsync of the directory: the file survives a
    crash of the machine right after this returns.
    """
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, json.dumps(payload).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class _Wrapper:
    """Runs one command, forwards stop signals to its process group, records how it ended."""

    def __init__(self, argv: list[str], cwd: Path, child_file: Path, exit_file: Path) -> None:
        self.argv = argv
        self.cwd = cwd
        self.child_file = child_file
        self.exit_file = exit_file
        self.child: subprocess.Popen[bytes] | None = None
        self.stop_signal: int | None = None
        self._forwarded = False

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if self.stop_signal is None:
            self.stop_signal = signum
            _say(f"received {signal.Signals(signum).name}; stopping the job")
        self._forward()

    def _forward(self) -> None:
        # A signal can arrive before the child exists; run() forwards it once the child started.
        if self.child is None or self.stop_signal is None or self._forwarded:
            return
        self._forwarded = True
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.child.pid, self.stop_signal)

    def run(self) -> int:
        for signum in _FORWARDED:
            signal.signal(signum, self._on_signal)
        try:
            child = subprocess.Popen(self.argv, cwd=self.cwd, process_group=0)
        except OSError as exc:
            _say(f"cannot start the job command {self.argv[0]!r}: {exc}")
            self._finish(CANNOT_START)
            return 0
        self.child = child
        write_json_atomic(self.child_file, {"pid": child.pid})
        self._forward()
        code = child.wait()
        # What the command left running in its group ends with it, as in a container.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)
        self._finish(code)
        return 0

    def _finish(self, code: int) -> None:
        write_json_atomic(
            self.exit_file,
            {"exit_code": code, "stop_signal": self.stop_signal, "finished_at": time.time()},
        )


def _say(message: str) -> None:
    print(f"[lakeworks] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the job described by the launch file named in ``argv`` (default ``sys.argv[1:]``).

    Returns:
        0 once the exit file is written (the job's own code is in it); 2 on a usage error.
    """
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m lakeworks.jobs.runner <launch.json>", file=sys.stderr)
        return 2
    launch = json.loads(Path(args[0]).read_text())
    wrapper = _Wrapper(
        argv=[str(a) for a in launch["argv"]],
        cwd=Path(launch["cwd"]),
        child_file=Path(launch["child_file"]),
        exit_file=Path(launch["exit_file"]),
    )
    return wrapper.run()


if __name__ == "__main__":
    sys.exit(main())
