"""Batch transform jobs' logs through CloudWatch Logs, against a real server: the boto3 ``logs``
client reads group ``/aws/sagemaker/TransformJobs`` (a ``<job>/<instance id>-<epoch>`` stream per
job), and the SageMaker SDK's ``Transformer.transform(wait=True, logs=True)`` streams them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.hosting.support import train_xgboost, xgboost_archive
from tests.server.aws.conftest import ClientFactory
from tests.server.aws.sagemaker_support import ROLE, XGBOOST_IMAGE
from tests.server.aws.test_aws_sagemaker_sdk import NO_TELEMETRY, FastClock

from lakeworks.testing.process import ServerProcess

pytestmark = pytest.mark.slow

sagemaker = pytest.importorskip("sagemaker", reason="the SageMaker Python SDK is not installed")

BUCKET = "transform-logs"
GROUP = "/aws/sagemaker/TransformJobs"
ROWS = "".join(f"{i * 0.1:.1f},{i * 0.2:.1f},0.5,{i}\n" for i in range(25))


@pytest.fixture(scope="module")
def session(aws_server: ServerProcess, client: ClientFactory) -> Iterator[Any]:
    """A SageMaker session on the server, the model ``xgb`` and its input in the lake."""
    import boto3
    import sagemaker.session

    s3 = client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="xgb/model.tar.gz", Body=xgboost_archive(train_xgboost()))
    s3.put_object(Bucket=BUCKET, Key="in/rows.csv", Body=ROWS.encode())
    client("sagemaker").create_model(
        ModelName="xgb",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={
            "Image": XGBOOST_IMAGE,
            "ModelDataUrl": f"s3://{BUCKET}/xgb/model.tar.gz",
        },
    )
    with pytest.MonkeyPatch.context() as patch:
        for name, value in aws_server.aws_env().items():
            patch.setenv(name, value)
        patch.setenv("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
        patch.setattr(sagemaker.session, "time", FastClock())
        yield sagemaker.Session(
            boto_session=boto3.Session(region_name="us-east-1"),
            default_bucket=BUCKET,
            sagemaker_config=NO_TELEMETRY,
        )


def _transformer(session: Any) -> Any:
    from sagemaker.transformer import Transformer

    return Transformer(
        model_name="xgb",
        instance_count=1,
        instance_type="ml.m5.large",
        output_path=f"s3://{BUCKET}/out",
        assemble_with="Line",
        sagemaker_session=session,
    )


def test_sdk_wait_with_logs_streams_the_job_output_and_boto3_reads_it(
    session: Any, client: ClientFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    transformer = _transformer(session)
    transformer.transform(
        f"s3://{BUCKET}/in/rows.csv",
        content_type="text/csv",
        split_type="Line",
        job_name="logged-transform",
        wait=True,
        logs=True,
    )
    printed = capsys.readouterr().out
    assert "transformed 25 records in 1 objects" in printed

    logs = client("logs")
    groups = logs.describe_log_groups(logGroupNamePrefix="/aws/sagemaker/Transform")["logGroups"]
    assert [g["logGroupName"] for g in groups] == [GROUP]
    streams = logs.describe_log_streams(logGroupName=GROUP, logStreamNamePrefix="logged-transform/")
    names = [s["logStreamName"] for s in streams["logStreams"]]
    assert len(names) == 1
    assert re.fullmatch(r"logged-transform/i-[0-9a-f]{17}-\d{10}", names[0]), names
    described = session.describe_transform_job("logged-transform")
    start = int(described["TransformStartTime"].timestamp())
    assert names[0].endswith(f"-{start}")

    first = logs.get_log_events(logGroupName=GROUP, logStreamName=names[0], startFromHead=True)
    messages = [e["message"] for e in first["events"]]
    assert any(m.startswith("transformed 25 records") for m in messages), messages
    assert all("\n" not in m for m in messages)
    again = logs.get_log_events(
        logGroupName=GROUP, logStreamName=names[0], nextToken=first["nextForwardToken"]
    )
    assert again["events"] == []  # the end of the stream: the token comes back, no events
    assert again["nextForwardToken"] == first["nextForwardToken"]
    later = logs.get_log_events(
        logGroupName=GROUP,
        logStreamName=names[0],
        startTime=first["events"][0]["timestamp"] + 1,
        startFromHead=True,
    )
    assert later["events"] == []  # every line is stamped with the job's start
    found = logs.filter_log_events(logGroupName=GROUP, filterPattern="transformed records")
    assert [e["logStreamName"] for e in found["events"]] == names


def test_unknown_streams_and_bad_input_are_clear_errors(
    session: Any, client: ClientFactory
) -> None:
    logs = client("logs")
    with pytest.raises(ClientError) as missing:
        logs.get_log_events(logGroupName=GROUP, logStreamName="no-such-job/i-0-1")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert "no-such-job/i-0-1" in missing.value.response["Error"]["Message"]
    none = logs.describe_log_streams(logGroupName=GROUP, logStreamNamePrefix="no-such-job/")
    assert none["logStreams"] == []
    stream = logs.describe_log_streams(logGroupName=GROUP)["logStreams"][0]["logStreamName"]
    with pytest.raises(ClientError) as bad:
        logs.get_log_events(logGroupName=GROUP, logStreamName=stream, nextToken="garbage")
    assert bad.value.response["Error"]["Code"] == "InvalidParameterException"
    assert "nextToken is invalid" in bad.value.response["Error"]["Message"]
