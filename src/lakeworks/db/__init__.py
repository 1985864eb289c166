"""Metadata database: engine, sessions, Alembic migrations (SQLite default, PostgreSQL)."""

from lakeworks.db.engine import Base, Database

__all__ = ["Base", "Database"]
