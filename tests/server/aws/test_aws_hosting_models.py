"""Kinds of models through boto3: multi-model endpoints with TargetModel, scikit-learn script mode
(inference.py), endpoint updates, and the artifacts that are refused (pickles, unsafe archives)."""

from __future__ import annotations

import io
import json
import pickle
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from botocore.exceptions import ClientError
from tests.hosting.support import (
    linear_archive,
    tar_gz,
    train_xgboost,
    wait_for_endpoint,
    xgboost_archive,
)
from tests.server.aws.conftest import ClientFactory

from lakeworks.testing.process import ServerProcess

ROLE = "arn:aws:iam::000000000000:role/SageMakerRole"
XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
BUCKET = "hosting-models"


@pytest.fixture(scope="module")
def s3(client: ClientFactory) -> Iterator[Any]:
    """boto3 ``s3`` with the test bucket (closed after the module)."""
    s3 = client("s3")
    s3.create_bucket(Bucket=BUCKET)
    yield s3
    s3.close()


@pytest.fixture(scope="module")
def sm(client: ClientFactory) -> Iterator[Any]:
    """boto3 ``sagemaker``."""
    sagemaker = client("sagemaker")
    yield sagemaker
    sagemaker.close()


@pytest.fixture(scope="module")
def runtime(client: ClientFactory) -> Iterator[Any]:
    """boto3 ``sagemaker-runtime``."""
    runtime = client("sagemaker-runtime")
    yield runtime
    runtime.close()


def _deploy(sm: Any, name: str, container: dict[str, Any], *, count: int = 1) -> dict[str, Any]:
    """Model, config and endpoint named ``name``; returns DescribeEndpoint once it settled."""
    sm.create_model(ModelName=name, ExecutionRoleArn=ROLE, PrimaryContainer=container)
    sm.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": name,
                             "InitialInstanceCount": count, "InstanceType": "ml.m5.large"}],
    )  # fmt: skip
    sm.create_endpoint(EndpointName=name, EndpointConfigName=name)
    return wait_for_endpoint(sm, name)


def _body(response: dict[str, Any]) -> bytes:
    data: bytes = response["Body"].read()
    return data


