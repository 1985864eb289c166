"""The native autoscaling API in process, on a real endpoint: a target registered with a minimum
above the endpoint's count is brought up to it; step policies keep their native alarm; errors are
native 4xx."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from tests.hosting.support import train_xgboost, xgboost_archive

from lakeworks.testing import InProcessServer, temporary_server

RESOURCE = "endpoint/auto-rest/variant/main"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    """An in-process server with a one-instance XGBoost endpoint ``auto-rest``."""
    home = tmp_path_factory.mktemp("auto-rest") / "home"
    hosting = {"autoscaling_interval_seconds": 0.2, "health_interval_seconds": 0.2}
    with temporary_server(home, hosting=hosting) as server:
        api = server.client
        api.post("/api/v1/buckets", json={"name": "auto-rest"}).raise_for_status()
        api.put(
            "/api/v1/buckets/auto-rest/objects/model.tar.gz",
            content=xgboost_archive(train_xgboost()),
        ).raise_for_status()
        model = {"model_name": "auto-rest", "primary_container": {
            "image": "xgboost", "model_data_url": "s3://auto-rest/model.tar.gz"}}  # fmt: skip
        assert api.post("/api/v1/models", json=model).status_code == 201
        config = {"endpoint_config_name": "auto-rest", "production_variants": [
            {"variant_name": "main", "model_name": "auto-rest", "initial_instance_count": 1,
             "instance_type": "ml.m5.large"}]}  # fmt: skip
        assert api.post("/api/v1/endpoint-configs", json=config).status_code == 201
        created = api.post(
            "/api/v1/endpoints",
            json={"endpoint_name": "auto-rest", "endpoint_config_name": "auto-rest"},
        )
        assert created.status_code == 201
        _wait(server, lambda e: e["endpoint_status"] == "InService")
        yield server


def _wait(server: InProcessServer, done: Any, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        info: dict[str, Any] = server.client.get("/api/v1/endpoints/auto-rest").json()
        if done(info):
            return info
        assert time.monotonic() < deadline, info
        time.sleep(0.1)


def test_minimum_above_the_current_count_scales_out(server: InProcessServer) -> None:
    api = server.client
    target = {"service_namespace": "sagemaker", "resource_id": RESOURCE,
              "scalable_dimension": "sagemaker:variant:DesiredInstanceCount",
              "min_capacity": 2, "max_capacity": 3}  # fmt: skip
    registered = api.post("/api/v1/scalable-targets", json=target)
    assert registered.status_code == 200, registered.text
    assert registered.json()["min_capacity"] == 2
    info = _wait(
        server,
        lambda e: (
            e["endpoint_status"] == "InService"
            and e["production_variants"][0]["current_instance_count"] == 2
        ),
    )
    assert info["production_variants"][0]["desired_instance_count"] == 2
    activities = api.get("/api/v1/scaling-activities", params={"resource_id": RESOURCE}).json()
    (activity,) = activities["items"]
    assert activity["description"] == "Setting desired instance count to 2."
    assert "outside the registered range" in activity["cause"]


def test_step_policy_with_a_native_alarm(server: InProcessServer) -> None:
    api = server.client
    policy = {
        "policy_name": "steps",
        "service_namespace": "sagemaker",
        "resource_id": RESOURCE,
        "scalable_dimension": "sagemaker:variant:DesiredInstanceCount",
        "policy_type": "StepScaling",
        "step_scaling_policy_configuration": {
            "step_adjustments": [{"metric_interval_lower_bound": 0, "scaling_adjustment": 1}],
            "cooldown": 60,
        },
        "step_alarm": {"metric": {"metric_name": "ModelLatency"}, "threshold": 50000},
    }
    put = api.put("/api/v1/scaling-policies", json=policy)
    assert put.status_code == 200, put.text
    listed = api.get("/api/v1/scaling-policies", params={"resource_id": RESOURCE}).json()
    assert listed["items"][0]["step_alarm"]["threshold"] == 50000
    bad = api.put(
        "/api/v1/scaling-policies",
        json={**policy, "step_alarm": {"metric": {"metric_name": "Nope"}}},
    )
    assert bad.status_code == 400
    assert "ModelLatency" in bad.json()["error"]["message"]
    gone = api.delete(
        "/api/v1/scaling-policies", params={"resource_id": RESOURCE, "policy_name": "steps"}
    )
    assert gone.status_code == 204
    missing = api.delete(
        "/api/v1/scaling-policies", params={"resource_id": RESOURCE, "policy_name": "steps"}
    )
    assert missing.status_code == 404
    assert "No scaling policy found" in missing.json()["error"]["message"]


def test_unknown_fields_and_targets_are_refused(server: InProcessServer) -> None:
    api = server.client
    extra = api.post(
        "/api/v1/scalable-targets",
        json={"service_namespace": "sagemaker", "resource_id": RESOURCE,
              "scalable_dimension": "sagemaker:variant:DesiredInstanceCount", "colour": 1},
    )  # fmt: skip
    assert extra.status_code in (400, 422)
    absent = api.delete("/api/v1/scalable-targets", params={"resource_id": "endpoint/x/variant/y"})
    assert absent.status_code == 404
