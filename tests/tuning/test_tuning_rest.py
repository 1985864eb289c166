"""Tuning jobs through the native REST API, in process, with real (tiny) trial processes."""

from __future__ import annotations

import io
import tarfile
import time
from collections.abc import Iterator
from typing import Any

import pytest

from lakeworks.testing import InProcessServer, temporary_server

API = "/api/v1/hyper-parameter-tuning-jobs"
TRIAL = """
import sys
x = float(sys.argv[sys.argv.index("--x") + 1])
print(f"loss={(x - 0.5) ** 2:.6f}")
"""


def _tarball(text: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("train.py")
        info.size = len(text.encode())
        tar.addfile(info, io.BytesIO(text.encode()))
    return buffer.getvalue()


def body(name: str, **config: Any) -> dict[str, Any]:
    return {
        "hyper_parameter_tuning_job_name": name,
        "hyper_parameter_tuning_job_config": {
            "strategy": "Random",
            "hyper_parameter_tuning_job_objective": {"type": "Minimize", "metric_name": "loss"},
            "resource_limits": {"max_number_of_training_jobs": 2, "max_parallel_training_jobs": 2},
            "parameter_ranges": {
                "continuous_parameter_ranges": [{"name": "x", "min_value": "0", "max_value": "1"}]
            },
            **config,
        },
        "training_job_definition": {
            "static_hyperparameters": {
                "sagemaker_program": '"train.py"',
                "sagemaker_submit_directory": '"s3://tune/code/src.tar.gz"',
            },
            "algorithm_specification": {
                "training_image": "sagemaker-scikit-learn:1.2-1-cpu-py3",
                "metric_definitions": [{"name": "loss", "regex": r"loss=([0-9.]+)"}],
            },
            "output_data_config": {"s3_output_path": "s3://tune/out"},
        },
    }


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    home = tmp_path_factory.mktemp("tuning-rest") / "home"
    with temporary_server(home, jobs={"poll_interval_seconds": 0.05}) as running:
        client = running.client
        assert client.post("/api/v1/buckets", json={"name": "tune"}).status_code == 201
        put = client.put("/api/v1/buckets/tune/objects/code/src.tar.gz", content=_tarball(TRIAL))
        assert put.status_code == 200
        yield running


def test_create_describe_list_and_trials(srv: InProcessServer) -> None:
    created = srv.client.post(API, json=body("rest-tune"))
    assert created.status_code == 201, created.text
    assert created.json()["hyper_parameter_tuning_job_status"] == "InProgress"
    deadline = time.monotonic() + 60
    while True:
        info = srv.client.get(f"{API}/rest-tune").json()
        if info["hyper_parameter_tuning_job_status"] != "InProgress":
            break
        assert time.monotonic() < deadline, info
        time.sleep(0.05)
    assert info["hyper_parameter_tuning_job_status"] == "Completed"
    assert info["objective_status_counters"]["succeeded"] == 2
    trials = srv.client.get(
        f"{API}/rest-tune/training-jobs", params={"sort_by": "FinalObjectiveMetricValue"}
    ).json()["items"]
    assert len(trials) == 2
    best = info["best_training_job"]["training_job_name"]
    assert trials[0]["training_job_name"] == best
    listed = srv.client.get(API, params={"status_equals": "Completed"}).json()["items"]
    assert [t["hyper_parameter_tuning_job_name"] for t in listed] == ["rest-tune"]
    assert srv.client.post(f"{API}/rest-tune/stop").status_code == 400


def test_bad_requests_and_missing_jobs(srv: InProcessServer) -> None:
    bad = srv.client.post(
        API,
        json=body(
            "bad-range",
            parameter_ranges={
                "continuous_parameter_ranges": [{"name": "x", "min_value": "1", "max_value": "0"}]
            },
        ),
    )
    assert bad.status_code == 400
    assert "greater than MaxValue" in bad.json()["error"]["message"]
    assert srv.client.get(f"{API}/bad-range").status_code == 404
    long_name = srv.client.post(API, json=body("x" * 33))
    assert long_name.status_code == 400
    missing = srv.client.get(f"{API}/missing/training-jobs")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "ResourceNotFound"
