"""Fixtures of the processing tests: an in-process server with the wine data in the lake."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lakeworks.core.context import RequestContext
from lakeworks.testing import InProcessServer, temporary_server
from lakeworks.testing.datasets import book_dataset

BUCKET = "data"
ENDED = ("Completed", "Failed", "Stopped")


@pytest.fixture(scope="module")
def lw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    """One in-process server per module, with ``s3://data/wine/wine.csv`` (the book's data)."""
    with temporary_server(tmp_path_factory.mktemp("processing") / "home") as srv:
        ctx = RequestContext.system()
        srv.platform.lake.create_bucket(ctx, BUCKET)
        srv.platform.lake.upload_file(ctx, book_dataset("wine-canvas.csv"), f"s3://{BUCKET}/wine/")
        yield srv


def put_text(srv: InProcessServer, key: str, text: str, tmp: Path) -> str:
    """Store ``text`` at ``s3://data/<key>``; return the URI."""
    path = tmp / Path(key).name
    path.write_text(text)
    uri = f"s3://{BUCKET}/{key}"
    srv.platform.lake.upload_file(RequestContext.system(), path, uri)
    return uri


def read_object(srv: InProcessServer, uri: str) -> bytes:
    """The bytes of a lake object."""
    bucket, key = uri[5:].split("/", 1)
    _, _, _, chunks = srv.platform.lake.get_object(RequestContext.system(), bucket, key)
    return b"".join(chunks)


def wait_job(srv: InProcessServer, name: str, timeout: float = 120) -> dict[str, Any]:
    """Poll the processing job until it ends; return its description."""
    deadline = time.monotonic() + timeout
    while True:
        got = srv.client.get(f"/api/v1/processing-jobs/{name}")
        assert got.status_code == 200, got.text
        body: dict[str, Any] = got.json()
        if body["processing_job_status"] in ENDED:
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.2)
