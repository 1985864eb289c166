"""The supervisor: a background thread that moves jobs through their lifecycle.

Every ``jobs.poll_interval_seconds`` (or at once when woken by a submit, a stop or a finished
step) it

* starts Pending jobs while fewer than ``jobs.max_concurrent`` run (the slot check is part of
  the claiming UPDATE, so supervisors sharing a database never overfill it);
* polls the jobs it owns: finished or lost processes go to a worker thread that uploads results
  and records the outcome; a job past its MaxRuntimeInSeconds is stopped; a stop request is
  passed to the backend (SIGTERM, then SIGKILL after ``jobs.stop_grace_seconds``);
* takes over the jobs of supervisors that are gone — including its own predecessor after a
  crash or ``kill -9`` of the server — and recovers each: a job whose process still runs is
  adopted, one whose process ended is finished from its exit status, one that was only being
  prepared goes back to Pending, and one whose process vanished is failed with the reason. No
  job stays InProgress for ever.

A supervisor is alive while it holds an exclusive ``flock`` on its lock file
``<home>/jobs/.supervisors/<id>.lock``; the kernel drops the lock when the process dies, however
it dies. Its identity (the job column ``owner``) is ``<hostname>|<lock file path>``. Jobs of a
supervisor on another host are left to that host.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

from lakeworks.backends.base import Backend, PollResult
from lakeworks.core.settings import Settings
from lakeworks.db import Database
from lakeworks.iam.service import IamService
from lakeworks.jobs import staging
from lakeworks.jobs.execution import Executor, job_principal
from lakeworks.jobs.kinds import JobKind
from lakeworks.jobs.store import (
    JobRecord,
    advance,
    claim_pending,
    count_running,
    list_active,
    update_job,
)

__all__ = ["Supervisor"]

log = logging.getLogger("lakeworks.jobs")

LOCK_DIR = ".supervisors"


def _lock_held(path: Path) -> bool:
    """Whether some live process holds the supervisor lock at ``path``."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # also releases the lock if we just took it
    with contextlib.suppress(OSError):
        path.unlink()  # its owner is gone; tidy up
    return False


