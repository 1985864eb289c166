"""Asynchronous inference through boto3 against a real server: InvokeEndpointAsync writes the
output (or the failure) to the lake and POSTs SageMaker's notification to webhooks; bad requests
get ValidationError; and the queue survives a server crash (the pending request completes after
the restart)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from tests.hosting.support import tar_gz, wait_for_endpoint
from typer.testing import CliRunner

from lakeworks import Client
from lakeworks.cli.main import app
from lakeworks.core.errors import ValidationError
from lakeworks.testing.process import ServerProcess, start_server

ROLE = "arn:aws:iam::000000000000:role/SageMakerRole"
SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
BUCKET = "async"
#: Doubles the sum of a CSV row; "slow" notes that it is in flight and takes two seconds.
MODEL = """
import os, time

def model_fn(model_dir):
    return None

def transform_fn(model, data, content_type, accept):
    data = data if isinstance(data, str) else data.decode()  # text/csv arrives decoded
    if data == "slow":
        with open(os.environ["MARKER"], "w") as marker:
            marker.write(str(os.getpid()))
        time.sleep(2)
        return "slept", "text/plain"
    return str(2 * sum(float(v) for v in data.split(","))), "text/csv"
"""
ENV = {"LAKEWORKS_HOSTING_HEALTH_INTERVAL_SECONDS": "0.2"}


class _Hooks:
    """A webhook receiver: the JSON documents POSTed to each path."""

    def __init__(self) -> None:
        self.received: dict[str, list[dict[str, Any]]] = {}
        hooks = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hooks.received.setdefault(self.path, []).append(json.loads(body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait(self, path: str, inference_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for message in self.received.get(path, []):
                if message["inferenceId"] == inference_id:
                    return message
            time.sleep(0.05)
        raise AssertionError(f"no notification for {inference_id} at {path}: {self.received}")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Clients:
    """boto3 clients for one server process, closed together."""

    def __init__(self, server: ServerProcess) -> None:
        env = server.aws_env()
        session = boto3.session.Session(
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            region_name="us-east-1",
        )
        config = Config(retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=60)
        self.all = [
            session.client(name, endpoint_url=env["AWS_ENDPOINT_URL"], config=config)
            for name in ("s3", "sagemaker", "sagemaker-runtime")
        ]
        self.s3, self.sm, self.runtime = self.all

    def read(self, uri: str, timeout: float = 30.0) -> bytes:
        """The object at ``uri`` once it exists."""
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        deadline = time.monotonic() + timeout
        while True:
            try:
                return bytes(self.s3.get_object(Bucket=bucket, Key=key)["Body"].read())
            except ClientError:
                assert time.monotonic() < deadline, f"{uri} was never written"
                time.sleep(0.1)

    def submit(self, key: str, body: bytes, **kwargs: Any) -> dict[str, Any]:
        """Upload ``body`` as the input and invoke asynchronously."""
        self.s3.put_object(Bucket=BUCKET, Key=key, Body=body)
        response: dict[str, Any] = self.runtime.invoke_endpoint_async(
            EndpointName="async-ep",
            InputLocation=f"s3://{BUCKET}/{key}",
            ContentType="text/csv",
            **kwargs,
        )
        return response

    def close(self) -> None:
        for client in self.all:
            client.close()


@pytest.fixture(scope="module")
def hooks() -> Iterator[_Hooks]:
    """The webhook receiver."""
    receiver = _Hooks()
    yield receiver
    receiver.close()


@pytest.fixture(scope="module")
def marker(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the model notes that a slow request is in flight."""
    return tmp_path_factory.mktemp("marker") / "in-flight"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The home the module's servers share, one after the other."""
    return tmp_path_factory.mktemp("async") / "home"


