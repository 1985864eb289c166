"""Real-time endpoints through boto3 against a real server: the book's chapter-9 flow, variants
and weights, data capture, metrics, and the errors AWS gives for bad requests."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import xgboost as xgb
from botocore.exceptions import ClientError
from tests.hosting.support import (
    processes_under,
    tar_gz,
    train_xgboost,
    wait_for_endpoint,
    xgboost_archive,
)
from tests.server.aws.conftest import ClientFactory

from lakeworks.testing.process import ServerProcess, server_process

ROLE = "arn:aws:iam::000000000000:role/SageMakerRole"
XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
BUCKET = "hosting-tests"


@pytest.fixture(scope="module")
def aws_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server for the module; captures are written every 0.2 s."""
    env = {
        "LAKEWORKS_HOSTING_CAPTURE_FLUSH_SECONDS": "0.2",
        "LAKEWORKS_HOSTING_HEALTH_INTERVAL_SECONDS": "0.2",
    }
    with server_process(tmp_path_factory.mktemp("hosting") / "home", env=env) as server:
        yield server


@pytest.fixture(scope="module")
def s3(client: ClientFactory) -> Iterator[Any]:
    """boto3 ``s3``, closed after the module."""
    s3 = client("s3")
    yield s3
    s3.close()


@pytest.fixture(scope="module")
def sm(client: ClientFactory) -> Iterator[Any]:
    """boto3 ``sagemaker`` (closed after the module, so no socket is left to the collector)."""
    sagemaker = client("sagemaker")
    yield sagemaker
    sagemaker.close()


@pytest.fixture(scope="module")
def runtime(client: ClientFactory) -> Iterator[Any]:
    """boto3 ``sagemaker-runtime``."""
    runtime = client("sagemaker-runtime")
    yield runtime
    runtime.close()


@pytest.fixture(scope="module")
def booster(s3: Any) -> xgb.Booster:
    """A 4-feature XGBoost regressor, uploaded as s3://hosting-tests/xgb/model.tar.gz."""
    model = train_xgboost()
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="xgb/model.tar.gz", Body=xgboost_archive(model))
    return model


@pytest.fixture(scope="module")
def endpoint(sm: Any, booster: xgb.Booster) -> str:
    """Chapter 9: create_model → create_endpoint_config → create_endpoint → InService."""
    sm.create_model(
        ModelName="xgb",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={
            "Image": XGBOOST_IMAGE,
            "ModelDataUrl": f"s3://{BUCKET}/xgb/model.tar.gz",
        },
    )
    sm.create_endpoint_config(
        EndpointConfigName="xgb-config",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "xgb",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
        DataCaptureConfig={
            "EnableCapture": True,
            "InitialSamplingPercentage": 100,
            "DestinationS3Uri": f"s3://{BUCKET}/capture",
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
            "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"]},
        },
    )
    sm.create_endpoint(EndpointName="xgb-endpoint", EndpointConfigName="xgb-config")
    sm.get_waiter("endpoint_in_service").wait(
        EndpointName="xgb-endpoint", WaiterConfig={"Delay": 0.25, "MaxAttempts": 400}
    )
    return "xgb-endpoint"


def _variant(runtime: Any, **kwargs: Any) -> str:
    """Invoke and return the variant that answered (the body is read: a body left unread keeps
    its connection out of the pool)."""
    response = runtime.invoke_endpoint(ContentType="text/csv", Body="1,1,1,1", **kwargs)
    response["Body"].read()
    return str(response["InvokedProductionVariant"])


def _predict(booster: xgb.Booster, rows: list[list[float]]) -> list[float]:
    return [float(v) for v in booster.inplace_predict(np.array(rows, dtype=np.float32))]


