"""Async inference scales to zero through boto3 against a real server: a variant of an async
endpoint registers MinCapacity 0 (a real-time one may not), a target-tracking policy on
ApproximateBacklogSizePerInstance takes it to 0 instances while the queue is empty, and a
request queued at zero brings an instance back, which processes it and writes the output."""

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
BUCKET = "zero"
DIMENSION = "sagemaker:variant:DesiredInstanceCount"
MODEL = """
def model_fn(model_dir):
    return None

def transform_fn(model, data, content_type, accept):
    data = data if isinstance(data, str) else data.decode()
    return str(2 * sum(float(v) for v in data.split(","))), "text/csv"
"""
BACKLOG_POLICY = {
    "TargetValue": 1.0,
    "CustomizedMetricSpecification": {
        "MetricName": "ApproximateBacklogSizePerInstance",
        "Namespace": "AWS/SageMaker",
        "Dimensions": [{"Name": "EndpointName", "Value": "zero-ep"}],
        "Statistic": "Average",
    },
    "ScaleInCooldown": 1,
    "ScaleOutCooldown": 1,
}


@pytest.fixture(scope="module")
def aws_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server that samples metrics every 0.2 s over a 1 s window."""
    env = {
        "LAKEWORKS_HOSTING_AUTOSCALING_INTERVAL_SECONDS": "0.2",
        "LAKEWORKS_HOSTING_AUTOSCALING_WINDOW_SECONDS": "1.0",
        "LAKEWORKS_HOSTING_HEALTH_INTERVAL_SECONDS": "0.2",
    }
    with server_process(tmp_path_factory.mktemp("zero") / "home", env=env) as server:
        yield server


@pytest.fixture(scope="module")
def sm(client: ClientFactory) -> Iterator[Any]:
    """boto3 ``sagemaker``, with an async endpoint ``zero-ep`` and a real-time ``live-ep``."""
    sagemaker = client("sagemaker")
    s3 = client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(
        Bucket=BUCKET, Key="model.tar.gz", Body=tar_gz({"code/inference.py": MODEL.encode()})
    )
    s3.close()
    sagemaker.create_model(
        ModelName="doubler",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": SKLEARN_IMAGE, "ModelDataUrl": f"s3://{BUCKET}/model.tar.gz"},
    )
    variants = [{"VariantName": "AllTraffic", "ModelName": "doubler", "InitialInstanceCount": 1,
                 "InstanceType": "ml.m5.large"}]  # fmt: skip
    sagemaker.create_endpoint_config(
        EndpointConfigName="zero-config",
        ProductionVariants=variants,
        AsyncInferenceConfig={"OutputConfig": {"S3OutputPath": f"s3://{BUCKET}/out"}},
    )
    sagemaker.create_endpoint_config(EndpointConfigName="live-config", ProductionVariants=variants)
    sagemaker.create_endpoint(EndpointName="zero-ep", EndpointConfigName="zero-config")
    sagemaker.create_endpoint(EndpointName="live-ep", EndpointConfigName="live-config")
    for name in ("zero-ep", "live-ep"):
        assert wait_for_endpoint(sagemaker, name)["EndpointStatus"] == "InService"
    yield sagemaker
    sagemaker.close()


@pytest.fixture(scope="module")
def aas(client: ClientFactory) -> Iterator[Any]:
    """boto3 ``application-autoscaling``."""
    autoscaling = client("application-autoscaling")
    yield autoscaling
    autoscaling.close()


def _instances(sm: Any, endpoint: str) -> int:
    variant = sm.describe_endpoint(EndpointName=endpoint)["ProductionVariants"][0]
    return int(variant.get("CurrentInstanceCount", 0))


def _wait_for(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def _target(endpoint: str) -> dict[str, str]:
    return {
        "ServiceNamespace": "sagemaker",
        "ResourceId": f"endpoint/{endpoint}/variant/AllTraffic",
        "ScalableDimension": DIMENSION,
    }


def test_min_capacity_zero_only_for_async_endpoints(sm: Any, aas: Any) -> None:
    with pytest.raises(ClientError) as exc:
        aas.register_scalable_target(**_target("live-ep"), MinCapacity=0, MaxCapacity=2)
    error = exc.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert (
        "MinCapacity 0 is only allowed for variants of asynchronous endpoints" in (error["Message"])
    )
    assert not aas.describe_scalable_targets(
        ServiceNamespace="sagemaker", ResourceIds=[_target("live-ep")["ResourceId"]]
    )["ScalableTargets"]
    with pytest.raises(ClientError) as exc:
        sm.update_endpoint_weights_and_capacities(
            EndpointName="live-ep",
            DesiredWeightsAndCapacities=[{"VariantName": "AllTraffic", "DesiredInstanceCount": 0}],
        )
    assert "0 only for asynchronous endpoints" in exc.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as exc:
        aas.put_scaling_policy(
            PolicyName="bad",
            **_target("zero-ep"),
            PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={**BACKLOG_POLICY},
        )
    assert exc.value.response["Error"]["Code"] == "ObjectNotFoundException"


def test_empty_queue_scales_to_zero_and_a_request_scales_back_out(
    sm: Any, aas: Any, client: ClientFactory
) -> None:
    aas.register_scalable_target(**_target("zero-ep"), MinCapacity=0, MaxCapacity=2)
    with pytest.raises(ClientError) as exc:
        aas.put_scaling_policy(
            PolicyName="bad-statistic",
            **_target("zero-ep"),
            PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                **BACKLOG_POLICY,
                "CustomizedMetricSpecification": {
                    **BACKLOG_POLICY["CustomizedMetricSpecification"],  # type: ignore[dict-item]
                    "Statistic": "Sum",
                },
            },
        )
    assert (
        "Statistic Sum is not available for ApproximateBacklogSizePerInstance"
        in (exc.value.response["Error"]["Message"])
    )
    aas.put_scaling_policy(
        PolicyName="backlog",
        **_target("zero-ep"),
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration=BACKLOG_POLICY,
    )
    # The queue is empty: after the cooldown the variant goes to zero instances.
    _wait_for(lambda: _instances(sm, "zero-ep") == 0, 60, "the variant to scale to zero")
    described = sm.describe_endpoint(EndpointName="zero-ep")
    assert described["EndpointStatus"] == "InService"
    assert described["ProductionVariants"][0]["DesiredInstanceCount"] == 0

    s3 = client("s3")
    runtime = client("sagemaker-runtime")
    try:
        s3.put_object(Bucket=BUCKET, Key="in/row.csv", Body=b"1,2,3")
        accepted = runtime.invoke_endpoint_async(
            EndpointName="zero-ep",
            InputLocation=f"s3://{BUCKET}/in/row.csv",
            ContentType="text/csv",
        )
        # The queued request brings an instance back, which processes it.
        _wait_for(lambda: _instances(sm, "zero-ep") >= 1, 60, "an instance to start")
        bucket, _, key = accepted["OutputLocation"].removeprefix("s3://").partition("/")

        def written() -> bool:
            try:
                s3.head_object(Bucket=bucket, Key=key)
            except ClientError:
                return False
            return True

        _wait_for(written, 60, "the output object")
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"12.0"
    finally:
        s3.close()
        runtime.close()
    activities = aas.describe_scaling_activities(
        ServiceNamespace="sagemaker", ResourceId=_target("zero-ep")["ResourceId"]
    )["ScalingActivities"]
    descriptions = [a["Description"] for a in activities]
    assert "Setting desired instance count to 0." in descriptions
    assert "Setting desired instance count to 1." in descriptions
    # Idle again: back to zero.
    _wait_for(lambda: _instances(sm, "zero-ep") == 0, 60, "the variant to scale to zero again")
