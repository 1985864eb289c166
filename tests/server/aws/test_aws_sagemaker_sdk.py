"""The book's chapter-5 and chapter-6 flows with the real SageMaker Python SDK v2, unchanged,
against a live server: XGBoost through ``Estimator`` and ``HyperparameterTuner``, a ``SKLearn``
script job with a ``requirements.txt``, and Linear Learner on RecordIO-protobuf through boto3.

The SDK polls with ``time.sleep`` (``logs_for_job`` describes the job every 30 s); the tests run
its session module on a clock whose sleeps pass at once, so the flows are as on AWS, only faster.
"""

from __future__ import annotations

import io
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.server.aws.sagemaker_support import (
    ROLE,
    label_first_csv,
    regression,
    wait_training,
)

from lakeworks.testing.process import ServerProcess

pytestmark = pytest.mark.slow

sagemaker = pytest.importorskip("sagemaker", reason="the SageMaker Python SDK is not installed")

BUCKET = "book"
#: The SDK's own switch for its telemetry to AWS (also settable in its config.yaml).
NO_TELEMETRY = {
    "SchemaVersion": "1.0",
    "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}},
}


class FastClock:
    """``time`` for the SDK's session module: sleeps advance a virtual clock at once."""

    def __init__(self) -> None:
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset

    def sleep(self, seconds: float) -> None:
        self.offset += seconds
        time.sleep(min(seconds, 0.1))

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


