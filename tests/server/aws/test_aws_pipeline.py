"""The chapter-4 pipeline with boto3 against a live server: an upload under ``glue-in/`` fires
an S3 notification, a Lambda function starts a Glue Python-shell job, and the job writes
``glue-out/wine_scaled.csv``. Plus the bad inputs the issue lists."""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
from botocore.exceptions import ClientError

from lakeworks.testing.datasets import book_dataset

from .conftest import ClientFactory

BUCKET = "pipeline"

GLUE_SCRIPT = """
import io
import sys

import boto3
import pandas as pd
from awsglue.utils import getResolvedOptions

args = getResolvedOptions(sys.argv, ["s3_input_dataset", "s3_output_key"])
bucket, _, key = args["s3_input_dataset"][len("s3://"):].partition("/")
s3 = boto3.client("s3")
frame = pd.read_csv(io.BytesIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read()))
numeric = frame.select_dtypes("number").columns
frame[numeric] = (frame[numeric] - frame[numeric].min()) / (
    frame[numeric].max() - frame[numeric].min()
)
s3.put_object(Bucket=bucket, Key=args["s3_output_key"], Body=frame.to_csv(index=False).encode())
print("scaled", len(frame), "rows")
"""

HANDLER = """
import urllib.parse

import boto3


def lambda_handler(event, context):
    record = event["Records"][0]
    bucket = record["s3"]["bucket"]["name"]
    key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
    glue = boto3.client("glue")
    run = glue.start_job_run(
        JobName="scale-wine", Arguments={"--s3_input_dataset": f"s3://{bucket}/{key}"}
    )
    return {"JobRunId": run["JobRunId"]}
"""


def _zip(**files: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def _wait(check: Callable[[], Any], timeout: float = 90.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("gave up waiting")
        time.sleep(0.2)


def _final_run(glue: Any, job: str, run_id: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        run: dict[str, Any] = glue.get_job_run(JobName=job, RunId=run_id)["JobRun"]
        return run if run["JobRunState"] not in ("STARTING", "RUNNING", "STOPPING") else None

    result: dict[str, Any] = _wait(done)
    return result


@pytest.fixture(scope="module")
def glue(client: ClientFactory) -> Any:
    return client("glue")


@pytest.fixture(scope="module")
def lam(client: ClientFactory) -> Any:
    return client("lambda")


@pytest.fixture(scope="module")
def bucket(s3: Any) -> str:
    s3.create_bucket(Bucket=BUCKET)
    return BUCKET


def _glue_job(glue: Any, s3: Any, name: str, script: str, **extra: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key=f"scripts/{name}.py", Body=script.encode())
    glue.create_job(
        Name=name,
        Role="arn:aws:iam::000000000000:role/glue",
        Command={"Name": "pythonshell", "ScriptLocation": f"s3://{BUCKET}/scripts/{name}.py"},
        **extra,
    )


def test_chapter4_flow(s3: Any, glue: Any, lam: Any, bucket: str) -> None:
    _glue_job(
        glue,
        s3,
        "scale-wine",
        GLUE_SCRIPT,
        DefaultArguments={"--s3_output_key": "glue-out/wine_scaled.csv"},
        MaxCapacity=0.0625,
    )
    created = lam.create_function(
        FunctionName="start-glue",
        Runtime="python3.11",
        Role="arn:aws:iam::000000000000:role/lambda",
        Handler="app.lambda_handler",
        Code={"ZipFile": _zip(**{"app.py": HANDLER})},
        Timeout=60,
    )
    lam.add_permission(
        FunctionName="start-glue",
        StatementId="s3-invoke",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn=f"arn:aws:s3:::{bucket}",
    )
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {
                    "Id": "raw-csv",
                    "LambdaFunctionArn": created["FunctionArn"],
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {
                        "Key": {
                            "FilterRules": [
                                {"Name": "prefix", "Value": "glue-in/"},
                                {"Name": "suffix", "Value": ".csv"},
                            ]
                        }
                    },
                }
            ]
        },
    )
    config = s3.get_bucket_notification_configuration(Bucket=bucket)
    assert config["LambdaFunctionConfigurations"][0]["LambdaFunctionArn"] == created["FunctionArn"]

    s3.upload_file(str(book_dataset("wine-canvas.csv")), bucket, "glue-in/wine-canvas.csv")
    s3.put_object(Bucket=bucket, Key="glue-in/notes.txt", Body=b"not matched")

    runs = _wait(lambda: glue.get_job_runs(JobName="scale-wine")["JobRuns"])
    assert len(runs) == 1
    run = _final_run(glue, "scale-wine", runs[0]["Id"])
    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
    assert run["Arguments"]["--s3_input_dataset"] == f"s3://{bucket}/glue-in/wine-canvas.csv"

    body = s3.get_object(Bucket=bucket, Key="glue-out/wine_scaled.csv")["Body"].read()
    got = pd.read_csv(io.BytesIO(body))
    expected = pd.read_csv(book_dataset("wine-canvas.csv"))
    numeric = expected.select_dtypes("number").columns
    expected[numeric] = (expected[numeric] - expected[numeric].min()) / (
        expected[numeric].max() - expected[numeric].min()
    )
    pd.testing.assert_frame_equal(got, expected)


