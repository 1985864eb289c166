"""Real jobs: tiny Python scripts run by LocalBackend through the JobService."""

from __future__ import annotations

import io
import json
import tarfile
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from tests.jobs.conftest import ADMIN, DirLake, Harness, MakeJobs, wait_for

from lakeworks.backends.local import LocalBackend
from lakeworks.schemas.jobs import JobCreate


def tar_gz(files: dict[str, bytes], extra: Sequence[tarfile.TarInfo] = ()) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info in extra:
            tar.addfile(info)
    return buffer.getvalue()


def members(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isreg()}  # type: ignore[union-attr]


def script(body: str) -> bytes:
    return textwrap.dedent(body).encode()


@pytest.fixture
def local(make_jobs: MakeJobs) -> Harness:
    return make_jobs(LocalBackend(), stop_grace_seconds=5)


def submit(jobs: Harness, name: str, code_uri: str, entry: str, **fields: Any) -> None:
    jobs.service.create_job(
        ADMIN, JobCreate(job_name=name, code_uri=code_uri, entry_point=entry, **fields)
    )


TRAIN = script(
    """
    import json, os, sys
    from helpers.io import read_rows

    model_dir = os.environ["SM_MODEL_DIR"]
    rows = read_rows(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "data.csv"))
    with open(os.path.join(os.environ["SM_INPUT_DIR"], "config", "hyperparameters.json")) as f:
        hps = json.load(f)
    summary = {
        "argv": sys.argv[1:],
        "cwd": os.getcwd(),
        "rows": rows,
        "hps_file": hps,
        "sm_hps": json.loads(os.environ["SM_HPS"]),
        "channels": json.loads(os.environ["SM_CHANNELS"]),
        "job": os.environ["TRAINING_JOB_NAME"],
        "home": os.environ["HOME"],
    }
    with open(os.path.join(model_dir, "model.json"), "w") as f:
        json.dump(summary, f)
    with open(os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], "metrics.json"), "w") as f:
        json.dump({"rows": len(rows)}, f)
    print("trained on", len(rows), "rows")
    """
)
HELPERS = b"def read_rows(path):\n    return open(path).read().split()\n"


def test_a_script_job_runs_in_the_sagemaker_layout(local: Harness, lake: DirLake) -> None:
    lake.put(
        "s3://code/src.tar.gz",
        tar_gz({"train.py": TRAIN, "helpers/__init__.py": b"", "helpers/io.py": HELPERS}),
    )
    lake.put("s3://data/train/data.csv", b"1,2\n3,4\n")
    submit(
        local,
        "layout",
        "s3://code/src.tar.gz",
        "train.py",
        hyperparameters={"epochs": "3", "lr": "0.5"},
        arguments=["--mode", "fast"],
        input_data_config=[{"channel_name": "train", "s3_uri": "s3://data/train/"}],
        output_path="s3://out/models",
    )
    info = local.wait("layout")
    assert info.status == "Completed", info.failure_reason
    job_dir = local.settings.home / "jobs" / "layout"
    model = json.loads(members(lake.get(info.model_artifacts or ""))["model.json"])
    assert model == {
        "argv": ["--mode", "fast", "--epochs", "3", "--lr", "0.5"],
        "cwd": str(job_dir / "code"),
        "rows": ["1,2", "3,4"],
        "hps_file": {"epochs": "3", "lr": "0.5"},
        "sm_hps": {"epochs": 3, "lr": 0.5},
        "channels": ["train"],
        "job": "layout",
        "home": str(job_dir),
    }
    assert lake.get("s3://out/models/layout/output/data/metrics.json") == b'{"rows": 2}'
    assert b"trained on 2 rows" in lake.get("s3://out/models/layout/logs/output.log")
    assert local.service.read_job_logs(ADMIN, "layout").data == "trained on 2 rows\n"


