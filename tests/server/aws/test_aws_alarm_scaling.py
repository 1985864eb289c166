"""The AWS recipe for scaling an async endpoint out of zero, with boto3 alone, against a real
server: PutScalingPolicy (StepScaling) returns a PolicyARN, PutMetricAlarm on
HasBacklogWithoutCapacity names it in AlarmActions, and a request queued at zero instances puts
the alarm in ALARM, which runs the policy: an instance starts and writes the output. Actions that
cannot run (an unknown policy, an SNS topic, a target tracking policy) are refused."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.hosting.support import tar_gz, wait_for_endpoint
from tests.server.aws.conftest import ClientFactory

from lakeworks.testing.process import ServerProcess, server_process

ROLE = "arn:aws:iam::000000000000:role/SageMakerRole"
SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
BUCKET = "alarmed"
ENDPOINT = "alarmed-ep"
MODEL = """
def model_fn(model_dir):
    return None

def transform_fn(model, data, content_type, accept):
    data = data if isinstance(data, str) else data.decode()
    return str(3 * sum(float(v) for v in data.split(","))), "text/csv"
"""
TARGET = {
    "ServiceNamespace": "sagemaker",
    "ResourceId": f"endpoint/{ENDPOINT}/variant/AllTraffic",
    "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
}
STEP = {
    "AdjustmentType": "ChangeInCapacity",
    "StepAdjustments": [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}],
    "Cooldown": 1,
}


@pytest.fixture(scope="module")
def aws_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server that runs autoscaling passes every 0.2 s."""
    env = {
        "LAKEWORKS_HOSTING_AUTOSCALING_INTERVAL_SECONDS": "0.2",
        "LAKEWORKS_HOSTING_AUTOSCALING_WINDOW_SECONDS": "1.0",
        "LAKEWORKS_HOSTING_HEALTH_INTERVAL_SECONDS": "0.2",
    }
    with server_process(tmp_path_factory.mktemp("alarmed") / "home", env=env) as server:
        yield server


@pytest.fixture(scope="module")
def clients(client: ClientFactory) -> Iterator[dict[str, Any]]:
    """boto3 clients; an async endpoint whose variant may scale 0-1, with a step policy."""
    made = {
        name: client(name)
        for name in ("sagemaker", "application-autoscaling", "cloudwatch", "s3",
                     "sagemaker-runtime")
    }  # fmt: skip
    sm, s3 = made["sagemaker"], made["s3"]
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(
        Bucket=BUCKET, Key="model.tar.gz", Body=tar_gz({"code/inference.py": MODEL.encode()})
    )
    sm.create_model(
        ModelName="tripler",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": SKLEARN_IMAGE, "ModelDataUrl": f"s3://{BUCKET}/model.tar.gz"},
    )
    sm.create_endpoint_config(
        EndpointConfigName="alarmed-config",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "tripler",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
        AsyncInferenceConfig={"OutputConfig": {"S3OutputPath": f"s3://{BUCKET}/out"}},
    )
    sm.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName="alarmed-config")
    assert wait_for_endpoint(sm, ENDPOINT)["EndpointStatus"] == "InService"
    # MaxCapacity 1: the native path (a step policy no alarm names yet) cannot scale past it.
    made["application-autoscaling"].register_scalable_target(**TARGET, MinCapacity=0, MaxCapacity=1)
    yield made
    for made_client in made.values():
        made_client.close()


def _alarm(name: str, **changes: Any) -> dict[str, Any]:
    return {
        "AlarmName": name,
        "Namespace": "AWS/SageMaker",
        "MetricName": "HasBacklogWithoutCapacity",
        "Statistic": "Average",
        "Dimensions": [{"Name": "EndpointName", "Value": ENDPOINT}],
        "Period": 1,
        "EvaluationPeriods": 1,
        "Threshold": 1,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        **changes,
    }


def _error(call: Any, **kwargs: Any) -> dict[str, str]:
    with pytest.raises(ClientError) as exc:
        call(**kwargs)
    return dict(exc.value.response["Error"])