def test_invoke_request_response_and_unhandled_error(lam: Any) -> None:
    code = _zip(
        **{
            "fn.py": "def ok(e, c):\n    return {'got': e}\n\n"
            "def bad(e, c):\n    raise ValueError('boom')\n"
        }
    )
    lam.create_function(
        FunctionName="echo", Runtime="python3.12", Role="r", Handler="fn.ok", Code={"ZipFile": code}
    )
    answer = lam.invoke(FunctionName="echo", Payload=json.dumps({"a": 1}))
    assert json.loads(answer["Payload"].read()) == {"got": {"a": 1}}
    assert "FunctionError" not in answer
    lam.create_function(
        FunctionName="broken",
        Runtime="python3.12",
        Role="r",
        Handler="fn.bad",
        Code={"ZipFile": code},
    )
    failed = lam.invoke(FunctionName="broken", Payload=b"{}")
    assert failed["FunctionError"] == "Unhandled"
    error = json.loads(failed["Payload"].read())
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "boom"
    queued = lam.invoke(FunctionName="echo", InvocationType="Event", Payload=b"{}")
    assert queued["StatusCode"] == 202


def test_function_timeout(lam: Any) -> None:
    code = _zip(**{"slow.py": "import time\n\ndef h(e, c):\n    time.sleep(30)\n"})
    lam.create_function(
        FunctionName="slow",
        Runtime="python3.11",
        Role="r",
        Handler="slow.h",
        Timeout=1,
        Code={"ZipFile": code},
    )
    answer = lam.invoke(FunctionName="slow", Payload=b"{}")
    assert answer["FunctionError"] == "Unhandled"
    assert (
        json.loads(answer["Payload"].read())["errorMessage"] == "Task timed out after 1.00 seconds"
    )


def test_bad_function_requests(lam: Any) -> None:
    with pytest.raises(ClientError) as missing:
        lam.invoke(FunctionName="nope", Payload=b"{}")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as runtime:
        lam.create_function(
            FunctionName="node",
            Runtime="nodejs20.x",
            Role="r",
            Handler="a.b",
            Code={"ZipFile": _zip(**{"a.py": ""})},
        )
    assert runtime.value.response["Error"]["Code"] == "InvalidParameterValueException"
    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("../escape.py", "x = 1")
    with pytest.raises(ClientError) as unsafe:
        lam.create_function(
            FunctionName="evil",
            Runtime="python3.11",
            Role="r",
            Handler="a.b",
            Code={"ZipFile": evil.getvalue()},
        )
    assert "leaves the package" in unsafe.value.response["Error"]["Message"]
    assert "evil" not in [f["FunctionName"] for f in lam.list_functions()["Functions"]]


def test_spark_job_refused(glue: Any) -> None:
    with pytest.raises(ClientError) as refused:
        glue.create_job(
            Name="spark", Role="r", Command={"Name": "glueetl", "ScriptLocation": "s3://b/x.py"}
        )
    assert refused.value.response["Error"]["Code"] == "InvalidInputException"
    assert "not supported" in refused.value.response["Error"]["Message"]
    with pytest.raises(ClientError):
        glue.get_job(JobName="spark")


def test_failing_script_and_bad_module(s3: Any, glue: Any, bucket: str) -> None:
    _glue_job(glue, s3, "fails", "def f():\n    raise RuntimeError('bad data here')\n\nf()\n")
    run = _final_run(glue, "fails", glue.start_job_run(JobName="fails")["JobRunId"])
    assert run["JobRunState"] == "FAILED"
    assert "bad data here" in run["ErrorMessage"]

    _glue_job(glue, s3, "needs-module", "print('hi')\n")
    run_id = glue.start_job_run(
        JobName="needs-module",
        Arguments={
            "--additional-python-modules": f"s3://{bucket}/wheels/missing-1.0-py3-none-any.whl"
        },
    )["JobRunId"]
    run = _final_run(glue, "needs-module", run_id)
    assert run["JobRunState"] == "FAILED"
    assert "missing-1.0-py3-none-any.whl" in run["ErrorMessage"]


def test_notification_to_missing_function_refused(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as refused:
        s3.put_bucket_notification_configuration(
            Bucket=bucket,
            NotificationConfiguration={
                "LambdaFunctionConfigurations": [
                    {
                        "LambdaFunctionArn": "arn:aws:lambda:us-east-1:000000000000:function:gone",
                        "Events": ["s3:ObjectCreated:*"],
                    }
                ]
            },
        )
    assert refused.value.response["Error"]["Code"] in (
        "ResourceNotFoundException",
        "NoSuchKey",
        "NotFound",
        "404",
    )
    with pytest.raises(ClientError) as queue:
        s3.put_bucket_notification_configuration(
            Bucket=bucket,
            NotificationConfiguration={
                "QueueConfigurations": [
                    {
                        "QueueArn": "arn:aws:sqs:us-east-1:000000000000:q",
                        "Events": ["s3:ObjectCreated:*"],
                    }
                ]
            },
        )
    assert "not supported" in queue.value.response["Error"]["Message"]
