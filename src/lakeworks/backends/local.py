"""LocalBackend: each job is a process tree on this machine, surviving server restarts.

A job runs under a small wrapper (:mod:`lakeworks.jobs.runner`) started in a session of its own,
with stdout and stderr going to ``<job_dir>/runner/output.log`` (files, not pipes, so nothing
blocks or dies when the server does). The wrapper starts the user command in its own process
group, forwards SIGTERM to it and writes ``<job_dir>/runner/exit.json`` when it ends.

The handle records the wrapper's pid and its start time (field 22 of ``/proc/<pid>/stat``, in
clock ticks since boot), so a pid the kernel reused for another process is never mistaken for
the job. Files this backend keeps in ``<job_dir>/runner/``:

``launch.json``
    What the wrapper runs (argv, cwd; no secrets: the environment is passed in memory).
``output.log``
    Combined stdout/stderr of wrapper and job, readable while the job runs.
``child.json``
    The user command's pid (= its process group), for the SIGKILL after the stop grace.
``exit.json``
    How the command ended; written atomically by the wrapper.
``address.json``
    Services only (:meth:`LocalBackend.start_service`): ``{"host", "port"}`` the service listens
    on, written by the service itself once ready.

A service can also start on a pre-started *spare* interpreter (:meth:`LocalBackend.keep_spares`,
:mod:`lakeworks.backends.local_spares`); its handle then names the spare's own directory.

Without ``/proc`` (macOS) liveness falls back to ``kill(pid, 0)``, a weaker guard against pid
reuse.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from lakeworks.backends.base import (
    SERVICE_ADDRESS_ENV,
    Handle,
    LaunchSpec,
    LogChunk,
    PollResult,
    SpareSpec,
)
from lakeworks.backends.local_spares import SparePools

__all__ = ["RUNNER_DIR", "LocalBackend", "process_start_ticks"]

#: Subdirectory of the job directory that holds this backend's own files.
RUNNER_DIR = "runner"
_HAS_PROC = Path("/proc/self/stat").exists()


def process_start_ticks(pid: int) -> int | None:
    """Return when process ``pid`` started (clock ticks since boot), or None if it is not alive.

    A zombie counts as not alive. Without ``/proc``, returns 0 for any live pid (no start time
    to compare).
    """
    if not _HAS_PROC:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return 0
        return 0
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses; fields after it are plain.
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def _read_small(path: Path, limit: int = 4096) -> str | None:
    """Read a small file the job may have written, never following a link it put there."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return file.read(limit).decode("utf-8", "replace")


def _alive(pid: int, start_ticks: int | None) -> bool:
    now = process_start_ticks(pid)
    return now is not None and (start_ticks is None or now == start_ticks)


class _Files:
    """Paths of this backend's files for one job."""

    def __init__(self, job_dir: Path) -> None:
        self.dir = job_dir / RUNNER_DIR
        self.launch = self.dir / "launch.json"
        self.log = self.dir / "output.log"
        self.child = self.dir / "child.json"
        self.exit = self.dir / "exit.json"
        self.address = self.dir / "address.json"

    def read_json(self, path: Path) -> dict[str, Any] | None:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None


