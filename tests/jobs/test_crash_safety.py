"""Jobs survive ``kill -9`` of the server; after a restart none stays InProgress.

A real server process runs four jobs. It is killed with SIGKILL while they run. While it is
down, one job finishes and another is killed together with its wrapper (it leaves no exit
status). A new server on the same home then adopts the two still running (they finish
Completed), finishes the one that ended meanwhile from its exit file, and fails the lost one
with the reason.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.jobs.conftest import wait_for

from lakeworks.backends.local import process_start_ticks
from lakeworks.testing.process import ServerProcess, start_server

pytestmark = pytest.mark.slow

WAITER = b"""
import os, sys, time
print("started", flush=True)
while not os.path.exists(os.environ["RELEASE"]):
    time.sleep(0.05)
with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w") as f:
    f.write(os.environ["TRAINING_JOB_NAME"])
print("done", flush=True)
"""
ENV = {
    "LAKEWORKS_JOBS_POLL_INTERVAL_SECONDS": "0.05",
    "LAKEWORKS_JOBS_MAX_CONCURRENT": "8",
    "LAKEWORKS_JOBS_STOP_GRACE_SECONDS": "2",
}


class Api:
    def __init__(self, server: ServerProcess) -> None:
        self.http = httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {server.token}"}, timeout=30
        )

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, f"/api/v1{path}", **kwargs)
        assert response.status_code < 300, response.text
        return response.json() if response.content else None


@pytest.fixture
def servers() -> Iterator[list[ServerProcess]]:
    started: list[ServerProcess] = []
    yield started
    for server in started:
        server.kill(signal.SIGTERM)


@pytest.fixture
def apis() -> Iterator[list[Api]]:
    made: list[Api] = []
    yield made
    for api in made:
        api.http.close()


def _job_processes(job_dir: Path) -> tuple[int, int]:
    """(wrapper pid, job pid) of a local job, from the files its wrapper keeps."""
    child = json.loads((job_dir / "runner" / "child.json").read_text())["pid"]
    return os.getsid(child), child


def test_jobs_survive_kill_9_of_the_server(
    tmp_path: Path, servers: list[ServerProcess], apis: list[Api]
) -> None:
    home = tmp_path / "home"
    releases = tmp_path / "releases"
    releases.mkdir()
    servers.append(start_server(home, env=ENV))
    api = Api(servers[0])
    apis.append(api)
    api.call("POST", "/buckets", json={"name": "code"})
    api.call("PUT", "/buckets/code/objects/wait.py", content=WAITER)
    names = ["live-1", "live-2", "ends-while-down", "dies-while-down"]
    for name in names:
        api.call(
            "POST",
            "/jobs",
            json={
                "job_name": name,
                "code_uri": "s3://code/wait.py",
                "entry_point": "wait.py",
                "environment": {"RELEASE": str(releases / name)},
                "output_path": "s3://code/out",
            },
        )
    for name in names:
        wait_for(lambda n=name: "started" in api.call("GET", f"/jobs/{n}/logs")["data"])

    servers[0].kill()  # kill -9: no shutdown code runs
    jobs_dir = home / "jobs"
    live = {name: _job_processes(jobs_dir / name) for name in names}
    for wrapper, child in live.values():
        assert process_start_ticks(wrapper) is not None, "jobs must outlive the server"
        assert process_start_ticks(child) is not None

    # while the server is down: one job ends normally, one dies with its wrapper
    (releases / "ends-while-down").touch()
    wait_for(lambda: (jobs_dir / "ends-while-down" / "runner" / "exit.json").exists())
    wrapper, child = live["dies-while-down"]
    os.killpg(child, signal.SIGKILL)
    os.kill(wrapper, signal.SIGKILL)
    wait_for(lambda: process_start_ticks(wrapper) is None)

    servers.append(start_server(home, env=ENV))
    api = Api(servers[1])
    apis.append(api)
    lost = wait_for(lambda: _ended(api, "dies-while-down"))
    assert lost["status"] == "Failed"
    assert "disappeared without an exit status" in lost["failure_reason"]
    early = wait_for(lambda: _ended(api, "ends-while-down"))
    assert early["status"] == "Completed", early["failure_reason"]

    for name in ("live-1", "live-2"):
        assert api.call("GET", f"/jobs/{name}")["status"] == "InProgress"  # adopted, running
        (releases / name).touch()
    for name in ("live-1", "live-2"):
        info = wait_for(lambda n=name: _ended(api, n))
        assert info["status"] == "Completed", info["failure_reason"]
        assert info["model_artifacts"] == f"s3://code/out/{name}/output/model.tar.gz"
        logs = api.call("GET", f"/jobs/{name}/logs")["data"]
        assert logs.count("started") == 1
        assert "done" in logs

    statuses = [j["status"] for j in api.call("GET", "/jobs", params={"max_results": 100})["items"]]
    assert sorted(statuses) == ["Completed", "Completed", "Completed", "Failed"]
    for wrapper, child in live.values():
        wait_for(lambda w=wrapper, c=child: _gone(w) and _gone(c))


def _ended(api: Api, name: str) -> dict[str, Any] | None:
    info: dict[str, Any] = api.call("GET", f"/jobs/{name}")
    return info if info["status"] not in ("InProgress", "Stopping") else None


def _gone(pid: int) -> bool:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # not our children, but harmless if they are
    return process_start_ticks(pid) is None
