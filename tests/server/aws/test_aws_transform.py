"""Batch transform through boto3 against a real server: the book's chapter-9 notebook flow
(create_model → create_endpoint_config → create_endpoint → invoke_endpoint with CSV →
create_transform_job writing ``test.csv.out``), the batch options, and the bad inputs."""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import xgboost as xgb
from tests.hosting.support import linear_archive, train_xgboost, xgboost_archive
from tests.server.aws.conftest import ClientFactory
from tests.server.aws.sagemaker_support import ROLE, XGBOOST_IMAGE, error_of

from lakeworks.testing.process import ServerProcess, server_process

pytestmark = pytest.mark.slow

BUCKET = "transform-tests"
SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
ENDED = ("Completed", "Failed", "Stopped")


@pytest.fixture(scope="module")
def aws_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server for the module (jobs polled often)."""
    env = {"LAKEWORKS_HOSTING_HEALTH_INTERVAL_SECONDS": "0.2"}
    with server_process(tmp_path_factory.mktemp("transform") / "home", env=env) as server:
        yield server


@pytest.fixture(scope="module")
def s3(client: ClientFactory) -> Iterator[Any]:
    s3 = client("s3")
    yield s3
    s3.close()


@pytest.fixture(scope="module")
def sm(client: ClientFactory) -> Iterator[Any]:
    sagemaker = client("sagemaker")
    yield sagemaker
    sagemaker.close()


@pytest.fixture(scope="module")
def rows() -> np.ndarray:
    return np.round(np.random.default_rng(3).random((40, 4)), 6)


@pytest.fixture(scope="module")
def booster(s3: Any, sm: Any) -> xgb.Booster:
    """The model ``xgb``: a 4-feature XGBoost regressor at s3://transform-tests/xgb/."""
    model = train_xgboost()
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="xgb/model.tar.gz", Body=xgboost_archive(model))
    sm.create_model(
        ModelName="xgb",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={
            "Image": XGBOOST_IMAGE,
            "ModelDataUrl": f"s3://{BUCKET}/xgb/model.tar.gz",
        },
    )
    return model


def _csv(rows: np.ndarray) -> str:
    return "\n".join(",".join(str(v) for v in row) for row in rows) + "\n"


def _predict(booster: xgb.Booster, rows: np.ndarray) -> np.ndarray:
    return np.asarray(booster.inplace_predict(rows.astype(np.float32)))


def _job(name: str, uri: str, output: str, **extra: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "TransformJobName": name,
        "ModelName": extra.pop("ModelName", "xgb"),
        "TransformInput": {
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri}},
            "ContentType": "text/csv",
            "SplitType": "Line",
            **extra.pop("TransformInput", {}),
        },
        "TransformOutput": {"S3OutputPath": output, **extra.pop("TransformOutput", {})},
        "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
    }
    request.update(extra)
    return request


def _wait(sm: Any, name: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        described: dict[str, Any] = sm.describe_transform_job(TransformJobName=name)
        if described["TransformJobStatus"] in ENDED:
            return described
        assert time.monotonic() < deadline, f"{name} still {described['TransformJobStatus']}"
        time.sleep(0.2)


def _body(s3: Any, key: str) -> str:
    return str(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode())


def test_chapter_9_flow_endpoint_then_transform_job_writes_test_csv_out(
    sm: Any, s3: Any, client: ClientFactory, booster: xgb.Booster, rows: np.ndarray
) -> None:
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
    )
    sm.create_endpoint(EndpointName="xgb-endpoint", EndpointConfigName="xgb-config")
    sm.get_waiter("endpoint_in_service").wait(
        EndpointName="xgb-endpoint", WaiterConfig={"Delay": 0.25, "MaxAttempts": 400}
    )
    runtime = client("sagemaker-runtime")
    answer = runtime.invoke_endpoint(
        EndpointName="xgb-endpoint", ContentType="text/csv", Body=_csv(rows[:3])
    )
    realtime = [float(v) for v in answer["Body"].read().decode().split(",")]
    runtime.close()
    np.testing.assert_allclose(realtime, _predict(booster, rows[:3]), rtol=1e-6)

    s3.put_object(Bucket=BUCKET, Key="batch/test.csv", Body=_csv(rows).encode())
    arn = sm.create_transform_job(
        **_job(
            "chapter9-transform",
            f"s3://{BUCKET}/batch/test.csv",
            f"s3://{BUCKET}/batch-out",
            TransformOutput={"AssembleWith": "Line", "Accept": "text/csv"},
            BatchStrategy="MultiRecord",
        )
    )["TransformJobArn"]
    assert arn.endswith(":transform-job/chapter9-transform")
    sm.get_waiter("transform_job_completed_or_stopped").wait(
        TransformJobName="chapter9-transform", WaiterConfig={"Delay": 0.25, "MaxAttempts": 400}
    )
    described = sm.describe_transform_job(TransformJobName="chapter9-transform")
    assert described["TransformJobStatus"] == "Completed", described.get("FailureReason")
    assert described["TransformStartTime"] <= described["TransformEndTime"]
    assert described["ModelName"] == "xgb"
    batch = [float(v) for v in _body(s3, "batch-out/test.csv.out").split()]
    np.testing.assert_allclose(batch, _predict(booster, rows), rtol=1e-6)
    np.testing.assert_allclose(batch[:3], realtime, rtol=1e-6)
    listed = sm.list_transform_jobs(StatusEquals="Completed")["TransformJobSummaries"]
    assert "chapter9-transform" in [j["TransformJobName"] for j in listed]


