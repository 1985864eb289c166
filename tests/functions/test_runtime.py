"""Execution environments: warm reuse, isolation per version, timeouts, crashes, logs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lakeworks.functions.runtime import EnvironmentSpec, InvocationResult, Runtime

HANDLER = """
import os, sys, time

CALLS = 0
PID = os.getpid()

def handler(event, context):
    global CALLS
    CALLS += 1
    print(f"call {CALLS} for {event.get('who')} request {context.aws_request_id}")
    if event.get("sleep"):
        time.sleep(event["sleep"])
    if event.get("crash"):
        sys.stdout.flush()
        os._exit(7)
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {"calls": CALLS, "pid": PID, "secret": os.environ.get("SECRET")}
"""


@pytest.fixture
def code(tmp_path: Path) -> Path:
    directory = tmp_path / "code"
    directory.mkdir()
    (directory / "app.py").write_text(HANDLER)
    (directory / "broken.py").write_text("import no_such_module_here\n")
    return directory


@pytest.fixture
def runtime() -> Iterator[Runtime]:
    pool = Runtime(warm_seconds=60)
    yield pool
    pool.close()


class Specs:
    """Builds specs and counts the environments started and released."""

    def __init__(self, code: Path, handler: str = "app.handler", timeout: int = 3) -> None:
        self.code, self.handler, self.timeout = code, handler, timeout
        self.started = 0
        self.released = 0

    def __call__(self, key: str = "v1") -> EnvironmentSpec:
        self.started += 1

        def release() -> None:
            self.released += 1

        return EnvironmentSpec(
            function="fn",
            key=key,
            code_dir=self.code,
            handler=self.handler,
            env={"AWS_LAMBDA_FUNCTION_TIMEOUT": str(self.timeout), "SECRET": key},
            release=release,
        )


def _invoke(
    runtime: Runtime, specs: Specs, event: dict[str, object], key: str = "v1"
) -> InvocationResult:
    return runtime.invoke(lambda: specs(key), key, event, {"LAKEWORKS_REQUEST_ID": "r-1"})


def test_a_warm_environment_serves_the_next_invocation(runtime: Runtime, code: Path) -> None:
    specs = Specs(code)
    first = runtime.invoke(specs, "v1", {"who": "a"}, {"LAKEWORKS_REQUEST_ID": "r-1"})
    second = runtime.invoke(specs, "v1", {"who": "b"}, {"LAKEWORKS_REQUEST_ID": "r-2"})
    assert first.cold_start
    assert not second.cold_start
    assert first.payload["calls"] == 1
    assert second.payload["calls"] == 2
    assert first.payload["pid"] == second.payload["pid"]
    assert second.payload["secret"] == "v1"
    assert specs.started == 1
    # each invocation's log holds its own output only
    assert "call 1 for a request r-1" in first.log_tail
    assert "call 2 for b request r-2" in second.log_tail
    assert "for a" not in second.log_tail


def test_a_new_version_gets_a_new_environment(runtime: Runtime, code: Path) -> None:
    specs = Specs(code)
    one = _invoke(runtime, specs, {}, key="v1")
    two = _invoke(runtime, specs, {}, key="v2")
    assert one.payload["pid"] != two.payload["pid"]
    assert two.payload["secret"] == "v2"
    runtime.retire("fn")
    assert specs.released == 2  # both idle environments stopped, credentials released
    again = _invoke(runtime, specs, {}, key="v2")
    assert again.cold_start


def test_a_handler_error_keeps_the_environment(runtime: Runtime, code: Path) -> None:
    specs = Specs(code)
    failed = _invoke(runtime, specs, {"fail": True})
    assert failed.function_error == "Unhandled"
    assert failed.payload["errorType"] == "ValueError"
    assert "asked to fail" in failed.log_tail
    after = _invoke(runtime, specs, {})
    assert after.payload["calls"] == 2
    assert not after.cold_start


def test_a_timeout_kills_the_environment(runtime: Runtime, code: Path) -> None:
    specs = Specs(code, timeout=1)
    slow = _invoke(runtime, specs, {"sleep": 30})
    assert slow.payload == {
        "errorMessage": "Task timed out after 1.00 seconds",
        "errorType": "Sandbox.Timedout",
    }
    assert specs.released == 1
    fresh = _invoke(runtime, specs, {})
    assert fresh.cold_start
    assert fresh.payload["calls"] == 1


def test_a_crash_is_an_exit_error_and_the_next_call_starts_fresh(
    runtime: Runtime, code: Path
) -> None:
    specs = Specs(code)
    crashed = _invoke(runtime, specs, {"crash": True})
    assert crashed.payload["errorType"] == "Runtime.ExitError"
    assert "exited with code 7" in crashed.payload["errorMessage"]
    assert "call 1" in crashed.log_tail
    assert _invoke(runtime, specs, {}).cold_start


def test_an_import_error_discards_the_environment(runtime: Runtime, code: Path) -> None:
    specs = Specs(code, handler="broken.handler")
    result = _invoke(runtime, specs, {})
    assert result.payload["errorType"] == "ModuleNotFoundError"
    assert specs.released == 1
    assert _invoke(runtime, specs, {}).cold_start


def test_without_warm_time_every_invocation_is_cold(code: Path) -> None:
    runtime = Runtime(warm_seconds=0)
    specs = Specs(code)
    try:
        results = [_invoke(runtime, specs, {}) for _ in range(2)]
    finally:
        runtime.close()
    assert all(r.cold_start for r in results)
    assert specs.started == specs.released == 2


def test_idle_environments_expire(code: Path) -> None:
    runtime = Runtime(warm_seconds=0.2)
    specs = Specs(code)
    try:
        _invoke(runtime, specs, {})
        deadline = time.monotonic() + 10
        while specs.released == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert specs.released == 1
        assert _invoke(runtime, specs, {}).cold_start
    finally:
        runtime.close()
    assert specs.released == 2
