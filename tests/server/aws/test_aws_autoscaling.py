"""Application Auto Scaling through boto3 against a real server with real model servers: a
target-tracking policy adds instances under load and removes them when idle; bad requests get
the errors AWS gives."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.hosting.support import train_xgboost, xgboost_archive
from tests.server.aws.conftest import ClientFactory

from lakeworks.testing.process import ServerProcess, server_process

ROLE = "arn:aws:iam::000000000000:role/SageMakerRole"
XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
BUCKET = "autoscaling-tests"
ENDPOINT = "scaled-endpoint"
RESOURCE = f"endpoint/{ENDPOINT}/variant/AllTraffic"
DIMENSION = "sagemaker:variant:DesiredInstanceCount"
TARGET = {"ServiceNamespace": "sagemaker", "ResourceId": RESOURCE, "ScalableDimension": DIMENSION}


@pytest.fixture(scope="module")
def aws_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server that samples metrics every 0.2 s over a 1.5 s window."""
    env = {
        "LAKEWORKS_HOSTING_AUTOSCALING_INTERVAL_SECONDS": "0.2",
        "LAKEWORKS_HOSTING_AUTOSCALING_WINDOW_SECONDS": "1.5",
        "LAKEWORKS_HOSTING_HEALTH_INTERVAL_SECONDS": "0.2",
    }
    with server_process(tmp_path_factory.mktemp("autoscaling") / "home", env=env) as server:
        yield server


@pytest.fixture(scope="module")
def sm(client: ClientFactory) -> Iterator[Any]:
    """boto3 ``sagemaker``."""
    sagemaker = client("sagemaker")
    yield sagemaker
    sagemaker.close()


@pytest.fixture(scope="module")
def aas(client: ClientFactory) -> Iterator[Any]:
    """boto3 ``application-autoscaling``."""
    autoscaling = client("application-autoscaling")
    yield autoscaling
    autoscaling.close()


@pytest.fixture(scope="module")
def endpoint(client: ClientFactory, sm: Any) -> str:
    """An XGBoost endpoint with one instance of variant AllTraffic."""
    s3 = client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="model.tar.gz", Body=xgboost_archive(train_xgboost()))
    s3.close()
    sm.create_model(
        ModelName="scaled",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": XGBOOST_IMAGE, "ModelDataUrl": f"s3://{BUCKET}/model.tar.gz"},
    )
    sm.create_endpoint_config(
        EndpointConfigName="scaled-config",
        ProductionVariants=[
            {"VariantName": "AllTraffic", "ModelName": "scaled", "InitialInstanceCount": 1,
             "InstanceType": "ml.m5.large"}
        ],
    )  # fmt: skip
    sm.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName="scaled-config")
    sm.get_waiter("endpoint_in_service").wait(
        EndpointName=ENDPOINT, WaiterConfig={"Delay": 0.25, "MaxAttempts": 400}
    )
    return ENDPOINT


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def _instances(sm: Any) -> int:
    variant = sm.describe_endpoint(EndpointName=ENDPOINT)["ProductionVariants"][0]
    return int(variant.get("CurrentInstanceCount", 0))


