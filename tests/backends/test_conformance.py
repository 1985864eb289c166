"""One lifecycle, checked on every backend: complete, exit codes, logs, stop, max runtime, adopt.

Each backend gets a harness that turns a :class:`Program` (what the job does) into a launch:
a tiny Python script for LocalBackend, a scripted outcome for FakeBackend. The same assertions
then hold for both; a new backend joins by adding a harness to ``HARNESSES``.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest
from tests.jobs.conftest import ADMIN, DirLake, wait_for

from lakeworks.backends.base import Backend, Handle, LaunchSpec, PollResult
from lakeworks.backends.local import LocalBackend, process_start_ticks
from lakeworks.db import Database
from lakeworks.iam.secrets import SecretBox
from lakeworks.iam.service import IamService
from lakeworks.jobs.service import JobService
from lakeworks.schemas.jobs import JobCreate
from lakeworks.testing import make_settings
from lakeworks.testing.fake_backend import FakeBackend, FakeOutcome


@dataclass(frozen=True)
class Program:
    """What a test job does: print ``output``, run ``duration`` seconds, exit ``exit_code``."""

    exit_code: int = 0
    duration: float = 0.0
    output: str = ""
    ignore_term: bool = False

    def script(self) -> str:
        ignore = "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n" if self.ignore_term else ""
        return (
            "import signal, sys, time\n"
            f"{ignore}"
            f"sys.stdout.write({self.output!r}); sys.stdout.flush()\n"
            f"time.sleep({self.duration})\n"
            f"sys.exit({self.exit_code})\n"
        )


class Harness(Protocol):
    backend: Any

    def launch(self, name: str, program: Program) -> LaunchSpec: ...

    def restart(self) -> Any: ...

    def vanish(self, handle: Handle) -> None: ...


class LocalHarness:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.backend = LocalBackend(None)

    def launch(self, name: str, program: Program) -> LaunchSpec:
        code = self.root / name / "code"
        code.mkdir(parents=True)
        (code / "prog.py").write_text(program.script())
        env = {"PATH": os.environ.get("PATH", ""), "PYTHONUNBUFFERED": "1"}
        return LaunchSpec(name, self.root / name, [sys.executable, "prog.py"], code, env)

    def restart(self) -> LocalBackend:
        return LocalBackend(None)

    def vanish(self, handle: Handle) -> None:
        os.killpg(handle["pid"], signal.SIGKILL)  # the wrapper dies, leaving no exit status
        wait_for(lambda: process_start_ticks(handle["pid"]) is None)


class FakeHarness:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.backend = FakeBackend()

    def launch(self, name: str, program: Program) -> LaunchSpec:
        outcome = FakeOutcome(
            exit_code=program.exit_code,
            duration=program.duration,
            output=program.output.encode(),
            ignore_stop=program.ignore_term,
        )
        self.backend.script(name, outcome)
        return LaunchSpec(name, self.root / name, ["fake"], self.root / name, {})

    def restart(self) -> FakeBackend:
        return self.backend.restarted()

    def vanish(self, handle: Handle) -> None:
        self.backend.vanish(handle)


HARNESSES: dict[str, Callable[[Path], Harness]] = {"local": LocalHarness, "fake": FakeHarness}


@pytest.fixture(params=sorted(HARNESSES))
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    made = HARNESSES[request.param](tmp_path)
    assert isinstance(made.backend, Backend)  # it implements the protocol
    yield made
    made.backend.close()


def ended(backend: Any, handle: Handle, timeout: float = 30) -> PollResult:
    return wait_for(lambda: (r := backend.poll(handle)).state != "running" and r, timeout)


def logs_show(backend: Any, handle: Handle, text: str) -> bytes:
    return wait_for(
        lambda: text.encode() in (d := backend.read_logs(handle, 0, 1 << 20).data) and d
    )


def test_a_job_completes(harness: Harness) -> None:
    handle = harness.backend.submit(harness.launch("ok", Program(output="done\n")))
    assert ended(harness.backend, handle) == PollResult.exited(0)
    assert harness.backend.read_logs(handle, 0, 1000).data.endswith(b"done\n")
    assert harness.backend.adopt(handle) is True  # an ended job is still accounted for


def test_a_failing_job_reports_its_exit_code(harness: Harness) -> None:
    handle = harness.backend.submit(harness.launch("fail", Program(exit_code=3)))
    assert ended(harness.backend, handle) == PollResult.exited(3)


def test_logs_are_readable_while_running_and_by_offset(harness: Harness) -> None:
    handle = harness.backend.submit(
        harness.launch("logs", Program(output="hello\nworld\n", duration=30))
    )
    logs_show(harness.backend, handle, "world\n")
    assert harness.backend.poll(handle).state == "running"
    chunk = harness.backend.read_logs(handle, 6, 1000)
    assert (chunk.data, chunk.next_offset, chunk.size) == (b"world\n", 12, 12)
    part = harness.backend.read_logs(handle, 0, 3)
    assert (part.data, part.next_offset) == (b"hel", 3)
    assert harness.backend.read_logs(handle, 50, 10).data == b""
    harness.backend.stop(handle, 5)
    ended(harness.backend, handle)


def test_stop_sends_sigterm(harness: Harness) -> None:
    handle = harness.backend.submit(harness.launch("stop", Program(output="up\n", duration=30)))
    logs_show(harness.backend, handle, "up\n")
    harness.backend.stop(handle, 30)
    assert ended(harness.backend, handle) == PollResult.exited(-signal.SIGTERM)
    harness.backend.stop(handle, 30)  # stopping an ended job is harmless
    assert harness.backend.poll(handle) == PollResult.exited(-signal.SIGTERM)


def test_stop_escalates_to_sigkill_after_the_grace(harness: Harness) -> None:
    program = Program(output="stubborn\n", duration=30, ignore_term=True)
    handle = harness.backend.submit(harness.launch("kill", program))
    logs_show(harness.backend, handle, "stubborn\n")
    harness.backend.stop(handle, 0.3)
    assert ended(harness.backend, handle) == PollResult.exited(-signal.SIGKILL)


def test_a_restarted_backend_adopts_a_running_job(harness: Harness) -> None:
    handle = harness.backend.submit(harness.launch("adopt", Program(output="a\n", duration=0.5)))
    fresh = harness.restart()
    assert fresh.adopt(handle) is True
    assert ended(fresh, handle) == PollResult.exited(0)
    assert fresh.read_logs(handle, 0, 100).data == b"a\n"


def test_a_vanished_job_is_lost(harness: Harness) -> None:
    handle = harness.backend.submit(harness.launch("lost", Program(output="x\n", duration=30)))
    logs_show(harness.backend, handle, "x\n")
    harness.vanish(handle)
    fresh = harness.restart()
    assert fresh.adopt(handle) is False
    result = fresh.poll(handle)
    assert result.state == "lost"
    assert result.detail


def test_max_runtime_through_the_job_service(harness: Harness, tmp_path: Path) -> None:
    """The supervisor enforces MaxRuntimeInSeconds the same way on every backend."""
    program = Program(output="long\n", duration=60)
    harness.launch("too-long", program)  # scripts the fake; the local job runs the code below
    lake = DirLake(tmp_path / "lake")
    lake.put("s3://code/prog.py", program.script().encode())
    settings = make_settings(
        tmp_path / "home", jobs={"poll_interval_seconds": 0.02, "stop_grace_seconds": 5}
    )
    db = Database(settings.database_url)
    db.upgrade()
    iam = IamService(settings, db, SecretBox.from_home(settings.home, None))
    service = JobService(settings, db, iam, lake, harness.backend)
    service.start()
    try:
        service.create_job(
            ADMIN,
            JobCreate(
                job_name="too-long",
                code_uri="s3://code/prog.py",
                entry_point="prog.py",
                stopping_condition={"max_runtime_in_seconds": 1},
            ),
        )
        info = wait_for(
            lambda: (i := service.describe_job(ADMIN, "too-long")).end_time is not None and i
        )
        assert (info.status, info.secondary_status) == ("Failed", "MaxRuntimeExceeded")
        assert info.exit_code == -signal.SIGTERM
        assert (info.failure_reason or "").startswith("MaxRuntimeExceeded:")
    finally:
        service.close()
        db.dispose()
