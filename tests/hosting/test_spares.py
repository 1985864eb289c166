"""Spare model servers of the local backend: assignment, replacement, isolation, lifetime."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.jobs.conftest import wait_for

from lakeworks.backends.base import LaunchSpec, SpareServiceBackend, SpareSpec
from lakeworks.backends.local import LocalBackend, process_start_ticks
from lakeworks.hosting.fleet import SPARE_POOL, model_server_spares
from lakeworks.hosting.worker_spec import ContainerPlan, WorkerSpec
from lakeworks.testing.fake_backend import FakeBackend

#: A script model that answers with the environment and pid of its model server.
REPORTER = """
import json, os

def model_fn(model_dir):
    return None

def transform_fn(model, data, content_type, accept):
    return json.dumps({"env": dict(os.environ), "pid": os.getpid()}), "application/json"
"""
SERVER_ONLY = "LAKEWORKS_TEST_SERVER_ONLY_SECRET"


@pytest.fixture
def backend(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalBackend]:
    # Something only the server has: no model server may see it.
    monkeypatch.setenv(SERVER_ONLY, "hunter2")
    made = LocalBackend()
    yield made
    made.close()


@pytest.fixture
def spares(tmp_path: Path) -> SpareSpec:
    return model_server_spares(tmp_path / "spares")


def instance(root: Path, name: str, **extra_env: str) -> LaunchSpec:
    """An instance of a script model as the fleet launches it (same command and base env)."""
    code = root / name / "model" / "code"
    code.mkdir(parents=True)
    (code / "inference.py").write_text(REPORTER)
    plan = ContainerPlan("primary", "script", "img", str(code.parent), str(code), "inference.py")
    worker = root / name / "worker.json"
    WorkerSpec("ep", name, (plan,)).write(worker)
    spec = model_server_spares(root)
    env = {**spec.env, "HOME": str(root / name), "SAGEMAKER_VARIANT_NAME": name, **extra_env}
    argv = [*spec.interpreter, "-m", spec.module, str(worker)]
    return LaunchSpec(name, root / name, argv, root / name, env)


def ready(spec: SpareSpec, *, besides: tuple[str, ...] = ()) -> list[Path]:
    """Directories of spares that finished importing and still wait (not those ``besides``)."""
    if not spec.directory.is_dir():
        return []
    return [
        d
        for d in sorted(spec.directory.iterdir())
        if (d / "ready").exists()
        and str(d) not in besides
        and not (d / "runner/exit.json").exists()
    ]


def spare_pid(directory: Path) -> int:
    """The spare interpreter's pid (the wrapper's child)."""
    pid: int = json.loads((directory / "runner" / "child.json").read_text())["pid"]
    return pid


def cmdline(pid: int) -> bytes:
    return Path(f"/proc/{pid}/cmdline").read_bytes()


def ask(backend: LocalBackend, handle: dict[str, Any]) -> dict[str, Any]:
    """Wait for the service's address; invoke it; its report."""
    host, port = wait_for(lambda: backend.service_address(handle), timeout=60)
    connection = http.client.HTTPConnection(host, port, timeout=10)
    try:
        connection.request("POST", "/invocations", b"1", {"Content-Type": "text/csv"})
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    assert response.status == 200, body
    report: dict[str, Any] = json.loads(body)
    return report


def test_only_the_local_backend_keeps_spares() -> None:
    assert isinstance(LocalBackend(), SpareServiceBackend)
    assert not isinstance(FakeBackend(), SpareServiceBackend)


def test_a_spare_is_assigned_an_instance_with_only_its_environment(
    backend: LocalBackend, spares: SpareSpec, tmp_path: Path
) -> None:
    backend.keep_spares(spares, 1)
    (waiting,) = wait_for(lambda: ready(spares), timeout=60)
    launch = instance(tmp_path / "instances", "blue", MY_SETTING="42")
    handle = backend.start_service_from_spare(launch, SPARE_POOL)
    assert handle["job_dir"] == str(waiting)  # the spare serves it, no fresh process
    report = ask(backend, handle)
    assert report["pid"] == spare_pid(waiting)
    env = report["env"]
    address = str(waiting / "runner" / "address.json")
    assert env == {**launch.env, "LAKEWORKS_SERVICE_ADDRESS_FILE": address}
    assert env["MY_SETTING"] == "42"
    assert SERVER_ONLY not in env
    # Not even the environment the spare itself started with holds the server's variable.
    started_with = Path(f"/proc/{report['pid']}/environ").read_bytes()
    assert SERVER_ONLY.encode() not in started_with
    # Not an XGBoost-only model: the spare re-executed itself (same pid) as a fresh interpreter.
    assert b"lakeworks.backends.spare" not in cmdline(report["pid"])
    assert backend.poll(handle).state == "running"
    backend.stop(handle, 1.0)
    assert wait_for(lambda: (r := backend.poll(handle)).state != "running" and r).state == "exited"


