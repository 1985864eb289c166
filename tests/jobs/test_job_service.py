"""JobService with the FakeBackend: lifecycle, results, failures, stop, limits, listing, logs."""

from __future__ import annotations

import io
import tarfile
from datetime import timedelta
from typing import Any

import pytest
from tests.jobs.conftest import ADMIN, DirLake, MakeJobs, wait_for

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import (
    AccessDenied,
    AlreadyExists,
    NotFound,
    ResourceInUse,
    ValidationError,
)
from lakeworks.schemas.jobs import JobCreate
from lakeworks.testing.fake_backend import FakeBackend, FakeOutcome

READER = RequestContext(principal="reader", scopes=frozenset({"read"}))


def spec(name: str, **fields: Any) -> JobCreate:
    base: dict[str, Any] = {
        "job_name": name,
        "code_uri": "s3://code/train.py",
        "entry_point": "train.py",
    }
    return JobCreate(**{**base, **fields})


@pytest.fixture(autouse=True)
def _code(lake: DirLake) -> None:
    lake.put("s3://code/train.py", b"print('hi')\n")
    lake.put("s3://data/train/a.csv", b"1,2\n")
    lake.put("s3://data/train/sub/b.csv", b"3,4\n")
    lake.put("s3://data/test.csv", b"5,6\n")


