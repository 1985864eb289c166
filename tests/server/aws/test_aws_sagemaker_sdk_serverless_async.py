"""Serverless and asynchronous inference with the real SageMaker Python SDK v2, unchanged, against
a live server: ``Model.deploy(serverless_inference_config=ServerlessInferenceConfig(...))`` then
``Predictor.predict``, and ``Model.deploy(async_inference_config=AsyncInferenceConfig(...))`` then
``AsyncPredictor.predict_async(...).get_result()``."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import xgboost as xgb
from tests.hosting.support import train_xgboost, xgboost_archive
from tests.server.aws.sagemaker_support import ROLE, XGBOOST_IMAGE
from tests.server.aws.test_aws_sagemaker_sdk import NO_TELEMETRY, FastClock

from lakeworks.testing.process import ServerProcess

pytestmark = pytest.mark.slow

sagemaker = pytest.importorskip("sagemaker", reason="the SageMaker Python SDK is not installed")

BUCKET = "sdk-serverless-async"
ROWS = np.array([[0.1, 0.2, 0.3, 0.4], [0.9, 0.8, 0.7, 0.6]])


@pytest.fixture(scope="module")
def booster() -> xgb.Booster:
    """The 4-feature regressor of the hosting tests."""
    return train_xgboost()


@pytest.fixture(scope="module")
def session(aws_server: ServerProcess, booster: xgb.Booster) -> Iterator[Any]:
    """A ``sagemaker.Session`` pointed at the server by ``AWS_ENDPOINT_URL``; the model uploaded."""
    import boto3
    import sagemaker.session

    with pytest.MonkeyPatch.context() as patch:
        for name, value in aws_server.aws_env().items():
            patch.setenv(name, value)
        patch.setenv("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
        patch.setattr(sagemaker.session, "time", FastClock())
        boto_session = boto3.Session(region_name="us-east-1")
        s3 = boto_session.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="xgb/model.tar.gz", Body=xgboost_archive(booster))
        yield sagemaker.Session(
            boto_session=boto_session, default_bucket=BUCKET, sagemaker_config=NO_TELEMETRY
        )


def _model(session: Any) -> Any:
    from sagemaker.model import Model
    from sagemaker.predictor import Predictor

    return Model(
        image_uri=XGBOOST_IMAGE,
        predictor_cls=Predictor,
        model_data=f"s3://{BUCKET}/xgb/model.tar.gz",
        role=ROLE,
        sagemaker_session=session,
    )


def _expected(booster: xgb.Booster) -> np.ndarray:
    return np.asarray(booster.inplace_predict(ROWS.astype(np.float32)))


def test_serverless_deploy_and_predict(session: Any, booster: xgb.Booster) -> None:
    from sagemaker.serializers import CSVSerializer
    from sagemaker.serverless import ServerlessInferenceConfig

    predictor = _model(session).deploy(
        serverless_inference_config=ServerlessInferenceConfig(
            memory_size_in_mb=2048, max_concurrency=2
        ),
        serializer=CSVSerializer(),
    )
    try:
        described = session.sagemaker_client.describe_endpoint(EndpointName=predictor.endpoint_name)
        (variant,) = described["ProductionVariants"]
        assert variant["CurrentServerlessConfig"]["MaxConcurrency"] == 2
        answer = predictor.predict(ROWS).decode()
        got = [float(v) for v in answer.replace("\n", ",").split(",") if v]
        np.testing.assert_allclose(got, _expected(booster), rtol=1e-5)
    finally:
        predictor.delete_endpoint()


def test_async_deploy_and_predict_async(session: Any, booster: xgb.Booster) -> None:
    from sagemaker.async_inference import AsyncInferenceConfig, WaiterConfig
    from sagemaker.serializers import CSVSerializer

    predictor = _model(session).deploy(
        initial_instance_count=1,
        instance_type="ml.m5.large",
        async_inference_config=AsyncInferenceConfig(output_path=f"s3://{BUCKET}/async-out"),
        serializer=CSVSerializer(),
    )
    try:
        response = predictor.predict_async(data=ROWS)
        assert response.output_path.startswith(f"s3://{BUCKET}/async-out/")
        result = response.get_result(WaiterConfig(max_attempts=40, delay=0.25))
        answer = result.decode() if isinstance(result, bytes) else str(result)
        got = [float(v) for v in answer.replace("\n", ",").split(",") if v]
        np.testing.assert_allclose(got, _expected(booster), rtol=1e-5)
    finally:
        # The SDK leaves its failure-file waiter polling after a success, up to the waiter's
        # attempts; let it end while the server still answers.
        for thread in threading.enumerate():
            if "check_failure_file" in thread.name:
                thread.join(timeout=30)
        predictor.delete_endpoint()