@pytest.fixture(scope="module")
def servers(home: Path, marker: Path, hooks: _Hooks) -> Iterator[list[ServerProcess]]:
    """A server with the async endpoint ``async-ep`` InService (tests may replace it)."""
    started = [start_server(home, env=ENV)]
    clients = _Clients(started[0])
    try:
        clients.s3.create_bucket(Bucket=BUCKET)
        clients.s3.put_object(
            Bucket=BUCKET, Key="model.tar.gz", Body=tar_gz({"code/inference.py": MODEL.encode()})
        )
        clients.sm.create_model(
            ModelName="doubler",
            ExecutionRoleArn=ROLE,
            PrimaryContainer={
                "Image": SKLEARN_IMAGE,
                "ModelDataUrl": f"s3://{BUCKET}/model.tar.gz",
                "Environment": {"MARKER": str(marker)},
            },
        )
        clients.sm.create_endpoint_config(
            EndpointConfigName="async-config",
            ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": "doubler",
                                 "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}],
            AsyncInferenceConfig={
                "ClientConfig": {"MaxConcurrentInvocationsPerInstance": 2},
                "OutputConfig": {
                    "S3OutputPath": f"s3://{BUCKET}/out",
                    "S3FailurePath": f"s3://{BUCKET}/failed",
                    "NotificationConfig": {"SuccessTopic": f"{hooks.url}/success",
                                           "ErrorTopic": f"{hooks.url}/error"},
                },
            },
        )  # fmt: skip
        clients.sm.create_endpoint(EndpointName="async-ep", EndpointConfigName="async-config")
        assert wait_for_endpoint(clients.sm, "async-ep")["EndpointStatus"] == "InService"
    finally:
        clients.close()
    yield started
    last = started[-1]
    if last.process.poll() is None:
        last.process.terminate()
        last.process.wait(timeout=30)


@pytest.fixture
def clients(servers: list[ServerProcess]) -> Iterator[_Clients]:
    """Clients of the current server."""
    made = _Clients(servers[-1])
    yield made
    made.close()


def test_async_invocation_writes_the_output_and_notifies(clients: _Clients, hooks: _Hooks) -> None:
    described = clients.sm.describe_endpoint(EndpointName="async-ep")
    assert described["AsyncInferenceConfig"]["OutputConfig"]["S3OutputPath"] == f"s3://{BUCKET}/out"
    response = clients.submit("in/one.csv", b"1,2,3.5", InferenceId="first")
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert response["InferenceId"] == "first"
    output = response["OutputLocation"]
    assert output.startswith(f"s3://{BUCKET}/out/")
    assert output.endswith(".out")
    assert response["FailureLocation"].startswith(f"s3://{BUCKET}/failed/")
    assert float(clients.read(output)) == 13.0
    message = hooks.wait("/success", "first")
    assert message["invocationStatus"] == "Completed"
    assert message["responseParameters"]["outputLocation"] == output
    assert message["requestParameters"]["inputLocation"] == f"s3://{BUCKET}/in/one.csv"
    assert message["requestParameters"]["endpointName"] == "async-ep"


def test_many_requests_all_complete_and_ids_are_generated(clients: _Clients) -> None:
    responses = [clients.submit(f"in/many-{n}.csv", f"{n},1".encode()) for n in range(6)]
    assert len({r["InferenceId"] for r in responses}) == 6
    for n, response in enumerate(responses):
        assert float(clients.read(response["OutputLocation"])) == 2.0 * (n + 1)


def test_an_inline_body_is_queued_too(clients: _Clients) -> None:
    response = clients.runtime.invoke_endpoint_async(
        EndpointName="async-ep", Body=b"5,5", ContentType="text/csv"
    )
    assert float(clients.read(response["OutputLocation"])) == 20.0
    with pytest.raises(ClientError) as both:
        clients.runtime.invoke_endpoint_async(
            EndpointName="async-ep", Body=b"5,5", InputLocation=f"s3://{BUCKET}/in/one.csv"
        )
    assert "exactly one of InputLocation" in both.value.response["Error"]["Message"]


def test_a_model_error_goes_to_the_failure_path(clients: _Clients, hooks: _Hooks) -> None:
    response = clients.submit("in/bad.csv", b"one,two", InferenceId="bad")
    failure = clients.read(response["FailureLocation"]).decode()
    assert "could not convert string to float" in failure
    message = hooks.wait("/error", "bad")
    assert message["invocationStatus"] == "Failed"
    assert message["responseParameters"]["failureLocation"] == response["FailureLocation"]
    assert "could not convert" in message["failureReason"]


def test_bad_requests_are_validation_errors(clients: _Clients) -> None:
    with pytest.raises(ClientError) as missing:
        clients.runtime.invoke_endpoint_async(
            EndpointName="async-ep", InputLocation=f"s3://{BUCKET}/in/nothing-here.csv"
        )
    assert missing.value.response["Error"]["Code"] == "ValidationError"
    assert "Could not find the input" in missing.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as unknown:
        clients.runtime.invoke_endpoint_async(
            EndpointName="no-such-endpoint", InputLocation=f"s3://{BUCKET}/model.tar.gz"
        )
    assert unknown.value.response["Error"]["Code"] == "ValidationError"
    assert "no-such-endpoint" in unknown.value.response["Error"]["Message"]
    clients.sm.create_endpoint_config(
        EndpointConfigName="realtime-config",
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": "doubler",
                             "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}],
    )  # fmt: skip
    clients.sm.create_endpoint(EndpointName="realtime", EndpointConfigName="realtime-config")
    try:
        with pytest.raises(ClientError) as realtime:
            clients.runtime.invoke_endpoint_async(
                EndpointName="realtime", InputLocation=f"s3://{BUCKET}/model.tar.gz"
            )
        error = realtime.value.response["Error"]
        assert error["Code"] == "ValidationError"
        assert "not an asynchronous endpoint" in error["Message"]
        assert "AsyncInferenceConfig" in error["Message"]
    finally:
        wait_for_endpoint(clients.sm, "realtime")
        clients.sm.delete_endpoint(EndpointName="realtime")


