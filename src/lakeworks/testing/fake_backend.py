"""FakeBackend: the Backend protocol in memory, with scripted outcomes, for fast tests.

Nothing runs. Each submitted job becomes a fake process that "runs" for its outcome's
``duration`` (wall-clock seconds; 0 ends at the first poll), then exits with its ``exit_code``,
writing its ``output`` as the log and its ``files`` into the job directory (``model/…``,
``output/failure`` …) as a real job would. Stop follows the real rules: SIGTERM ends the fake at
once (exit ``-15``) unless it ``ignore_stop``\\s, in which case it is killed (``-9``) when the
grace period is over.

The fake processes live in a :class:`FakeMachine` that outlives a backend instance, so a test
can "restart the server" with :meth:`FakeBackend.restarted` and check adoption, or make a job
:meth:`~FakeBackend.vanish` to check how a lost job is handled::

    backend = FakeBackend()
    backend.script("train-1", FakeOutcome(exit_code=3, output=b"boom\\n"))
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lakeworks.backends.base import Handle, LaunchSpec, LogChunk, PollResult

__all__ = ["FakeBackend", "FakeMachine", "FakeOutcome"]


@dataclass(frozen=True)
class FakeOutcome:
    """How a fake job behaves.

    Attributes:
        exit_code: Its exit status when it ends by itself.
        duration: Seconds it runs before ending by itself.
        output: Its combined stdout/stderr (all of it visible from the start).
        files: Files it leaves, relative to the job directory, written when it ends.
        ignore_stop: Whether it survives SIGTERM (then SIGKILL ends it after the grace).
        vanish: Whether it disappears without an exit status when it ends (a lost job).
    """

    exit_code: int = 0
    duration: float = 0.0
    output: bytes = b""
    files: dict[str, bytes] = field(default_factory=dict)
    ignore_stop: bool = False
    vanish: bool = False


@dataclass
class _FakeProcess:
    spec: LaunchSpec
    outcome: FakeOutcome
    started: float
    stop_at: float | None = None
    kill_at: float | None = None
    exit_code: int | None = None
    vanished: bool = False


class FakeMachine:
    """The fake processes, shared by a backend and its :meth:`FakeBackend.restarted` copies."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.processes: dict[str, _FakeProcess] = {}
        self.ids = itertools.count(1)


class FakeBackend:
    """An in-memory Backend. See the module docstring.

    Args:
        settings: Ignored (part of the backend constructor contract).
        machine: The fake processes to share (default: a new machine).
        default: Outcome of jobs without a scripted one.
    """

    name = "fake"

    def __init__(
        self,
        settings: Any = None,
        *,
        machine: FakeMachine | None = None,
        default: FakeOutcome | None = None,
    ) -> None:
        self.settings = settings
        self.machine = machine or FakeMachine()
        self.default = default or FakeOutcome()
        self.scripts: dict[str, FakeOutcome] = {}
        #: Every launch this instance made, in order (tests check argv and env here).
        self.launches: list[LaunchSpec] = []
        self.closed = False

    # -- scripting ----------------------------------------------------------------------------

    def script(self, job_name: str, outcome: FakeOutcome) -> None:
        """Make the job named ``job_name`` behave as ``outcome`` when it is submitted."""
        self.scripts[job_name] = outcome

    def restarted(self) -> FakeBackend:
        """A new backend on the same fake machine, as after a server restart."""
        clone = FakeBackend(self.settings, machine=self.machine, default=self.default)
        clone.scripts = dict(self.scripts)
        return clone

    def vanish(self, handle: Handle) -> None:
        """Make the job disappear without an exit status (killed with its wrapper, say)."""
        with self.machine.lock:
            self.machine.processes[handle["id"]].vanished = True

    @property
    def submitted(self) -> list[str]:
        """Names of the jobs this instance started, in order."""
        return [spec.job_name for spec in self.launches]

    # -- protocol -----------------------------------------------------------------------------

    def submit(self, spec: LaunchSpec) -> Handle:
        """Start a fake process behaving as scripted for ``spec.job_name``."""
        outcome = self.scripts.get(spec.job_name, self.default)
        with self.machine.lock:
            pid = f"fake-{next(self.machine.ids)}"
            self.machine.processes[pid] = _FakeProcess(spec, outcome, time.monotonic())
            self.launches.append(spec)
        return {"backend": self.name, "id": pid, "job_dir": str(spec.job_dir)}

    def poll(self, handle: Handle) -> PollResult:
        """Advance the fake process to now and report its state."""
        with self.machine.lock:
            process = self.machine.processes.get(handle.get("id", ""))
            if process is None:
                return PollResult.lost("no such process on the fake machine")
            self._advance(process)
            if process.vanished:
                return PollResult.lost("the fake process vanished")
            if process.exit_code is None:
                return PollResult.running()
            return PollResult.exited(process.exit_code)

    def stop(self, handle: Handle, grace_seconds: float) -> None:
        """SIGTERM the fake process; SIGKILL it after ``grace_seconds`` if it ignores that."""
        with self.machine.lock:
            process = self.machine.processes.get(handle.get("id", ""))
            if process is None or process.exit_code is not None:
                return
            now = time.monotonic()
            if process.stop_at is None:
                process.stop_at = now
            kill_at = now + grace_seconds
            process.kill_at = kill_at if process.kill_at is None else min(process.kill_at, kill_at)

    def adopt(self, handle: Handle) -> bool:
        """Known to the fake machine and not vanished."""
        return self.poll(handle).state != "lost"

    def read_logs(self, handle: Handle, offset: int, limit: int) -> LogChunk:
        """The scripted output from ``offset``."""
        with self.machine.lock:
            process = self.machine.processes.get(handle.get("id", ""))
            output = process.outcome.output if process else b""
        start = min(offset, len(output))
        data = output[start : start + max(0, limit)]
        return LogChunk(data, start + len(data), len(output))

    def close(self) -> None:
        """Nothing to release; the fake processes live on in the machine."""
        self.closed = True

    # -- helpers ------------------------------------------------------------------------------

    def _advance(self, process: _FakeProcess) -> None:
        if process.exit_code is not None or process.vanished:
            return
        now = time.monotonic()
        natural_end = process.started + process.outcome.duration
        if process.stop_at is not None and process.stop_at < natural_end:
            if not process.outcome.ignore_stop:
                self._end(process, -15)
            elif process.kill_at is not None and now >= process.kill_at:
                self._end(process, -9)
            return
        if now >= natural_end:
            self._end(process, process.outcome.exit_code)

    @staticmethod
    def _end(process: _FakeProcess, code: int) -> None:
        root = Path(process.spec.job_dir).resolve()
        for relative, data in process.outcome.files.items():
            target = (root / relative).resolve()
            if target.is_relative_to(root):
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
        process.exit_code = code
        process.vanished = process.outcome.vanish
