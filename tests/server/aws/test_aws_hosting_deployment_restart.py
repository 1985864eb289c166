"""A blue/green update survives a server crash: killed (SIGKILL) during the canary bake, the next
server on the same home adopts both fleets, restores the traffic split, bakes what was left of
the step and finishes the update; no model server is left behind."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from tests.hosting.support import linear_archive, processes_under, wait_for_endpoint

from lakeworks.testing.process import ServerProcess, start_server

ROLE = "arn:aws:iam::000000000000:role/SageMakerRole"
SKLEARN_IMAGE = "sagemaker-scikit-learn:1.2-1"
ENV = {"LAKEWORKS_HOSTING_HEALTH_INTERVAL_SECONDS": "0.2"}
BAKE = 20


class _Clients:
    """boto3 ``s3``, ``sagemaker`` and ``sagemaker-runtime`` for one server process."""

    def __init__(self, server: ServerProcess) -> None:
        env = server.aws_env()
        session = boto3.session.Session(
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            region_name="us-east-1",
        )
        config = Config(retries={"total_max_attempts": 1, "mode": "standard"})
        self.all = [
            session.client(name, endpoint_url=env["AWS_ENDPOINT_URL"], config=config)
            for name in ("s3", "sagemaker", "sagemaker-runtime")
        ]
        self.s3, self.sm, self.runtime = self.all

    def answers(self, count: int) -> set[str]:
        """What ``count`` invocations of the endpoint answered."""
        return {
            self.runtime.invoke_endpoint(
                EndpointName="resume", ContentType="text/csv", Accept="text/csv", Body="1,1,1,1"
            )["Body"]
            .read()
            .decode()
            for _ in range(count)
        }

    def close(self) -> None:
        for client in self.all:
            client.close()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def _fleets(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.is_dir()) if root.exists() else []


def _setup(clients: _Clients) -> None:
    clients.s3.create_bucket(Bucket="resume")
    for name, intercept in (("blue", 0.0), ("green", 100.0)):
        archive = linear_archive([1.0, 1.0, 1.0, 1.0], intercept)
        clients.s3.put_object(Bucket="resume", Key=f"{name}.tar.gz", Body=archive)
        clients.sm.create_model(
            ModelName=f"m-{name}",
            ExecutionRoleArn=ROLE,
            PrimaryContainer={
                "Image": SKLEARN_IMAGE,
                "ModelDataUrl": f"s3://resume/{name}.tar.gz",
            },
        )
        clients.sm.create_endpoint_config(
            EndpointConfigName=f"c-{name}",
            ProductionVariants=[
                {"VariantName": "AllTraffic", "ModelName": f"m-{name}",
                 "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}
            ],
        )  # fmt: skip
    clients.sm.create_endpoint(EndpointName="resume", EndpointConfigName="c-blue")
    assert wait_for_endpoint(clients.sm, "resume")["EndpointStatus"] == "InService"


def _baking(sm: Any, timeout: float = 60.0) -> dict[str, Any]:
    """Poll until the canary step bakes; return its PendingDeploymentSummary variant."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pending = sm.describe_endpoint(EndpointName="resume").get("PendingDeploymentSummary")
        if pending:
            variant: dict[str, Any] = pending["ProductionVariants"][0]
            if variant["VariantStatus"][0]["Status"] == "Baking":
                return variant
        time.sleep(0.05)
    raise TimeoutError("the canary never started baking")


def test_a_canary_update_killed_mid_bake_finishes_after_a_restart(tmp_path: Path) -> None:
    home = tmp_path / "home"
    root = home / "hosting" / "endpoints" / "resume"
    servers = [start_server(home, env=ENV)]
    try:
        clients = _Clients(servers[-1])
        try:
            _setup(clients)
            (blue,) = _fleets(root)
            blue_pids = processes_under(root / blue)
            assert blue_pids
            clients.sm.update_endpoint(
                EndpointName="resume",
                EndpointConfigName="c-green",
                DeploymentConfig={
                    "BlueGreenUpdatePolicy": {
                        "TrafficRoutingConfiguration": {
                            "Type": "CANARY",
                            "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 50},
                            "WaitIntervalInSeconds": BAKE,
                        },
                        "TerminationWaitInSeconds": 1,
                    }
                },
            )
            assert _baking(clients.sm)["CurrentWeight"] == 0.5
            (green,) = set(_fleets(root)) - {blue}
            green_pids = processes_under(root / green)
            assert green_pids
        finally:
            clients.close()
        servers[-1].kill()  # SIGKILL mid-bake: both fleets keep running
        assert all(_alive(pid) for pid in blue_pids + green_pids)

        servers.append(start_server(home, env=ENV))
        clients = _Clients(servers[-1])
        try:
            described = clients.sm.describe_endpoint(EndpointName="resume")
            assert described["EndpointStatus"] == "Updating"
            variant = described["PendingDeploymentSummary"]["ProductionVariants"][0]
            assert variant["VariantStatus"][0]["Status"] == "Baking"
            assert variant["CurrentWeight"] == 0.5  # the split, restored
            assert clients.answers(60) == {"4.0", "104.0"}  # both fleets serve, adopted
            final = wait_for_endpoint(clients.sm, "resume", timeout=4 * BAKE + 30)
            assert final["EndpointStatus"] == "InService", final
            assert final["EndpointConfigName"] == "c-green"
            assert "FailureReason" not in final
            assert "PendingDeploymentSummary" not in final
            assert clients.answers(20) == {"104.0"}
            deadline = time.monotonic() + 30
            while (blue in _fleets(root) or any(map(_alive, blue_pids))) and (
                time.monotonic() < deadline
            ):
                time.sleep(0.1)
            assert _fleets(root) == [green], "the old fleet is retired"
            assert not any(map(_alive, blue_pids)), "the old fleet's model servers stopped"
            assert all(map(_alive, green_pids)), "the new fleet's model servers were adopted"
            assert sorted(processes_under(root)) == sorted(green_pids)  # nothing else leaked
        finally:
            clients.close()
    finally:
        last = servers[-1]
        if last.process.poll() is None:
            last.process.terminate()
            last.process.wait(timeout=30)
        for server in servers[:-1]:
            server.kill()
    deadline = time.monotonic() + 10
    while processes_under(home) and time.monotonic() < deadline:
        time.sleep(0.1)
    leaked = processes_under(home)
    assert leaked == [], f"model server processes left running: {leaked}"
