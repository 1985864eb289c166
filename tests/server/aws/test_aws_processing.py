"""SageMaker processing jobs through boto3 against a real server, shaped as the SageMaker SDK's
``SKLearnProcessor.run()`` sends them (code input at /opt/ml/processing/input/code)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.server.aws.conftest import ClientFactory
from tests.server.aws.sagemaker_support import ROLE, SKLEARN_IMAGE

BUCKET = "proc"
SCRIPT = """
import os, sys, argparse
parser = argparse.ArgumentParser()
parser.add_argument("--ratio", type=float)
parser.add_argument("--out")
args = parser.parse_args()
root = os.environ["LAKEWORKS_OPT_ML"]
rows = open(os.path.join(root, "processing/input/data/d.csv")).read().splitlines()
os.makedirs(args.out, exist_ok=True)
with open(os.path.join(args.out, "train.csv"), "w") as f:
    f.write("\\n".join(rows[: int(len(rows) * args.ratio)]))
print("GREETING", os.environ["GREETING"], "processed", len(rows))
"""


def _request(name: str, **overrides: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "ProcessingJobName": name,
        "ProcessingInputs": [
            {
                "InputName": "input-1",
                "AppManaged": False,
                "S3Input": {
                    "S3Uri": f"s3://{BUCKET}/raw/d.csv",
                    "LocalPath": "/opt/ml/processing/input/data",
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                    "S3DataDistributionType": "FullyReplicated",
                    "S3CompressionType": "None",
                },
            },
            {
                "InputName": "code",
                "AppManaged": False,
                "S3Input": {
                    "S3Uri": f"s3://{BUCKET}/{name}/input/code/preprocessing.py",
                    "LocalPath": "/opt/ml/processing/input/code",
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                    "S3DataDistributionType": "FullyReplicated",
                    "S3CompressionType": "None",
                },
            },
        ],
        "ProcessingOutputConfig": {
            "Outputs": [
                {
                    "OutputName": "train",
                    "AppManaged": False,
                    "S3Output": {
                        "S3Uri": f"s3://{BUCKET}/{name}/output/train",
                        "LocalPath": "/opt/ml/processing/train",
                        "S3UploadMode": "EndOfJob",
                    },
                }
            ]
        },
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceCount": 1,
                "InstanceType": "ml.m5.xlarge",
                "VolumeSizeInGB": 30,
            }
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
        "AppSpecification": {
            "ImageUri": SKLEARN_IMAGE,
            "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/preprocessing.py"],
            "ContainerArguments": ["--ratio", "0.5", "--out=/opt/ml/processing/train"],
        },
        "Environment": {"GREETING": "hello"},
        "RoleArn": ROLE,
    }
    request.update(overrides)
    return request


def _wait(sm: Any, name: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while True:
        job: dict[str, Any] = sm.describe_processing_job(ProcessingJobName=name)
        if job["ProcessingJobStatus"] in ("Completed", "Failed", "Stopped"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.2)


@pytest.fixture(scope="module")
def sm(client: ClientFactory, s3: Any) -> Any:
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="raw/d.csv", Body=b"a\nb\nc\nd\n")
    return client("sagemaker")


def test_script_job_runs_with_mapped_paths(sm: Any, s3: Any) -> None:
    name = "sk-preprocess"
    s3.put_object(Bucket=BUCKET, Key=f"{name}/input/code/preprocessing.py", Body=SCRIPT.encode())
    arn = sm.create_processing_job(**_request(name))["ProcessingJobArn"]
    assert arn.endswith(f":processing-job/{name}")
    job = _wait(sm, name)
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    assert job["AppSpecification"]["ImageUri"] == SKLEARN_IMAGE
    assert job["ProcessingInputs"][0]["S3Input"]["LocalPath"] == "/opt/ml/processing/input/data"
    body = s3.get_object(Bucket=BUCKET, Key=f"{name}/output/train/train.csv")["Body"].read()
    assert body == b"a\nb"
    summaries = sm.list_processing_jobs(NameContains="sk-pre")["ProcessingJobSummaries"]
    assert [s["ProcessingJobName"] for s in summaries] == [name]
    with pytest.raises(ClientError) as stopped:
        sm.stop_processing_job(ProcessingJobName=name)
    assert stopped.value.response["Error"]["Code"] == "ValidationException"


def test_failing_script_reports_its_output(sm: Any, s3: Any) -> None:
    name = "sk-fails"
    s3.put_object(
        Bucket=BUCKET,
        Key=f"{name}/input/code/preprocessing.py",
        Body=b"raise SystemExit('bad things happened')\n",
    )
    sm.create_processing_job(**_request(name))
    job = _wait(sm, name)
    assert job["ProcessingJobStatus"] == "Failed"
    assert "bad things happened" in job["FailureReason"]


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"AppSpecification": {"ImageUri": SKLEARN_IMAGE}}, "ContainerEntrypoint"),
        (
            {
                "AppSpecification": {
                    "ImageUri": SKLEARN_IMAGE,
                    "ContainerEntrypoint": ["bash", "x.sh"],
                }
            },
            "Python",
        ),
        (
            {
                "ProcessingInputs": [
                    {
                        "InputName": "x",
                        "S3Input": {
                            "S3Uri": f"s3://{BUCKET}/raw/",
                            "LocalPath": "/tmp/x",
                            "S3DataType": "S3Prefix",
                        },
                    }
                ]
            },
            "/opt/ml/processing",
        ),
        (
            {
                "ProcessingInputs": [
                    {
                        "InputName": "x",
                        "S3Input": {
                            "S3Uri": f"s3://{BUCKET}/raw/",
                            "LocalPath": "/opt/ml/processing/in",
                            "S3DataType": "S3Prefix",
                            "S3CompressionType": "Gzip",
                        },
                    }
                ]
            },
            "Pipe",
        ),
        (
            {
                "ProcessingOutputConfig": {
                    "Outputs": [
                        {
                            "OutputName": "o",
                            "S3Output": {
                                "S3Uri": "s3://no-such-bucket/o",
                                "LocalPath": "/opt/ml/processing/o",
                                "S3UploadMode": "EndOfJob",
                            },
                        }
                    ]
                }
            },
            "no-such-bucket",
        ),
        (
            {
                "ProcessingResources": {
                    "ClusterConfig": {
                        "InstanceCount": 2,
                        "InstanceType": "ml.m5.xlarge",
                        "VolumeSizeInGB": 30,
                    }
                }
            },
            "InstanceCount",
        ),
    ],
)
def test_bad_requests_are_refused(sm: Any, change: dict[str, Any], needle: str) -> None:
    with pytest.raises(ClientError) as refused:
        sm.create_processing_job(**_request("bad-job", **change))
    error = refused.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert needle in error["Message"]
    with pytest.raises(ClientError) as missing:
        sm.describe_processing_job(ProcessingJobName="bad-job")
    assert missing.value.response["Error"]["Code"] in ("ResourceNotFound", "ValidationException")