def _error(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    response: dict[str, Any] = caught.value.response
    return response


def test_multi_model_endpoint_loads_each_target_model(
    s3: Any, sm: Any, runtime: Any, aws_server: ServerProcess
) -> None:
    boosters = {name: train_xgboost(seed=seed) for seed, name in enumerate(("a", "b"))}
    for name, booster in boosters.items():
        s3.put_object(Bucket=BUCKET, Key=f"mme/model-{name}.tar.gz", Body=xgboost_archive(booster))
    container = {"Image": XGBOOST_IMAGE, "Mode": "MultiModel",
                 "ModelDataUrl": f"s3://{BUCKET}/mme/"}  # fmt: skip
    assert _deploy(sm, "mme", container)["EndpointStatus"] == "InService"
    row = [[0.2, 0.4, 0.6, 0.8]]
    for name, booster in boosters.items():
        answer = runtime.invoke_endpoint(
            EndpointName="mme", TargetModel=f"model-{name}.tar.gz", ContentType="text/csv",
            Body="0.2,0.4,0.6,0.8",
        )  # fmt: skip
        expected = float(booster.inplace_predict(np.array(row, dtype=np.float32))[0])
        assert float(_body(answer)) == pytest.approx(expected)
    missing = _error(runtime.invoke_endpoint, EndpointName="mme", TargetModel="model-z.tar.gz",
                     ContentType="text/csv", Body="1,2,3,4")  # fmt: skip
    assert missing["Error"]["Code"] == "ValidationError"
    assert "Failed to download model data" in missing["Error"]["Message"]
    untargeted = _error(runtime.invoke_endpoint, EndpointName="mme", ContentType="text/csv",
                        Body="1,2,3,4")  # fmt: skip
    assert "name the model to use with TargetModel" in untargeted["Error"]["Message"]
    bad = _error(runtime.invoke_endpoint, EndpointName="mme", TargetModel="../x.tar.gz",
                 ContentType="text/csv", Body="1,2,3,4")  # fmt: skip
    assert "Invalid TargetModel" in bad["Error"]["Message"]
    auth = {"Authorization": f"Bearer {aws_server.token}"}
    metrics = httpx.get(f"{aws_server.url}/api/v1/endpoints/mme/metrics", headers=auth).json()
    per_model = {v["target_model"]: v["invocations"] for v in metrics["variants"]}
    assert per_model["model-a.tar.gz"] == 1
    assert per_model["model-b.tar.gz"] == 1


@pytest.fixture(scope="module")
def linear(s3: Any, sm: Any) -> str:
    """A scikit-learn-style script-mode endpoint: y = x0 + 2 x1 + 0.5 (JSON coefficients)."""
    s3.put_object(Bucket=BUCKET, Key="linear/model.tar.gz", Body=linear_archive([1.0, 2.0], 0.5))
    container = {"Image": SKLEARN_IMAGE, "ModelDataUrl": f"s3://{BUCKET}/linear/model.tar.gz",
                 "Environment": {"SAGEMAKER_PROGRAM": "inference.py"}}  # fmt: skip
    assert _deploy(sm, "linear", container)["EndpointStatus"] == "InService"
    return "linear"


def test_sklearn_script_mode_with_inference_py(runtime: Any, linear: str) -> None:
    csv = runtime.invoke_endpoint(
        EndpointName="linear", ContentType="text/csv", Accept="text/csv", Body="1,1\n2,0"
    )
    assert (_body(csv), csv["ContentType"]) == (b"3.5\n2.5", "text/csv")
    js = runtime.invoke_endpoint(
        EndpointName="linear", ContentType="application/json", Body='{"instances": [[0, 1]]}'
    )
    assert json.loads(_body(js)) == {"predictions": [2.5]}
    failed = _error(runtime.invoke_endpoint, EndpointName="linear", ContentType="text/plain",
                    Body="1,1")  # fmt: skip
    assert failed["Error"]["Code"] == "ModelError"
    assert "Received server error (500)" in failed["Error"]["Message"]
    assert "unsupported content type text/plain" in failed["Error"]["Message"]


def test_update_endpoint_keeps_the_old_fleet_serving_until_the_new_one_answers(
    s3: Any, sm: Any, runtime: Any, linear: str, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    s3.put_object(Bucket=BUCKET, Key="linear-v2/model.tar.gz", Body=linear_archive([10.0, 10.0], 0))
    sm.create_model(
        ModelName="linear-v2",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={
            "Image": SKLEARN_IMAGE,
            "ModelDataUrl": f"s3://{BUCKET}/linear-v2/model.tar.gz",
            # model_fn waits for the gate: the new fleet is not ready until the test opens it.
            "Environment": {"SAGEMAKER_PROGRAM": "inference.py", "GATE": str(gate)},
        },
    )
    sm.create_endpoint_config(
        EndpointConfigName="linear-v2",
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": "linear-v2",
                             "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}],
    )  # fmt: skip
    sm.update_endpoint(EndpointName="linear", EndpointConfigName="linear-v2")
    assert sm.describe_endpoint(EndpointName="linear")["EndpointStatus"] == "Updating"
    during = runtime.invoke_endpoint(EndpointName="linear", ContentType="text/csv",
                                     Accept="text/csv", Body="1,1")  # fmt: skip
    assert _body(during) == b"3.5"  # the old fleet
    gate.write_text("open")
    described = wait_for_endpoint(sm, "linear")
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == (
        "InService",
        "linear-v2",
    )
    after = runtime.invoke_endpoint(EndpointName="linear", ContentType="text/csv",
                                    Accept="text/csv", Body="1,1")  # fmt: skip
    assert _body(after) == b"20.0"


def test_pickled_artifacts_are_refused_unless_trusted(s3: Any, sm: Any) -> None:
    archive = tar_gz(
        {"model.joblib": pickle.dumps({"w": [1, 2]}), "code/inference.py": b"def model_fn(d): 1\n"}
    )
    s3.put_object(Bucket=BUCKET, Key="pickled/model.tar.gz", Body=archive)
    container = {"Image": SKLEARN_IMAGE, "ModelDataUrl": f"s3://{BUCKET}/pickled/model.tar.gz"}
    described = _deploy(sm, "pickled", container)
    assert described["EndpointStatus"] == "Failed"
    reason = described["FailureReason"]
    assert "pickled files (model.joblib)" in reason
    assert "LAKEWORKS_TRUSTED_MODEL=true" in reason
    sm.delete_endpoint(EndpointName="pickled")


def test_an_unsafe_archive_fails_the_endpoint_and_writes_nothing(
    s3: Any, sm: Any, aws_server: ServerProcess
) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("../../outside.txt")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"evil"))
        link = tarfile.TarInfo("xgboost-model")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tar.addfile(link)
    s3.put_object(Bucket=BUCKET, Key="unsafe/model.tar.gz", Body=buffer.getvalue())
    container = {"Image": XGBOOST_IMAGE, "ModelDataUrl": f"s3://{BUCKET}/unsafe/model.tar.gz"}
    described = _deploy(sm, "unsafe", container)
    assert described["EndpointStatus"] == "Failed"
    assert "contains '..'" in described["FailureReason"]
    endpoints = Path(aws_server.home, "hosting", "endpoints")
    assert not list(endpoints.glob("unsafe/*"))
    assert not list(Path(aws_server.home).rglob("outside.txt"))
    sm.delete_endpoint(EndpointName="unsafe")
