"""Fixtures for the lake: a lake service on each store kind, S3 behind an in-process moto."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from lakeworks.core.context import RequestContext
from lakeworks.core.settings import Settings, load_settings
from lakeworks.db import Database
from lakeworks.lake.service import LakeService

STORE_KINDS = ["local", "s3"]
_backing_names = itertools.count()


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """An S3-compatible endpoint (moto, offline, in this process), one per test module."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def backing_client(endpoint: str) -> Any:
    """A boto3 client straight to the backing store (to look behind Lakeworks' back)."""
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )


def lake_settings(home: Path, kind: str, request: pytest.FixtureRequest) -> Settings:
    """Settings whose store is a directory under ``home`` or a fresh backing bucket in moto."""
    if kind == "local":
        return load_settings(home=home)
    endpoint = request.getfixturevalue("moto_endpoint")
    backing = f"backing-{next(_backing_names)}"
    backing_client(endpoint).create_bucket(Bucket=backing)
    return load_settings(
        home=home,
        storage={
            "url": f"s3://{backing}/lake",
            "endpoint_url": endpoint,
            "access_key_id": "testing",
            "secret_access_key": "testing",
        },
    )


@pytest.fixture
def make_lake_settings(request: pytest.FixtureRequest) -> Callable[[Path, str], Settings]:
    """A factory: ``make_lake_settings(home, "local" | "s3")``."""
    return lambda home, kind: lake_settings(home, kind, request)


@pytest.fixture(scope="module", params=STORE_KINDS)
def lake(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LakeService]:
    """A lake service with a migrated SQLite database, on each store kind in turn."""
    settings = lake_settings(tmp_path_factory.mktemp("home"), request.param, request)
    db = Database(settings.database_url)
    db.upgrade()
    service = LakeService(settings, db)
    try:
        yield service
    finally:
        service.store.close()
        db.dispose()


@pytest.fixture
def admin() -> RequestContext:
    """A caller with every scope."""
    return RequestContext.system()


@pytest.fixture
def reader() -> RequestContext:
    """A caller that may only read."""
    return RequestContext(principal="reader", scopes=frozenset({"read"}))


_bucket_names = itertools.count()


@pytest.fixture
def bucket(lake: LakeService, admin: RequestContext) -> str:
    """A fresh, empty bucket."""
    name = f"bucket-{next(_bucket_names)}"
    lake.create_bucket(admin, name)
    return name