def test_chapter_9_flow_invokes_with_csv(runtime: Any, endpoint: str, booster: xgb.Booster) -> None:
    response = runtime.invoke_endpoint(
        EndpointName=endpoint, ContentType="text/csv", Body="0.1,0.2,0.3,0.4"
    )
    assert response["ContentType"] == "text/csv"
    assert response["InvokedProductionVariant"] == "AllTraffic"
    assert float(response["Body"].read()) == pytest.approx(
        _predict(booster, [[0.1, 0.2, 0.3, 0.4]])[0]
    )
    rows = [[0.5] * 4, [0.9, 0.1, 0.9, 0.1], [0.0] * 4]
    body = "\n".join(",".join(str(v) for v in row) for row in rows)
    answer = runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=body)
    values = [float(v) for v in answer["Body"].read().decode().split(",")]
    assert values == pytest.approx(_predict(booster, rows))


def test_json_and_custom_attributes(runtime: Any, endpoint: str) -> None:
    response = runtime.invoke_endpoint(
        EndpointName=endpoint,
        ContentType="application/json",
        Accept="application/json",
        CustomAttributes="trace=1",
        InferenceId="inference-1",
        Body=json.dumps({"instances": [[0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1]]}),
    )
    assert response["ContentType"] == "application/json"
    assert response["CustomAttributes"] == "trace=1"
    predictions = json.loads(response["Body"].read())["predictions"]
    assert len(predictions) == 2
    assert set(predictions[0]) == {"score"}


def test_describe_and_list(sm: Any, endpoint: str) -> None:
    model = sm.describe_model(ModelName="xgb")
    assert model["ModelArn"] == "arn:aws:sagemaker:us-east-1:000000000000:model/xgb"
    assert model["PrimaryContainer"]["Image"] == XGBOOST_IMAGE
    assert [m["ModelName"] for m in sm.list_models(NameContains="xg")["Models"]] == ["xgb"]
    config = sm.describe_endpoint_config(EndpointConfigName="xgb-config")
    assert config["ProductionVariants"][0]["InitialInstanceCount"] == 1
    assert config["DataCaptureConfig"]["InitialSamplingPercentage"] == 100
    described = sm.describe_endpoint(EndpointName=endpoint)
    assert described["EndpointStatus"] == "InService"
    variant = described["ProductionVariants"][0]
    assert (variant["CurrentWeight"], variant["CurrentInstanceCount"]) == (1.0, 1)
    assert variant["DeployedImages"][0]["SpecifiedImage"] == XGBOOST_IMAGE
    assert described["DataCaptureConfig"]["CaptureStatus"] == "Started"
    listed = sm.list_endpoints(StatusEquals="InService", NameContains="xgb")["Endpoints"]
    assert endpoint in [e["EndpointName"] for e in listed]


