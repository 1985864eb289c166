"""Blue/green endpoint updates through boto3 against a real server under a steady client load:
a canary moves traffic with no failed request, an alarm rolls a bad update back while the old
fleet keeps serving, and bad DeploymentConfigs are refused."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from tests.hosting.support import linear_archive, tar_gz, wait_for_endpoint
from tests.server.aws.conftest import ClientFactory

from lakeworks.testing.process import ServerProcess, server_process

ROLE = "arn:aws:iam::000000000000:role/SageMakerRole"
SKLEARN_IMAGE = "sagemaker-scikit-learn:1.2-1"
BUCKET = "deploy-tests"
#: A model whose every answer is a server error (a bad release).
BROKEN = """
def model_fn(model_dir):
    return None

def transform_fn(model, data, content_type, accept):
    raise RuntimeError("this release is broken")
"""


@pytest.fixture(scope="module")
def aws_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server for the module; instances checked every 0.2 s."""
    env = {"LAKEWORKS_HOSTING_HEALTH_INTERVAL_SECONDS": "0.2"}
    with server_process(tmp_path_factory.mktemp("deploy") / "home", env=env) as server:
        yield server


@pytest.fixture(scope="module")
def sm(client: ClientFactory) -> Iterator[Any]:
    """boto3 ``sagemaker``."""
    sagemaker = client("sagemaker")
    yield sagemaker
    sagemaker.close()


