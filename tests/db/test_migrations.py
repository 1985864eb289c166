"""Migrations and the tables the stores declare never drift apart, on SQLite and PostgreSQL."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

import lakeworks
from lakeworks.db import Base, Database


def _import_stores() -> None:
    for info in pkgutil.walk_packages(lakeworks.__path__, "lakeworks."):
        if info.name.endswith(".store"):
            importlib.import_module(info.name)


def _assert_no_drift(db: Database) -> None:
    _import_stores()
    db.upgrade()
    with db.engine.connect() as connection:
        diff = compare_metadata(
            MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata
        )
    assert diff == [], f"tables differ from migrations; run scripts/new-migration: {diff}"


def test_sqlite_matches_models_and_uses_wal(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    _assert_no_drift(db)
    with db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
    db.upgrade()  # idempotent
    assert "iam_principals" in inspect(db.engine).get_table_names()


@pytest.mark.postgres
def test_postgres_matches_models(postgres_url: str) -> None:
    db = Database(postgres_url)
    try:
        _assert_no_drift(db)
    finally:
        db.dispose()