def members(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        return {
            m.name: tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in tar.getmembers()
            if m.isreg()
        }


def test_a_job_runs_through_every_secondary_status_and_uploads_results(
    make_jobs: MakeJobs, lake: DirLake
) -> None:
    backend = FakeBackend()
    backend.script(
        "train-1",
        FakeOutcome(
            output=b"epoch 1\nepoch 2\n",
            files={
                "model/model.json": b'{"w": 1}',
                "model/sub/extra.bin": b"\x00\x01",
                "output/data/metrics.json": b'{"acc": 0.9}',
            },
        ),
    )
    jobs = make_jobs(backend)
    created = jobs.service.create_job(
        ADMIN,
        spec(
            "train-1",
            output_path="s3://out/runs",
            input_data_config=[
                {"channel_name": "train", "s3_uri": "s3://data/train/"},
                {"channel_name": "test", "s3_uri": "s3://data/test.csv"},
            ],
            hyperparameters={"epochs": "2"},
        ),
    )
    assert created.status == "InProgress"
    assert created.secondary_status == "Pending"
    assert created.job_arn == "arn:aws:sagemaker:us-east-1:000000000000:training-job/train-1"

    info = jobs.wait("train-1")
    assert info.status == "Completed", info.failure_reason
    assert [t.status for t in info.secondary_status_transitions] == [
        "Pending",
        "Starting",
        "Downloading",
        "Training",
        "Uploading",
        "Completed",
    ]
    assert all(t.end_time is not None for t in info.secondary_status_transitions)
    assert info.end_time is not None
    assert info.start_time is not None
    assert info.exit_code == 0
    assert info.model_artifacts == "s3://out/runs/train-1/output/model.tar.gz"
    assert members(lake.get(info.model_artifacts)) == {
        "model.json": b'{"w": 1}',
        "sub/extra.bin": b"\x00\x01",
    }
    assert members(lake.get("s3://out/runs/train-1/output/output.tar.gz")) == {
        "metrics.json": b'{"acc": 0.9}'
    }
    assert info.output_data == "s3://out/runs/train-1/output/data/"
    assert lake.get("s3://out/runs/train-1/output/data/metrics.json") == b'{"acc": 0.9}'
    assert info.log_uri == "s3://out/runs/train-1/logs/output.log"
    assert lake.get(info.log_uri) == b"epoch 1\nepoch 2\n"

    # inputs were staged as SageMaker does, acting as the submitter
    job_dir = jobs.settings.home / "jobs" / "train-1"
    assert (job_dir / "code" / "train.py").read_bytes() == b"print('hi')\n"
    assert (job_dir / "input/data/train/a.csv").read_bytes() == b"1,2\n"
    assert (job_dir / "input/data/train/sub/b.csv").read_bytes() == b"3,4\n"
    assert (job_dir / "input/data/test/test.csv").read_bytes() == b"5,6\n"
    assert {principal for _, principal, _ in lake.calls} == {"admin"}

    launch = backend.launches[0]
    assert launch.argv[1:] == ["train.py", "--epochs", "2"]
    assert launch.cwd == job_dir / "code"
    assert launch.env["SM_CHANNEL_TRAIN"] == str(job_dir / "input/data/train")


def test_job_credentials_work_while_it_runs_and_are_revoked_after(make_jobs: MakeJobs) -> None:
    backend = FakeBackend()
    backend.script("creds", FakeOutcome(duration=0.5))
    jobs = make_jobs(backend)
    jobs.service.create_job(ADMIN, spec("creds"))
    jobs.wait("creds", ("Training",))
    env = backend.launches[0].env
    ctx = jobs.iam.authenticate_token(env["LAKEWORKS_TOKEN"])
    assert ctx.principal == "job/creds"
    secret, _ = jobs.iam.access_key_secret(env["AWS_ACCESS_KEY_ID"])
    assert secret == env["AWS_SECRET_ACCESS_KEY"]
    assert env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["AWS_ENDPOINT_URL"] == env["LAKEWORKS_URL"] == jobs.settings.public_url
    jobs.wait("creds")
    with pytest.raises(Exception, match="revoked"):
        jobs.iam.authenticate_token(env["LAKEWORKS_TOKEN"])


def test_job_env_is_built_from_scratch_without_server_secrets(
    make_jobs: MakeJobs, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from cryptography.fernet import Fernet

    secrets = {
        "LAKEWORKS_AUTH_MASTER_KEY": Fernet.generate_key().decode(),
        "LAKEWORKS_STORAGE_SECRET_ACCESS_KEY": "storage-secret-value",
        "LAKEWORKS_DATABASE_URL": f"sqlite:///{tmp_path / 'home' / 'lakeworks.db'}",
        "SOME_UNRELATED_SERVER_VAR": "do-not-copy",
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    backend = FakeBackend()
    jobs = make_jobs(backend)
    jobs.service.create_job(ADMIN, spec("env", environment={"MY_FLAG": "1"}))
    assert jobs.wait("env").status == "Completed"
    env = backend.launches[0].env
    for name, value in secrets.items():
        assert name not in env
        assert value not in env.values()
    assert {n for n in env if n.startswith("LAKEWORKS_")} == {"LAKEWORKS_URL", "LAKEWORKS_TOKEN"}
    assert env["MY_FLAG"] == "1"
    assert env["HOME"] == str(jobs.settings.home / "jobs" / "env")
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["TRAINING_JOB_NAME"] == "env"


def test_create_refuses_duplicates_bad_specs_and_readers(make_jobs: MakeJobs) -> None:
    jobs = make_jobs(start=False)
    jobs.service.create_job(ADMIN, spec("dup"))
    with pytest.raises(AlreadyExists, match="dup"):
        jobs.service.create_job(ADMIN, spec("dup"))
    with pytest.raises(AccessDenied):
        jobs.service.create_job(READER, spec("reader-job"))
    with pytest.raises(ValidationError, match="code_uri is required"):
        jobs.service.create_job(ADMIN, spec("no-code", code_uri=None))
    with pytest.raises(ValidationError, match="entry_point"):
        jobs.service.create_job(ADMIN, spec("escape", entry_point="../etc/passwd"))
    with pytest.raises(ValidationError, match="LAKEWORKS_DATABASE_URL"):
        jobs.service.create_job(ADMIN, spec("env-bad", environment={"LAKEWORKS_DATABASE_URL": "x"}))
    with pytest.raises(ValidationError, match="reserved prefix 'aws:'"):
        jobs.service.create_job(ADMIN, spec("tags-bad", tags={"aws:x": "y"}))
    names = [j.job_name for j in jobs.service.list_jobs(ADMIN).items]
    assert names == ["dup"]


def test_failure_reason_comes_from_output_failure(make_jobs: MakeJobs) -> None:
    backend = FakeBackend()
    backend.script(
        "fails",
        FakeOutcome(
            exit_code=3,
            output=b"traceback...\nValueError: bad\n",
            files={"output/failure": b"ValueError: learning rate must be > 0\n"},
        ),
    )
    jobs = make_jobs(backend)
    jobs.service.create_job(ADMIN, spec("fails", output_path="s3://out/x"))
    info = jobs.wait("fails")
    assert info.status == "Failed"
    assert info.secondary_status == "Failed"
    assert info.exit_code == 3
    assert info.failure_reason == (
        "AlgorithmError: exit code 3: ValueError: learning rate must be > 0"
    )
    assert info.model_artifacts is None
    assert info.log_uri == "s3://out/x/fails/logs/output.log"  # logs are kept on failure too
    assert [t.status for t in info.secondary_status_transitions][-2:] == ["Training", "Failed"]


def test_failure_reason_falls_back_to_the_output_tail(make_jobs: MakeJobs) -> None:
    backend = FakeBackend()
    lines = b"".join(f"line {i}\n".encode() for i in range(40))
    backend.script("tail", FakeOutcome(exit_code=1, output=lines + b"Boom!\n"))
    jobs = make_jobs(backend)
    jobs.service.create_job(ADMIN, spec("tail"))
    reason = jobs.wait("tail").failure_reason or ""
    assert reason.startswith("AlgorithmError: exit code 1: last output:")
    assert reason.endswith("line 39\nBoom!")
    assert "line 20" not in reason


@pytest.mark.parametrize(
    ("code_uri", "entry", "expected"),
    [
        ("s3://code/missing.py", "missing.py", "Downloading code from s3://code/missing.py failed"),
        ("s3://code/", "other.py", "entry_point 'other.py' is not a file"),
    ],
)
def test_staging_errors_fail_the_job_with_the_cause(
    make_jobs: MakeJobs, code_uri: str, entry: str, expected: str
) -> None:
    backend = FakeBackend()
    jobs = make_jobs(backend)
    jobs.service.create_job(ADMIN, spec("staging", code_uri=code_uri, entry_point=entry))
    info = jobs.wait("staging")
    assert info.status == "Failed"
    assert expected in (info.failure_reason or "")
    assert backend.launches == []
    assert [t.status for t in info.secondary_status_transitions][-1] == "Failed"


def test_a_missing_channel_fails_the_job(make_jobs: MakeJobs) -> None:
    jobs = make_jobs()
    jobs.service.create_job(
        ADMIN,
        spec("chan", input_data_config=[{"channel_name": "train", "s3_uri": "s3://data/none/"}]),
    )
    info = jobs.wait("chan")
    assert "Downloading channel 'train' from s3://data/none/ failed" in (info.failure_reason or "")


def test_stop_a_running_job(make_jobs: MakeJobs) -> None:
    backend = FakeBackend()
    backend.script("stop-me", FakeOutcome(duration=60, files={"model/checkpoint": b"partial"}))
    jobs = make_jobs(backend)
    jobs.service.create_job(ADMIN, spec("stop-me", output_path="s3://out/s"))
    jobs.wait("stop-me", ("Training",))
    stopping = jobs.service.stop_job(ADMIN, "stop-me")
    assert stopping.status in ("Stopping", "Stopped")
    assert jobs.service.stop_job(ADMIN, "stop-me").status in ("Stopping", "Stopped")  # idempotent
    info = jobs.wait("stop-me")
    assert info.status == "Stopped"
    assert info.exit_code == -15
    assert info.failure_reason is None
    # as on SageMaker, what the job saved before stopping is kept
    assert members(jobs.lake.get("s3://out/s/stop-me/output/model.tar.gz")) == {
        "checkpoint": b"partial"
    }
    with pytest.raises(ResourceInUse, match="Stopped"):
        jobs.service.stop_job(ADMIN, "stop-me")
    with pytest.raises(NotFound):
        jobs.service.stop_job(ADMIN, "no-such-job")
    with pytest.raises(AccessDenied):
        jobs.service.stop_job(READER, "stop-me")


def test_a_job_ignoring_sigterm_is_killed_after_the_grace(make_jobs: MakeJobs) -> None:
    backend = FakeBackend()
    backend.script("stubborn", FakeOutcome(duration=60, ignore_stop=True))
    jobs = make_jobs(backend, stop_grace_seconds=0.2)
    jobs.service.create_job(ADMIN, spec("stubborn"))
    jobs.wait("stubborn", ("Training",))
    jobs.service.stop_job(ADMIN, "stubborn")
    info = jobs.wait("stubborn")
    assert info.status == "Stopped"
    assert info.exit_code == -9


def test_max_runtime_fails_the_job(make_jobs: MakeJobs) -> None:
    backend = FakeBackend()
    backend.script("slow", FakeOutcome(duration=60))
    jobs = make_jobs(backend)
    jobs.service.create_job(ADMIN, spec("slow", stopping_condition={"max_runtime_in_seconds": 1}))
    info = jobs.wait("slow")
    assert info.status == "Failed"
    assert info.secondary_status == "MaxRuntimeExceeded"
    assert (info.failure_reason or "").startswith("MaxRuntimeExceeded: ")
    assert "MaxRuntimeInSeconds (1)" in (info.failure_reason or "")
    statuses = [t.status for t in info.secondary_status_transitions]
    assert statuses[-3:] == ["Training", "Stopping", "MaxRuntimeExceeded"]


def test_stopping_a_pending_job_never_starts_it(make_jobs: MakeJobs) -> None:
    backend = FakeBackend()
    jobs = make_jobs(backend, start=False)
    jobs.service.create_job(ADMIN, spec("never"))
    info = jobs.service.stop_job(ADMIN, "never")
    assert (info.status, info.secondary_status) == ("Stopped", "Stopped")
    jobs.service.start()
    jobs.service.supervisor.tick()
    assert backend.launches == []


def test_concurrency_limit_keeps_excess_jobs_pending(make_jobs: MakeJobs) -> None:
    backend = FakeBackend()
    backend.script("first", FakeOutcome(duration=60))
    jobs = make_jobs(backend, max_concurrent=1)
    jobs.service.create_job(ADMIN, spec("first"))
    jobs.wait("first", ("Training",))
    jobs.service.create_job(ADMIN, spec("second"))
    jobs.service.supervisor.tick()
    assert jobs.service.describe_job(ADMIN, "second").secondary_status == "Pending"
    jobs.service.stop_job(ADMIN, "first")
    assert jobs.wait("second").status == "Completed"
    assert backend.submitted == ["first", "second"]
    second = jobs.service.describe_job(ADMIN, "second")
    first = jobs.service.describe_job(ADMIN, "first")
    assert first.end_time is not None
    pending = second.secondary_status_transitions[0]
    assert pending.status == "Pending"
    assert pending.end_time is not None
    assert pending.end_time >= first.end_time  # it started only once the first one ended


def test_list_filters_sorts_and_pages(make_jobs: MakeJobs) -> None:
    jobs = make_jobs(start=False)
    for name in ["b-job", "a-job", "c-other", "d-job"]:
        jobs.service.create_job(ADMIN, spec(name))
    jobs.service.stop_job(ADMIN, "c-other")
    listed = jobs.service.list_jobs(ADMIN)
    assert [j.job_name for j in listed.items] == ["d-job", "c-other", "a-job", "b-job"]
    by_name = jobs.service.list_jobs(ADMIN, sort_by="Name", sort_order="Ascending")
    assert [j.job_name for j in by_name.items] == ["a-job", "b-job", "c-other", "d-job"]
    assert [j.job_name for j in jobs.service.list_jobs(ADMIN, name_contains="JOB").items] == [
        "d-job",
        "a-job",
        "b-job",
    ]
    assert [j.job_name for j in jobs.service.list_jobs(ADMIN, status_equals="Stopped").items] == [
        "c-other"
    ]
    # a wildcard character in name_contains is taken literally
    assert jobs.service.list_jobs(ADMIN, name_contains="%").items == []

    pages, token = [], None
    while True:
        page = jobs.service.list_jobs(
            ADMIN, sort_by="Name", sort_order="Ascending", max_results=3, next_token=token
        )
        pages.append([j.job_name for j in page.items])
        token = page.next_token
        if token is None:
            break
    assert pages == [["a-job", "b-job", "c-other"], ["d-job"]]

    created = jobs.service.describe_job(ADMIN, "a-job").creation_time
    after = jobs.service.list_jobs(ADMIN, creation_time_after=created, sort_order="Ascending")
    assert [j.job_name for j in after.items] == ["c-other", "d-job"]
    before = jobs.service.list_jobs(ADMIN, creation_time_before=created + timedelta(microseconds=1))
    assert [j.job_name for j in before.items] == ["a-job", "b-job"]

    first = jobs.service.list_jobs(ADMIN, max_results=1)
    assert first.next_token
    with pytest.raises(ValidationError, match="next_token"):
        jobs.service.list_jobs(ADMIN, max_results=1, next_token="garbage!")
    with pytest.raises(ValidationError, match="next_token"):  # a token from another listing
        jobs.service.list_jobs(ADMIN, status_equals="Stopped", next_token=first.next_token)
    with pytest.raises(ValidationError, match="max_results"):
        jobs.service.list_jobs(ADMIN, max_results=101)
    assert jobs.service.list_jobs(READER).items  # reading needs only read


def test_logs_by_offset_and_never_half_a_character(make_jobs: MakeJobs) -> None:
    backend = FakeBackend()
    text = "héllo wörld\n".encode()
    backend.script("logs", FakeOutcome(duration=60, output=text))
    jobs = make_jobs(backend)
    jobs.service.create_job(ADMIN, spec("logs"))
    assert jobs.service.read_job_logs(ADMIN, "logs").data == ""  # pending: nothing yet
    whole = wait_for(
        lambda: (
            jobs.service.read_job_logs(ADMIN, "logs").data
            and jobs.service.read_job_logs(ADMIN, "logs")
        )
    )
    assert whole.data == "héllo wörld\n"
    assert whole.next_offset == len(text)
    assert whole.complete is False  # still running
    cut = jobs.service.read_job_logs(ADMIN, "logs", offset=0, limit=2)  # "h" + half of "é"
    assert (cut.data, cut.next_offset) == ("h", 1)
    rest = jobs.service.read_job_logs(ADMIN, "logs", offset=cut.next_offset)
    assert rest.data == "éllo wörld\n"
    jobs.service.stop_job(ADMIN, "logs")
    jobs.wait("logs")
    done = jobs.service.read_job_logs(ADMIN, "logs", offset=len(text))
    assert (done.data, done.complete) == ("", True)
    with pytest.raises(ValidationError, match="offset"):
        jobs.service.read_job_logs(ADMIN, "logs", offset=-1)
    with pytest.raises(ValidationError, match="limit"):
        jobs.service.read_job_logs(ADMIN, "logs", limit=0)
    with pytest.raises(NotFound):
        jobs.service.read_job_logs(ADMIN, "nope")


def test_results_upload_failure_fails_the_job(make_jobs: MakeJobs, lake: DirLake) -> None:
    backend = FakeBackend()
    jobs = make_jobs(backend)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise NotFound("No such bucket 'out'", aws_code="NoSuchBucket")

    lake.upload_file = broken  # type: ignore[method-assign]
    jobs.service.create_job(ADMIN, spec("upload", output_path="s3://out/u"))
    info = jobs.wait("upload")
    assert info.status == "Failed"
    assert info.failure_reason == (
        "ClientError: Uploading the results failed: No such bucket 'out'"
    )


def test_without_output_path_nothing_is_uploaded(make_jobs: MakeJobs, lake: DirLake) -> None:
    backend = FakeBackend(default=FakeOutcome(files={"model/m": b"1"}, output=b"log\n"))
    jobs = make_jobs(backend)
    jobs.service.create_job(ADMIN, spec("local-only"))
    info = jobs.wait("local-only")
    assert info.status == "Completed"
    assert (info.model_artifacts, info.output_data, info.log_uri) == (None, None, None)
    assert not [c for c in lake.calls if c[0] == "upload"]
    assert jobs.service.read_job_logs(ADMIN, "local-only").data == "log\n"


def test_describe_unknown_job_is_not_found(make_jobs: MakeJobs) -> None:
    jobs = make_jobs(start=False)
    with pytest.raises(NotFound, match="'ghost' does not exist"):
        jobs.service.describe_job(ADMIN, "ghost")


def test_jobs_submitted_before_start_run_once_the_supervisor_starts(make_jobs: MakeJobs) -> None:
    jobs = make_jobs(start=False)
    jobs.service.create_job(ADMIN, spec("later"))
    assert jobs.service.describe_job(ADMIN, "later").secondary_status == "Pending"
    jobs.service.start()
    assert wait_for(lambda: jobs.service.describe_job(ADMIN, "later").status == "Completed")