class Supervisor:
    """Runs the job lifecycle for one server process. See the module docstring.

    Args:
        settings: The settings tree (``jobs.*``, ``home``).
        db: The metadata database.
        iam: Creates and revokes the jobs' credentials.
        lake: Where inputs come from and results go.
        backend: Runs the job processes.
        clock: Current UTC time (tests pin it).
        kinds: Job kinds by job_type (:mod:`lakeworks.jobs.kinds`); the mapping is shared and
            may gain entries later.
    """

    def __init__(
        self,
        settings: Settings,
        db: Database,
        iam: IamService,
        lake: staging.Lake,
        backend: Backend,
        clock: Callable[[], datetime],
        kinds: dict[str, JobKind] | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.iam = iam
        self.backend = backend
        self.clock = clock
        self.lock_path = settings.home / "jobs" / LOCK_DIR / f"{uuid.uuid4().hex}.lock"
        self.owner = f"{socket.gethostname()}|{self.lock_path}"
        self.executor = Executor(settings, db, iam, lake, backend, self.owner, clock, kinds)
        self._lock_fd: int | None = None
        self._pool = ThreadPoolExecutor(
            max_workers=settings.jobs.max_concurrent + 4, thread_name_prefix="lakeworks-job"
        )
        self._mutex = threading.Lock()
        self._busy: set[str] = set()
        self._stop_sent: set[str] = set()
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Take the liveness lock, recover what predecessors left, and start the thread."""
        if self._thread is not None:
            return
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._lock_fd = fd
        self._thread = threading.Thread(
            target=self._run, name="lakeworks-job-supervisor", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        """Stop the thread and wait for steps in flight. Job processes keep running."""
        self._closing.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
        self._pool.shutdown(wait=True)
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                self.lock_path.unlink()
            os.close(self._lock_fd)
            self._lock_fd = None

    def wake(self) -> None:
        """Run a tick now rather than at the next poll interval."""
        self._wake.set()

    def _run(self) -> None:
        while not self._closing.is_set():
            self._wake.clear()
            try:
                self.tick()
            except Exception:
                log.exception("job supervisor tick failed; retrying")
            self._wake.wait(self.settings.jobs.poll_interval_seconds)

    # -- one pass -----------------------------------------------------------------------------

    def tick(self) -> None:
        """One pass over every unfinished job (see the module docstring)."""
        with self._mutex:
            busy = set(self._busy)  # before reading: a step that ended has written its state
        pending: list[JobRecord] = []
        alive: dict[str | None, bool] = {}
        for record in list_active(self.db):
            if record.name in busy:
                continue
            if record.secondary_status == "Pending":
                pending.append(record)
                continue
            try:
                if record.owner != self.owner:
                    if record.owner not in alive:
                        alive[record.owner] = self._owner_alive(record.owner)
                    if alive[record.owner]:
                        continue
                    taken = self._take_over(record)
                    if taken is None or self._recover(taken):
                        continue
                    record = taken
                self._check(record)
            except Exception:
                # One job's trouble must not keep the others from being supervised.
                log.exception("supervising job %s failed; retrying next tick", record.name)
        self._start_pending(pending)

    def _owner_alive(self, owner: str | None) -> bool:
        if owner is None:
            return False
        if owner == self.owner:
            return True
        host, _, path = owner.partition("|")
        if host != socket.gethostname():
            return True  # another machine's supervisor: not ours to judge
        return _lock_held(Path(path))

    def _take_over(self, seen: JobRecord) -> JobRecord | None:
        def change(r: JobRecord) -> dict[str, Any] | None:
            if r.owner != seen.owner or r.status not in ("InProgress", "Stopping"):
                return None
            return {"owner": self.owner}

        taken = update_job(self.db, seen.name, change, self.clock)
        if taken is not None:
            log.info(
                "took over job %s (%s) from %s", taken.name, taken.secondary_status, seen.owner
            )
            with self._mutex:
                self._stop_sent.discard(taken.name)
        return taken

    def _recover(self, record: JobRecord) -> bool:
        """Settle a job just taken over from a dead supervisor; False: poll it as usual."""
        name = record.name
        if record.handle is None:
            if record.status == "Stopping":
                self.executor.fail_unlaunched(name, None)
            elif record.secondary_status == "Training":
                self.executor.fail_unlaunched(
                    name,
                    "InternalServerError: the server went down while starting the job's process",
                )
            else:
                self._requeue(record)
            return True
        if record.backend != self.backend.name:
            self.executor.fail_unlaunched(
                name,
                f"InternalServerError: the job ran on the {record.backend!r} backend and this "
                f"server uses {self.backend.name!r}; it cannot be adopted",
            )
            return True
        if not self.backend.adopt(record.handle):
            log.warning("job %s: its process is gone", name)
        return False

    def _requeue(self, record: JobRecord) -> None:
        def change(r: JobRecord) -> dict[str, Any] | None:
            if r.owner != self.owner or r.status != "InProgress" or r.handle is not None:
                return None
            return {
                **advance(r, "Pending", self.clock(), message="Requeued after a server restart"),
                "owner": None,
                "start_time": None,
            }

        update_job(self.db, record.name, change, self.clock)
        self.iam.revoke_principal(job_principal(record.name))

    def _check(self, record: JobRecord) -> None:
        """Poll one job this supervisor owns and act on what it finds."""
        if record.handle is None:
            self.executor.fail_unlaunched(
                record.name, "InternalServerError: the job's process was never started"
            )
            return
        result = self.backend.poll(record.handle)
        if result.state != "running" or record.secondary_status == "Uploading":
            with self._mutex:
                self._stop_sent.discard(record.name)
            self._dispatch(record.name, self._finish, record, result)
            return
        if record.status == "InProgress" and record.deadline and self.clock() >= record.deadline:
            record = self._stop_for_max_runtime(record) or record
        if record.status == "Stopping" and record.handle is not None:
            with self._mutex:
                sent = record.name in self._stop_sent
                self._stop_sent.add(record.name)
            if not sent:
                self.backend.stop(record.handle, self.settings.jobs.stop_grace_seconds)

    def _finish(self, record: JobRecord, result: PollResult) -> None:
        self.executor.finish(record, result)

    def _stop_for_max_runtime(self, record: JobRecord) -> JobRecord | None:
        def change(r: JobRecord) -> dict[str, Any] | None:
            if (
                r.owner != self.owner
                or r.status != "InProgress"
                or r.secondary_status != "Training"
            ):
                return None
            message = "MaxRuntimeInSeconds exceeded; stopping the job"
            return {
                **advance(r, "Stopping", self.clock(), status="Stopping", message=message),
                "stop_cause": "max_runtime",
            }

        return update_job(self.db, record.name, change, self.clock)

    def _start_pending(self, pending: list[JobRecord]) -> None:
        if not pending:
            return
        limit = self.settings.jobs.max_concurrent
        free = limit - count_running(self.db)
        for record in pending:
            if free <= 0:
                return
            now = self.clock()
            values = {
                **advance(record, "Starting", now, message="Preparing the instances for training"),
                "owner": self.owner,
                "start_time": now,
            }
            if claim_pending(self.db, record, values, now, limit):
                free -= 1
                self._dispatch(record.name, self.executor.launch, record)

    def _dispatch(self, name: str, step: Callable[..., None], *args: Any) -> None:
        with self._mutex:
            self._busy.add(name)

        def run() -> None:
            try:
                step(*args)
            except Exception:
                log.exception("job %s: step %s failed", name, getattr(step, "__name__", step))
            finally:
                with self._mutex:
                    self._busy.discard(name)
                self._wake.set()

        self._pool.submit(run)
