"""Engine, sessions and migrations for the metadata database.

SQLite runs in WAL mode with ``synchronous=FULL`` so a committed transition survives a crash;
PostgreSQL is used as is. Each domain's ``store.py`` declares its tables on :class:`Base` and is
the only code that touches them. Schema changes ship as Alembic migrations under
``db/migrations/versions`` (``scripts/new-migration`` autogenerates one).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, TypeDecorator, create_engine, event
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

__all__ = ["Base", "Database", "UTCDateTime"]

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

_NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every dialect (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of every table."""

    metadata = MetaData(naming_convention=_NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


class Database:
    """One metadata database: an engine, a session factory and its migrations.

    Args:
        url: SQLAlchemy URL (``sqlite:///path`` or ``postgresql+psycopg://...``).
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"future": True}
        if self.is_sqlite:
            path = url.split("///", 1)[-1]
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                # A pool keeps connections (and their pragmas) across sessions: opening one
                # costs milliseconds, which a crawl over 10k objects would pay per object.
                kwargs["pool_size"] = 8
                kwargs["max_overflow"] = 56
        else:
            kwargs["pool_pre_ping"] = True
        self.engine: Engine = create_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: commits on success, rolls back on any exception."""
        with self._sessions() as session, session.begin():
            yield session

    def upgrade(self) -> None:
        """Apply every pending Alembic migration (idempotent)."""
        from alembic import command  # deferred: only the server pays for Alembic

        command.upgrade(self.alembic_config(), "head")

    def alembic_config(self) -> Any:
        """The Alembic configuration bound to this database."""
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        config.attributes["engine"] = self.engine
        return config

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