@pytest.fixture(scope="module")
def models(client: ClientFactory, sm: Any) -> dict[str, str]:
    """Three models: ``blue`` answers 4 for 1,1,1,1, ``green`` 104, ``broken`` a 500."""
    s3 = client("s3")
    s3.create_bucket(Bucket=BUCKET)
    archives = {
        "blue": linear_archive([1.0, 1.0, 1.0, 1.0], 0.0),
        "green": linear_archive([1.0, 1.0, 1.0, 1.0], 100.0),
        "broken": tar_gz({"code/inference.py": BROKEN.encode()}),
    }
    for name, archive in archives.items():
        s3.put_object(Bucket=BUCKET, Key=f"{name}/model.tar.gz", Body=archive)
        sm.create_model(
            ModelName=f"m-{name}",
            ExecutionRoleArn=ROLE,
            PrimaryContainer={
                "Image": SKLEARN_IMAGE,
                "ModelDataUrl": f"s3://{BUCKET}/{name}/model.tar.gz",
            },
        )
        sm.create_endpoint_config(
            EndpointConfigName=f"c-{name}",
            ProductionVariants=[
                {"VariantName": "AllTraffic", "ModelName": f"m-{name}",
                 "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}
            ],
        )  # fmt: skip
    s3.close()
    return {name: f"c-{name}" for name in archives}


@dataclass
class Load:
    """A steady client load on one endpoint (its own client, bounded in time)."""

    server: ServerProcess
    endpoint: str
    answers: list[tuple[float, str]] = field(default_factory=list)
    failures: list[tuple[float, str]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        env = self.server.aws_env()
        runtime = boto3.session.Session(
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            region_name="us-east-1",
        ).client(
            "sagemaker-runtime",
            endpoint_url=env["AWS_ENDPOINT_URL"],
            config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
        )
        deadline = time.monotonic() + 120
        while not self.stop.is_set() and time.monotonic() < deadline:
            try:
                body = runtime.invoke_endpoint(
                    EndpointName=self.endpoint,
                    ContentType="text/csv",
                    Accept="text/csv",
                    Body="1,1,1,1",
                )["Body"].read()
                self.answers.append((time.monotonic(), body.decode()))
            except ClientError as exc:
                self.failures.append((time.monotonic(), str(exc)))
            time.sleep(0.01)
        runtime.close()

    def __enter__(self) -> Load:
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()
        while not self.answers and not self.failures:
            time.sleep(0.01)
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join(timeout=30)


def _create(sm: Any, name: str, config: str) -> None:
    sm.create_endpoint(EndpointName=name, EndpointConfigName=config)
    assert wait_for_endpoint(sm, name)["EndpointStatus"] == "InService"


def _watch(sm: Any, name: str, timeout: float = 90.0) -> tuple[list[str], list[dict[str, Any]]]:
    """Poll DescribeEndpoint until InService again: the statuses seen and every answer."""
    seen: list[str] = []
    answers: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        described = sm.describe_endpoint(EndpointName=name)
        answers.append(described)
        if not seen or seen[-1] != described["EndpointStatus"]:
            seen.append(described["EndpointStatus"])
        if described["EndpointStatus"] == "InService" and len(seen) > 1:
            return seen, answers
        time.sleep(0.02)
    raise TimeoutError(f"endpoint {name} went through {seen}")


def _fleets(server: ServerProcess, endpoint: str) -> list[str]:
    root = Path(server.home, "hosting", "endpoints", endpoint)
    return sorted(p.name for p in root.iterdir() if p.is_dir()) if root.exists() else []


def test_canary_update_shifts_traffic_with_no_failed_request(
    sm: Any, models: dict[str, str], aws_server: ServerProcess
) -> None:
    _create(sm, "canary", models["blue"])
    (blue_fleet,) = _fleets(aws_server, "canary")
    with Load(aws_server, "canary") as load:
        sm.update_endpoint(
            EndpointName="canary",
            EndpointConfigName=models["green"],
            DeploymentConfig={
                "BlueGreenUpdatePolicy": {
                    "TrafficRoutingConfiguration": {
                        "Type": "CANARY",
                        "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 50},
                        "WaitIntervalInSeconds": 2,
                    },
                    "TerminationWaitInSeconds": 2,
                }
            },
        )
        seen, described = _watch(sm, "canary")
        done = time.monotonic()
        time.sleep(0.5)
    assert load.failures == []
    assert seen == ["Updating", "InService"]
    pending = [d["PendingDeploymentSummary"] for d in described if "PendingDeploymentSummary" in d]
    assert pending
    assert pending[0]["EndpointConfigName"] == models["green"]
    baking = [
        p["ProductionVariants"][0] for p in pending
        if p["ProductionVariants"][0]["VariantStatus"][0]["Status"] == "Baking"
    ]  # fmt: skip
    assert {v["CurrentWeight"] for v in baking} >= {0.5}
    # during the canary both fleets answered; once InService only the new one does
    first_green = min(t for t, body in load.answers if body == "104.0")
    assert any(body == "4.0" for t, body in load.answers if first_green < t < done - 2.5)
    assert {body for t, body in load.answers if t > done} == {"104.0"}
    final = described[-1]
    assert final["EndpointConfigName"] == models["green"]
    assert "PendingDeploymentSummary" not in final
    policy = final["LastDeploymentConfig"]["BlueGreenUpdatePolicy"]
    assert policy["TrafficRoutingConfiguration"]["Type"] == "CANARY"
    # the old fleet stays for TerminationWaitInSeconds, then stops
    assert blue_fleet in _fleets(aws_server, "canary")
    deadline = time.monotonic() + 20
    while blue_fleet in _fleets(aws_server, "canary"):
        assert time.monotonic() < deadline, "the old fleet was never retired"
        time.sleep(0.1)
    assert len(_fleets(aws_server, "canary")) == 1
    sm.delete_endpoint(EndpointName="canary")


def _put_alarm(client: ClientFactory, name: str, endpoint: str) -> None:
    cloudwatch = client("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        Namespace="AWS/SageMaker",
        MetricName="Invocation5XXErrors",
        Statistic="Average",
        Dimensions=[
            {"Name": "EndpointName", "Value": endpoint},
            {"Name": "VariantName", "Value": "AllTraffic"},
        ],
        Period=1,
        EvaluationPeriods=1,
        Threshold=0.05,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
    )
    (alarm,) = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    assert alarm["StateValue"] == "INSUFFICIENT_DATA"
    cloudwatch.close()


def test_alarm_rolls_back_and_the_old_fleet_keeps_serving(
    sm: Any, models: dict[str, str], aws_server: ServerProcess, client: ClientFactory
) -> None:
    _create(sm, "rollback", models["blue"])
    (blue_fleet,) = _fleets(aws_server, "rollback")
    _put_alarm(client, "rollback-5xx", "rollback")
    with Load(aws_server, "rollback") as load:
        sm.update_endpoint(
            EndpointName="rollback",
            EndpointConfigName=models["broken"],
            DeploymentConfig={
                "BlueGreenUpdatePolicy": {
                    "TrafficRoutingConfiguration": {
                        "Type": "LINEAR",
                        "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 20},
                        "WaitIntervalInSeconds": 20,
                    },
                },
                "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "rollback-5xx"}]},
            },
        )
        seen, described = _watch(sm, "rollback")
        done = time.monotonic()
        time.sleep(1.0)
    assert seen == ["Updating", "RollingBack", "InService"]
    final = described[-1]
    assert final["EndpointConfigName"] == models["blue"]
    assert "alarm rollback-5xx is in ALARM" in final["FailureReason"]
    assert f"update to endpoint config {models['broken']}" in final["FailureReason"]
    # only the new fleet's requests failed; the old fleet kept serving throughout and after
    assert load.failures
    assert all("this release is broken" in f for _, f in load.failures)
    assert {body for _, body in load.answers} == {"4.0"}
    assert any(t > done for t, _ in load.answers)
    assert not any(t > done for t, _ in load.failures)
    assert _fleets(aws_server, "rollback") == [blue_fleet]
    auth = {"Authorization": f"Bearer {aws_server.token}"}
    alarm = httpx.get(f"{aws_server.url}/api/v1/alarms/rollback-5xx", headers=auth).json()
    assert alarm["state_value"] in ("ALARM", "OK")  # OK once the errors stopped
    assert alarm["state_reason"].startswith("Threshold Crossed")
    sm.delete_endpoint(EndpointName="rollback")


def _error(call: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    return str(caught.value.response["Error"]["Message"])


def test_bad_deployment_configs_are_refused_and_change_nothing(
    sm: Any, models: dict[str, str], aws_server: ServerProcess
) -> None:
    _create(sm, "refuse", models["blue"])

    def update(**routing: Any) -> str:
        return _error(
            sm.update_endpoint,
            EndpointName="refuse",
            EndpointConfigName=models["green"],
            DeploymentConfig={"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": routing}},
        )

    assert "Type CANARY needs CanarySize" in update(Type="CANARY", WaitIntervalInSeconds=1)
    assert "LinearStepSize is only for Type LINEAR" in update(
        Type="CANARY",
        WaitIntervalInSeconds=1,
        CanarySize={"Type": "CAPACITY_PERCENT", "Value": 10},
        LinearStepSize={"Type": "CAPACITY_PERCENT", "Value": 10},
    )
    assert "it must be at most 50% of the fleet" in update(
        Type="CANARY", WaitIntervalInSeconds=1, CanarySize={"Type": "INSTANCE_COUNT", "Value": 1}
    )
    assert "WaitIntervalInSeconds" in update(Type="ALL_AT_ONCE", WaitIntervalInSeconds=4000)
    unknown = _error(
        sm.update_endpoint,
        EndpointName="refuse",
        EndpointConfigName=models["green"],
        DeploymentConfig={
            "BlueGreenUpdatePolicy": {
                "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0}
            },
            "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "no-such-alarm"}]},
        },
    )
    assert "alarms that do not exist: no-such-alarm" in unknown
    rolling = _error(
        sm.update_endpoint,
        EndpointName="refuse",
        EndpointConfigName=models["green"],
        DeploymentConfig={
            "RollingUpdatePolicy": {
                "MaximumBatchSize": {"Type": "INSTANCE_COUNT", "Value": 1},
                "WaitIntervalInSeconds": 1,
            }
        },
    )
    assert "RollingUpdatePolicy is not supported" in rolling
    described = sm.describe_endpoint(EndpointName="refuse")
    assert described["EndpointStatus"] == "InService"
    assert described["EndpointConfigName"] == models["blue"]
    sm.delete_endpoint(EndpointName="refuse")
