"""The service registry: a new AWS service is one action table, dispatched without changes to
the dispatcher. Exercised in process with stand-in JSON 1.1 and REST-JSON services."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from lakeworks.core.settings import load_settings
from lakeworks.server.aws import s3, sts
from lakeworks.server.aws.dispatch import AwsFrontDoor
from lakeworks.server.aws.service import AwsCall, AwsService, ServiceRegistry
from lakeworks.server.platform import Platform
from lakeworks.testing import credentials_of

BASE = "http://127.0.0.1:8600"


async def _echo(call: AwsCall) -> dict[str, Any]:
    return {
        "Echoed": call.params,
        "Caller": call.ctx.principal,
        "At": datetime(2024, 1, 1, tzinfo=UTC),
        "Blob": b"\x00\x01",
    }


async def _invoke(call: AwsCall) -> dict[str, Any]:
    body = await call.json_body()
    return {"Path": call.request.path, "Body": body}


def _resolve(request: Any, settings: Any) -> str:
    return "Invoke" if request.method == "POST" else "Other"


ECHO = AwsService(
    name="echo",
    protocol="json",
    signing_name="echo",
    target_prefix="EchoService_20240101",
    actions={"Echo": _echo},
)
RUNTIME = AwsService(
    name="echo-runtime",
    protocol="rest-json",
    signing_name="echo",
    actions={"Invoke": _invoke},
    resolve=_resolve,
)


def test_registry_resolution() -> None:
    registry = ServiceRegistry([s3.SERVICE, sts.SERVICE, ECHO, RUNTIME])
    assert registry.resolve("EchoService_20240101.Echo", "echo") is ECHO
    assert registry.resolve(None, "echo") is RUNTIME
    assert registry.resolve(None, "sts") is sts.SERVICE
    assert registry.resolve(None, None) is s3.SERVICE
    assert registry.resolve("Nope.Action", "echo") is None
    assert registry.resolve(None, "lambda") is None
    assert registry.names == ["echo", "echo-runtime", "s3", "sts"]


def test_registry_refuses_ambiguity() -> None:
    with pytest.raises(ValueError, match="target prefix"):
        ServiceRegistry([ECHO, ECHO])
    with pytest.raises(ValueError, match="signing name"):
        ServiceRegistry([s3.SERVICE, s3.SERVICE])
    with pytest.raises(ValueError, match="target_prefix"):
        AwsService(name="x", protocol="json", signing_name="x", actions={})
    with pytest.raises(ValueError, match="resolve"):
        AwsService(name="x", protocol="rest-xml", signing_name="x", actions={})


@pytest.fixture
def front_door(tmp_path: Path) -> Iterator[tuple[AwsFrontDoor, Credentials]]:
    settings = load_settings(home=tmp_path / "home")
    platform = Platform.open(settings)
    try:
        registry = ServiceRegistry([s3.SERVICE, sts.SERVICE, ECHO, RUNTIME])
        creds = credentials_of(settings.home)
        yield (
            AwsFrontDoor(platform, registry),
            Credentials(creds["access_key_id"], creds["secret_access_key"]),
        )
    finally:
        platform.close()


def _call(
    app: AwsFrontDoor,
    credentials: Credentials,
    method: str,
    path: str,
    body: bytes,
    headers: dict[str, str],
) -> httpx.Response:
    request = AWSRequest(method=method, url=BASE + path, data=body, headers=headers)
    SigV4Auth(credentials, "echo", "us-east-1").add_auth(request)

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            return await client.request(
                method, path, content=body, headers={k: str(v) for k, v in request.headers.items()}
            )

    return asyncio.run(send())


def test_json_service_round_trip(front_door: tuple[AwsFrontDoor, Credentials]) -> None:
    app, credentials = front_door
    headers = {
        "X-Amz-Target": "EchoService_20240101.Echo",
        "Content-Type": "application/x-amz-json-1.1",
    }
    response = _call(app, credentials, "POST", "/", b'{"Name": "x", "N": [1, 2]}', headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-amz-json-1.1"
    assert response.headers["x-amzn-RequestId"]
    assert response.json() == {
        "Echoed": {"Name": "x", "N": [1, 2]},
        "Caller": "admin",
        "At": 1704067200.0,  # JSON protocols send epoch seconds
        "Blob": "AAE=",  # and base64 blobs
    }


def test_json_service_errors(front_door: tuple[AwsFrontDoor, Credentials]) -> None:
    app, credentials = front_door
    headers = {"X-Amz-Target": "EchoService_20240101.Nope"}
    unknown = _call(app, credentials, "POST", "/", b"{}", headers)
    assert unknown.status_code == 400
    assert unknown.json()["__type"] == "UnknownOperationException"
    assert "Echo" in unknown.json()["message"]
    headers["X-Amz-Target"] = "EchoService_20240101.Echo"
    broken = _call(app, credentials, "POST", "/", b"{not json", headers)
    assert broken.status_code == 400
    assert broken.json()["__type"] == "SerializationException"
    array = _call(app, credentials, "POST", "/", b"[1]", headers)
    assert array.json()["__type"] == "SerializationException"


def test_rest_json_service_round_trip(front_door: tuple[AwsFrontDoor, Credentials]) -> None:
    app, credentials = front_door
    headers = {"Content-Type": "application/json"}
    response = _call(
        app, credentials, "POST", "/endpoints/my%20ep/invocations", b'{"a": 1}', headers
    )
    assert response.status_code == 200, response.text
    assert json.loads(response.content) == {
        "Path": "/endpoints/my ep/invocations",
        "Body": {"a": 1},
    }
    other = _call(app, credentials, "GET", "/endpoints/x", b"", headers)
    assert other.status_code == 400
    assert other.headers["x-amzn-ErrorType"] == "UnknownOperationException"
