"""A real server process per test module, and real boto3 clients for it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from unittest import mock

import boto3
import pytest
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from lakeworks.testing.process import ServerProcess, server_process

#: No retries: a refused request must fail at once, not three times.
NO_RETRIES = Config(retries={"max_attempts": 1, "mode": "standard"})

ClientFactory = Callable[..., Any]
Signer = Callable[..., AWSRequest]


@pytest.fixture(scope="module")
def aws_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One Lakeworks server process for the whole test module."""
    with server_process(tmp_path_factory.mktemp("aws") / "home") as server:
        yield server


@pytest.fixture(scope="module")
def client(aws_server: ServerProcess) -> ClientFactory:
    """Make a boto3 client of a service for the server, as admin unless keys are given."""

    def make(
        service: str,
        *,
        key_id: str | None = None,
        secret: str | None = None,
        config: Config | None = None,
    ) -> Any:
        env = aws_server.aws_env()
        session = boto3.session.Session(
            aws_access_key_id=key_id or env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=secret or env["AWS_SECRET_ACCESS_KEY"],
            region_name="us-east-1",
        )
        merged = NO_RETRIES.merge(config) if config else NO_RETRIES
        return session.client(service, endpoint_url=env["AWS_ENDPOINT_URL"], config=merged)

    return make


@pytest.fixture(scope="module")
def s3(client: ClientFactory) -> Any:
    """A boto3 S3 client as admin."""
    return client("s3")


@pytest.fixture(scope="module")
def sign(aws_server: ServerProcess) -> Signer:
    """Sign a raw request with botocore's signer, optionally at another time or with another
    payload hash, for tests that send it themselves (with httpx)."""

    def signer(
        method: str,
        url: str,
        *,
        service: str = "s3",
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        at: datetime | None = None,
        payload_hash: str | None = None,
        secret: str | None = None,
    ) -> AWSRequest:
        env = aws_server.aws_env()
        request = AWSRequest(method=method, url=url, data=body, headers=headers or {})
        credentials = Credentials(env["AWS_ACCESS_KEY_ID"], secret or env["AWS_SECRET_ACCESS_KEY"])
        auth: SigV4Auth
        if service == "s3":
            auth = _FixedPayloadS3Auth(credentials, service, "us-east-1", payload_hash)
        else:
            auth = SigV4Auth(credentials, service, "us-east-1")
        if at is None:
            auth.add_auth(request)
        else:
            with mock.patch("botocore.auth.get_current_datetime", return_value=at):
                auth.add_auth(request)
        return request

    return signer


class _FixedPayloadS3Auth(S3SigV4Auth):
    """botocore's S3 signer, with the payload hash forced (streaming variants)."""

    def __init__(
        self, credentials: Credentials, service: str, region: str, payload_hash: str | None
    ) -> None:
        super().__init__(credentials, service, region)
        self._payload_hash = payload_hash

    def payload(self, request: AWSRequest) -> str:
        if self._payload_hash is not None:
            return self._payload_hash
        return str(super().payload(request))
