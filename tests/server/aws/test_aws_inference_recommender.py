"""Inference recommendations jobs through boto3 against a real server: a small XGBoost model is
load-tested on temporary endpoints, the best configuration recommended; impossible latency
targets, stops, restarts and bad inputs answer as documented in docs/hosting.md."""

from __future__ import annotations

import io
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pytest
from botocore.exceptions import ClientError
from tests.hosting.support import tar_gz, train_xgboost, xgboost_archive
from tests.server.aws.conftest import ClientFactory

from lakeworks.testing.process import ServerProcess, server_process

ROLE = "arn:aws:iam::000000000000:role/SageMakerRole"
XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
BUCKET = "recommender-tests"
PAYLOADS = f"s3://{BUCKET}/payloads/sample.tar.gz"
FAST_ENV = {"LAKEWORKS_HOSTING_HEALTH_INTERVAL_SECONDS": "0.2"}


@pytest.fixture(scope="module")
def aws_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server for the module."""
    with server_process(tmp_path_factory.mktemp("recommender") / "home", env=FAST_ENV) as server:
        yield server


def setup_model(s3: Any, sm: Any) -> None:
    """Upload a 4-feature XGBoost model and CSV sample payloads; create model ``xgb``."""
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="xgb/model.tar.gz", Body=xgboost_archive(train_xgboost()))
    rows = np.random.default_rng(1).random((8, 4))
    files = {
        f"row-{i}.csv": ",".join(f"{v:.4f}" for v in row).encode() for i, row in enumerate(rows)
    }
    s3.put_object(Bucket=BUCKET, Key="payloads/sample.tar.gz", Body=tar_gz(files))
    sm.create_model(
        ModelName="xgb",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={
            "Image": XGBOOST_IMAGE,
            "ModelDataUrl": f"s3://{BUCKET}/xgb/model.tar.gz",
        },
    )


@pytest.fixture(scope="module")
def sm(client: ClientFactory) -> Iterator[Any]:
    """boto3 ``sagemaker`` with the model and payloads in place."""
    s3, sagemaker = client("s3"), client("sagemaker")
    setup_model(s3, sagemaker)
    s3.close()
    yield sagemaker
    sagemaker.close()


def job_request(name: str, **overrides: Any) -> dict[str, Any]:
    """An Advanced job on ``xgb``: one instance type, 1-2 s phases."""
    request: dict[str, Any] = {
        "JobName": name,
        "JobType": "Advanced",
        "RoleArn": ROLE,
        "InputConfig": {
            "ModelName": "xgb",
            "EndpointConfigurations": [{"InstanceType": "ml.m5.large"}],
            "TrafficPattern": {
                "TrafficType": "PHASES",
                "Phases": [{"InitialNumberOfUsers": 1, "SpawnRate": 1, "DurationInSeconds": 2}],
            },
            "ResourceLimit": {"MaxNumberOfTests": 2, "MaxParallelOfTests": 1},
            "ContainerConfig": {
                "PayloadConfig": {
                    "SamplePayloadUrl": PAYLOADS,
                    "SupportedContentTypes": ["text/csv"],
                }
            },
        },
        "StoppingConditions": {
            "ModelLatencyThresholds": [{"Percentile": "P99", "ValueInMilliseconds": 2000}]
        },
    }
    request.update(overrides)
    return request


def wait_for_job(sm: Any, name: str, timeout: float = 240.0) -> dict[str, Any]:
    """Poll until the job leaves PENDING/IN_PROGRESS/STOPPING; the last answer."""
    deadline = time.monotonic() + timeout
    while True:
        described: dict[str, Any] = sm.describe_inference_recommendations_job(JobName=name)
        if described["Status"] not in ("PENDING", "IN_PROGRESS", "STOPPING"):
            return described
        assert time.monotonic() < deadline, f"job {name} still {described['Status']}"
        time.sleep(0.25)


def test_job_recommends_the_best_measured_configuration(sm: Any) -> None:
    arn = sm.create_inference_recommendations_job(**job_request("rec-ok"))["JobArn"]
    assert arn.endswith(":inference-recommendations-job/rec-ok")
    described = wait_for_job(sm, "rec-ok")
    assert described["Status"] == "COMPLETED", described.get("FailureReason")
    assert described["InputConfig"]["ModelName"] == "xgb"
    assert described["CompletionTime"] >= described["CreationTime"]
    recommendations = described["InferenceRecommendations"]
    assert 1 <= len(recommendations) <= 2
    best = recommendations[0]
    metrics = best["Metrics"]
    assert metrics["MaxInvocations"] > 0
    assert 0 < metrics["ModelLatency"] <= 2000
    assert metrics["CostPerHour"] == 0
    config = best["EndpointConfiguration"]
    assert config["InstanceType"] == "ml.m5.large"
    assert config["InitialInstanceCount"] in (1, 2)
    assert config["VariantName"] == "AllTraffic"
    throughputs = [r["Metrics"]["MaxInvocations"] for r in recommendations]
    assert throughputs == sorted(throughputs, reverse=True)

    steps = sm.list_inference_recommendations_job_steps(JobName="rec-ok")["Steps"]
    assert [s["Status"] for s in steps] == ["COMPLETED", "COMPLETED"]
    counts = sorted(
        s["InferenceBenchmark"]["EndpointConfiguration"]["InitialInstanceCount"] for s in steps
    )
    assert counts == [1, 2]
    for step in steps:
        assert step["StepType"] == "BENCHMARK"
        assert step["InferenceBenchmark"]["EndpointMetrics"]["MaxInvocations"] > 0
    # the temporary endpoints and their configs are gone
    assert sm.list_endpoints()["Endpoints"] == []
    assert sm.list_endpoint_configs()["EndpointConfigs"] == []

    listed = sm.list_inference_recommendations_jobs(StatusEquals="COMPLETED")
    assert [j["JobName"] for j in listed["InferenceRecommendationsJobs"]] == ["rec-ok"]
    summary = listed["InferenceRecommendationsJobs"][0]
    assert summary["ModelName"] == "xgb"
    assert summary["SamplePayloadUrl"] == PAYLOADS
    with pytest.raises(ClientError) as caught:  # names are never reused
        sm.create_inference_recommendations_job(**job_request("rec-ok"))
    assert caught.value.response["Error"]["Code"] == "ResourceInUse"
    assert (
        sm.list_inference_recommendations_jobs(ModelNameEquals="other")[
            "InferenceRecommendationsJobs"
        ]
        == []
    )


def test_an_impossible_latency_target_fails_the_job_with_the_figures(sm: Any) -> None:
    request = job_request(
        "rec-too-strict",
        StoppingConditions={
            "ModelLatencyThresholds": [{"Percentile": "P95", "ValueInMilliseconds": 0}]
        },
    )
    request["InputConfig"]["ResourceLimit"] = {"MaxNumberOfTests": 1}
    sm.create_inference_recommendations_job(**request)
    described = wait_for_job(sm, "rec-too-strict")
    assert described["Status"] == "FAILED"
    reason = described["FailureReason"]
    assert "No endpoint configuration met the ModelLatencyThresholds (P95 <= 0 ms)" in reason
    assert "invocations per minute" in reason
    assert "InferenceRecommendations" not in described
    steps = sm.list_inference_recommendations_job_steps(JobName="rec-too-strict")["Steps"]
    assert len(steps) == 1
    assert steps[0]["InferenceBenchmark"]["Metrics"]["MaxInvocations"] > 0


def test_stop_ends_the_load_test_and_removes_its_endpoint(sm: Any) -> None:
    request = job_request("rec-stopped")
    request["InputConfig"]["TrafficPattern"]["Phases"][0]["DurationInSeconds"] = 120
    sm.create_inference_recommendations_job(**request)
    deadline = time.monotonic() + 60
    while not sm.list_endpoints(StatusEquals="InService")["Endpoints"]:
        assert time.monotonic() < deadline, "the load test never started"
        time.sleep(0.2)
    started = time.monotonic()
    sm.stop_inference_recommendations_job(JobName="rec-stopped")
    described = wait_for_job(sm, "rec-stopped", timeout=60)
    assert described["Status"] == "STOPPED"
    assert time.monotonic() - started < 60  # not the 2 x 120 s the phases asked for
    assert sm.list_endpoints()["Endpoints"] == []
    sm.stop_inference_recommendations_job(JobName="rec-stopped")  # ended: no change
    assert sm.describe_inference_recommendations_job(JobName="rec-stopped")["Status"] == "STOPPED"


def unsafe_archive() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("../escape.csv")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"1,2"))
    return buffer.getvalue()


def test_bad_inputs_are_refused_with_the_reason(sm: Any, client: ClientFactory) -> None:
    s3 = client("s3")
    s3.put_object(Bucket=BUCKET, Key="payloads/unsafe.tar.gz", Body=unsafe_archive())
    s3.put_object(Bucket=BUCKET, Key="payloads/empty.tar.gz", Body=tar_gz({}))
    s3.close()

    def refused(request: dict[str, Any]) -> str:
        with pytest.raises(ClientError) as caught:
            sm.create_inference_recommendations_job(**request)
        assert caught.value.response["Error"]["Code"] == "ValidationException"
        return str(caught.value.response["Error"]["Message"])

    def with_input(name: str, **changes: Any) -> dict[str, Any]:
        request = job_request(name)
        request["InputConfig"].update(changes)
        return request

    def with_payloads(name: str, url: str) -> dict[str, Any]:
        request = job_request(name)
        request["InputConfig"]["ContainerConfig"]["PayloadConfig"]["SamplePayloadUrl"] = url
        return request

    assert "could not find model 'nope'" in refused(with_input("bad-1", ModelName="nope"))
    assert "no object at" in refused(with_payloads("bad-2", f"s3://{BUCKET}/missing.tar.gz"))
    assert "contains '..'" in refused(
        with_payloads("bad-3", f"s3://{BUCKET}/payloads/unsafe.tar.gz")
    )
    assert "holds no files" in refused(
        with_payloads("bad-4", f"s3://{BUCKET}/payloads/empty.tar.gz")
    )
    package = "arn:aws:sagemaker:us-east-1:000000000000:model-package/p/1"
    by_package = with_input("bad-5", ModelPackageVersionArn=package)
    del by_package["InputConfig"]["ModelName"]
    assert "no model registry yet" in refused(by_package)
    assert "Value at 'JobType'" in refused(job_request("bad-6", JobType="Fast"))
    assert "at most 4 load tests" in refused(
        with_input("bad-7", ResourceLimit={"MaxParallelOfTests": 10})
    )
    # nothing was recorded for the refused requests
    names = [
        j["JobName"]
        for j in sm.list_inference_recommendations_jobs(NameContains="bad")[
            "InferenceRecommendationsJobs"
        ]
    ]
    assert names == []
    for call in (
        sm.describe_inference_recommendations_job,
        sm.stop_inference_recommendations_job,
        sm.list_inference_recommendations_job_steps,
    ):
        with pytest.raises(ClientError) as caught:
            call(JobName="no-such-job")
        assert caught.value.response["Error"]["Code"] == "ResourceNotFound"


def test_a_job_running_at_a_restart_is_failed_and_its_endpoint_deleted(tmp_path: Path) -> None:
    def clients(server: ServerProcess) -> tuple[Any, Any]:
        env = server.aws_env()
        session = boto3.session.Session(
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            region_name="us-east-1",
        )
        url = env["AWS_ENDPOINT_URL"]
        return session.client("s3", endpoint_url=url), session.client("sagemaker", endpoint_url=url)

    home = tmp_path / "home"
    with server_process(home, env=FAST_ENV) as server:
        s3, sm = clients(server)
        setup_model(s3, sm)
        request = job_request("rec-restart")
        request["InputConfig"]["TrafficPattern"]["Phases"][0]["DurationInSeconds"] = 300
        sm.create_inference_recommendations_job(**request)
        deadline = time.monotonic() + 60
        while not sm.list_endpoints(StatusEquals="InService")["Endpoints"]:
            assert time.monotonic() < deadline, "the load test never started"
            time.sleep(0.2)
        s3.close()
        sm.close()
    with server_process(home, env=FAST_ENV) as server:
        s3, sm = clients(server)
        described = sm.describe_inference_recommendations_job(JobName="rec-restart")
        assert described["Status"] == "FAILED"
        assert "server stopped while the job ran" in described["FailureReason"]
        deadline = time.monotonic() + 60
        while sm.list_endpoints()["Endpoints"]:
            assert time.monotonic() < deadline, "the temporary endpoint was left behind"
            time.sleep(0.2)
        s3.close()
        sm.close()
