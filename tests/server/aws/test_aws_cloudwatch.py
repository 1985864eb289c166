"""CloudWatch alarms through boto3 (Smithy RPC v2 CBOR) against a real server process."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.server.aws.conftest import ClientFactory


@pytest.fixture(scope="module")
def cloudwatch(client: ClientFactory) -> Iterator[Any]:
    """boto3 ``cloudwatch``."""
    cw = client("cloudwatch")
    yield cw
    cw.close()


def _alarm(name: str, **changes: Any) -> dict[str, Any]:
    alarm: dict[str, Any] = {
        "AlarmName": name,
        "Namespace": "AWS/SageMaker",
        "MetricName": "Invocation5XXErrors",
        "Statistic": "Average",
        "Dimensions": [
            {"Name": "EndpointName", "Value": "ep"},
            {"Name": "VariantName", "Value": "AllTraffic"},
        ],
        "Period": 60,
        "EvaluationPeriods": 2,
        "DatapointsToAlarm": 1,
        "Threshold": 0.01,
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "notBreaching",
    }
    alarm.update(changes)
    return alarm


def test_put_describe_delete(cloudwatch: Any) -> None:
    cloudwatch.put_metric_alarm(**_alarm("cw-errors"))
    cloudwatch.put_metric_alarm(
        **_alarm("cw-latency", MetricName="ModelLatency", Statistic="Maximum", Threshold=5e5)
    )
    described = cloudwatch.describe_alarms(AlarmNames=["cw-errors"])["MetricAlarms"]
    (alarm,) = described
    assert alarm["AlarmArn"] == "arn:aws:cloudwatch:us-east-1:000000000000:alarm:cw-errors"
    assert alarm["StateValue"] == "INSUFFICIENT_DATA"
    assert alarm["Dimensions"][1] == {"Name": "VariantName", "Value": "AllTraffic"}
    assert alarm["Threshold"] == 0.01
    assert alarm["StateUpdatedTimestamp"].tzinfo is not None
    prefixed = cloudwatch.describe_alarms(AlarmNamePrefix="cw-")["MetricAlarms"]
    assert [a["AlarmName"] for a in prefixed] == ["cw-errors", "cw-latency"]
    assert cloudwatch.describe_alarms(StateValue="ALARM")["MetricAlarms"] == []
    cloudwatch.delete_alarms(AlarmNames=["cw-errors", "cw-latency"])
    assert cloudwatch.describe_alarms(AlarmNamePrefix="cw-")["MetricAlarms"] == []


def _error(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    error: dict[str, Any] = caught.value.response["Error"]
    return error


def test_bad_alarms_are_refused(cloudwatch: Any) -> None:
    metric = _error(cloudwatch.put_metric_alarm, **_alarm("bad", MetricName="CPUUtilization"))
    assert metric["Code"] == "InvalidParameterValue"
    assert "MetricName 'CPUUtilization' is not a metric Lakeworks keeps" in metric["Message"]
    namespace = _error(cloudwatch.put_metric_alarm, **_alarm("bad", Namespace="AWS/EC2"))
    assert "Namespace" in namespace["Message"]
    assert "AWS/SageMaker" in namespace["Message"]
    period = _error(cloudwatch.put_metric_alarm, **_alarm("bad", Period=45))
    assert "Period must be 1, 5, 10, 20, 30 or a multiple of 60" in period["Message"]
    missing = _error(cloudwatch.delete_alarms, AlarmNames=["never-made"])
    assert missing["Code"] == "ResourceNotFound"
    assert "never-made" in missing["Message"]
    assert cloudwatch.describe_alarms(AlarmNames=["bad"])["MetricAlarms"] == []