def test_prefix_with_parallel_workers_gzip_and_nested_keys(
    sm: Any, s3: Any, booster: xgb.Booster, rows: np.ndarray
) -> None:
    s3.put_object(Bucket=BUCKET, Key="many/a.csv.gz", Body=gzip.compress(_csv(rows[:20]).encode()))
    s3.put_object(
        Bucket=BUCKET, Key="many/sub/b.csv.gz", Body=gzip.compress(_csv(rows[20:]).encode())
    )
    sm.create_transform_job(
        **_job(
            "many-objects",
            f"s3://{BUCKET}/many/",
            f"s3://{BUCKET}/many-out/",
            TransformInput={"CompressionType": "Gzip"},
            TransformOutput={"AssembleWith": "Line"},
            BatchStrategy="SingleRecord",
            MaxConcurrentTransforms=2,
            MaxPayloadInMB=1,
        )
    )
    described = _wait(sm, "many-objects")
    assert described["TransformJobStatus"] == "Completed", described.get("FailureReason")
    assert described["MaxConcurrentTransforms"] == 2
    first = [float(v) for v in _body(s3, "many-out/a.csv.gz.out").split()]
    second = [float(v) for v in _body(s3, "many-out/sub/b.csv.gz.out").split()]
    np.testing.assert_allclose(first + second, _predict(booster, rows), rtol=1e-6)


def test_input_filter_join_and_output_filter_keep_the_id(
    sm: Any, s3: Any, booster: xgb.Booster, rows: np.ndarray
) -> None:
    lines = [f"id-{i}," + ",".join(str(v) for v in row) for i, row in enumerate(rows[:6])]
    s3.put_object(Bucket=BUCKET, Key="ids/test.csv", Body="\n".join(lines).encode())
    sm.create_transform_job(
        **_job(
            "join-ids",
            f"s3://{BUCKET}/ids/",
            f"s3://{BUCKET}/ids-out",
            TransformOutput={"AssembleWith": "Line", "Accept": "text/csv"},
            DataProcessing={
                "InputFilter": "$[1:]",
                "JoinSource": "Input",
                "OutputFilter": "$[0,-1]",
            },
        )
    )
    described = _wait(sm, "join-ids")
    assert described["TransformJobStatus"] == "Completed", described.get("FailureReason")
    assert described["DataProcessing"]["OutputFilter"] == "$[0,-1]"
    out = [line.split(",") for line in _body(s3, "ids-out/test.csv.out").splitlines()]
    assert [row[0] for row in out] == [f"id-{i}" for i in range(6)]
    np.testing.assert_allclose([float(r[1]) for r in out], _predict(booster, rows[:6]), rtol=1e-6)


def test_manifest_and_json_lines_with_join(
    sm: Any, s3: Any, booster: xgb.Booster, rows: np.ndarray
) -> None:
    body = "\n".join(
        json.dumps({"id": i, "features": row.tolist()}) for i, row in enumerate(rows[:4])
    )
    s3.put_object(Bucket=BUCKET, Key="jsonl/part-1.jsonl", Body=body.encode())
    manifest = [{"prefix": f"s3://{BUCKET}/jsonl/"}, "part-1.jsonl"]
    s3.put_object(Bucket=BUCKET, Key="manifests/m.json", Body=json.dumps(manifest).encode())
    sm.create_transform_job(
        **_job(
            "jsonl-manifest",
            f"s3://{BUCKET}/manifests/m.json",
            f"s3://{BUCKET}/jsonl-out",
            TransformInput={
                "ContentType": "application/jsonlines",
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "ManifestFile",
                        "S3Uri": f"s3://{BUCKET}/manifests/m.json",
                    }
                },
            },
            TransformOutput={"AssembleWith": "Line", "Accept": "application/jsonlines"},
            DataProcessing={"InputFilter": "$.features", "JoinSource": "Input"},
        )
    )
    described = _wait(sm, "jsonl-manifest")
    assert described["TransformJobStatus"] == "Completed", described.get("FailureReason")
    out = [json.loads(line) for line in _body(s3, "jsonl-out/part-1.jsonl.out").splitlines()]
    assert [o["id"] for o in out] == [0, 1, 2, 3]
    np.testing.assert_allclose(
        [o["SageMakerOutput"]["score"] for o in out], _predict(booster, rows[:4]), rtol=1e-6
    )


