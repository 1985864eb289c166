"""Endpoint instances through failures: a model server that crashes mid-request is restarted (the
request gets a 5xx at once), and endpoints survive a server crash (instances are adopted)."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from tests.hosting.support import tar_gz, wait_for_endpoint

from lakeworks.testing.process import ServerProcess, start_server

ROLE = "arn:aws:iam::000000000000:role/SageMakerRole"
SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
#: Answers with its own pid; "slow" marks the request in flight and sleeps.
SLOW = """
import os, time

def model_fn(model_dir):
    return None

def transform_fn(model, data, content_type, accept):
    if data == b"slow":
        with open(os.environ["MARKER"], "w") as marker:
            marker.write(str(os.getpid()))
        time.sleep(120)
    return str(os.getpid()), "text/plain"
"""
ENV = {"LAKEWORKS_HOSTING_HEALTH_INTERVAL_SECONDS": "0.1"}


class _Clients:
    """boto3 clients for one server process, closed together."""

    def __init__(self, server: ServerProcess) -> None:
        env = server.aws_env()
        session = boto3.session.Session(
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            region_name="us-east-1",
        )
        # total_max_attempts: botocore's max_attempts counts retries, and a 5xx is retried.
        config = Config(retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=60)
        self.all = [
            session.client(name, endpoint_url=env["AWS_ENDPOINT_URL"], config=config)
            for name in ("s3", "sagemaker", "sagemaker-runtime")
        ]
        self.s3, self.sm, self.runtime = self.all

    def pid(self, endpoint: str) -> int:
        """The pid of the model server that answers a fast request."""
        response = self.runtime.invoke_endpoint(
            EndpointName=endpoint, ContentType="application/octet-stream", Body=b"x"
        )
        return int(response["Body"].read())

    def close(self) -> None:
        for client in self.all:
            client.close()


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The server's home, shared by the servers this module starts one after the other."""
    return tmp_path_factory.mktemp("recovery") / "home"


@pytest.fixture(scope="module")
def marker(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the model notes that a slow request is in flight."""
    return tmp_path_factory.mktemp("marker") / "in-flight"


@pytest.fixture(scope="module")
def servers(home: Path, marker: Path) -> Iterator[list[ServerProcess]]:
    """A server with the ``slow`` endpoint InService; tests may replace it (the last is stopped)."""
    started = [start_server(home, env=ENV)]
    clients = _Clients(started[0])
    try:
        clients.s3.create_bucket(Bucket="recovery")
        clients.s3.put_object(
            Bucket="recovery", Key="slow.tar.gz", Body=tar_gz({"code/inference.py": SLOW.encode()})
        )
        clients.sm.create_model(
            ModelName="slow",
            ExecutionRoleArn=ROLE,
            PrimaryContainer={
                "Image": SKLEARN_IMAGE,
                "ModelDataUrl": "s3://recovery/slow.tar.gz",
                "Environment": {"MARKER": str(marker)},
            },
        )
        clients.sm.create_endpoint_config(
            EndpointConfigName="slow",
            ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": "slow",
                                 "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}],
        )  # fmt: skip
        clients.sm.create_endpoint(EndpointName="slow", EndpointConfigName="slow")
        assert wait_for_endpoint(clients.sm, "slow")["EndpointStatus"] == "InService"
    finally:
        clients.close()
    yield started
    last = started[-1]
    if last.process.poll() is None:
        last.process.terminate()
        last.process.wait(timeout=30)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(OSError):
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    return True


def test_a_crashed_model_server_fails_its_request_at_once_and_is_restarted(
    servers: list[ServerProcess], marker: Path
) -> None:
    clients = _Clients(servers[-1])
    try:
        first = clients.pid("slow")
        failures: list[ClientError] = []

        def slow_request() -> None:
            try:
                clients.runtime.invoke_endpoint(
                    EndpointName="slow", ContentType="application/octet-stream", Body=b"slow"
                )["Body"].read()
            except ClientError as exc:
                failures.append(exc)

        caller = threading.Thread(target=slow_request)
        caller.start()
        deadline = time.monotonic() + 30
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert int(marker.read_text()) == first
        os.kill(first, signal.SIGKILL)
        caller.join(timeout=30)
        assert not caller.is_alive(), "the in-flight request hung"
        (failure,) = failures
        assert failure.response["Error"]["Code"] == "ModelError", failure.response["Error"]
        assert failure.response["ResponseMetadata"]["HTTPStatusCode"] == 502
        assert "restarted automatically" in failure.response["Error"]["Message"]
        second = None
        statuses: list[int] = []
        deadline = time.monotonic() + 60
        while second is None and time.monotonic() < deadline:
            try:
                second = clients.pid("slow")
            except ClientError as exc:  # 503 while the instance restarts
                statuses.append(exc.response["ResponseMetadata"]["HTTPStatusCode"])
                time.sleep(0.1)
        assert second is not None
        assert second != first
        assert set(statuses) <= {503}
        assert clients.sm.describe_endpoint(EndpointName="slow")["EndpointStatus"] == "InService"
    finally:
        clients.close()


def test_endpoints_survive_a_server_crash_and_instances_are_adopted(
    servers: list[ServerProcess], home: Path
) -> None:
    before = _Clients(servers[-1])
    try:
        pid = before.pid("slow")
    finally:
        before.close()
    servers[-1].kill()  # SIGKILL: the model server keeps running
    assert _alive(pid)
    servers.append(start_server(home, env=ENV))
    after = _Clients(servers[-1])
    try:
        assert after.sm.describe_endpoint(EndpointName="slow")["EndpointStatus"] == "InService"
        assert after.pid("slow") == pid  # the same process, adopted
    finally:
        after.close()
    servers[-1].process.terminate()
    servers[-1].process.wait(timeout=30)
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid), "a clean shutdown stops the model servers"
    servers.append(start_server(home, env=ENV))
    restarted = _Clients(servers[-1])
    try:
        assert restarted.sm.describe_endpoint(EndpointName="slow")["EndpointStatus"] == "InService"
        deadline = time.monotonic() + 60
        while True:
            try:
                assert restarted.pid("slow") != pid  # restarted, not adopted
                break
            except ClientError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
    finally:
        restarted.close()
