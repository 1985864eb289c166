"""Helpers shared by the SageMaker and CloudWatch Logs front-door tests: data, sources, waiting."""

from __future__ import annotations

import io
import tarfile
import time
from typing import Any

import numpy as np

ROLE = "arn:aws:iam::000000000000:role/SageMakerRole"
#: What ``sagemaker.image_uris.retrieve`` returns (any region works).
XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
LINEAR_LEARNER_IMAGE = "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1"
LOG_GROUP = "/aws/sagemaker/TrainingJobs"
ENDED = ("Completed", "Failed", "Stopped")


def regression(rows: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A small regression problem: three features, y = 2 x0 - x1 + noise."""
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(rows, 3))
    y = 2 * features[:, 0] - features[:, 1] + rng.normal(scale=0.1, size=rows)
    return features, y


def label_first_csv(features: np.ndarray, y: np.ndarray, *, header: str | None = None) -> bytes:
    """CSV as SageMaker's built-ins read it: the label first, no header (unless given)."""
    out = io.StringIO()
    if header:
        out.write(header + "\n")
    np.savetxt(out, np.column_stack([y, features]), delimiter=",", fmt="%.6f")
    return out.getvalue().encode()


def sourcedir(files: dict[str, str]) -> bytes:
    """A ``sourcedir.tar.gz`` as the SageMaker SDK uploads it."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def s3_channel(
    name: str, uri: str, content_type: str | None = "text/csv", **extra: Any
) -> dict[str, Any]:
    """A channel of InputDataConfig."""
    channel: dict[str, Any] = {
        "ChannelName": name,
        "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri}},
        **extra,
    }
    if content_type:
        channel["ContentType"] = content_type
    return channel


def training_job(name: str, bucket: str, **overrides: Any) -> dict[str, Any]:
    """CreateTrainingJob arguments for built-in XGBoost on ``s3://<bucket>/train/``."""
    request: dict[str, Any] = {
        "TrainingJobName": name,
        "RoleArn": ROLE,
        "AlgorithmSpecification": {"TrainingImage": XGBOOST_IMAGE, "TrainingInputMode": "File"},
        "HyperParameters": {"num_round": "10", "max_depth": "3", "objective": "reg:squarederror"},
        "InputDataConfig": [s3_channel("train", f"s3://{bucket}/train/")],
        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/output"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }
    request.update(overrides)
    return request


def script_job(
    name: str, bucket: str, sources: str, program: str = "train.py", **overrides: Any
) -> dict[str, Any]:
    """CreateTrainingJob arguments for a scikit-learn script, as the SKLearn estimator sends."""
    hyperparameters = {
        "sagemaker_program": f'"{program}"',
        "sagemaker_submit_directory": f'"{sources}"',
        "sagemaker_container_log_level": "20",
        "sagemaker_region": '"us-east-1"',
        **overrides.pop("extra_hyperparameters", {}),
    }
    overrides.setdefault(
        "AlgorithmSpecification", {"TrainingImage": SKLEARN_IMAGE, "TrainingInputMode": "File"}
    )
    return training_job(name, bucket, HyperParameters=hyperparameters, **overrides)


def wait_training(sm: Any, name: str, timeout: float = 120) -> dict[str, Any]:
    """Poll DescribeTrainingJob until the job has ended."""
    deadline = time.monotonic() + timeout
    while True:
        described: dict[str, Any] = sm.describe_training_job(TrainingJobName=name)
        if described["TrainingJobStatus"] in ENDED:
            return described
        if time.monotonic() > deadline:
            raise TimeoutError(f"training job {name} still {described['TrainingJobStatus']}")
        time.sleep(0.1)


def wait_tuning(sm: Any, name: str, timeout: float = 180) -> dict[str, Any]:
    """Poll DescribeHyperParameterTuningJob until the tuning job has ended."""
    deadline = time.monotonic() + timeout
    while True:
        described: dict[str, Any] = sm.describe_hyper_parameter_tuning_job(
            HyperParameterTuningJobName=name
        )
        if described["HyperParameterTuningJobStatus"] in ENDED:
            return described
        if time.monotonic() > deadline:
            raise TimeoutError(f"tuning job {name} still running")
        time.sleep(0.1)


def error_of(exc: Any) -> tuple[str, str, int]:
    """``(code, message, HTTP status)`` of a botocore ClientError (or pytest's wrapper)."""
    response = getattr(exc, "value", exc).response
    return (
        response["Error"]["Code"],
        response["Error"]["Message"],
        response["ResponseMetadata"]["HTTPStatusCode"],
    )