def test_the_job_environment_holds_no_server_secret(
    make_jobs: MakeJobs, lake: DirLake, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from cryptography.fernet import Fernet

    server_secrets = {
        "LAKEWORKS_AUTH_MASTER_KEY": Fernet.generate_key().decode(),
        "LAKEWORKS_STORAGE_SECRET_ACCESS_KEY": "storage-secret-value",
        "LAKEWORKS_DATABASE_URL": f"sqlite:///{tmp_path / 'home' / 'lakeworks.db'}",
        "AWS_SECRET_ACCESS_KEY": "the-servers-own-aws-secret",
        "AWS_ACCESS_KEY_ID": "AKIASERVEROWNKEY0000",
    }
    for name, value in server_secrets.items():
        monkeypatch.setenv(name, value)
    jobs = make_jobs(LocalBackend())
    lake.put(
        "s3://code/env.py",
        script(
            """
            import json, os
            with open(os.path.join(os.environ["SM_MODEL_DIR"], "env.json"), "w") as f:
                json.dump(dict(os.environ), f)
            """
        ),
    )
    submit(jobs, "env-check", "s3://code/env.py", "env.py")
    assert jobs.wait("env-check").status == "Completed"
    env = json.loads((jobs.settings.home / "jobs/env-check/model/env.json").read_text())
    for value in server_secrets.values():
        assert value not in json.dumps(env)
    assert {n for n in env if n.startswith("LAKEWORKS_")} == {"LAKEWORKS_URL", "LAKEWORKS_TOKEN"}
    assert env["AWS_ACCESS_KEY_ID"].startswith("ASIA")  # the job's own, short-lived key
    assert env["HOME"] == str(jobs.settings.home / "jobs/env-check")


def test_a_failing_job_explains_itself_through_output_failure(
    local: Harness, lake: DirLake
) -> None:
    lake.put(
        "s3://code/fail.py",
        script(
            """
            import os, sys
            print("about to fail")
            with open(os.path.join(os.environ["SM_OUTPUT_DIR"], "failure"), "w") as f:
                f.write("ValueError: column 'y' is missing")
            sys.exit(2)
            """
        ),
    )
    submit(local, "fails", "s3://code/fail.py", "fail.py")
    info = local.wait("fails")
    assert info.status == "Failed"
    assert info.exit_code == 2
    assert info.failure_reason == "AlgorithmError: exit code 2: ValueError: column 'y' is missing"


def test_a_stopped_job_can_save_a_checkpoint(local: Harness, lake: DirLake) -> None:
    lake.put(
        "s3://code/ckpt.py",
        script(
            """
            import os, signal, sys, time
            def save(signum, frame):
                with open(os.path.join(os.environ["SM_MODEL_DIR"], "checkpoint"), "w") as f:
                    f.write("epoch 7")
                sys.exit(0)
            signal.signal(signal.SIGTERM, save)
            print("training", flush=True)
            time.sleep(60)
            """
        ),
    )
    submit(local, "ckpt", "s3://code/ckpt.py", "ckpt.py", output_path="s3://out/c")
    wait_for(lambda: "training" in local.service.read_job_logs(ADMIN, "ckpt").data)
    assert local.service.stop_job(ADMIN, "ckpt").status == "Stopping"
    info = local.wait("ckpt")
    assert (info.status, info.exit_code) == ("Stopped", 0)
    assert members(lake.get("s3://out/c/ckpt/output/model.tar.gz")) == {"checkpoint": b"epoch 7"}


WAITER = script(
    """
    import os, time
    print("started", flush=True)
    while not os.path.exists(os.environ["RELEASE"]):
        time.sleep(0.02)
    print("released", flush=True)
    """
)


def test_logs_are_live_and_the_concurrency_limit_queues_jobs(
    make_jobs: MakeJobs, lake: DirLake, tmp_path: Path
) -> None:
    jobs = make_jobs(LocalBackend(), max_concurrent=1)
    lake.put("s3://code/wait.py", WAITER)
    release_a, release_b = tmp_path / "release-a", tmp_path / "release-b"
    submit(jobs, "first", "s3://code/wait.py", "wait.py", environment={"RELEASE": str(release_a)})
    submit(jobs, "second", "s3://code/wait.py", "wait.py", environment={"RELEASE": str(release_b)})

    live = wait_for(lambda: (x := jobs.service.read_job_logs(ADMIN, "first")).data and x)
    assert (live.data, live.complete) == ("started\n", False)
    assert jobs.service.describe_job(ADMIN, "first").status == "InProgress"
    jobs.service.supervisor.tick()
    assert jobs.service.describe_job(ADMIN, "second").secondary_status == "Pending"

    release_a.touch()
    assert jobs.wait("first").status == "Completed"
    done = jobs.service.read_job_logs(ADMIN, "first", offset=live.next_offset)
    assert (done.data, done.complete) == ("released\n", True)
    wait_for(lambda: jobs.service.read_job_logs(ADMIN, "second").data)
    release_b.touch()
    assert jobs.wait("second").status == "Completed"


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (tarfile.TarInfo("../outside.py"), "contains '..'"),
        (tarfile.TarInfo("link.py"), "a symbolic link"),
    ],
)
def test_an_unsafe_code_archive_fails_the_job_and_writes_nothing(
    local: Harness, lake: DirLake, bad: tarfile.TarInfo, reason: str
) -> None:
    if bad.name == "link.py":
        bad.type, bad.linkname = tarfile.SYMTYPE, "/etc/passwd"
    lake.put("s3://code/bad.tar.gz", tar_gz({"train.py": b"print(1)\n"}, [bad]))
    submit(local, "unsafe", "s3://code/bad.tar.gz", "train.py")
    info = local.wait("unsafe")
    assert info.status == "Failed"
    assert reason in (info.failure_reason or "")
    assert "Downloading code from s3://code/bad.tar.gz failed" in (info.failure_reason or "")
    job_dir = local.settings.home / "jobs" / "unsafe"
    assert not (job_dir / "code").exists()
    assert not (job_dir / "outside.py").exists()
    assert not (local.settings.home / "jobs" / "outside.py").exists()
    assert not (job_dir / "runner").exists()  # no process was ever started


def test_code_from_a_prefix_with_packages(local: Harness, lake: DirLake) -> None:
    lake.put("s3://code/proj/main.py", b"from lib.util import VALUE\nprint(VALUE)\n")
    lake.put("s3://code/proj/lib/__init__.py", b"")
    lake.put("s3://code/proj/lib/util.py", b"VALUE = 'from the prefix'\n")
    submit(local, "prefix", "s3://code/proj/", "main.py")
    assert local.wait("prefix").status == "Completed"
    assert local.service.read_job_logs(ADMIN, "prefix").data == "from the prefix\n"