@pytest.fixture(scope="module")
def session(aws_server: ServerProcess) -> Iterator[Any]:
    """A ``sagemaker.Session`` pointed at the server by ``AWS_ENDPOINT_URL``, as a user would."""
    import boto3
    import sagemaker.session

    with pytest.MonkeyPatch.context() as patch:
        for name, value in aws_server.aws_env().items():
            patch.setenv(name, value)
        # The SDK warns that v2 is on its way out; v2 is what the book uses.
        patch.setenv("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
        patch.setattr(sagemaker.session, "time", FastClock())
        boto_session = boto3.Session(region_name="us-east-1")
        s3 = boto_session.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        features, y = regression(300)
        s3.put_object(Bucket=BUCKET, Key="train/train.csv", Body=label_first_csv(features, y))
        valid_x, valid_y = regression(100, seed=1)
        s3.put_object(Bucket=BUCKET, Key="validation/v.csv", Body=label_first_csv(valid_x, valid_y))
        yield sagemaker.Session(
            boto_session=boto_session, default_bucket=BUCKET, sagemaker_config=NO_TELEMETRY
        )


def _inputs() -> dict[str, Any]:
    from sagemaker.inputs import TrainingInput

    return {
        "train": TrainingInput(f"s3://{BUCKET}/train/", content_type="text/csv"),
        "validation": TrainingInput(f"s3://{BUCKET}/validation/", content_type="text/csv"),
    }


def _xgboost(session: Any) -> Any:
    from sagemaker.estimator import Estimator

    estimator = Estimator(
        image_uri=sagemaker.image_uris.retrieve("xgboost", "us-east-1", "1.7-1"),
        role=ROLE,
        instance_count=1,
        instance_type="ml.m5.large",
        output_path=f"s3://{BUCKET}/output",
        sagemaker_session=session,
    )
    estimator.set_hyperparameters(num_round=15, max_depth=3, objective="reg:squarederror")
    return estimator


def test_xgboost_estimator_fit_streams_logs_and_the_artifact_scores_like_xgboost(
    session: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    import xgboost

    estimator = _xgboost(session)
    estimator.fit(_inputs())  # wait=True, logs="All": the defaults
    printed = capsys.readouterr().out
    assert "#011validation-rmse:" in printed
    assert "Completed - Training job completed" in printed
    assert estimator.model_data.endswith("/output/model.tar.gz")
    bucket, key = estimator.model_data[5:].split("/", 1)
    body = session.boto_session.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        raw = tar.extractfile("xgboost-model").read()  # type: ignore[union-attr]
    booster = xgboost.Booster()
    booster.load_model(bytearray(raw))
    features, y = regression(100, seed=1)
    ours = booster.predict(xgboost.DMatrix(features))
    train_x, train_y = regression(300)
    reference = xgboost.train(
        {"max_depth": 3, "objective": "reg:squarederror", "eta": 0.3},
        xgboost.DMatrix(train_x, label=train_y),
        num_boost_round=15,
    ).predict(xgboost.DMatrix(features))
    rmse = float(np.sqrt(np.mean((ours - y) ** 2)))
    reference_rmse = float(np.sqrt(np.mean((reference - y) ** 2)))
    assert rmse == pytest.approx(reference_rmse, rel=0.02)
    described = session.describe_training_job(estimator.latest_training_job.name)
    finals = {m["MetricName"]: m["Value"] for m in described["FinalMetricDataList"]}
    assert finals["validation:rmse"] == pytest.approx(rmse, rel=1e-3)


def test_hyperparameter_tuner_runs_trials_in_parallel_and_picks_the_best(session: Any) -> None:
    from sagemaker.tuner import ContinuousParameter, HyperparameterTuner, IntegerParameter

    tuner = HyperparameterTuner(
        _xgboost(session),
        objective_metric_name="validation:rmse",
        hyperparameter_ranges={
            "max_depth": IntegerParameter(2, 6),
            "eta": ContinuousParameter(0.05, 0.5),
        },
        objective_type="Minimize",
        max_jobs=4,
        max_parallel_jobs=2,
    )
    tuner.fit(_inputs())
    tuner.wait()
    described = tuner.describe()
    assert described["HyperParameterTuningJobStatus"] == "Completed"
    assert described["TrainingJobStatusCounters"]["Completed"] == 4
    assert described["ObjectiveStatusCounters"]["Succeeded"] == 4
    frame = tuner.analytics().dataframe()
    assert len(frame) == 4
    best = tuner.best_training_job()
    assert frame.sort_values("FinalObjectiveValue").iloc[0]["TrainingJobName"] == best
    starts = sorted(frame["TrainingStartTime"])
    ends = sorted(frame["TrainingEndTime"])
    assert starts[1] < ends[0]  # two trials overlapped


def test_sklearn_script_job_with_requirements(session: Any, tmp_path: Path) -> None:
    from sagemaker.sklearn.estimator import SKLearn

    source = tmp_path / "src"
    source.mkdir()
    (source / "requirements.txt").write_text("numpy\n")  # already satisfied: no download
    (source / "train.py").write_text(
        "import argparse, json, os\n"
        "import numpy as np\n"
        "from sklearn.linear_model import Ridge\n"
        "parser = argparse.ArgumentParser()\n"
        "parser.add_argument('--alpha', type=float)\n"
        "parser.add_argument('--model-dir', default=os.environ['SM_MODEL_DIR'])\n"
        "args = parser.parse_args()\n"
        "path = os.path.join(os.environ['SM_CHANNEL_TRAIN'], 'train.csv')\n"
        "data = np.loadtxt(path, delimiter=',')\n"
        "model = Ridge(alpha=args.alpha).fit(data[:, 1:], data[:, 0])\n"
        "print(f'r2={model.score(data[:, 1:], data[:, 0]):.4f}')\n"
        "with open(os.path.join(args.model_dir, 'model.json'), 'w') as f:\n"
        "    json.dump({'coef': model.coef_.tolist()}, f)\n"
    )
    estimator = SKLearn(
        entry_point="train.py",
        source_dir=str(source),
        framework_version="1.2-1",
        role=ROLE,
        instance_count=1,
        instance_type="ml.m5.large",
        sagemaker_session=session,
        hyperparameters={"alpha": 0.5},
        metric_definitions=[{"Name": "train:r2", "Regex": r"r2=([0-9.]+)"}],
    )
    estimator.fit({"train": f"s3://{BUCKET}/train/"})
    described = session.describe_training_job(estimator.latest_training_job.name)
    assert described["TrainingJobStatus"] == "Completed"
    finals = {m["MetricName"]: m["Value"] for m in described["FinalMetricDataList"]}
    assert finals["train:r2"] > 0.9


def test_linear_learner_on_recordio_through_boto3(session: Any) -> None:
    from sagemaker.amazon.common import write_numpy_to_dense_tensor

    features, y = regression(300)
    buffer = io.BytesIO()
    write_numpy_to_dense_tensor(buffer, features.astype("float32"), y.astype("float32"))
    s3 = session.boto_session.client("s3")
    s3.put_object(Bucket=BUCKET, Key="recordio/train.data", Body=buffer.getvalue())
    sm = session.boto_session.client("sagemaker")
    sm.create_training_job(
        TrainingJobName="linear-learner-recordio",
        RoleArn=ROLE,
        AlgorithmSpecification={
            "TrainingImage": sagemaker.image_uris.retrieve("linear-learner", "eu-west-1"),
            "TrainingInputMode": "File",
        },
        HyperParameters={
            "feature_dim": "3",
            "predictor_type": "regressor",
            "mini_batch_size": "50",
            "epochs": "5",
        },
        InputDataConfig=[
            {
                "ChannelName": "train",
                "ContentType": "application/x-recordio-protobuf",
                "DataSource": {
                    "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/recordio/"}
                },
            }
        ],
        OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/output"},
        ResourceConfig={"InstanceType": "ml.c5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 5},
        StoppingCondition={"MaxRuntimeInSeconds": 600},
    )
    described = wait_training(sm, "linear-learner-recordio")
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    assert "ModelArtifacts" in described
