"""Serverless endpoints through boto3 against a real server: zero instances after idle, a cold
start on the next invocation (reported), and ``MaxConcurrency`` enforced with
``ThrottlingException`` rather than a wait."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from tests.hosting.support import tar_gz, wait_for_endpoint
from tests.server.aws.conftest import ClientFactory

from lakeworks.testing.process import ServerProcess, server_process

ROLE = "arn:aws:iam::000000000000:role/SageMakerRole"
SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
#: Answers with its pid; "slow" notes that it is in flight, then takes two seconds.
MODEL = """
import os, time

def model_fn(model_dir):
    return None

def transform_fn(model, data, content_type, accept):
    if data == b"slow":
        with open(os.environ["MARKER"], "w") as marker:
            marker.write(str(os.getpid()))
        time.sleep(2)
    return str(os.getpid()), "text/plain"
"""
ENDPOINT = "sls"


@pytest.fixture(scope="module")
def aws_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server whose serverless variants go cold after one idle second."""
    env = {
        "LAKEWORKS_HOSTING_SERVERLESS_IDLE_SECONDS": "1",
        "LAKEWORKS_HOSTING_HEALTH_INTERVAL_SECONDS": "0.2",
    }
    with server_process(tmp_path_factory.mktemp("serverless") / "home", env=env) as server:
        yield server


@pytest.fixture(scope="module")
def marker(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the model notes that a slow request is in flight."""
    return tmp_path_factory.mktemp("marker") / "in-flight"


@pytest.fixture(scope="module")
def clients(client: ClientFactory) -> Iterator[tuple[Any, Any]]:
    """``(sagemaker, sagemaker-runtime)``; the runtime client never retries."""
    no_retry = Config(retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=60)
    s3, sm, runtime = (
        client("s3"),
        client("sagemaker"),
        client("sagemaker-runtime", config=no_retry),
    )
    yield sm, runtime
    for one in (s3, sm, runtime):
        one.close()


@pytest.fixture(scope="module")
def endpoint(client: ClientFactory, clients: tuple[Any, Any], marker: Path) -> str:
    """A serverless endpoint (MaxConcurrency 1) InService."""
    sm, _ = clients
    s3 = client("s3")
    s3.create_bucket(Bucket="serverless")
    s3.put_object(
        Bucket="serverless", Key="pid.tar.gz", Body=tar_gz({"code/inference.py": MODEL.encode()})
    )
    s3.close()
    sm.create_model(
        ModelName="pid",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={
            "Image": SKLEARN_IMAGE,
            "ModelDataUrl": "s3://serverless/pid.tar.gz",
            "Environment": {"MARKER": str(marker)},
        },
    )
    sm.create_endpoint_config(
        EndpointConfigName="sls-config",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "pid",
                "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 1},
            }
        ],
    )
    sm.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName="sls-config")
    assert wait_for_endpoint(sm, ENDPOINT)["EndpointStatus"] == "InService"
    return ENDPOINT


def _invoke(runtime: Any, body: bytes = b"x") -> tuple[int, dict[str, str]]:
    response = runtime.invoke_endpoint(
        EndpointName=ENDPOINT, ContentType="application/octet-stream", Body=body
    )
    pid = int(response["Body"].read())
    return pid, response["ResponseMetadata"]["HTTPHeaders"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(OSError):
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    return True


def test_describe_shows_the_serverless_config(clients: tuple[Any, Any], endpoint: str) -> None:
    sm, _ = clients
    (variant,) = sm.describe_endpoint(EndpointName=endpoint)["ProductionVariants"]
    assert variant["CurrentServerlessConfig"] == {"MemorySizeInMB": 2048, "MaxConcurrency": 1}
    assert "CurrentInstanceCount" not in variant


def test_idle_variant_scales_to_zero_and_the_next_request_cold_starts(
    aws_server: ServerProcess, clients: tuple[Any, Any], endpoint: str
) -> None:
    _, runtime = clients
    # The instance from creation is warm, unless a slow machine let it idle out already.
    warm_pid, _ = _invoke(runtime)
    deadline = time.monotonic() + 30
    while _alive(warm_pid):
        assert time.monotonic() < deadline, "the idle instance was never stopped"
        time.sleep(0.1)
    auth = {"Authorization": f"Bearer {aws_server.token}"}
    metrics = httpx.get(f"{aws_server.url}/metrics", headers=auth).text
    assert (
        f'lakeworks_endpoint_instances{{endpoint="{endpoint}",variant="AllTraffic"}} 0' in metrics
    )
    labels = f'{{endpoint="{endpoint}",variant="AllTraffic"}}'
    cold_starts = f"lakeworks_serverless_cold_start_seconds_count{labels} "
    before = _counter(metrics, cold_starts)

    cold_pid, headers = _invoke(runtime)
    assert cold_pid != warm_pid
    assert float(headers["x-lakeworks-cold-start-ms"]) > 0
    again, headers = _invoke(runtime)
    assert again == cold_pid
    assert "x-lakeworks-cold-start-ms" not in headers
    metrics = httpx.get(f"{aws_server.url}/metrics", headers=auth).text
    assert _counter(metrics, cold_starts) == before + 1


def _counter(metrics: str, prefix: str) -> int:
    """A counter's value in Prometheus text (0 before its first sample)."""
    for line in metrics.splitlines():
        if line.startswith(prefix):
            return int(float(line.removeprefix(prefix)))
    return 0


def test_beyond_max_concurrency_is_throttled_not_queued(
    clients: tuple[Any, Any], endpoint: str, marker: Path
) -> None:
    _, runtime = clients
    marker.unlink(missing_ok=True)
    answers: list[int] = []
    slow = threading.Thread(target=lambda: answers.append(_invoke(runtime, b"slow")[0]))
    slow.start()
    deadline = time.monotonic() + 60  # it may cold-start first
    while not marker.exists():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    with pytest.raises(ClientError) as caught:
        _invoke(runtime)
    assert not answers, "the excess request waited for the slow one instead of failing"
    error = caught.value.response
    assert error["Error"]["Code"] == "ThrottlingException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert "MaxConcurrency of 1" in error["Error"]["Message"]
    slow.join(timeout=30)
    assert len(answers) == 1
    assert _invoke(runtime)[0] == answers[0]  # capacity is back once the slow one finished