def _wait_for(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def _instances(sm: Any) -> int:
    variant = sm.describe_endpoint(EndpointName=ENDPOINT)["ProductionVariants"][0]
    return int(variant.get("CurrentInstanceCount", 0))


def test_actions_that_cannot_run_are_refused(clients: dict[str, Any]) -> None:
    cw, aas = clients["cloudwatch"], clients["application-autoscaling"]
    unknown = (
        "arn:aws:autoscaling:us-east-1:000000000000:scalingPolicy:00000000-0000-0000-0000-"
        f"000000000000:resource/sagemaker/{TARGET['ResourceId']}:policyName/nope"
    )
    error = _error(cw.put_metric_alarm, **_alarm("bad", AlarmActions=[unknown]))
    assert error["Code"] == "ValidationError"
    assert f"No scaling policy has ARN {unknown!r}" in error["Message"]
    sns = "arn:aws:sns:us-east-1:000000000000:alerts"
    error = _error(cw.put_metric_alarm, **_alarm("bad", OKActions=[sns]))
    assert error["Code"] == "ValidationError"
    assert "OKActions names" in error["Message"]
    assert "Lakeworks delivers no notifications" in (error["Message"])
    assert "allowed actions are scaling policies of this server" in error["Message"]
    error = _error(cw.put_metric_alarm, **_alarm("bad", AlarmActions=["not-an-arn"]))
    assert error["Code"] == "InvalidParameterValue"
    assert "AlarmActions" in error["Message"]
    tracking = aas.put_scaling_policy(
        PolicyName="tracking",
        **TARGET,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 1000.0,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
            },
            "DisableScaleIn": True,
        },
    )["PolicyARN"]
    error = _error(cw.put_metric_alarm, **_alarm("bad", AlarmActions=[tracking]))
    assert "only StepScaling policies can be alarm actions" in error["Message"]
    aas.delete_scaling_policy(PolicyName="tracking", **TARGET)
    assert not cw.describe_alarms(AlarmNames=["bad"])["MetricAlarms"]


def test_a_backlog_alarm_runs_a_step_policy_that_scales_out_of_zero(
    clients: dict[str, Any],
) -> None:
    sm, aas, cw, s3 = (clients[n] for n in ("sagemaker", "application-autoscaling",
                                             "cloudwatch", "s3"))  # fmt: skip
    policy_arn = aas.put_scaling_policy(
        PolicyName="backlog-step",
        **TARGET,
        PolicyType="StepScaling",
        StepScalingPolicyConfiguration=STEP,
    )["PolicyARN"]
    cw.put_metric_alarm(**_alarm("backlog-alarm", AlarmActions=[policy_arn]))
    described = cw.describe_alarms(AlarmNames=["backlog-alarm"])["MetricAlarms"][0]
    assert described["AlarmActions"] == [policy_arn]
    assert described["OKActions"] == []
    policy = aas.describe_scaling_policies(
        ServiceNamespace="sagemaker", PolicyNames=["backlog-step"]
    )["ScalingPolicies"][0]
    assert policy["Alarms"] == [{"AlarmName": "backlog-alarm", "AlarmARN": described["AlarmArn"]}]
    # Replacing the policy keeps its ARN, so the alarm still names it.
    again = aas.put_scaling_policy(
        PolicyName="backlog-step",
        **TARGET,
        PolicyType="StepScaling",
        StepScalingPolicyConfiguration=STEP,
    )
    assert again["PolicyARN"] == policy_arn

    sm.update_endpoint_weights_and_capacities(
        EndpointName=ENDPOINT,
        DesiredWeightsAndCapacities=[{"VariantName": "AllTraffic", "DesiredInstanceCount": 0}],
    )
    _wait_for(lambda: _instances(sm) == 0, 60, "the variant to reach zero instances")
    assert wait_for_endpoint(sm, ENDPOINT)["EndpointStatus"] == "InService"
    # Nothing queued: the alarm is OK and the linked policy does nothing (no native threshold).
    _wait_for(
        lambda: (
            cw.describe_alarms(AlarmNames=["backlog-alarm"])["MetricAlarms"][0]["StateValue"]
            == "OK"
        ),
        30,
        "the alarm to be OK",
    )
    time.sleep(1.0)
    assert _instances(sm) == 0

    s3.put_object(Bucket=BUCKET, Key="in/row.csv", Body=b"1,2,3")
    accepted = clients["sagemaker-runtime"].invoke_endpoint_async(
        EndpointName=ENDPOINT, InputLocation=f"s3://{BUCKET}/in/row.csv", ContentType="text/csv"
    )
    _wait_for(lambda: _instances(sm) >= 1, 60, "the alarm's policy to start an instance")
    bucket, _, key = accepted["OutputLocation"].removeprefix("s3://").partition("/")

    def written() -> bool:
        try:
            s3.head_object(Bucket=bucket, Key=key)
        except ClientError:
            return False
        return True

    _wait_for(written, 60, "the output object")
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"18.0"
    causes = [
        a["Cause"]
        for a in aas.describe_scaling_activities(
            ServiceNamespace="sagemaker", ResourceId=TARGET["ResourceId"]
        )["ScalingActivities"]
    ]
    assert any(
        c.startswith(
            "monitor alarm backlog-alarm in state ALARM triggered policy backlog-step: "
            "metric 1 vs threshold 1: step +1 to 1"
        )
        for c in causes
    ), causes