def _error(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    response: dict[str, Any] = caught.value.response
    return response


def test_wrong_feature_count_and_non_numbers_are_model_errors(runtime: Any, endpoint: str) -> None:
    wrong = _error(
        runtime.invoke_endpoint, EndpointName=endpoint, ContentType="text/csv", Body="1,2,3"
    )
    assert wrong["Error"]["Code"] == "ModelError"
    assert wrong["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert "Received client error (400) from primary" in wrong["Error"]["Message"]
    assert "Rows have 3 features; this model was trained on 4" in wrong["Error"]["Message"]
    text = _error(
        runtime.invoke_endpoint, EndpointName=endpoint, ContentType="text/csv", Body="1,2,x,4"
    )
    assert "column 3: 'x' is not a number" in text["Error"]["Message"]
    media = _error(
        runtime.invoke_endpoint, EndpointName=endpoint, ContentType="image/png", Body=b"1"
    )
    assert "(415)" in media["Error"]["Message"]


def test_bodies_over_6_mb_get_413(runtime: Any, endpoint: str) -> None:
    body = b"0.1,0.2,0.3,0.4\n" * (6 * 1024 * 1024 // 16 + 1)
    error = _error(
        runtime.invoke_endpoint, EndpointName=endpoint, ContentType="text/csv", Body=body
    )
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert error["Error"]["Code"] == "413"
    assert "6291456" in error["Error"]["Message"]


def test_unknown_endpoint_and_variant(runtime: Any, endpoint: str) -> None:
    missing = _error(runtime.invoke_endpoint, EndpointName="nope", ContentType="text/csv", Body="1")
    assert missing["Error"]["Code"] == "ValidationError"
    assert missing["Error"]["Message"] == "Endpoint nope of account 000000000000 not found."
    variant = _error(
        runtime.invoke_endpoint,
        EndpointName=endpoint,
        TargetVariant="Other",
        ContentType="text/csv",
        Body="1,2,3,4",
    )
    assert variant["Error"]["Code"] == "ValidationError"
    assert "'Other' is not present" in variant["Error"]["Message"]


def test_resource_errors_are_validation_exceptions_and_change_nothing(
    sm: Any, endpoint: str
) -> None:
    twice = _error(
        sm.create_model,
        ModelName="xgb",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={
            "Image": XGBOOST_IMAGE,
            "ModelDataUrl": f"s3://{BUCKET}/xgb/model.tar.gz",
        },
    )
    assert twice["Error"]["Code"] == "ValidationException"
    assert "Cannot create already existing model" in twice["Error"]["Message"]
    gone = _error(sm.describe_endpoint, EndpointName="missing")
    assert gone["Error"]["Code"] == "ValidationException"
    assert (
        'Could not find endpoint "arn:aws:sagemaker:us-east-1:000000000000:endpoint/missing"'
        in (gone["Error"]["Message"])
    )
    no_model = _error(
        sm.create_endpoint_config,
        EndpointConfigName="bad-config",
        ProductionVariants=[{"VariantName": "v", "ModelName": "ghost", "InitialInstanceCount": 1,
                             "InstanceType": "ml.m5.large"}],
    )  # fmt: skip
    assert "Could not find model 'ghost'" in no_model["Error"]["Message"]
    no_config = _error(sm.create_endpoint, EndpointName="bad", EndpointConfigName="ghost")
    assert "Could not find endpoint configuration" in no_config["Error"]["Message"]
    no_data = _error(
        sm.create_model,
        ModelName="no-data",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": XGBOOST_IMAGE, "ModelDataUrl": f"s3://{BUCKET}/none.tar.gz"},
    )
    assert "Could not find model data" in no_data["Error"]["Message"]
    odd_image = _error(
        sm.create_model,
        ModelName="odd",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": "example.com/my-server:1"},
    )
    assert "set SAGEMAKER_PROGRAM" in odd_image["Error"]["Message"]
    bad_weight = _error(
        sm.update_endpoint_weights_and_capacities,
        EndpointName=endpoint,
        DesiredWeightsAndCapacities=[{"VariantName": "Nope", "DesiredWeight": 1.0}],
    )
    assert "'Nope' is not present" in bad_weight["Error"]["Message"]
    assert {m["ModelName"] for m in sm.list_models()["Models"]} >= {"xgb"}
    assert "no-data" not in {m["ModelName"] for m in sm.list_models()["Models"]}
    assert "bad" not in {e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]}
    assert sm.describe_endpoint(EndpointName=endpoint)["EndpointStatus"] == "InService"


def test_data_capture_lands_in_the_lake(s3: Any, runtime: Any, endpoint: str) -> None:
    runtime.invoke_endpoint(
        EndpointName=endpoint, ContentType="text/csv", Body="0.3,0.3,0.3,0.3", InferenceId="cap-1"
    )["Body"].read()
    prefix = f"capture/{endpoint}/AllTraffic/"
    lines: list[dict[str, Any]] = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        keys = [
            o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
        ]
        lines = [
            json.loads(line)
            for key in keys
            for line in s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().splitlines()
        ]
        if any(line["eventMetadata"].get("inferenceId") == "cap-1" for line in lines):
            break
        time.sleep(0.2)
    captured = next(line for line in lines if line["eventMetadata"].get("inferenceId") == "cap-1")
    assert captured["captureData"]["endpointInput"] == {
        "observedContentType": "text/csv",
        "mode": "INPUT",
        "data": "0.3,0.3,0.3,0.3",
        "encoding": "CSV",
    }
    assert captured["captureData"]["endpointOutput"]["mode"] == "OUTPUT"
    assert captured["eventVersion"] == "0"
    parts = keys[0][len(prefix) :].split("/")
    assert [len(p) for p in parts[:4]] == [4, 2, 2, 2]
    assert parts[4].endswith(".jsonl")


def test_metrics_in_prometheus_text_and_native_api(
    aws_server: ServerProcess, runtime: Any, endpoint: str
) -> None:
    _variant(runtime, EndpointName=endpoint)
    # a client error of its own: other tests may run in another worker's server
    _error(runtime.invoke_endpoint, EndpointName=endpoint, ContentType="text/csv", Body="1,2,3")
    assert httpx.get(f"{aws_server.url}/metrics").status_code == 401
    auth = {"Authorization": f"Bearer {aws_server.token}"}
    response = httpx.get(f"{aws_server.url}/metrics", headers=auth)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    assert (
        f'lakeworks_endpoint_invocations_total{{endpoint="{endpoint}",variant="AllTraffic"}}'
        in text
    )
    assert "lakeworks_endpoint_model_latency_microseconds_bucket" in text
    assert f'lakeworks_endpoint_instances{{endpoint="{endpoint}",variant="AllTraffic"}} 1' in text
    native = httpx.get(f"{aws_server.url}/api/v1/endpoints/{endpoint}/metrics", headers=auth).json()
    variant = native["variants"][0]
    assert variant["variant_name"] == "AllTraffic"
    assert variant["invocations"] >= 1
    assert variant["invocation_4xx_errors"] >= 1
    assert variant["model_latency"]["count"] >= 1
    assert variant["instance_count"] == 1


def test_two_variants_target_variant_and_weights(
    sm: Any, runtime: Any, endpoint: str, aws_server: ServerProcess
) -> None:
    variants = [
        {"VariantName": name, "ModelName": "xgb", "InitialInstanceCount": 1,
         "InstanceType": "ml.m5.large", "InitialVariantWeight": 1.0}
        for name in ("Blue", "Green")
    ]  # fmt: skip
    sm.create_endpoint_config(EndpointConfigName="ab-config", ProductionVariants=variants)
    sm.create_endpoint(EndpointName="ab-endpoint", EndpointConfigName="ab-config")
    assert wait_for_endpoint(sm, "ab-endpoint")["EndpointStatus"] == "InService"
    for name in ("Blue", "Green"):
        assert _variant(runtime, EndpointName="ab-endpoint", TargetVariant=name) == name
    sm.update_endpoint_weights_and_capacities(
        EndpointName="ab-endpoint",
        DesiredWeightsAndCapacities=[
            {"VariantName": "Blue", "DesiredWeight": 0.0},
            {"VariantName": "Green", "DesiredWeight": 1.0, "DesiredInstanceCount": 2},
        ],
    )
    described = wait_for_endpoint(sm, "ab-endpoint")
    assert described["EndpointStatus"] == "InService"
    by_name = {v["VariantName"]: v for v in described["ProductionVariants"]}
    assert (by_name["Blue"]["CurrentWeight"], by_name["Blue"]["DesiredWeight"]) == (0.0, 0.0)
    assert by_name["Green"]["CurrentInstanceCount"] == 2
    assert {_variant(runtime, EndpointName="ab-endpoint") for _ in range(20)} == {"Green"}
    assert _variant(runtime, EndpointName="ab-endpoint", TargetVariant="Blue") == "Blue"
    sm.delete_endpoint(EndpointName="ab-endpoint")
    sm.get_waiter("endpoint_deleted").wait(
        EndpointName="ab-endpoint", WaiterConfig={"Delay": 0.25, "MaxAttempts": 200}
    )
    gone = _error(runtime.invoke_endpoint, EndpointName="ab-endpoint", ContentType="text/csv",
                  Body="1,1,1,1")  # fmt: skip
    assert gone["Error"]["Code"] == "ValidationError"
    fleets = Path(aws_server.home, "hosting", "endpoints", "ab-endpoint")
    assert not fleets.exists()
    assert processes_under(fleets) == []  # the scaled-up instance too


def test_invoking_while_creating_is_a_clear_error(
    s3: Any, sm: Any, runtime: Any, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    source = (
        "import os, time\n"
        "def model_fn(model_dir):\n"
        "    while not os.path.exists(os.environ['GATE']):\n"
        "        time.sleep(0.02)\n"
        "    return 1\n"
        "def transform_fn(model, data, content_type, accept):\n"
        "    return 'ok', 'text/plain'\n"
    )
    s3.put_object(
        Bucket=BUCKET, Key="gated/model.tar.gz", Body=tar_gz({"code/inference.py": source.encode()})
    )
    sm.create_model(
        ModelName="gated",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={
            "Image": "sagemaker-scikit-learn:1.2-1",
            "ModelDataUrl": f"s3://{BUCKET}/gated/model.tar.gz",
            "Environment": {"GATE": str(gate)},
        },
    )
    sm.create_endpoint_config(
        EndpointConfigName="gated-config",
        ProductionVariants=[{"VariantName": "v", "ModelName": "gated", "InitialInstanceCount": 1,
                             "InstanceType": "ml.m5.large"}],
    )  # fmt: skip
    sm.create_endpoint(EndpointName="gated-endpoint", EndpointConfigName="gated-config")
    creating = _error(runtime.invoke_endpoint, EndpointName="gated-endpoint", Body=b"x")
    assert creating["Error"]["Code"] == "ValidationError"
    assert (
        "is Creating; it answers invocations once it is InService" in creating["Error"]["Message"]
    )
    assert sm.describe_endpoint(EndpointName="gated-endpoint")["EndpointStatus"] == "Creating"
    gate.write_text("open")
    assert wait_for_endpoint(sm, "gated-endpoint")["EndpointStatus"] == "InService"
    assert runtime.invoke_endpoint(EndpointName="gated-endpoint", Body=b"x")["Body"].read() == b"ok"
    sm.delete_endpoint(EndpointName="gated-endpoint")


def test_deleting_while_creating_stops_at_once(
    s3: Any, sm: Any, tmp_path: Path, aws_server: ServerProcess
) -> None:
    source = (
        "import os, time\n"
        "def model_fn(model_dir):\n"
        "    while not os.path.exists(os.environ['GATE']):\n"
        "        time.sleep(0.02)\n"
    )
    s3.put_object(
        Bucket=BUCKET, Key="stuck/model.tar.gz", Body=tar_gz({"code/inference.py": source.encode()})
    )
    sm.create_model(
        ModelName="stuck",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={
            "Image": "sagemaker-scikit-learn:1.2-1",
            "ModelDataUrl": f"s3://{BUCKET}/stuck/model.tar.gz",
            "Environment": {"GATE": str(tmp_path / "never")},
        },
    )
    sm.create_endpoint_config(
        EndpointConfigName="stuck-config",
        ProductionVariants=[{"VariantName": "v", "ModelName": "stuck", "InitialInstanceCount": 1,
                             "InstanceType": "ml.m5.large"}],
    )  # fmt: skip
    sm.create_endpoint(EndpointName="stuck-endpoint", EndpointConfigName="stuck-config")
    instances = Path(aws_server.home, "hosting", "endpoints", "stuck-endpoint")
    deadline = time.monotonic() + 30
    while not list(instances.glob("*/instances/v-0/runner/child.json")):
        assert time.monotonic() < deadline, "the instance never started"
        time.sleep(0.05)
    child = json.loads(next(instances.glob("*/instances/v-0/runner/child.json")).read_text())
    sm.delete_endpoint(EndpointName="stuck-endpoint")
    sm.get_waiter("endpoint_deleted").wait(
        EndpointName="stuck-endpoint", WaiterConfig={"Delay": 0.25, "MaxAttempts": 80}
    )
    assert not instances.exists()
    assert processes_under(instances) == []
    assert child["pid"] not in processes_under(Path(aws_server.home))
