"""The native REST twins (``/api/v1/models``, ``/endpoint-configs``, ``/endpoints``) against a
real server process: snake_case bodies, native error shapes, invocations with a bearer token."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.hosting.support import train_xgboost, xgboost_archive

from lakeworks.testing.process import ServerProcess, server_process

MODEL = {
    "model_name": "rest-xgb",
    "primary_container": {"image": "xgboost", "model_data_url": "s3://rest-models/model.tar.gz"},
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server process for the module."""
    with server_process(tmp_path_factory.mktemp("rest") / "home") as process:
        yield process


@pytest.fixture(scope="module")
def api(server: ServerProcess) -> Iterator[httpx.Client]:
    """An httpx client with the admin token, the model uploaded."""
    with httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {server.token}"}, timeout=30
    ) as client:
        client.post("/api/v1/buckets", json={"name": "rest-models"}).raise_for_status()
        client.put(
            "/api/v1/buckets/rest-models/objects/model.tar.gz",
            content=xgboost_archive(train_xgboost()),
        ).raise_for_status()
        yield client


def _wait(api: httpx.Client, name: str) -> dict[str, Any]:
    deadline = time.monotonic() + 90
    while True:
        info: dict[str, Any] = api.get(f"/api/v1/endpoints/{name}").json()
        if info["endpoint_status"] not in ("Creating", "Updating"):
            return info
        assert time.monotonic() < deadline, info
        time.sleep(0.1)


@pytest.fixture(scope="module")
def endpoint(api: httpx.Client) -> str:
    """Model, config and endpoint created through the native API."""
    created = api.post("/api/v1/models", json=MODEL)
    assert created.status_code == 201, created.text
    assert created.json()["model_arn"].endswith(":model/rest-xgb")
    config = {
        "endpoint_config_name": "rest-config",
        "production_variants": [
            {"variant_name": "main", "model_name": "rest-xgb", "initial_instance_count": 1,
             "instance_type": "ml.m5.large"}
        ],
    }  # fmt: skip
    assert api.post("/api/v1/endpoint-configs", json=config).status_code == 201
    response = api.post(
        "/api/v1/endpoints",
        json={"endpoint_name": "rest-endpoint", "endpoint_config_name": "rest-config"},
    )
    assert response.status_code == 201
    assert response.json()["endpoint_status"] == "Creating"
    assert _wait(api, "rest-endpoint")["endpoint_status"] == "InService"
    return "rest-endpoint"


def test_invoke_with_a_bearer_token(
    api: httpx.Client, endpoint: str, server: ServerProcess
) -> None:
    url = f"/api/v1/endpoints/{endpoint}/invocations"
    response = api.post(url, content=b"0.1,0.2,0.3,0.4", headers={"Content-Type": "text/csv"})
    assert response.status_code == 200
    assert response.headers["x-amzn-invoked-production-variant"] == "main"
    float(response.text)
    anonymous = httpx.post(f"{server.url}{url}", content=b"1,2,3,4")
    assert anonymous.status_code == 401


def test_native_error_shapes(api: httpx.Client, endpoint: str) -> None:
    twice = api.post("/api/v1/models", json=MODEL)
    assert twice.status_code == 409
    assert "Cannot create already existing model" in twice.json()["error"]["message"]
    missing = api.get("/api/v1/models/ghost")
    assert missing.status_code == 404
    assert missing.json()["error"]["message"].startswith('Could not find model "arn:')
    unknown_field = api.post("/api/v1/models", json={**MODEL, "model_name": "x", "colour": 1})
    assert unknown_field.status_code == 400
    url = f"/api/v1/endpoints/{endpoint}/invocations"
    model_error = api.post(url, content=b"1,2", headers={"Content-Type": "text/csv"})
    assert model_error.status_code == 424
    assert model_error.json()["error"]["code"] == "ModelError"
    assert model_error.json()["error"]["details"]["OriginalStatusCode"] == 400
    too_big = api.post(url, content=b"1" * (6 * 1024 * 1024 + 1))
    assert too_big.status_code == 413
    assert "6291456" in too_big.json()["error"]["message"]
    ghost = api.post("/api/v1/endpoints/ghost/invocations", content=b"1")
    assert ghost.status_code == 400
    assert ghost.json()["error"]["message"] == "Endpoint ghost of account 000000000000 not found."


def test_lists_page_with_tokens(api: httpx.Client, endpoint: str) -> None:
    api.post("/api/v1/models", json={**MODEL, "model_name": "rest-xgb-2"}).raise_for_status()
    first = api.get(
        "/api/v1/models", params={"max_results": 1, "sort_by": "Name", "sort_order": "Ascending"}
    ).json()
    assert [m["model_name"] for m in first["items"]] == ["rest-xgb"]
    second = api.get(
        "/api/v1/models",
        params={
            "max_results": 1,
            "sort_by": "Name",
            "sort_order": "Ascending",
            "next_token": first["next_token"],
        },
    ).json()
    assert [m["model_name"] for m in second["items"]] == ["rest-xgb-2"]
    bad = api.get("/api/v1/models", params={"next_token": first["next_token"]})
    assert bad.status_code == 400
    listed = api.get("/api/v1/endpoints", params={"status_equals": "InService"}).json()
    assert [e["endpoint_name"] for e in listed["items"]] == [endpoint]


def test_weights_logs_and_delete(api: httpx.Client, endpoint: str, server: ServerProcess) -> None:
    update = {"desired_weights_and_capacities": [{"variant_name": "main", "desired_weight": 2}]}
    response = api.post(f"/api/v1/endpoints/{endpoint}/weights-and-capacities", json=update)
    assert response.status_code == 200
    assert response.json()["endpoint_status"] == "Updating"
    info = _wait(api, endpoint)
    assert info["production_variants"][0]["current_weight"] == 2.0
    logs = api.get(f"/api/v1/endpoints/{endpoint}/logs")
    assert logs.status_code == 200
    assert "model server for rest-endpoint/main listening" in logs.text
    assert api.delete(f"/api/v1/endpoints/{endpoint}").status_code == 202
    deadline = time.monotonic() + 30
    while api.get(f"/api/v1/endpoints/{endpoint}").status_code != 404:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert not Path(server.home, "hosting", "endpoints", endpoint).exists()
