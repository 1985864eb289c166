"""Fixtures shared by the whole suite.

PostgreSQL: tests marked ``postgres`` use the machine's server at 127.0.0.1:5432 (database
``test``), each run in a fresh database of its own. Where none is reachable they skip and say so,
unless ``LAKEWORKS_REQUIRE_POSTGRES=1`` (set by ``.ci/run``) turns the skip into a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from lakeworks.testing import InProcessServer, temporary_server

PG_ADMIN_URL = os.environ.get("LAKEWORKS_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[InProcessServer]:
    """A whole Lakeworks app in process, with the admin token on its client."""
    with temporary_server(tmp_path / "home") as srv:
        yield srv


def _pg_unavailable(reason: str) -> None:
    if os.environ.get("LAKEWORKS_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL is required here (LAKEWORKS_REQUIRE_POSTGRES=1): {reason}")
    pytest.skip(f"no PostgreSQL at {PG_ADMIN_URL}: {reason}")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A SQLAlchemy URL of a fresh, empty PostgreSQL database of the test's own, dropped after.

    One per test: servers on a shared database would share (and fight over) its bootstrap admin.
    """
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - dev extra missing
        _pg_unavailable(f"psycopg is not installed ({exc})")
        raise
    name = f"lakeworks_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        _pg_unavailable(str(exc).strip())
        raise
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