def test_an_xgboost_model_loads_in_the_warm_spare(
    backend: LocalBackend, spares: SpareSpec, tmp_path: Path, xgboost_dir: Path, booster: Any
) -> None:
    backend.keep_spares(spares, 1)
    (waiting,) = wait_for(lambda: ready(spares), timeout=60)
    plan = ContainerPlan("primary", "builtin", "xgboost", str(xgboost_dir), algorithm="xgboost")
    launch = instance(tmp_path, "xgb")
    WorkerSpec("ep", "xgb", (plan,)).write(Path(launch.argv[-1]))
    handle = backend.start_service_from_spare(launch, SPARE_POOL)
    host, port = wait_for(lambda: backend.service_address(handle), timeout=60)
    connection = http.client.HTTPConnection(host, port, timeout=10)
    connection.request("POST", "/invocations", b"0.1,0.2,0.3,0.4", {"Content-Type": "text/csv"})
    answer = connection.getresponse().read()
    connection.close()
    expected = booster.inplace_predict(np.array([[0.1, 0.2, 0.3, 0.4]], dtype=np.float32))[0]
    assert float(answer) == pytest.approx(float(expected))
    assert b"lakeworks.backends.spare" in cmdline(spare_pid(waiting))  # no re-exec: warm
    backend.stop(handle, 1.0)


def test_a_taken_spare_is_replaced_and_never_serves_twice(
    backend: LocalBackend, spares: SpareSpec, tmp_path: Path
) -> None:
    backend.keep_spares(spares, 1)
    wait_for(lambda: ready(spares), timeout=60)
    first = backend.start_service_from_spare(instance(tmp_path, "blue"), SPARE_POOL)
    # A replacement starts in the background; the next instance gets it, not the first spare.
    (replacement,) = wait_for(lambda: ready(spares, besides=(first["job_dir"],)), timeout=60)
    second = backend.start_service_from_spare(instance(tmp_path, "green"), SPARE_POOL)
    assert second["job_dir"] == str(replacement)
    blue, green = ask(backend, first), ask(backend, second)
    assert blue["pid"] != green["pid"]
    assert blue["env"]["SAGEMAKER_VARIANT_NAME"] == "blue"
    assert green["env"]["SAGEMAKER_VARIANT_NAME"] == "green"
    for handle in (first, second):
        backend.stop(handle, 1.0)


def test_a_spare_that_dies_is_replaced(backend: LocalBackend, spares: SpareSpec) -> None:
    backend.keep_spares(spares, 1)
    (doomed,) = wait_for(lambda: ready(spares), timeout=60)
    os.kill(spare_pid(doomed), signal.SIGKILL)
    (replacement,) = wait_for(lambda: ready(spares, besides=(str(doomed),)), timeout=60)
    assert replacement != doomed
    wait_for(lambda: not doomed.exists(), timeout=10)  # the dead one's directory is removed


def test_a_launch_that_changes_interpreter_settings_starts_afresh(
    backend: LocalBackend, spares: SpareSpec, tmp_path: Path
) -> None:
    backend.keep_spares(spares, 1)
    (waiting,) = wait_for(lambda: ready(spares), timeout=60)
    launch = instance(tmp_path, "threads", OMP_NUM_THREADS="4")
    handle = backend.start_service_from_spare(launch, SPARE_POOL)
    assert handle["job_dir"] == str(launch.job_dir)  # a plain process, with its own settings
    assert ask(backend, handle)["env"]["OMP_NUM_THREADS"] == "4"
    assert ready(spares) == [waiting]  # the spare still waits
    backend.stop(handle, 1.0)


def test_without_a_ready_spare_an_instance_starts_afresh(
    backend: LocalBackend, spares: SpareSpec, tmp_path: Path
) -> None:
    launch = instance(tmp_path, "plain")
    handle = backend.start_service_from_spare(launch, SPARE_POOL)  # no pool kept at all
    assert handle["job_dir"] == str(launch.job_dir)
    assert ask(backend, handle)["env"]["SAGEMAKER_VARIANT_NAME"] == "plain"
    backend.stop(handle, 1.0)


def test_keeping_none_ends_the_spares(backend: LocalBackend, spares: SpareSpec) -> None:
    backend.keep_spares(spares, 2)
    first, second = wait_for(lambda: len(found := ready(spares)) == 2 and found, timeout=90)
    pids = [spare_pid(first), spare_pid(second)]
    backend.keep_spares(spares, 0)
    assert all(process_start_ticks(pid) is None for pid in pids)
    assert ready(spares) == []


SERVER = """
import sys, time
from pathlib import Path
from lakeworks.backends.local import LocalBackend
from lakeworks.hosting.fleet import model_server_spares

backend = LocalBackend()
backend.keep_spares(model_server_spares(Path(sys.argv[1])), 1)
while True:
    time.sleep(1)
"""


def test_spares_die_with_the_server(tmp_path: Path) -> None:
    spec = model_server_spares(tmp_path / "spares")
    server = subprocess.Popen([sys.executable, "-c", textwrap.dedent(SERVER), str(spec.directory)])
    try:
        (waiting,) = wait_for(lambda: ready(spec), timeout=60)
        pid = spare_pid(waiting)
        server.send_signal(signal.SIGKILL)  # no clean-up code runs
        server.wait()
        wait_for(lambda: process_start_ticks(pid) is None, timeout=20)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
