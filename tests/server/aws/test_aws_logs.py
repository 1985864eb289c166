"""CloudWatch Logs through the front door: the training jobs' log group, read with boto3 and with
the SageMaker SDK's own reader (what ``Estimator.fit()`` uses to stream logs)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.server.aws.sagemaker_support import (
    LOG_GROUP,
    error_of,
    script_job,
    sourcedir,
    wait_training,
)

pytestmark = pytest.mark.slow

BUCKET = "logs"
CHATTY = """
import sys
for i in range(1, 26):
    print(f"line {i:02d} {'even' if i % 2 == 0 else 'odd'}")
sys.stdout.write("last words without a newline")
"""
SLOW = """
import time
for i in range(1, 7):
    print(f"tick {i}", flush=True)
    time.sleep(1.5)  # slow enough to be read mid-run on a loaded machine
"""


@pytest.fixture(scope="module")
def logs(client: Any) -> Any:
    return client("logs")


@pytest.fixture(scope="module")
def jobs(client: Any, s3: Any) -> dict[str, str]:
    """The stream names of two finished jobs (a third, slow one is left running)."""
    sm = client("sagemaker")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="train/x.csv", Body=b"1,2\n")
    for name, script in (("chatty", CHATTY), ("quiet", "print('just one line')\n"), ("slow", SLOW)):
        s3.put_object(
            Bucket=BUCKET, Key=f"code/{name}.tar.gz", Body=sourcedir({"train.py": script})
        )
        sm.create_training_job(**script_job(name, BUCKET, f"s3://{BUCKET}/code/{name}.tar.gz"))
    for name in ("chatty", "quiet"):
        assert wait_training(sm, name)["TrainingJobStatus"] == "Completed"
    streams = logs_of(client("logs"))
    return {name: streams[name] for name in ("chatty", "quiet")}


def logs_of(logs: Any) -> dict[str, str]:
    found = logs.describe_log_streams(logGroupName=LOG_GROUP)["logStreams"]
    return {s["logStreamName"].split("/")[0]: s["logStreamName"] for s in found}


def messages(page: dict[str, Any]) -> list[str]:
    return [e["message"] for e in page["events"]]


def test_a_running_jobs_log_grows_and_never_changes(
    client: Any, logs: Any, jobs: dict[str, str]
) -> None:
    sm = client("sagemaker")
    deadline = time.monotonic() + 60
    while "slow" not in logs_of(logs):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    stream = logs_of(logs)["slow"]
    snapshots = []
    while True:
        page = logs.get_log_events(logGroupName=LOG_GROUP, logStreamName=stream, startFromHead=True)
        snapshots.append([(e["timestamp"], e["message"]) for e in page["events"]])
        if sm.describe_training_job(TrainingJobName="slow")["TrainingJobStatus"] != "InProgress":
            break
        time.sleep(0.2)
    wait_training(sm, "slow")
    final = logs.get_log_events(logGroupName=LOG_GROUP, logStreamName=stream, startFromHead=True)
    last = [(e["timestamp"], e["message"]) for e in final["events"]]
    assert [m for _, m in last if m.startswith("tick")] == [f"tick {i}" for i in range(1, 7)]
    for snapshot in snapshots:
        assert snapshot == last[: len(snapshot)]  # earlier reads are prefixes, unchanged
    assert any(len(s) < len(last) for s in snapshots)  # it was read while it grew


def test_the_log_group_and_one_stream_per_job(logs: Any, jobs: dict[str, str]) -> None:
    groups = logs.describe_log_groups(logGroupNamePrefix="/aws/sagemaker/")["logGroups"]
    assert [g["logGroupName"] for g in groups] == [LOG_GROUP, "/aws/sagemaker/TransformJobs"]
    assert logs.describe_log_groups(logGroupNamePrefix="/other")["logGroups"] == []
    stream = jobs["chatty"]
    assert stream.startswith("chatty/algo-1-")
    assert stream.rsplit("-", 1)[1].isdigit()
    found = logs.describe_log_streams(logGroupName=LOG_GROUP, logStreamNamePrefix="chatty/")
    (info,) = found["logStreams"]
    assert info["firstEventTimestamp"] <= info["lastEventTimestamp"]
    assert info["arn"].endswith(f":log-stream:{stream}")


def test_streams_page_with_next_token(logs: Any, jobs: dict[str, str]) -> None:
    names: list[str] = []
    kwargs: dict[str, Any] = {"logGroupName": LOG_GROUP, "limit": 1}
    while True:
        page = logs.describe_log_streams(**kwargs)
        names += [s["logStreamName"] for s in page["logStreams"]]
        if "nextToken" not in page:
            break
        kwargs["nextToken"] = page["nextToken"]
    assert names == sorted(names)
    assert {n.split("/")[0] for n in names} >= {"chatty", "quiet"}


def test_reading_forward_from_the_head_to_the_end(logs: Any, jobs: dict[str, str]) -> None:
    stream = jobs["chatty"]
    first = logs.get_log_events(
        logGroupName=LOG_GROUP, logStreamName=stream, startFromHead=True, limit=10
    )
    assert messages(first)[:2] == ["line 01 odd", "line 02 even"]
    assert len(first["events"]) == 10
    seen = messages(first)
    token = first["nextForwardToken"]
    while True:
        page = logs.get_log_events(
            logGroupName=LOG_GROUP, logStreamName=stream, nextToken=token, limit=10
        )
        if not page["events"]:
            assert page["nextForwardToken"] == token  # the end: the same token, no events
            break
        seen += messages(page)
        token = page["nextForwardToken"]
    assert seen[:25] == [f"line {i:02d} {'even' if i % 2 == 0 else 'odd'}" for i in range(1, 26)]
    assert "last words without a newline" in seen
    timestamps = [
        e["timestamp"]
        for e in logs.get_log_events(
            logGroupName=LOG_GROUP, logStreamName=stream, startFromHead=True
        )["events"]
    ]
    assert timestamps == sorted(timestamps)


def test_reading_backward_from_the_tail(logs: Any, jobs: dict[str, str]) -> None:
    stream = jobs["chatty"]
    tail = logs.get_log_events(logGroupName=LOG_GROUP, logStreamName=stream, limit=3)
    assert messages(tail)[-1] == "last words without a newline"
    assert len(tail["events"]) == 3
    before = logs.get_log_events(
        logGroupName=LOG_GROUP, logStreamName=stream, nextToken=tail["nextBackwardToken"], limit=2
    )
    assert messages(before) == ["line 22 even", "line 23 odd"]


def test_start_time_filters_events(logs: Any, jobs: dict[str, str]) -> None:
    stream = jobs["quiet"]
    page = logs.get_log_events(logGroupName=LOG_GROUP, logStreamName=stream, startFromHead=True)
    stamp = page["events"][-1]["timestamp"]
    later = logs.get_log_events(
        logGroupName=LOG_GROUP, logStreamName=stream, startFromHead=True, startTime=stamp + 1
    )
    assert later["events"] == []
    same = logs.get_log_events(
        logGroupName=LOG_GROUP, logStreamName=stream, startFromHead=True, startTime=stamp
    )
    assert "just one line" in messages(same)


def test_the_sagemaker_sdks_reader_streams_every_line_once(logs: Any, jobs: dict[str, str]) -> None:
    sagemaker_logs = pytest.importorskip("sagemaker.logs")
    streams = [jobs["chatty"], jobs["quiet"]]
    positions = {s: sagemaker_logs.Position(timestamp=0, skip=0) for s in streams}
    got = [
        (index, event["message"])
        for index, event in sagemaker_logs.multi_stream_iter(logs, LOG_GROUP, streams, positions)
    ]
    assert [m for i, m in got if i == 0][:3] == ["line 01 odd", "line 02 even", "line 03 odd"]
    assert [m for i, m in got if i == 1] == ["just one line"]
    assert len(got) == len({(i, m) for i, m in got})


def test_filter_log_events_matches_terms_across_streams(logs: Any, jobs: dict[str, str]) -> None:
    page = logs.filter_log_events(logGroupName=LOG_GROUP, filterPattern="even")
    assert {e["logStreamName"] for e in page["events"]} == {jobs["chatty"]}
    assert len(page["events"]) == 12
    phrase = logs.filter_log_events(
        logGroupName=LOG_GROUP, logStreamNames=[jobs["quiet"]], filterPattern='"one line"'
    )
    assert messages(phrase) == ["just one line"]
    first = logs.filter_log_events(logGroupName=LOG_GROUP, filterPattern="line", limit=5)
    rest = logs.filter_log_events(
        logGroupName=LOG_GROUP, filterPattern="line", nextToken=first["nextToken"]
    )
    together = messages(first) + messages(rest)
    assert len(messages(first)) == 5
    # chatty's 25 "line NN" and its "... newline", and quiet's "just one line"
    assert len(together) == 27
    assert len(set(together)) == 27


def test_unknown_group_and_stream_are_resource_not_found(logs: Any, jobs: dict[str, str]) -> None:
    with pytest.raises(ClientError) as caught:
        logs.describe_log_streams(logGroupName="/aws/lambda/x")
    assert error_of(caught)[0] == "ResourceNotFoundException"
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.get_log_events(logGroupName=LOG_GROUP, logStreamName="nope/algo-1-1")


def test_bad_parameters_are_invalid_parameter(logs: Any, jobs: dict[str, str]) -> None:
    with pytest.raises(ClientError) as caught:
        logs.get_log_events(
            logGroupName=LOG_GROUP, logStreamName=jobs["quiet"], nextToken="garbage"
        )
    assert error_of(caught)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as caught:
        logs.describe_log_streams(
            logGroupName=LOG_GROUP, logStreamNamePrefix="a", orderBy="LastEventTime"
        )
    assert error_of(caught)[0] == "InvalidParameterException"
