"""Jobs through the SDK against the in-process server (jobs run as real local processes)."""

from __future__ import annotations

import textwrap

import pytest

from lakeworks.core.errors import AlreadyExists, NotFound, ValidationError
from lakeworks.schemas.jobs import JobCreate
from lakeworks.sdk.client import Client

SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    print("hello from the job", flush=True)
    print("to stderr", file=sys.stderr, flush=True)
    print("args", sys.argv[1:], flush=True)
    """
)
SLEEPER = "import time\nprint('sleeping', flush=True)\ntime.sleep(300)\n"


@pytest.fixture
def code_bucket(jobs_client: Client, server: object) -> str:
    """A bucket holding the job scripts (needs the lake routes too)."""
    try:
        jobs_client.buckets.get("sdk-code")
    except NotFound:
        jobs_client.buckets.create("sdk-code")
        jobs_client.objects.put("sdk-code", "hello.py", SCRIPT.encode())
        jobs_client.objects.put("sdk-code", "sleep.py", SLEEPER.encode())
    return "sdk-code"


def test_a_job_runs_to_completion_with_its_logs(jobs_client: Client, code_bucket: str) -> None:
    created = jobs_client.jobs.create(
        job_name="sdk-hello",
        code_uri=f"s3://{code_bucket}/hello.py",
        entry_point="hello.py",
        arguments=["--epochs", "2"],
    )
    assert created.job_name == "sdk-hello"
    assert created.spec.arguments == ["--epochs", "2"]

    final = jobs_client.jobs.wait("sdk-hello", timeout=120, progress=False)
    assert final.status == "Completed", final.failure_reason
    assert final.end_time is not None

    text = "".join(jobs_client.jobs.logs("sdk-hello"))
    assert "hello from the job" in text
    assert "to stderr" in text
    assert "['--epochs', '2']" in text
    assert "".join(jobs_client.jobs.logs("sdk-hello", follow=True)) == text

    names = [j.job_name for j in jobs_client.jobs.list(name_contains="sdk-hel")]
    assert names == ["sdk-hello"]
    assert "sdk-hello" in [j.job_name for j in jobs_client.jobs.list(status="Completed")]


def test_create_accepts_a_spec_object(jobs_client: Client, code_bucket: str) -> None:
    spec = JobCreate(
        job_name="sdk-spec", code_uri=f"s3://{code_bucket}/hello.py", entry_point="hello.py"
    )
    assert jobs_client.jobs.create(spec).spec.entry_point == "hello.py"
    with pytest.raises(AlreadyExists):
        jobs_client.jobs.create(spec)
    assert jobs_client.jobs.wait("sdk-spec", timeout=120, progress=False).status == "Completed"


def test_stop_a_running_job_and_wait_timeouts(jobs_client: Client, code_bucket: str) -> None:
    jobs_client.jobs.create(
        job_name="sdk-sleep", code_uri=f"s3://{code_bucket}/sleep.py", entry_point="sleep.py"
    )
    with pytest.raises(TimeoutError) as caught:
        jobs_client.jobs.wait("sdk-sleep", timeout=0, progress=False)
    assert "sdk-sleep" in str(caught.value)

    following = jobs_client.jobs.logs("sdk-sleep", follow=True)
    assert "sleeping" in next(following), "follow yields output while the job runs"

    jobs_client.jobs.stop("sdk-sleep")
    final = jobs_client.jobs.wait("sdk-sleep", timeout=120, progress=False)
    assert final.status == "Stopped"
    "".join(following)  # and ends once the job has ended


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"job_name": "bad name", "entry_point": "x.py"}, "job_name"),
        ({"job_name": "ok"}, "entry_point"),
        ({"job_name": "ok", "entry_point": "x.py", "code_uri": "http://x"}, "code_uri"),
        ({"job_name": "ok", "entry_point": "x.py", "colour": "red"}, "colour"),
    ],
)
def test_bad_specs_are_refused_and_create_nothing(
    jobs_client: Client, fields: dict[str, object], field: str
) -> None:
    before = [j.job_name for j in jobs_client.jobs.list()]
    with pytest.raises(ValidationError) as caught:
        jobs_client.jobs.create(**fields)
    assert field in caught.value.message
    assert [j.job_name for j in jobs_client.jobs.list()] == before


def test_unknown_jobs_are_not_found(jobs_client: Client) -> None:
    for call in (
        jobs_client.jobs.get,
        jobs_client.jobs.stop,
        lambda name: list(jobs_client.jobs.logs(name)),
        lambda name: jobs_client.jobs.wait(name, progress=False),
    ):
        with pytest.raises(NotFound) as caught:
            call("no-such-job")
        assert "no-such-job" in caught.value.message
