"""``client.models``, ``client.endpoint_configs`` and ``client.endpoints`` against the in-process
server, with a real XGBoost model served by a real model-server process."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.hosting.support import linear_archive, train_xgboost, xgboost_archive

from lakeworks.core.errors import NotFound, ValidationError
from lakeworks.sdk.client import Client
from lakeworks.sdk.errors import ModelError
from lakeworks.testing import InProcessServer

BUCKET = "sdk-models"


@pytest.fixture(scope="module")
def endpoint(server: InProcessServer) -> str:
    """An XGBoost model, its endpoint config and an InService endpoint, made through the SDK."""
    client = Client(http=server.client, home=server.settings.home)
    client.buckets.create(BUCKET)
    client.objects.put(BUCKET, "xgb.tar.gz", xgboost_archive(train_xgboost()))
    model = client.models.create(
        model_name="sdk-xgb",
        primary_container={"image": "xgboost", "model_data_url": f"s3://{BUCKET}/xgb.tar.gz"},
    )
    assert model.model_arn.endswith(":model/sdk-xgb")
    client.endpoint_configs.create(
        endpoint_config_name="sdk-config",
        production_variants=[
            {
                "variant_name": "main",
                "model_name": "sdk-xgb",
                "initial_instance_count": 1,
                "instance_type": "ml.m5.large",
            }
        ],
    )
    created = client.endpoints.create("sdk-endpoint", "sdk-config")
    assert created.endpoint_status == "Creating"
    settled = client.endpoints.wait("sdk-endpoint", timeout=120)
    assert settled.endpoint_status == "InService", settled.failure_reason
    return "sdk-endpoint"


def test_describe_and_list(client: Client, endpoint: str) -> None:
    assert client.models.get("sdk-xgb").primary_container is not None
    assert "sdk-xgb" in [m.model_name for m in client.models.list(name_contains="sdk-")]
    config = client.endpoint_configs.get("sdk-config")
    assert [v.variant_name for v in config.production_variants] == ["main"]
    assert [c.endpoint_config_name for c in client.endpoint_configs.list()] == ["sdk-config"]
    described = client.endpoints.get(endpoint)
    assert described.endpoint_config_name == "sdk-config"
    assert described.production_variants[0].current_instance_count == 1
    in_service = [e.endpoint_name for e in client.endpoints.list(status="InService")]
    assert endpoint in in_service
    assert list(client.endpoints.list(status="Failed")) == []


def test_invoke_metrics_and_logs(client: Client, endpoint: str) -> None:
    before = client.endpoints.metrics(endpoint).variants[0].invocations
    answer = client.endpoints.invoke(endpoint, "0.1,0.2,0.3,0.4", content_type="text/csv")
    assert answer.invoked_variant == "main"
    assert 0.0 < float(answer.text()) < 10.0
    assert answer.headers["x-amzn-invoked-production-variant"] == "main"
    targeted = client.endpoints.invoke(
        endpoint,
        b"0.1,0.2,0.3,0.4\n0.9,0.9,0.9,0.9",
        content_type="text/csv",
        target_variant="main",
    )
    assert len(targeted.text().replace(",", "\n").split()) == 2
    metrics = client.endpoints.metrics(endpoint)
    assert metrics.endpoint_name == endpoint
    assert metrics.variants[0].invocations == before + 2
    logs = client.endpoints.logs(endpoint)
    assert logs.instance
    assert logs.next_offset == len(logs.data.encode())


def test_invocation_errors(client: Client, endpoint: str) -> None:
    with pytest.raises(ModelError) as failed:
        client.endpoints.invoke(endpoint, b"1,2", content_type="text/csv")
    assert failed.value.status == 424
    assert failed.value.details["OriginalStatusCode"] == 400
    with pytest.raises(ValidationError, match="Endpoint ghost of account 000000000000 not found"):
        client.endpoints.invoke("ghost", b"1,2,3,4", content_type="text/csv")
    with pytest.raises(ValidationError, match="nope"):
        client.endpoints.invoke(
            endpoint, b"1,2,3,4", content_type="text/csv", target_variant="nope"
        )


def test_bad_inputs(client: Client, endpoint: str) -> None:
    with pytest.raises(ValidationError, match="model_name"):
        client.models.create(model_name="bad name!", primary_container={"image": "xgboost"})
    with pytest.raises(ValidationError, match="colour"):
        client.endpoint_configs.create(endpoint_config_name="x", production_variants=[], colour=1)
    with pytest.raises(NotFound, match="ghost"):
        client.models.get("ghost")
    with pytest.raises(NotFound, match="ghost"):
        client.endpoints.get("ghost")
    with pytest.raises(NotFound, match="ghost"):
        client.endpoints.metrics("ghost")
    with pytest.raises(ValidationError, match="status"):
        list(client.endpoints.list(status="Sleeping"))
    with pytest.raises(ValidationError, match="desired_weight"):
        client.endpoints.update_weights_and_capacities(
            endpoint, [{"variant_name": "main", "desired_weight": -1}]
        )


def test_update_weights_and_capacities(client: Client, endpoint: str) -> None:
    updated = client.endpoints.update_weights_and_capacities(
        endpoint, [{"variant_name": "main", "desired_weight": 2.0}]
    )
    assert updated.production_variants[0].desired_weight == 2.0
    settled = client.endpoints.wait(endpoint, timeout=120)
    assert settled.endpoint_status == "InService"
    assert settled.production_variants[0].current_weight == 2.0


def test_wait_times_out_then_update_and_delete(
    client: Client, endpoint: str, tmp_path: Path
) -> None:
    # The script model waits for the gate file before it loads: Creating until it exists.
    gate = tmp_path / "gate"
    client.objects.put(BUCKET, "linear.tar.gz", linear_archive([1.0, 2.0], 0.5))
    client.models.create(
        model_name="sdk-linear",
        primary_container={
            "image": "sagemaker-scikit-learn:1.2-1",
            "model_data_url": f"s3://{BUCKET}/linear.tar.gz",
            "environment": {"SAGEMAKER_PROGRAM": "inference.py", "GATE": str(gate)},
        },
    )
    client.endpoint_configs.create(
        endpoint_config_name="sdk-linear-config",
        production_variants=[
            {
                "variant_name": "lin",
                "model_name": "sdk-linear",
                "initial_instance_count": 1,
                "instance_type": "ml.m5.large",
            }
        ],
    )
    client.endpoints.create("sdk-gated", "sdk-linear-config")
    with pytest.raises(TimeoutError, match="sdk-gated is still Creating"):
        client.endpoints.wait("sdk-gated", timeout=0.3)
    gate.touch()
    assert client.endpoints.wait("sdk-gated", timeout=120).endpoint_status == "InService"
    answer = client.endpoints.invoke("sdk-gated", "1,1", content_type="text/csv", accept="text/csv")
    assert float(answer.text()) == pytest.approx(3.5)

    moved = client.endpoints.update("sdk-gated", "sdk-config")
    assert moved.endpoint_status == "Updating"
    settled = client.endpoints.wait("sdk-gated", timeout=120)
    assert settled.endpoint_status == "InService"
    assert settled.endpoint_config_name == "sdk-config"
    assert client.endpoints.invoke("sdk-gated", "1,1,1,1", content_type="text/csv").body

    client.endpoints.delete("sdk-gated")
    with pytest.raises(NotFound):
        client.endpoints.wait("sdk-gated", timeout=60)
    client.endpoint_configs.delete("sdk-linear-config")
    client.models.delete("sdk-linear")
    with pytest.raises(NotFound):
        client.models.delete("sdk-linear")
    assert "sdk-linear" not in [m.model_name for m in client.models.list()]