class LocalBackend:
    """Runs jobs as local processes. See the module docstring for the files it keeps.

    Args:
        settings: The settings tree (unused today; part of the backend constructor contract).
    """

    name = "local"

    def __init__(self, settings: Any = None) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        # Wrappers this process started: polled so the kernel can drop their zombies.
        self._children: dict[int, subprocess.Popen[bytes]] = {}
        # Wrapper pid → monotonic time at which a stopped job's process group gets SIGKILL.
        self._kill_at: dict[int, float] = {}
        self._spares = SparePools(self)

    # -- protocol ----------------------------------------------------------------------------

    def submit(self, spec: LaunchSpec) -> Handle:
        """Start the wrapper for ``spec`` in a new session; return its handle."""
        process, handle = self.spawn(spec, subprocess.DEVNULL)
        with self._lock:
            self._children[process.pid] = process
        return handle

    def spawn(self, spec: LaunchSpec, stdin: int) -> tuple[subprocess.Popen[bytes], Handle]:
        """Start the wrapper for ``spec`` with ``stdin``; the caller reaps the process."""
        files = _Files(spec.job_dir)
        files.dir.mkdir(parents=True, exist_ok=True)
        for stale in (files.child, files.exit):
            stale.unlink(missing_ok=True)
        launch = {
            "argv": spec.argv,
            "cwd": str(spec.cwd),
            "child_file": str(files.child),
            "exit_file": str(files.exit),
        }
        files.launch.write_text(json.dumps(launch, indent=2))
        with files.log.open("ab") as log:
            # -P: the wrapper's cwd is not put on sys.path, so nothing there shadows its imports.
            process = subprocess.Popen(
                [sys.executable, "-P", "-m", "lakeworks.jobs.runner", str(files.launch)],
                cwd=files.dir,
                env=spec.env,
                stdin=stdin,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                close_fds=True,
            )
        return process, {
            "backend": self.name,
            "host": socket.gethostname(),
            "pid": process.pid,
            "start_ticks": process_start_ticks(process.pid),
            "job_dir": str(spec.job_dir),
        }

    def adopt_process(self, process: subprocess.Popen[bytes]) -> None:
        """Reap ``process`` (a wrapper started with :meth:`spawn`) like a submitted job's."""
        with self._lock:
            self._children[process.pid] = process

    def poll(self, handle: Handle) -> PollResult:
        """Exit status if the wrapper wrote one; running while it lives; lost otherwise."""
        self._reap()
        if handle.get("host") != socket.gethostname():
            return PollResult.lost(
                f"the job ran on host {handle.get('host')!r}, and this server runs on "
                f"{socket.gethostname()!r}"
            )
        files = _Files(Path(handle["job_dir"]))
        pid = int(handle["pid"])
        ended = self._exit_code(files)
        if ended is not None:
            self._forget(pid)
            return PollResult.exited(ended)
        if _alive(pid, handle.get("start_ticks")):
            self._escalate_if_due(pid, files)
            return PollResult.running()
        ended = self._exit_code(files)  # it may have finished between the two checks
        if ended is not None:
            self._forget(pid)
            return PollResult.exited(ended)
        self._forget(pid)
        self._kill_child_group(pid, files)
        return PollResult.lost(
            f"the job's wrapper process (pid {pid}) is gone and left no exit status"
        )

    def stop(self, handle: Handle, grace_seconds: float) -> None:
        """SIGTERM to the wrapper (which forwards it to the job's group); SIGKILL after grace."""
        pid = int(handle["pid"])
        if not _alive(pid, handle.get("start_ticks")):
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)
        with self._lock:
            deadline = time.monotonic() + grace_seconds
            self._kill_at[pid] = min(self._kill_at.get(pid, deadline), deadline)

    def adopt(self, handle: Handle) -> bool:
        """A job from an earlier server process is accounted for if it runs or left its exit."""
        return self.poll(handle).state != "lost"

    def read_logs(self, handle: Handle, offset: int, limit: int) -> LogChunk:
        """Read the job's log file from ``offset`` (it grows while the job runs)."""
        path = _Files(Path(handle["job_dir"])).log
        try:
            # The job can write its directory: never follow a link it put there.
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            return LogChunk(b"", offset, 0)
        with os.fdopen(fd, "rb") as log:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                return LogChunk(b"", offset, 0)
            size = info.st_size
            log.seek(min(offset, size))
            data = log.read(max(0, limit))
        return LogChunk(data, min(offset, size) + len(data), size)

    def close(self) -> None:
        """End the spares; reap wrappers that ended; running jobs keep running, each watched."""
        self._spares.close()
        self._reap()
        with self._lock:
            remaining = list(self._children.values())
            self._children.clear()
        for process in remaining:
            # Still our child: something must wait() for it, or it lingers as a zombie.
            threading.Thread(target=process.wait, name="lakeworks-reaper", daemon=True).start()

    # -- services ----------------------------------------------------------------------------

    def start_service(self, spec: LaunchSpec) -> Handle:
        """Start a long-running service like a job; it writes ``runner/address.json`` once ready."""
        files = _Files(spec.job_dir)
        files.dir.mkdir(parents=True, exist_ok=True)
        files.address.unlink(missing_ok=True)
        env = {**spec.env, SERVICE_ADDRESS_ENV: str(files.address)}
        return self.submit(dataclasses.replace(spec, env=env))

    def service_address(self, handle: Handle) -> tuple[str, int] | None:
        """The loopback port the service wrote, or None while it has written none.

        Only the port is taken from the file (the service's own code could rewrite it): the host
        is always this machine's loopback address.
        """
        text = _read_small(_Files(Path(handle["job_dir"])).address)
        try:
            port = json.loads(text)["port"] if text else None
        except (ValueError, KeyError, TypeError):
            return None
        if not isinstance(port, int) or not 0 < port < 65536:
            return None
        return ("127.0.0.1", port)

    def service_address_file(self, job_dir: Path) -> Path:
        """The file a service started in ``job_dir`` writes its address to."""
        return _Files(job_dir).address

    # -- spares (see lakeworks.backends.local_spares) ----------------------------------------

    def keep_spares(self, spec: SpareSpec, count: int) -> None:
        """Keep ``count`` pre-started spares of ``spec.pool``; they end with the server."""
        self._spares.keep(spec, count)

    def start_service_from_spare(self, spec: LaunchSpec, pool: str) -> Handle:
        """Start a service on a ready spare of ``pool``, or afresh when none is ready or fits."""
        handle = self._spares.start(spec, pool)
        return handle if handle is not None else self.start_service(spec)

    # -- helpers -----------------------------------------------------------------------------

    def _reap(self) -> None:
        with self._lock:
            for pid, process in list(self._children.items()):
                if process.poll() is not None:
                    del self._children[pid]

    def _forget(self, pid: int) -> None:
        with self._lock:
            self._kill_at.pop(pid, None)

    @staticmethod
    def _exit_code(files: _Files) -> int | None:
        status = files.read_json(files.exit)
        if status is None or not isinstance(status.get("exit_code"), int):
            return None
        code: int = status["exit_code"]
        return code

    def _escalate_if_due(self, pid: int, files: _Files) -> None:
        with self._lock:
            due = self._kill_at.get(pid)
            if due is None or time.monotonic() < due:
                return
            self._kill_at[pid] = float("inf")  # once; the wrapper then records the -9
        if not self._kill_child_group(pid, files):
            # The command never started (or its pid was not recorded): end the wrapper itself.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)

    @staticmethod
    def _kill_child_group(wrapper_pid: int, files: _Files) -> bool:
        """SIGKILL the user command's process group; True if there was one to kill."""
        child = files.read_json(files.child)
        if child is None or not isinstance(child.get("pid"), int):
            return False
        child_pid: int = child["pid"]
        try:
            # Its session is the wrapper's: a reused pid belongs to some other session.
            if os.getsid(child_pid) != wrapper_pid:
                return False
            os.killpg(child_pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            return False
        return True
