"""``/api/v1/inference-recommendations-jobs`` and ``client.inference_recommendations_jobs``
against the in-process app: snake_case bodies, native extras in the steps, native errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.hosting.support import tar_gz, train_xgboost, xgboost_archive

from lakeworks.core.errors import NotFound, ValidationError
from lakeworks.sdk.client import Client
from lakeworks.testing import InProcessServer, temporary_server

ROLE = "arn:aws:iam::000000000000:role/SageMakerRole"


@pytest.fixture(scope="module")
def lw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    """The app in process with model ``rest-xgb`` and CSV payloads in bucket ``rec``."""
    home: Path = tmp_path_factory.mktemp("recommender") / "home"
    with temporary_server(home) as server:
        api = server.client
        api.post("/api/v1/buckets", json={"name": "rec"}).raise_for_status()
        api.put(
            "/api/v1/buckets/rec/objects/model.tar.gz", content=xgboost_archive(train_xgboost())
        ).raise_for_status()
        payloads = tar_gz({"a.csv": b"0.1,0.2,0.3,0.4", "b.csv": b"0.5,0.6,0.7,0.8"})
        api.put("/api/v1/buckets/rec/objects/p.tar.gz", content=payloads).raise_for_status()
        model = {
            "model_name": "rest-xgb",
            "primary_container": {"image": "xgboost", "model_data_url": "s3://rec/model.tar.gz"},
        }
        api.post("/api/v1/models", json=model).raise_for_status()
        yield server


def spec(name: str, model: str = "rest-xgb") -> dict[str, object]:
    """A job in snake_case: one candidate, one 1 s phase of 2 users."""
    return {
        "job_name": name,
        "job_type": "Advanced",
        "role_arn": ROLE,
        "input_config": {
            "model_name": model,
            "endpoint_configurations": [{"instance_type": "ml.c5.large"}],
            "traffic_pattern": {
                "phases": [
                    {"initial_number_of_users": 2, "spawn_rate": 0, "duration_in_seconds": 1}
                ]
            },
            "resource_limit": {"max_number_of_tests": 1},
            "container_config": {
                "payload_config": {
                    "sample_payload_url": "s3://rec/p.tar.gz",
                    "supported_content_types": ["text/csv"],
                }
            },
        },
    }


def test_sdk_runs_a_job_and_reads_its_steps(lw: InProcessServer) -> None:
    client = Client(http=lw.client)
    created = client.inference_recommendations_jobs.create(spec("rest-rec"))
    assert created.status in ("PENDING", "IN_PROGRESS")
    done = client.inference_recommendations_jobs.wait("rest-rec", timeout=120)
    assert done.status == "COMPLETED", done.failure_reason
    assert done.inference_recommendations is not None
    best = done.inference_recommendations[0]
    assert best.endpoint_configuration.instance_type == "ml.c5.large"
    assert best.endpoint_configuration.initial_instance_count == 1
    assert best.metrics is not None
    assert best.metrics.max_invocations
    assert best.metrics.max_invocations > 0
    (step,) = client.inference_recommendations_jobs.steps("rest-rec")
    benchmark = step.inference_benchmark
    assert benchmark is not None
    assert benchmark.invocations
    assert benchmark.invocations > 0
    assert benchmark.errors == 0
    assert benchmark.latency_p99_us
    assert benchmark.latency_p50_us
    assert 0 < benchmark.latency_p50_us <= benchmark.latency_p99_us
    assert benchmark.phases
    assert benchmark.phases[0]["users"] == 2
    assert [j.job_name for j in client.inference_recommendations_jobs.list()] == ["rest-rec"]
    assert client.inference_recommendations_jobs.stop("rest-rec").status == "COMPLETED"


def test_native_errors(lw: InProcessServer) -> None:
    client = Client(http=lw.client)
    with pytest.raises(ValidationError, match="could not find model 'missing'"):
        client.inference_recommendations_jobs.create(spec("rest-bad", model="missing"))
    with pytest.raises(NotFound):
        client.inference_recommendations_jobs.get("rest-none")
    response = lw.client.post(
        "/api/v1/inference-recommendations-jobs", json={**spec("rest-extra"), "surprise": 1}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "ValidationException"