def test_unknown_model_bad_filter_and_limits_are_validation_errors(
    sm: Any, booster: xgb.Booster
) -> None:
    uri, out = f"s3://{BUCKET}/batch/", f"s3://{BUCKET}/x"
    with pytest.raises(sm.exceptions.ClientError) as caught:
        sm.create_transform_job(**_job("no-model", uri, out, ModelName="missing"))
    code, message, status = error_of(caught)
    assert (code, status) == ("ValidationException", 400)
    assert (
        'Could not find model "arn:aws:sagemaker:us-east-1:000000000000:model/missing"' in message
    )
    with pytest.raises(sm.exceptions.ClientError) as caught:
        sm.create_transform_job(
            **_job("bad-filter", uri, out, DataProcessing={"InputFilter": "$..x"})
        )
    code, message, _ = error_of(caught)
    assert code == "ValidationException"
    assert "Invalid JSONPath '$..x'" in message
    assert "$[1:]" in message
    with pytest.raises(sm.exceptions.ClientError) as caught:
        sm.create_transform_job(
            **_job("too-much", uri, out, MaxConcurrentTransforms=8, MaxPayloadInMB=20)
        )
    assert "must not exceed 100 MB" in error_of(caught)[1]
    with pytest.raises(sm.exceptions.ClientError) as caught:
        sm.describe_transform_job(TransformJobName="never-made")
    assert error_of(caught)[0] == "ResourceNotFound"


def test_empty_prefix_and_oversized_record_fail_the_job_with_the_reason(
    sm: Any, s3: Any, booster: xgb.Booster
) -> None:
    sm.create_transform_job(
        **_job("empty-prefix", f"s3://{BUCKET}/nothing-here/", f"s3://{BUCKET}/e")
    )
    described = _wait(sm, "empty-prefix")
    assert described["TransformJobStatus"] == "Failed"
    assert described["FailureReason"].startswith(
        f'ClientError: No S3 objects found under S3 URL "s3://{BUCKET}/nothing-here/"'
    )
    big = "1,2,3," + "4" * (1024 * 1024 + 10)
    s3.put_object(Bucket=BUCKET, Key="big/test.csv", Body=f"1,2,3,4\n{big}\n".encode())
    sm.create_transform_job(
        **_job(
            "too-big",
            f"s3://{BUCKET}/big/",
            f"s3://{BUCKET}/big-out",
            BatchStrategy="SingleRecord",
            MaxPayloadInMB=1,
        )
    )
    described = _wait(sm, "too-big")
    assert described["TransformJobStatus"] == "Failed"
    assert f"Record 2 of s3://{BUCKET}/big/test.csv is" in described["FailureReason"]
    assert "MaxPayloadInMB (1 MB" in described["FailureReason"]
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix="big-out/")


def test_stop_a_job_whose_model_is_still_loading(sm: Any, s3: Any, booster: xgb.Booster) -> None:
    s3.put_object(Bucket=BUCKET, Key="linear/model.tar.gz", Body=linear_archive([1, 1, 1, 1], 0.0))
    sm.create_model(
        ModelName="slow-linear",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={
            "Image": SKLEARN_IMAGE,
            "ModelDataUrl": f"s3://{BUCKET}/linear/model.tar.gz",
            "Environment": {"SAGEMAKER_PROGRAM": "inference.py", "GATE": "/nonexistent/gate"},
        },
    )
    s3.put_object(Bucket=BUCKET, Key="slow/in.csv", Body=b"1,2,3,4\n")  # its own input
    sm.create_transform_job(
        **_job("stopped", f"s3://{BUCKET}/slow/", f"s3://{BUCKET}/s", ModelName="slow-linear")
    )
    deadline = time.monotonic() + 60
    while (
        sm.describe_transform_job(TransformJobName="stopped")["TransformJobStatus"] != "InProgress"
    ):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    time.sleep(1.0)
    sm.stop_transform_job(TransformJobName="stopped")
    described = _wait(sm, "stopped")
    assert described["TransformJobStatus"] == "Stopped"
    assert "TransformEndTime" in described
