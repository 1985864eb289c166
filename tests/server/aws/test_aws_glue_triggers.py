"""Glue triggers with boto3 against a live server: ON_DEMAND and CONDITIONAL chains start real
job runs, every firing is visible natively with what it started, and bad inputs are refused."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from lakeworks.testing.process import ServerProcess

from .conftest import ClientFactory

BUCKET = "trigger-scripts"
ROLE = "arn:aws:iam::000000000000:role/glue"


def _wait(check: Callable[[], Any], timeout: float = 90.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("gave up waiting")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def glue(client: ClientFactory, s3: Any) -> Any:
    s3.create_bucket(Bucket=BUCKET)
    glue = client("glue")
    scripts = {
        "extract": "import sys\nprint('extract', sys.argv[1:])\n",
        "transform": "print('transform')\n",
        "load": "import sys\nprint('load', sys.argv[1:])\n",
        "broken": "raise SystemExit('broken on purpose')\n",
        "cleanup": "print('cleanup')\n",
    }
    for name, script in scripts.items():
        s3.put_object(Bucket=BUCKET, Key=f"{name}.py", Body=script.encode())
        glue.create_job(
            Name=name,
            Role=ROLE,
            Command={"Name": "pythonshell", "ScriptLocation": f"s3://{BUCKET}/{name}.py"},
            MaxCapacity=0.0625,
        )
    return glue


def _native(server: ServerProcess, path: str) -> Any:
    response = httpx.get(
        f"{server.url}/api/v1{path}", headers={"Authorization": f"Bearer {server.token}"}
    )
    response.raise_for_status()
    return response.json()


def _final(glue: Any, job: str) -> dict[str, Any]:
    def ended() -> dict[str, Any] | None:
        runs = glue.get_job_runs(JobName=job)["JobRuns"]
        if runs and runs[0]["JobRunState"] not in ("STARTING", "RUNNING", "STOPPING"):
            return dict(runs[0])
        return None

    result: dict[str, Any] = _wait(ended)
    return result


def test_on_demand_trigger_starts_its_job_and_records_the_firing(
    glue: Any, aws_server: ServerProcess
) -> None:
    glue.create_trigger(
        Name="nightly-extract",
        Type="ON_DEMAND",
        Actions=[{"JobName": "extract", "Arguments": {"--day": "2024-01-02"}}],
        Description="by hand",
    )
    got = glue.get_trigger(Name="nightly-extract")["Trigger"]
    assert got["Type"] == "ON_DEMAND"
    assert got["State"] == "CREATED"
    assert got["Actions"] == [{"JobName": "extract", "Arguments": {"--day": "2024-01-02"}}]
    assert glue.start_trigger(Name="nightly-extract")["Name"] == "nightly-extract"

    run = _final(glue, "extract")
    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
    assert run["TriggerName"] == "nightly-extract"
    assert run["Arguments"]["--day"] == "2024-01-02"

    firings = _native(aws_server, "/triggers/nightly-extract/runs")["items"]
    assert len(firings) == 1
    firing = firings[0]
    assert firing["reason"] == "MANUAL"
    assert firing["status"] == "SUCCEEDED"
    assert firing["started"] == [
        {"action": 0, "kind": "job", "target": "extract", "run_id": run["Id"]}
    ]
    assert firing["history"][0]["outcome"] == "SUCCEEDED"
    assert "nightly-extract" in glue.list_triggers()["TriggerNames"]
    assert "nightly-extract" in glue.list_triggers(DependentJobName="extract")["TriggerNames"]
    assert glue.list_triggers(DependentJobName="load")["TriggerNames"] == []


def test_conditional_chain_and_failure_branch(glue: Any, aws_server: ServerProcess) -> None:
    glue.create_trigger(
        Name="after-extract",
        Type="CONDITIONAL",
        StartOnCreation=True,
        Predicate={
            "Logical": "AND",
            "Conditions": [
                {"LogicalOperator": "EQUALS", "JobName": "transform", "State": "SUCCEEDED"}
            ],
        },
        Actions=[{"JobName": "load", "Arguments": {"--stage": "after-transform"}}],
    )
    glue.create_trigger(
        Name="on-broken",
        Type="CONDITIONAL",
        StartOnCreation=True,
        Predicate={
            "Logical": "ANY",
            "Conditions": [
                {"JobName": "broken", "State": "FAILED"},
                {"JobName": "broken", "State": "TIMEOUT"},
            ],
        },
        Actions=[{"JobName": "cleanup"}],
    )
    assert glue.get_trigger(Name="after-extract")["Trigger"]["State"] == "ACTIVATED"

    glue.start_job_run(JobName="transform")
    assert _final(glue, "transform")["JobRunState"] == "SUCCEEDED"
    load = _final(glue, "load")
    assert load["JobRunState"] == "SUCCEEDED", load.get("ErrorMessage")
    assert load["TriggerName"] == "after-extract"
    assert load["Arguments"]["--stage"] == "after-transform"

    glue.start_job_run(JobName="broken")
    assert _final(glue, "broken")["JobRunState"] == "FAILED"
    cleanup = _final(glue, "cleanup")
    assert cleanup["TriggerName"] == "on-broken"
    firing = _native(aws_server, "/triggers/on-broken/runs")["items"][0]
    assert firing["reason"] == "CONDITION"
    assert firing["event"]["jobName"] == "broken"
    assert firing["event"]["state"] == "FAILED"

    # stopped: the next success of transform starts nothing
    glue.stop_trigger(Name="after-extract")
    assert glue.get_trigger(Name="after-extract")["Trigger"]["State"] == "DEACTIVATED"
    glue.start_job_run(JobName="transform")
    _wait(lambda: len(glue.get_job_runs(JobName="transform")["JobRuns"]) == 2)
    _wait(
        lambda: glue.get_job_runs(JobName="transform")["JobRuns"][0]["JobRunState"] == "SUCCEEDED"
    )
    time.sleep(1.0)
    assert len(glue.get_job_runs(JobName="load")["JobRuns"]) == 1


def test_scheduled_trigger_update_and_delete(glue: Any) -> None:
    glue.create_trigger(
        Name="hourly",
        Type="SCHEDULED",
        Schedule="cron(15 * * * ? *)",
        Actions=[{"JobName": "extract"}],
        StartOnCreation=True,
    )
    got = glue.get_trigger(Name="hourly")["Trigger"]
    assert (got["Schedule"], got["State"]) == ("cron(15 * * * ? *)", "ACTIVATED")
    updated = glue.update_trigger(
        Name="hourly", TriggerUpdate={"Schedule": "cron(0 12 * * ? *)", "Description": "noon"}
    )["Trigger"]
    assert updated["Schedule"] == "cron(0 12 * * ? *)"
    assert updated["Description"] == "noon"
    assert updated["Actions"] == [{"JobName": "extract"}]
    assert "hourly" in [t["Name"] for t in glue.get_triggers()["Triggers"]]
    glue.delete_trigger(Name="hourly")
    with pytest.raises(ClientError) as gone:
        glue.get_trigger(Name="hourly")
    assert gone.value.response["Error"]["Code"] == "EntityNotFoundException"


@pytest.mark.parametrize(
    ("fields", "code", "says"),
    [
        (
            {"Type": "ON_DEMAND", "Actions": [{"JobName": "no-such-job"}]},
            "EntityNotFoundException",
            "no-such-job",
        ),
        (
            {
                "Type": "CONDITIONAL",
                "Predicate": {"Conditions": [{"JobName": "ghost", "State": "SUCCEEDED"}]},
                "Actions": [{"JobName": "load"}],
            },
            "EntityNotFoundException",
            "ghost",
        ),
        (
            {
                "Type": "SCHEDULED",
                "Schedule": "cron(0 25 * * ? *)",
                "Actions": [{"JobName": "load"}],
            },
            "InvalidInputException",
            "hours",
        ),
        (
            {"Type": "SCHEDULED", "Schedule": "rate(5 minutes)", "Actions": [{"JobName": "load"}]},
            "InvalidInputException",
            "cron(...) expressions only",
        ),
        (
            {"Type": "SCHEDULED", "Actions": [{"JobName": "load"}]},
            "InvalidInputException",
            "needs schedule",
        ),
        (
            {"Type": "CONDITIONAL", "Actions": [{"JobName": "load"}]},
            "InvalidInputException",
            "needs predicate",
        ),
        (
            {"Type": "ON_DEMAND", "StartOnCreation": True, "Actions": [{"JobName": "load"}]},
            "InvalidInputException",
            "StartOnCreation",
        ),
        (
            {"Type": "ON_DEMAND", "Actions": [{"JobName": "load", "CrawlerName": "c"}]},
            "InvalidInputException",
            "exactly one of",
        ),
        (
            {"Type": "ON_DEMAND", "Actions": []},
            "InvalidInputException",
            "Actions",
        ),
    ],
)
def test_bad_triggers_refused(glue: Any, fields: dict[str, Any], code: str, says: str) -> None:
    with pytest.raises(ClientError) as refused:
        glue.create_trigger(Name="bad", **fields)
    error = refused.value.response["Error"]
    assert error["Code"] == code
    assert says in error["Message"]
    assert "bad" not in glue.list_triggers()["TriggerNames"]


def test_duplicate_and_missing_trigger(glue: Any) -> None:
    glue.create_trigger(Name="twice", Type="ON_DEMAND", Actions=[{"JobName": "load"}])
    with pytest.raises(ClientError) as dup:
        glue.create_trigger(Name="twice", Type="ON_DEMAND", Actions=[{"JobName": "load"}])
    assert dup.value.response["Error"]["Code"] == "AlreadyExistsException"
    with pytest.raises(ClientError) as missing:
        glue.start_trigger(Name="never-made")
    assert missing.value.response["Error"]["Code"] == "EntityNotFoundException"
    with pytest.raises(ClientError) as stop:
        glue.stop_trigger(Name="twice")
    assert "ON_DEMAND" in stop.value.response["Error"]["Message"]


def test_cloudwatch_logs_of_glue_runs_and_functions(glue: Any, client: ClientFactory) -> None:
    import io
    import zipfile

    logs, lam = client("logs"), client("lambda")
    run_id = glue.start_job_run(JobName="extract", Arguments={"--day": "logged"})["JobRunId"]
    _wait(
        lambda: (
            glue.get_job_run(JobName="extract", RunId=run_id)["JobRun"]["JobRunState"]
            == "SUCCEEDED"
        )
    )
    got = logs.get_log_events(
        logGroupName="/aws-glue/python-jobs/output", logStreamName=run_id, startFromHead=True
    )
    assert any("'--day', 'logged'" in e["message"] for e in got["events"])
    again = logs.get_log_events(
        logGroupName="/aws-glue/python-jobs/output",
        logStreamName=run_id,
        nextToken=got["nextForwardToken"],
    )
    assert again["events"] == []
    assert again["nextForwardToken"] == got["nextForwardToken"]

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("fn.py", "def h(e, c):\n    print('hello from', e['who'])\n")
    lam.create_function(
        FunctionName="logged-fn",
        Runtime="python3.11",
        Role="r",
        Handler="fn.h",
        Code={"ZipFile": buffer.getvalue()},
    )
    lam.invoke(FunctionName="logged-fn", Payload=b'{"who": "boto3"}')
    names = [g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]]
    assert {"/aws/lambda/logged-fn", "/aws-glue/python-jobs/output"} <= set(names)
    [stream] = logs.describe_log_streams(logGroupName="/aws/lambda/logged-fn")["logStreams"]
    assert "[$LATEST]" in stream["logStreamName"]
    found = logs.filter_log_events(logGroupName="/aws/lambda/logged-fn", filterPattern="hello")
    assert [e["message"] for e in found["events"]] == ["hello from boto3"]
    messages = [
        e["message"]
        for e in logs.get_log_events(
            logGroupName="/aws/lambda/logged-fn",
            logStreamName=stream["logStreamName"],
            startFromHead=True,
        )["events"]
    ]
    assert messages[0].startswith("START RequestId: ")
    assert messages[-1].startswith("REPORT RequestId: ")
    with pytest.raises(ClientError) as missing:
        logs.describe_log_streams(logGroupName="/aws/lambda/no-such-fn")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_trigger_listings_page_by_name(glue: Any) -> None:
    for name in ("page-a", "page-b", "page-c"):
        glue.create_trigger(Name=name, Type="ON_DEMAND", Actions=[{"JobName": "extract"}])
    names: list[str] = []
    token: dict[str, str] = {}
    while True:
        page = glue.list_triggers(MaxResults=1, **token)
        assert len(page["TriggerNames"]) <= 1
        names += page["TriggerNames"]
        if "NextToken" not in page:
            break
        token = {"NextToken": page["NextToken"]}
    assert names == sorted(names)
    assert len(names) == len(set(names))
    assert {"page-a", "page-b", "page-c"} <= set(names)
    pages = glue.get_paginator("get_triggers").paginate(PaginationConfig={"PageSize": 2})
    listed = [t["Name"] for p in pages for t in p["Triggers"]]
    assert listed == names
    with pytest.raises(ClientError) as too_many:
        glue.list_triggers(MaxResults=500)
    assert too_many.value.response["Error"]["Code"] == "InvalidInputException"
    assert "MaxResults must be an integer from 1 to 200" in str(too_many.value)
