"""Fixtures for the jobs domain: a JobService on a real database, a directory lake, waiting.

The lake here is a small directory-backed stand-in with exactly the three calls staging uses
(``head_object``, ``download``, ``upload_file``), so these tests do not depend on the lake
domain; the end-to-end tests (``test_crash_safety.py``, ``tests/server/test_rest_jobs.py``) use
the real one through a server.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

from lakeworks.backends.base import Backend
from lakeworks.core.context import RequestContext
from lakeworks.core.errors import NotFound
from lakeworks.core.settings import Settings
from lakeworks.db import Database
from lakeworks.iam.secrets import SecretBox
from lakeworks.iam.service import IamService
from lakeworks.jobs.service import JobService
from lakeworks.schemas.jobs import JobInfo
from lakeworks.testing import make_settings
from lakeworks.testing.fake_backend import FakeBackend

T = TypeVar("T")
ADMIN = RequestContext(principal="admin", scopes=frozenset({"read", "write", "admin"}))
ENDED = ("Completed", "Failed", "Stopped")


@dataclass
class DirLake:
    """Objects as files under ``root/<bucket>/<key>``; records who transferred what."""

    root: Path
    calls: list[tuple[str, str, str]] = field(default_factory=list)

    def _path(self, uri: str) -> Path:
        assert uri.startswith("s3://")
        return self.root / uri[5:]

    def put(self, uri: str, data: bytes) -> None:
        path = self._path(uri)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def get(self, uri: str) -> bytes:
        return self._path(uri).read_bytes()

    def keys(self, prefix_uri: str) -> list[str]:
        base = self._path(prefix_uri)
        if not base.is_dir():
            return []
        return sorted(str(p.relative_to(base)) for p in base.rglob("*") if p.is_file())

    def head_object(self, ctx: RequestContext, bucket: str, key: str) -> dict[str, Any]:
        path = self.root / bucket / key
        if not key or not path.is_file():
            raise NotFound(f"No such key {key!r}", aws_code="NoSuchKey")
        return {"bucket": bucket, "key": key, "size": path.stat().st_size}

    def download(self, ctx: RequestContext, s3_uri: str, dest: Path) -> int:
        self.calls.append(("download", ctx.principal, s3_uri))
        source = self._path(s3_uri)
        if source.is_file() and not s3_uri.endswith("/"):
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, dest)
            return 1
        files = [p for p in source.rglob("*") if p.is_file()] if source.is_dir() else []
        if not files:
            raise NotFound(f"Nothing at {s3_uri}", aws_code="NoSuchKey")
        for path in files:
            target = dest / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        return len(files)

    def upload_file(
        self, ctx: RequestContext, path: Path, s3_uri: str, *, content_type: str | None = None
    ) -> dict[str, Any]:
        self.calls.append(("upload", ctx.principal, s3_uri))
        self.put(s3_uri, path.read_bytes())
        return {"uri": s3_uri}


@dataclass
class Harness:
    """One JobService and what it runs on."""

    service: JobService
    backend: Any
    settings: Settings
    db: Database
    iam: IamService
    lake: DirLake

    def wait(self, name: str, statuses: tuple[str, ...] = ENDED, timeout: float = 60) -> JobInfo:
        """Wait until job ``name`` has one of ``statuses`` (its secondary status counts too)."""
        return wait_for(
            lambda: _matching(self.service.describe_job(ADMIN, name), statuses), timeout
        )


def _matching(info: JobInfo, statuses: tuple[str, ...]) -> JobInfo | None:
    return info if info.status in statuses or info.secondary_status in statuses else None


def wait_for(probe: Callable[[], T | None], timeout: float = 60) -> T:
    """Call ``probe`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout}s")
        time.sleep(0.02)


MakeJobs = Callable[..., Harness]


@pytest.fixture
def lake(tmp_path: Path) -> DirLake:
    """An empty directory lake."""
    return DirLake(tmp_path / "lake")


@pytest.fixture
def make_jobs(tmp_path: Path, lake: DirLake) -> Iterator[MakeJobs]:
    """Build (and start) JobServices; all are closed at teardown.

    Keyword arguments: ``backend`` (default a new FakeBackend), ``home`` and ``db`` (share them
    to put two services on one database), ``start`` (default True), and ``jobs`` settings.
    """
    made: list[JobService] = []
    databases: list[Database] = []

    def make(
        backend: Backend | None = None,
        *,
        home: Path | None = None,
        db: Database | None = None,
        start: bool = True,
        **jobs: Any,
    ) -> Harness:
        settings = make_settings(
            home or tmp_path / "home",
            jobs={"poll_interval_seconds": 0.02, "stop_grace_seconds": 2.0, **jobs},
        )
        if db is None:
            db = Database(settings.database_url)
            db.upgrade()
            databases.append(db)
        iam = IamService(settings, db, SecretBox.from_home(settings.home, None))
        backend = backend if backend is not None else FakeBackend(settings)
        service = JobService(settings, db, iam, lake, backend)
        made.append(service)
        if start:
            service.start()
        return Harness(service, backend, settings, db, iam, lake)

    yield make
    for service in made:
        service.close()
    for db in databases:
        db.dispose()