def test_native_api_queues_and_describes(servers: list[ServerProcess], clients: _Clients) -> None:
    server = servers[-1]
    auth = {"Authorization": f"Bearer {server.token}"}
    clients.s3.put_object(Bucket=BUCKET, Key="in/native.csv", Body=b"4,4")
    url = f"{server.url}/api/v1/endpoints/async-ep/async-invocations"
    bad = httpx.post(url, headers=auth, json={"input_location": "s3://async/in/native.csv",
                                               "request_ttl_seconds": 5})  # fmt: skip
    assert bad.status_code == 400
    assert "request_ttl_seconds" in bad.text
    accepted = httpx.post(
        url, headers=auth, json={"input_location": "s3://async/in/native.csv",
                                 "content_type": "text/csv", "inference_id": "native"},
    )  # fmt: skip
    assert accepted.status_code == 202
    output = accepted.json()["output_location"]
    assert float(clients.read(output)) == 16.0
    described = _settled(
        lambda: httpx.get(f"{server.url}/api/v1/async-invocations/native", headers=auth).json()
    )
    assert described["status"] == "Completed"
    assert described["output_location"] == output
    assert described["attempts"] == 1
    broken = clients.submit("in/native-bad.csv", b"one,two", InferenceId="native-bad")
    clients.read(broken["FailureLocation"])  # written once the invocation has failed
    failed = _settled(
        lambda: httpx.get(f"{server.url}/api/v1/async-invocations/native-bad", headers=auth).json()
    )
    assert failed["status"] == "Failed"
    assert "could not convert" in failed["failure_reason"]
    missing = httpx.get(f"{server.url}/api/v1/async-invocations/nope", headers=auth)
    assert missing.status_code == 404
    with Client(server.url, server.token) as sdk:
        queued = sdk.endpoints.invoke_async(
            "async-ep", "s3://async/in/native.csv", content_type="text/csv", inference_id="sdk"
        )
        assert float(clients.read(queued.output_location)) == 16.0
        assert sdk.endpoints.describe_async_invocation("sdk").status == "Completed"
        with pytest.raises(ValidationError, match="InputLocation"):
            sdk.endpoints.invoke_async("async-ep", "s3://async/in/absent.csv")
    env = {"LAKEWORKS_URL": server.url, "LAKEWORKS_TOKEN": server.token}
    queued_cli = CliRunner().invoke(
        app,
        ["endpoints", "invoke-async", "async-ep", "s3://async/in/native.csv",
         "--content-type", "text/csv", "--inference-id", "cli", "-o", "json"],
        env=env,
    )  # fmt: skip
    assert queued_cli.exit_code == 0, queued_cli.output
    assert float(clients.read(json.loads(queued_cli.stdout)["output_location"])) == 16.0
    shown = CliRunner().invoke(app, ["endpoints", "describe-async", "cli", "-o", "json"], env=env)
    assert json.loads(shown.stdout)["status"] == "Completed"


def test_the_queue_survives_a_server_crash(
    servers: list[ServerProcess], home: Path, marker: Path
) -> None:
    before = _Clients(servers[-1])
    try:
        marker.unlink(missing_ok=True)
        response = before.submit("in/slow.csv", b"slow", InferenceId="survivor")
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert time.monotonic() < deadline
            time.sleep(0.02)
        servers[-1].kill()  # SIGKILL while the request is in progress
    finally:
        before.close()
    # The model answers two seconds after the marker: the killed server never had the result.
    servers.append(start_server(home, env=ENV))
    after = _Clients(servers[-1])
    try:
        assert after.read(response["OutputLocation"], timeout=60) == b"slept"
    finally:
        after.close()


def _settled(describe: Callable[[], Any]) -> Any:
    """Describe until the invocation leaves InProgress: the output is written just before."""
    deadline = time.monotonic() + 30
    while True:
        got = describe()
        status = got if isinstance(got, str) else got["status"]
        if status != "InProgress" or time.monotonic() > deadline:
            return got
        time.sleep(0.05)
