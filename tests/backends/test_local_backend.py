"""What only LocalBackend does: process identity, orphans, reaping, its own files, the wrapper."""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.jobs.conftest import wait_for

from lakeworks.backends.base import LaunchSpec, PollResult
from lakeworks.backends.local import LocalBackend, process_start_ticks


@pytest.fixture
def backend() -> Iterator[LocalBackend]:
    made = LocalBackend()
    yield made
    made.close()


def launch(root: Path, code: str, env: dict[str, str] | None = None) -> LaunchSpec:
    job_dir = root / "job"
    (job_dir / "code").mkdir(parents=True)
    (job_dir / "code" / "prog.py").write_text(code)
    base = {"PATH": os.environ.get("PATH", ""), "PYTHONUNBUFFERED": "1"}
    return LaunchSpec("job", job_dir, [sys.executable, "prog.py"], job_dir / "code", env or base)


def finished(backend: LocalBackend, handle: dict[str, object]) -> PollResult:
    return wait_for(lambda: (r := backend.poll(handle)).state != "running" and r)


def test_the_command_gets_exactly_the_given_environment(
    backend: LocalBackend, tmp_path: Path
) -> None:
    env = {"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8", "ONLY_THIS": "1"}
    code = "import json, os\nprint(json.dumps(dict(os.environ)))\n"
    handle = backend.submit(launch(tmp_path, code, env))
    assert finished(backend, handle) == PollResult.exited(0)
    seen = json.loads(backend.read_logs(handle, 0, 100000).data)
    assert seen == env


def test_a_reused_pid_is_not_mistaken_for_the_job(backend: LocalBackend, tmp_path: Path) -> None:
    handle = {
        "backend": "local",
        "host": os.uname().nodename,
        "pid": os.getpid(),  # alive, but started at another time than recorded
        "start_ticks": (process_start_ticks(os.getpid()) or 0) + 1,
        "job_dir": str(tmp_path),
    }
    result = backend.poll(handle)
    assert result.state == "lost"
    assert backend.adopt(handle) is False


def test_a_job_of_another_host_is_not_claimed(backend: LocalBackend, tmp_path: Path) -> None:
    handle = {"host": "elsewhere", "pid": 1, "start_ticks": 1, "job_dir": str(tmp_path)}
    assert "elsewhere" in backend.poll(handle).detail


def test_when_the_wrapper_dies_its_orphaned_job_is_killed(
    backend: LocalBackend, tmp_path: Path
) -> None:
    handle = backend.submit(launch(tmp_path, "import time\nprint('up')\ntime.sleep(60)\n"))
    child_file = tmp_path / "job" / "runner" / "child.json"
    child = wait_for(lambda: child_file.exists() and json.loads(child_file.read_text())["pid"])
    os.kill(handle["pid"], signal.SIGKILL)  # the wrapper only
    assert finished(backend, handle).state == "lost"
    wait_for(lambda: process_start_ticks(child) is None)


def test_ended_wrappers_are_reaped(backend: LocalBackend, tmp_path: Path) -> None:
    handle = backend.submit(launch(tmp_path, "print('bye')\n"))
    assert finished(backend, handle) == PollResult.exited(0)
    # polling reaps the wrapper: no zombie is left in the process table
    proc = Path(f"/proc/{handle['pid']}")
    wait_for(lambda: backend.poll(handle).state == "exited" and not proc.exists())


def test_a_command_that_cannot_start_is_recorded(backend: LocalBackend, tmp_path: Path) -> None:
    spec = launch(tmp_path, "")
    broken = LaunchSpec(spec.job_name, spec.job_dir, ["/nonexistent/python"], spec.cwd, spec.env)
    handle = backend.submit(broken)
    assert finished(backend, handle) == PollResult.exited(127)
    assert b"cannot start the job command" in backend.read_logs(handle, 0, 1000).data


def test_logs_never_follow_a_link_the_job_planted(backend: LocalBackend, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("server secret")
    code = (
        "import os\n"
        "os.remove('../runner/output.log')\n"
        f"os.symlink({str(secret)!r}, '../runner/output.log')\n"
    )
    handle = backend.submit(launch(tmp_path, code))
    assert finished(backend, handle) == PollResult.exited(0)
    assert (tmp_path / "job" / "runner" / "output.log").is_symlink()
    assert backend.read_logs(handle, 0, 1000).data == b""
