"""Tables of the catalog, crawlers and queries; nothing outside this package touches them.

Definitions are kept as JSON documents (the snake-case wire shapes of
:mod:`lakeworks.schemas.catalog`), so a table's definition, its versions and a partition's
storage descriptor round-trip exactly. Names are the keys: Glue lower-cases database and table
names, and so does the service before they get here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKeyConstraint, Integer, String, Text, delete, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from lakeworks.db import Base

__all__ = [
    "CrawlRecord",
    "CrawlerRecord",
    "DatabaseRecord",
    "GrantRecord",
    "PartitionRecord",
    "QueryRecord",
    "TableRecord",
    "TableVersionRecord",
    "WorkGroupRecord",
    "count_tables",
    "delete_partitions",
    "latest_crawls",
    "list_crawlers",
    "list_databases",
    "list_partitions",
    "list_queries",
    "list_tables",
    "list_versions",
    "list_workgroups",
    "move_crawler",
    "move_query",
    "unfinished_queries",
]

NAME = 255


class DatabaseRecord(Base):
    """A catalog database."""

    __tablename__ = "catalog_databases"

    name: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    spec: Mapped[dict[str, Any]]
    create_time: Mapped[datetime]


class TableRecord(Base):
    """The current definition of a table or view."""

    __tablename__ = "catalog_tables"
    __table_args__ = (
        ForeignKeyConstraint(["database_name"], ["catalog_databases.name"], ondelete="CASCADE"),
    )

    database_name: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    spec: Mapped[dict[str, Any]]
    version: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(128))
    create_time: Mapped[datetime]
    update_time: Mapped[datetime]


class TableVersionRecord(Base):
    """One definition a table has had (the current one included)."""

    __tablename__ = "catalog_table_versions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["database_name", "table_name"],
            ["catalog_tables.database_name", "catalog_tables.name"],
            ondelete="CASCADE",
        ),
    )

    database_name: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    table_name: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    spec: Mapped[dict[str, Any]]
    update_time: Mapped[datetime]


class PartitionRecord(Base):
    """A partition: its values (``values_key`` is their SHA-256, for the key) and storage."""

    __tablename__ = "catalog_partitions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["database_name", "table_name"],
            ["catalog_tables.database_name", "catalog_tables.name"],
            ondelete="CASCADE",
        ),
    )

    database_name: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    table_name: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    values_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    values: Mapped[list[Any]]
    spec: Mapped[dict[str, Any]]
    creation_time: Mapped[datetime]


class CrawlerRecord(Base):
    """A crawler: its definition, schedule and state."""

    __tablename__ = "catalog_crawlers"

    name: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    spec: Mapped[dict[str, Any]]
    schedule: Mapped[str | None] = mapped_column(String(256))
    schedule_state: Mapped[str] = mapped_column(String(16))
    next_run: Mapped[datetime | None]
    state: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    creation_time: Mapped[datetime]
    last_updated: Mapped[datetime]
    tags: Mapped[dict[str, Any]]


class CrawlRecord(Base):
    """One crawl of a crawler, with its report."""

    __tablename__ = "catalog_crawls"
    __table_args__ = (
        ForeignKeyConstraint(["crawler_name"], ["catalog_crawlers.name"], ondelete="CASCADE"),
    )

    crawl_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    crawler_name: Mapped[str] = mapped_column(String(NAME), index=True)
    state: Mapped[str] = mapped_column(String(16))
    start_time: Mapped[datetime]
    end_time: Mapped[datetime | None]
    error_message: Mapped[str | None] = mapped_column(Text)
    report: Mapped[dict[str, Any]]


class WorkGroupRecord(Base):
    """An Athena workgroup."""

    __tablename__ = "athena_workgroups"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    description: Mapped[str | None] = mapped_column(Text)
    configuration: Mapped[dict[str, Any]]
    creation_time: Mapped[datetime]
    tags: Mapped[dict[str, Any]]


class QueryRecord(Base):
    """One query execution: its text, state, statistics and result columns."""

    __tablename__ = "athena_queries"

    query_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    query: Mapped[str] = mapped_column(Text)
    statement_type: Mapped[str] = mapped_column(String(16))
    substatement_type: Mapped[str | None] = mapped_column(String(64))
    workgroup: Mapped[str] = mapped_column(String(128), index=True)
    database: Mapped[str | None] = mapped_column(String(NAME))
    principal: Mapped[str] = mapped_column(String(128))
    client_request_token: Mapped[str | None] = mapped_column(String(128), index=True)
    output_location: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))
    state_change_reason: Mapped[str | None] = mapped_column(Text)
    error: Mapped[dict[str, Any] | None]
    submission_time: Mapped[datetime] = mapped_column(index=True)
    completion_time: Mapped[datetime | None]
    statistics: Mapped[dict[str, Any]]
    columns: Mapped[list[Any]]
    #: ``csv`` (a header row comes first) or ``txt`` (rows only, as Athena writes DDL results).
    result_kind: Mapped[str] = mapped_column(String(8))


class GrantRecord(Base):
    """One Lake Formation permission of one principal on a database or table.

    ``table_name`` is ``""`` for the database itself and ``"*"`` for every table in it (the
    table wildcard). Grants are not foreign keys of tables: they are removed with their table
    or database by the catalog service, and a grant on a table made later must not appear.
    """

    __tablename__ = "catalog_grants"

    principal: Mapped[str] = mapped_column(String(128), primary_key=True)
    database_name: Mapped[str] = mapped_column(String(NAME), primary_key=True, index=True)
    table_name: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    permission: Mapped[str] = mapped_column(String(32), primary_key=True)
    grantable: Mapped[bool]
    updated_by: Mapped[str] = mapped_column(String(128))
    update_time: Mapped[datetime]


def list_databases(session: Session, after: str | None, limit: int) -> list[DatabaseRecord]:
    """Up to ``limit`` databases by name, after ``after``."""
    query = select(DatabaseRecord).order_by(DatabaseRecord.name).limit(limit)
    if after is not None:
        query = query.where(DatabaseRecord.name > after)
    return list(session.scalars(query))


def list_tables(
    session: Session, database: str, after: str | None, limit: int | None
) -> list[TableRecord]:
    """Tables of ``database`` by name, after ``after`` (all when ``limit`` is None)."""
    query = select(TableRecord).where(TableRecord.database_name == database)
    if after is not None:
        query = query.where(TableRecord.name > after)
    query = query.order_by(TableRecord.name)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def count_tables(session: Session, database: str) -> int:
    """How many tables ``database`` holds."""
    query = select(func.count()).select_from(TableRecord)
    return int(session.scalar(query.where(TableRecord.database_name == database)) or 0)


def list_versions(session: Session, database: str, table: str) -> list[TableVersionRecord]:
    """Every version of a table, newest first."""
    query = (
        select(TableVersionRecord)
        .where(TableVersionRecord.database_name == database, TableVersionRecord.table_name == table)
        .order_by(TableVersionRecord.version.desc())
    )
    return list(session.scalars(query))


def list_partitions(session: Session, database: str, table: str) -> list[PartitionRecord]:
    """Every partition of a table, oldest first (then by values)."""
    query = (
        select(PartitionRecord)
        .where(PartitionRecord.database_name == database, PartitionRecord.table_name == table)
        .order_by(PartitionRecord.creation_time, PartitionRecord.values_key)
    )
    return list(session.scalars(query))


def delete_partitions(session: Session, database: str, table: str, keys: list[str]) -> None:
    """Delete the partitions whose values hash to ``keys``."""
    if keys:
        session.execute(
            delete(PartitionRecord).where(
                PartitionRecord.database_name == database,
                PartitionRecord.table_name == table,
                PartitionRecord.values_key.in_(keys),
            )
        )


def list_crawlers(session: Session) -> list[CrawlerRecord]:
    """Every crawler by name."""
    return list(session.scalars(select(CrawlerRecord).order_by(CrawlerRecord.name)))


def latest_crawls(session: Session, crawler: str, limit: int) -> list[CrawlRecord]:
    """A crawler's latest crawls, newest first."""
    query = (
        select(CrawlRecord)
        .where(CrawlRecord.crawler_name == crawler)
        .order_by(CrawlRecord.start_time.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def list_workgroups(session: Session) -> list[WorkGroupRecord]:
    """Every workgroup by name."""
    return list(session.scalars(select(WorkGroupRecord).order_by(WorkGroupRecord.name)))


def list_queries(
    session: Session, workgroup: str | None, offset: int, limit: int
) -> list[QueryRecord]:
    """Query executions, newest first."""
    query = select(QueryRecord)
    if workgroup is not None:
        query = query.where(QueryRecord.workgroup == workgroup)
    query = query.order_by(QueryRecord.submission_time.desc(), QueryRecord.query_id)
    return list(session.scalars(query.offset(offset).limit(limit)))


def unfinished_queries(session: Session) -> list[QueryRecord]:
    """Queries still QUEUED or RUNNING (after a restart: orphans)."""
    query = select(QueryRecord).where(QueryRecord.state.in_(("QUEUED", "RUNNING")))
    return list(session.scalars(query))


def move_query(session: Session, query_id: str, states: tuple[str, ...], **values: Any) -> bool:
    """Set ``values`` on a query only while its state is one of ``states``; whether it was.

    One conditional UPDATE, so a stop and a worker finishing at the same moment cannot
    overwrite each other's state.
    """
    result = session.execute(
        update(QueryRecord)
        .where(QueryRecord.query_id == query_id, QueryRecord.state.in_(states))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def move_crawler(session: Session, name: str, states: tuple[str, ...], **values: Any) -> bool:
    """Set ``values`` on a crawler only while its state is one of ``states``; whether it was."""
    result = session.execute(
        update(CrawlerRecord)
        .where(CrawlerRecord.name == name, CrawlerRecord.state.in_(states))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
