"""Hosting with the real SageMaker Python SDK v2, unchanged, against a live server, on the
book's wine data: ``Estimator.fit`` → ``Estimator.deploy`` → ``Predictor.predict`` with
``CSVSerializer``, then ``Transformer.transform(wait=True)`` writing ``test.csv.out``."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from tests.server.aws.sagemaker_support import ROLE
from tests.server.aws.test_aws_sagemaker_sdk import NO_TELEMETRY, FastClock

from lakeworks.testing.datasets import book_dataset
from lakeworks.testing.process import ServerProcess

pytestmark = pytest.mark.slow

sagemaker = pytest.importorskip("sagemaker", reason="the SageMaker Python SDK is not installed")

BUCKET = "book-hosting"


@pytest.fixture(scope="module")
def wine() -> pd.DataFrame:
    """Points (the label) and price of the book's wine reviews, rows with a price."""
    frame = pd.read_csv(book_dataset("wine-canvas.csv"), usecols=["points", "price"])
    return frame.dropna().reset_index(drop=True)


@pytest.fixture(scope="module")
def session(aws_server: ServerProcess, wine: pd.DataFrame) -> Iterator[Any]:
    """A ``sagemaker.Session`` pointed at the server by ``AWS_ENDPOINT_URL``, as a user would."""
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
        train = wine.iloc[:1500].to_csv(header=False, index=False)
        s3.put_object(Bucket=BUCKET, Key="wine/train/train.csv", Body=train.encode())
        test = wine.iloc[1500:][["price"]].to_csv(header=False, index=False)
        s3.put_object(Bucket=BUCKET, Key="wine/batch/test.csv", Body=test.encode())
        yield sagemaker.Session(
            boto_session=boto_session, default_bucket=BUCKET, sagemaker_config=NO_TELEMETRY
        )


def _booster(session: Any, model_data: str) -> xgb.Booster:
    import tarfile

    bucket, key = model_data[5:].split("/", 1)
    body = session.boto_session.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        raw = tar.extractfile("xgboost-model").read()  # type: ignore[union-attr]
    booster = xgb.Booster()
    booster.load_model(bytearray(raw))
    return booster


def test_fit_deploy_predict_then_batch_transform(session: Any, wine: pd.DataFrame) -> None:
    from sagemaker.estimator import Estimator
    from sagemaker.inputs import TrainingInput
    from sagemaker.serializers import CSVSerializer

    estimator = Estimator(
        image_uri=sagemaker.image_uris.retrieve("xgboost", "us-east-1", "1.7-1"),
        role=ROLE,
        instance_count=1,
        instance_type="ml.m5.large",
        output_path=f"s3://{BUCKET}/output",
        sagemaker_session=session,
    )
    estimator.set_hyperparameters(num_round=10, max_depth=3, objective="reg:squarederror")
    estimator.fit({"train": TrainingInput(f"s3://{BUCKET}/wine/train/", content_type="text/csv")})
    booster = _booster(session, estimator.model_data)
    prices = wine.iloc[1500:]["price"].to_numpy().reshape(-1, 1)
    expected = booster.inplace_predict(prices.astype(np.float32))

    predictor = estimator.deploy(
        initial_instance_count=1, instance_type="ml.m5.large", serializer=CSVSerializer()
    )
    try:
        answer = predictor.predict(prices[:5]).decode()
        np.testing.assert_allclose([float(v) for v in answer.split(",")], expected[:5], rtol=1e-5)
    finally:
        predictor.delete_endpoint()

    transformer = estimator.transformer(
        instance_count=1,
        instance_type="ml.m5.large",
        output_path=f"s3://{BUCKET}/wine/batch-out",
        assemble_with="Line",
        accept="text/csv",
        strategy="MultiRecord",
    )
    transformer.transform(
        f"s3://{BUCKET}/wine/batch/test.csv", content_type="text/csv", split_type="Line", wait=True
    )
    described = session.describe_transform_job(transformer.latest_transform_job.name)
    assert described["TransformJobStatus"] == "Completed", described.get("FailureReason")
    s3 = session.boto_session.client("s3")
    out = s3.get_object(Bucket=BUCKET, Key="wine/batch-out/test.csv.out")["Body"].read()
    got = [float(v) for v in out.decode().split()]
    np.testing.assert_allclose(got, expected, rtol=1e-5)
