"""A real server process for the feature store tests, flushing the offline store quickly."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from lakeworks.testing.process import ServerProcess, server_process

#: Offline rows reach the lake within a fraction of a second in these tests.
FAST_FLUSH = {"LAKEWORKS_FEATURES_OFFLINE_FLUSH_SECONDS": "0.2"}
NO_RETRIES = Config(retries={"max_attempts": 1, "mode": "standard"})


@pytest.fixture(scope="module")
def fs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One Lakeworks server process for the whole test module."""
    with server_process(tmp_path_factory.mktemp("fs") / "home", env=FAST_FLUSH) as server:
        yield server


@pytest.fixture(scope="module")
def aws(fs_server: ServerProcess) -> Callable[[str], Any]:
    """Make a boto3 client of a service for the server, as admin."""

    def make(service: str) -> Any:
        env = fs_server.aws_env()
        session = boto3.session.Session(
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            region_name="us-east-1",
        )
        return session.client(service, endpoint_url=env["AWS_ENDPOINT_URL"], config=NO_RETRIES)

    return make