def _wait_for(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_register_describe_and_deregister(aas: Any, endpoint: str) -> None:
    arn = aas.register_scalable_target(**TARGET, MinCapacity=1, MaxCapacity=2)["ScalableTargetARN"]
    assert arn.startswith("arn:aws:application-autoscaling:us-east-1:000000000000:")
    targets = aas.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"]
    assert [(t["ResourceId"], t["MinCapacity"], t["MaxCapacity"]) for t in targets] == [
        (RESOURCE, 1, 2)
    ]
    # re-registering changes only what is given
    aas.register_scalable_target(**TARGET, MaxCapacity=3)
    (target,) = aas.describe_scalable_targets(ServiceNamespace="sagemaker", ResourceIds=[RESOURCE])[
        "ScalableTargets"
    ]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (1, 3)
    assert target["SuspendedState"]["DynamicScalingInSuspended"] is False
    aas.put_scaling_policy(
        PolicyName="steps",
        PolicyType="StepScaling",
        StepScalingPolicyConfiguration={
            "AdjustmentType": "ChangeInCapacity",
            "StepAdjustments": [
                {"MetricIntervalUpperBound": 100.0, "ScalingAdjustment": 0},
                {"MetricIntervalLowerBound": 100.0, "ScalingAdjustment": 1},
            ],
            "Cooldown": 30,
            "MetricAggregationType": "Maximum",
        },
        **TARGET,
    )
    (policy,) = aas.describe_scaling_policies(ServiceNamespace="sagemaker", ResourceId=RESOURCE)[
        "ScalingPolicies"
    ]
    assert policy["PolicyName"] == "steps"
    assert policy["StepScalingPolicyConfiguration"]["MetricAggregationType"] == "Maximum"
    assert policy["PolicyARN"].endswith(f":resource/sagemaker/{RESOURCE}:policyName/steps")
    aas.deregister_scalable_target(**TARGET)
    assert aas.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"] == []
    # the policies went with the target
    assert aas.describe_scaling_policies(ServiceNamespace="sagemaker")["ScalingPolicies"] == []


def test_bad_targets_are_validation_errors(aas: Any, endpoint: str) -> None:
    cases = [
        ({**TARGET, "ResourceId": "endpoint/nope/variant/AllTraffic"}, "does not exist"),
        ({**TARGET, "ResourceId": f"endpoint/{ENDPOINT}/variant/Other"}, "AllTraffic"),
        ({**TARGET, "ResourceId": f"endpoint/{ENDPOINT}"}, "endpoint/<endpoint-name>"),
        ({**TARGET, "ScalableDimension": "sagemaker:variant:DesiredProvisionedConcurrency"},
         DIMENSION),
        ({**TARGET, "ServiceNamespace": "ecs"}, "ServiceNamespace sagemaker"),
    ]  # fmt: skip
    for target, hint in cases:
        with pytest.raises(ClientError) as exc:
            aas.register_scalable_target(**target, MinCapacity=1, MaxCapacity=2)
        assert _code(exc) == "ValidationException"
        assert hint in exc.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as exc:
        aas.register_scalable_target(**TARGET, MinCapacity=3, MaxCapacity=2)
    assert _code(exc) == "ValidationException"
    assert "MinCapacity 3 must not be greater than MaxCapacity 2" in str(exc.value)
    with pytest.raises(ClientError) as exc:
        aas.register_scalable_target(**TARGET, MinCapacity=1)
    assert "MinCapacity and MaxCapacity are required" in str(exc.value)
    with pytest.raises(ClientError) as exc:
        aas.deregister_scalable_target(**TARGET)
    assert _code(exc) == "ObjectNotFoundException"
    assert aas.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"] == []


def test_bad_policies(aas: Any, endpoint: str) -> None:
    tracking = {"TargetValue": 10.0, "PredefinedMetricSpecification": {
        "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"}}  # fmt: skip
    with pytest.raises(ClientError) as exc:
        aas.put_scaling_policy(
            PolicyName="p",
            PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration=tracking,
            **TARGET,
        )
    assert _code(exc) == "ObjectNotFoundException"
    assert "No scalable target registered" in str(exc.value)
    aas.register_scalable_target(**TARGET, MinCapacity=1, MaxCapacity=2)
    try:
        bad = [
            ({**tracking, "PredefinedMetricSpecification": {
                "PredefinedMetricType": "ECSServiceAverageCPUUtilization"}},
             "SageMakerVariantInvocationsPerInstance"),
            ({"TargetValue": 10.0, "CustomizedMetricSpecification": {
                "MetricName": "CPUUtilization", "Namespace": "AWS/SageMaker",
                "Statistic": "Average"}}, "ModelLatency"),
            ({"TargetValue": 10.0, "CustomizedMetricSpecification": {
                "MetricName": "ModelLatency", "Statistic": "Average", "Dimensions": [
                    {"Name": "EndpointName", "Value": "other"}]}}, "does not match"),
            ({**tracking, "TargetValue": 0.0}, "above 0"),
        ]  # fmt: skip
        for config, hint in bad:
            with pytest.raises(ClientError) as exc:
                aas.put_scaling_policy(
                    PolicyName="p",
                    PolicyType="TargetTrackingScaling",
                    TargetTrackingScalingPolicyConfiguration=config,
                    **TARGET,
                )
            assert _code(exc) == "ValidationException"
            assert hint in exc.value.response["Error"]["Message"]
        with pytest.raises(ClientError) as exc:
            aas.put_scaling_policy(
                PolicyName="gaps",
                PolicyType="StepScaling",
                StepScalingPolicyConfiguration={"StepAdjustments": [
                    {"MetricIntervalUpperBound": 0.0, "ScalingAdjustment": -1},
                    {"MetricIntervalLowerBound": 10.0, "ScalingAdjustment": 1}]},
                **TARGET,
            )  # fmt: skip
        assert "must not overlap or leave gaps" in str(exc.value)
        with pytest.raises(ClientError) as exc:
            aas.put_scaling_policy(PolicyName="x", PolicyType="PredictiveScaling", **TARGET)
        assert "PredictiveScaling is not supported" in str(exc.value)
        with pytest.raises(ClientError) as exc:
            aas.delete_scaling_policy(PolicyName="absent", **TARGET)
        assert _code(exc) == "ObjectNotFoundException"
        assert aas.describe_scaling_policies(ServiceNamespace="sagemaker")["ScalingPolicies"] == []
    finally:
        aas.deregister_scalable_target(**TARGET)


def _load(client: ClientFactory, stop: threading.Event, failures: list[str]) -> None:
    runtime = client("sagemaker-runtime")
    try:
        while not stop.is_set():
            try:
                runtime.invoke_endpoint(
                    EndpointName=ENDPOINT, ContentType="text/csv", Body=b"0.1,0.2,0.3,0.4"
                )
            except ClientError as exc:  # counted, not fatal: the test is about capacity
                failures.append(str(exc))
    finally:
        runtime.close()


def test_load_adds_instances_and_idleness_removes_them(
    aas: Any, sm: Any, client: ClientFactory, endpoint: str
) -> None:
    aas.register_scalable_target(**TARGET, MinCapacity=1, MaxCapacity=3)
    aas.put_scaling_policy(
        PolicyName="invocations",
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 300.0,  # invocations per instance per minute: 5 per second
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
            },
            "ScaleOutCooldown": 1,
            "ScaleInCooldown": 1,
        },
        **TARGET,
    )
    stop, failures = threading.Event(), []
    threads = [threading.Thread(target=_load, args=(client, stop, failures)) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        _wait_for(lambda: _instances(sm) >= 2, 60, "a scale-out under load")
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    activities = aas.describe_scaling_activities(ServiceNamespace="sagemaker", ResourceId=RESOURCE)[
        "ScalingActivities"
    ]
    out = activities[-1]
    assert out["Description"].startswith("Setting desired instance count to ")
    assert int(out["Description"].split()[-1].rstrip(".")) >= 2
    assert "policy invocations" in out["Cause"]
    _wait_for(lambda: _instances(sm) == 1, 60, "a scale-in to MinCapacity when idle")
    _wait_for(
        lambda: all(
            a["StatusCode"] == "Successful"
            for a in aas.describe_scaling_activities(ServiceNamespace="sagemaker")[
                "ScalingActivities"
            ]
        ),
        30,
        "the activities to finish",
    )
    latest = aas.describe_scaling_activities(ServiceNamespace="sagemaker", ResourceId=RESOURCE)[
        "ScalingActivities"
    ][0]
    assert latest["Description"] == "Setting desired instance count to 1."
    assert latest["EndTime"] >= latest["StartTime"]
    described = sm.describe_endpoint(EndpointName=ENDPOINT)
    assert described["EndpointStatus"] == "InService"
    assert described["ProductionVariants"][0]["DesiredInstanceCount"] == 1
