"""Native triggers through the SDK on an in-process server: an object created under a prefix
starts an ETL job or invokes a function with arguments from the event; failures are retried
and explained; schedules fire by an injected clock; functions and ETL jobs natively."""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lakeworks.core.errors import NotFound, ValidationError
from lakeworks.schemas.triggers import TriggerRunInfo
from lakeworks.sdk.client import Client
from lakeworks.testing import InProcessServer

BUCKET = "raw"

ECHO = "import sys\nprint('args', sys.argv[1:])\n"
HANDLERS = """
def echo(event, context):
    print("got", event.get("arguments"))
    return event


def boom(event, context):
    raise ValueError("no good: " + event["arguments"]["--key"])
"""


def _zip(**files: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def _wait(check: Callable[[], Any], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("gave up waiting")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def setup(server: InProcessServer) -> Client:
    client = Client(http=server.client, home=server.settings.home)
    client.buckets.create(BUCKET)
    client.objects.put(BUCKET, "scripts/echo.py", ECHO.encode())
    client.etl_jobs.create(
        name="echo-job",
        command={"name": "pythonshell", "script_location": f"s3://{BUCKET}/scripts/echo.py"},
        default_arguments={"--fixed": "1"},
    )
    code = _zip(**{"fn.py": HANDLERS})
    client.functions.create("echo-fn", handler="fn.echo", zip_file=code, timeout=30)
    client.functions.create("boom-fn", handler="fn.boom", zip_file=code, timeout=30)
    return client


def _finished(client: Client, trigger: str) -> TriggerRunInfo:
    def done() -> TriggerRunInfo | None:
        runs = client.triggers.runs(trigger)
        return runs[0] if runs and runs[0].status in ("SUCCEEDED", "FAILED") else None

    run: TriggerRunInfo = _wait(done)
    return run


def test_object_created_starts_an_etl_job_with_event_arguments(setup: Client) -> None:
    client = setup
    created = client.triggers.create(
        name="raw-csv-to-job",
        type="EVENT",
        event_source={"bucket": BUCKET, "prefix": "glue-in/", "suffix": ".csv"},
        actions=[{"job_name": "echo-job", "arguments": {"--s3_input_dataset": "{s3_uri}"}}],
        start_on_creation=True,
    )
    assert created.state == "ACTIVATED"
    client.objects.put(BUCKET, "glue-in/notes.txt", b"not matched")
    client.objects.put(BUCKET, "elsewhere/a.csv", b"not matched")
    client.objects.put(BUCKET, "glue-in/wine.csv", b"a,b\n1,2\n")

    firing = _finished(client, "raw-csv-to-job")
    assert firing.status == "SUCCEEDED", firing.error_message
    assert firing.reason == "EVENT"
    assert firing.event is not None
    assert firing.event["Records"][0]["s3"]["object"]["key"] == "glue-in/wine.csv"
    [started] = firing.started
    assert (started["kind"], started["target"]) == ("job", "echo-job")

    run = client.etl_jobs.wait("echo-job", started["run_id"], timeout=60)
    assert run.job_run_state == "SUCCEEDED", run.error_message
    assert run.trigger_name == "raw-csv-to-job"
    assert run.arguments == {
        "--fixed": "1",
        "--s3_input_dataset": f"s3://{BUCKET}/glue-in/wine.csv",
    }
    output = client.etl_jobs.logs_page("echo-job", run.id).data
    assert f"s3://{BUCKET}/glue-in/wine.csv" in output
    assert len(client.triggers.runs("raw-csv-to-job")) == 1  # the other uploads did not match


def test_object_created_invokes_a_function(setup: Client) -> None:
    client = setup
    client.triggers.create(
        name="raw-json-to-fn",
        type="EVENT",
        event_source={"bucket": BUCKET, "prefix": "events/"},
        actions=[{"function_name": "echo-fn", "arguments": {"--key": "{key}"}}],
        start_on_creation=True,
    )
    client.objects.put(BUCKET, "events/one.json", b"{}")
    firing = _finished(client, "raw-json-to-fn")
    assert firing.status == "SUCCEEDED", firing.error_message
    request_id = firing.started[0]["run_id"]
    [invocation] = [
        i for i in client.functions.invocations("echo-fn") if i.request_id == request_id
    ]
    assert invocation.error_type is None
    assert "{'--key': 'events/one.json'}" in invocation.log


def test_a_failing_action_is_retried_then_explained(setup: Client) -> None:
    client = setup
    client.triggers.create(
        name="raw-to-boom",
        type="EVENT",
        event_source={"bucket": BUCKET, "prefix": "boom/"},
        actions=[{"function_name": "boom-fn", "arguments": {"--key": "{key}"}}],
        start_on_creation=True,
    )
    client.objects.put(BUCKET, "boom/x.bin", b"1")
    firing = _wait(
        lambda: next((r for r in client.triggers.runs("raw-to-boom") if r.status == "FAILED"), None)
    )
    assert firing.attempts == firing.max_attempts == 3
    assert [h["outcome"] for h in firing.history] == ["FAILED"] * 3
    assert firing.error_message is not None
    assert "function boom-fn" in firing.error_message
    assert "no good: boom/x.bin" in firing.error_message
    assert firing.started == []
    assert client.triggers.get_run(firing.trigger_run_id).status == "FAILED"


def test_schedules_fire_by_the_injected_clock(setup: Client, server: InProcessServer) -> None:
    client, service = setup, server.platform.triggers
    now = datetime(2030, 1, 1, 8, 0, tzinfo=UTC)
    service.clock = lambda: now
    try:
        info = client.triggers.create(
            name="every-5",
            type="SCHEDULED",
            schedule="rate(5 minutes)",
            actions=[{"function_name": "echo-fn", "arguments": {"--at": "{fire_time}"}}],
            start_on_creation=True,
        )
        assert info.next_fire_time == now + timedelta(minutes=5)
        assert service.tick(now + timedelta(minutes=4)) == []
        [first] = service.tick(now + timedelta(minutes=5))
        assert client.triggers.get("every-5").next_fire_time == now + timedelta(minutes=10)
        # down for an hour: one firing, not twelve
        assert len(service.tick(now + timedelta(hours=1))) == 1
        assert client.triggers.get("every-5").next_fire_time == now + timedelta(hours=1, minutes=5)
        client.triggers.stop("every-5")
        assert service.tick(now + timedelta(hours=2)) == []
        done = _wait(lambda: client.triggers.get_run(first).status == "SUCCEEDED")
        assert done
        assert client.triggers.get_run(first).reason == "SCHEDULE"
        assert len(client.triggers.runs("every-5")) == 2
    finally:
        service.clock = lambda: datetime.now(UTC)


def test_functions_and_etl_jobs_natively(setup: Client) -> None:
    client = setup
    answer = client.functions.invoke("echo-fn", {"arguments": {"x": "1"}})
    assert answer.payload == {"arguments": {"x": "1"}}
    assert answer.function_error is None
    assert "echo-fn" in [f.function_name for f in client.functions.list()]
    assert client.functions.get("echo-fn").handler == "fn.echo"
    assert "echo-job" in [j.name for j in client.etl_jobs.list()]
    run = client.etl_jobs.start_run("echo-job", {"--extra": "yes"})
    assert client.etl_jobs.wait("echo-job", run.id, timeout=60).job_run_state == "SUCCEEDED"
    assert run.id in [r.id for r in client.etl_jobs.runs("echo-job")]


@pytest.mark.parametrize(
    ("fields", "error", "says"),
    [
        ({"type": "EVENT", "actions": [{"job_name": "echo-job"}]}, ValidationError, "event_source"),
        (
            {
                "type": "EVENT",
                "event_source": {"bucket": "no-such-bucket"},
                "actions": [{"job_name": "echo-job"}],
            },
            NotFound,
            "no-such-bucket",
        ),
        (
            {
                "type": "EVENT",
                "event_source": {"bucket": BUCKET, "events": ["s3:ObjectTouched"]},
                "actions": [{"job_name": "echo-job"}],
            },
            ValidationError,
            "s3:ObjectTouched",
        ),
        (
            {"type": "ON_DEMAND", "actions": [{"function_name": "ghost-fn"}]},
            NotFound,
            "ghost-fn",
        ),
        (
            {"type": "SCHEDULED", "schedule": "rate(90 seconds)", "actions": [{"job_name": "x"}]},
            ValidationError,
            "unknown unit",
        ),
    ],
)
def test_bad_native_triggers(
    setup: Client, fields: dict[str, Any], error: type[Exception], says: str
) -> None:
    with pytest.raises(error) as refused:
        setup.triggers.create(name="bad-native", **fields)
    assert says in str(refused.value)
    with pytest.raises(NotFound):
        setup.triggers.get("bad-native")
