"""The data catalog: databases, tables, table versions and partitions (Glue semantics).

Every operation mirrors a Glue Data Catalog action (CreateDatabase, GetTable, UpdateTable,
GetPartitions, BatchCreatePartition, GetTableVersions …), so the AWS front door maps each one
to a method here. Names are lower-cased as Glue does; an update of a table keeps the previous
definition as a version. Crawlers (:mod:`.crawlers`) and the SQL engine (:mod:`.queries`) build
on this service; :class:`CatalogService` also owns them and their background work.
"""

from __future__ import annotations

import re

from sqlalchemy.exc import IntegrityError

from lakeworks.core.clock import utcnow
from lakeworks.core.context import RequestContext
from lakeworks.core.errors import AlreadyExists, NotFound, ValidationError
from lakeworks.core.settings import Settings
from lakeworks.db import Database as MetadataDatabase
from lakeworks.lake.catalog import store
from lakeworks.lake.catalog.checks import MAX_PAGE, check_descriptor, check_location, page_limit
from lakeworks.lake.catalog.grants import TableGrants
from lakeworks.lake.catalog.names import catalog_name, column_name
from lakeworks.lake.catalog.partitions import PartitionCatalog
from lakeworks.lake.catalog.store import (
    DatabaseRecord,
    TableRecord,
    TableVersionRecord,
)
from lakeworks.lake.catalog.types import parse_type
from lakeworks.lake.objects import decode_token, encode_token
from lakeworks.lake.service import LakeService
from lakeworks.schemas.catalog import (
    Database,
    DatabaseInput,
    Table,
    TableInput,
    TableVersion,
)
from lakeworks.schemas.common import Page

__all__ = [
    "TABLE_TYPES",
    "CatalogService",
    "check_location",
    "no_database",
    "no_table",
    "page_limit",
]

TABLE_TYPES = frozenset({"EXTERNAL_TABLE", "VIRTUAL_VIEW", "MANAGED_TABLE", "GOVERNED"})


def no_database(name: str) -> NotFound:
    """Glue's error for a missing database."""
    return NotFound(
        f"Database {name!r} not found",
        aws_code="EntityNotFoundException",
        details={"database": name},
    )


def no_table(database: str, name: str) -> NotFound:
    """Glue's error for a missing table."""
    return NotFound(
        f"Table {name!r} not found in database {database!r}",
        aws_code="EntityNotFoundException",
        details={"database": database, "table": name},
    )


def _after(token: str | None) -> str | None:
    return None if not token else str(decode_token(token, "after")["after"])


def _check_table_input(spec: TableInput) -> TableInput:
    spec.name = catalog_name(spec.name, "table")
    names = check_descriptor(spec.storage_descriptor, "table")
    for key in spec.partition_keys:
        key.name = column_name(key.name)
        parse_type(key.type)
        names.append(key.name)
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValidationError(
            f"Column names must be unique across columns and partition keys; repeated: "
            f"{duplicates}",
            aws_code="InvalidInputException",
            details={"columns": duplicates},
        )
    if spec.table_type is not None and spec.table_type not in TABLE_TYPES:
        raise ValidationError(
            f"Invalid table type {spec.table_type!r}; allowed: {sorted(TABLE_TYPES)}",
            aws_code="InvalidInputException",
        )
    return spec


class CatalogService(PartitionCatalog):
    """Databases, tables, versions and partitions; owner of crawlers and queries.

    Args:
        settings: The settings tree (account id for ``catalog_id``; home for caches).
        db: The metadata database.
        lake: The lake service, through which crawlers and queries read data.
    """

    def __init__(self, settings: Settings, db: MetadataDatabase, lake: LakeService) -> None:
        # deferred: crawlers and queries import this module for its helpers
        from lakeworks.lake.catalog.crawlers import CrawlerService
        from lakeworks.lake.catalog.queries import QueryService

        self.settings = settings
        self.db = db
        self.lake = lake
        self.catalog_id = settings.aws.account_id
        self.grants = TableGrants(self)
        self.crawlers = CrawlerService(self)
        self.queries = QueryService(self)
        self.workgroups = self.queries.workgroups

    def start(self) -> None:
        """Recover what a previous server left running and start the crawler scheduler."""
        self.queries.start()
        self.crawlers.start()

    def close(self) -> None:
        """Stop the scheduler, running crawls and queries."""
        self.crawlers.close()
        self.queries.close()

    # -- shapes ----------------------------------------------------------------------------

    def _database(self, record: DatabaseRecord) -> Database:
        return Database(
            name=record.name,
            create_time=record.create_time,
            catalog_id=self.catalog_id,
            **record.spec,
        )

    def _table(self, record: TableRecord | TableVersionRecord, base: TableRecord) -> Table:
        spec = dict(record.spec)
        return Table(
            name=base.name,
            database_name=base.database_name,
            create_time=base.create_time,
            update_time=record.update_time,
            created_by=base.created_by,
            catalog_id=self.catalog_id,
            version_id=str(record.version),
            **spec,
        )

    # -- databases -------------------------------------------------------------------------

    def create_database(self, ctx: RequestContext, spec: DatabaseInput) -> Database:
        """Create a database (Glue's CreateDatabase).

        Raises:
            ValidationError: Invalid name or location (``InvalidInputException``).
            AlreadyExists: ``AlreadyExistsException``.
        """
        ctx.require("write")
        name = catalog_name(spec.name, "database")
        check_location(spec.location_uri, "database")
        record = DatabaseRecord(
            name=name,
            spec=spec.model_dump(mode="json", exclude={"name"}),
            create_time=utcnow(),
        )
        try:
            with self.db.session() as session:
                if session.get(DatabaseRecord, name) is not None:
                    raise _database_exists(name)
                session.add(record)
        except IntegrityError:
            raise _database_exists(name) from None
        return self._database(record)

    def _require_database(self, name: str) -> DatabaseRecord:
        key = catalog_name(name, "database")
        with self.db.session() as session:
            record = session.get(DatabaseRecord, key)
        if record is None:
            raise no_database(key)
        return record

    def get_database(self, ctx: RequestContext, name: str) -> Database:
        """A database (Glue's GetDatabase).

        Raises:
            NotFound: ``EntityNotFoundException``.
        """
        ctx.require("read")
        return self._database(self._require_database(name))

    def list_databases(
        self, ctx: RequestContext, *, next_token: str | None = None, max_results: int = 100
    ) -> Page[Database]:
        """Databases by name, a page at a time (Glue's GetDatabases), without those the caller
        may not see under Lake Formation grants (see :mod:`lakeworks.lake.catalog.grants`)."""
        ctx.require("read")
        limit = page_limit(max_results)
        after = _after(next_token)
        items: list[Database] = []
        while True:
            with self.db.session() as session:
                rows = store.list_databases(session, after, MAX_PAGE)
            shown = self.grants.database_filter(ctx, (r.name for r in rows))
            for row in rows:
                if row.name in shown:
                    if len(items) == limit:
                        return Page(items=items, next_token=encode_token({"after": items[-1].name}))
                    items.append(self._database(row))
            if len(rows) < MAX_PAGE:
                return Page(items=items, next_token=None)
            after = rows[-1].name

    def update_database(self, ctx: RequestContext, name: str, spec: DatabaseInput) -> Database:
        """Replace a database's description, location and parameters (Glue's UpdateDatabase).

        Raises:
            NotFound: ``EntityNotFoundException``.
            ValidationError: ``spec.name`` differs from ``name`` (renaming is not supported).
        """
        ctx.require("write")
        key = catalog_name(name, "database")
        self.grants.check_database(ctx, key, "ALTER")
        if catalog_name(spec.name, "database") != key:
            raise ValidationError(
                f"Renaming database {key!r} to {spec.name!r} is not supported",
                aws_code="InvalidInputException",
            )
        check_location(spec.location_uri, "database")
        with self.db.session() as session:
            record = session.get(DatabaseRecord, key)
            if record is None:
                raise no_database(key)
            record.spec = spec.model_dump(mode="json", exclude={"name"})
        return self._database(record)

    def delete_database(self, ctx: RequestContext, name: str) -> None:
        """Delete a database with its tables and partitions (Glue's DeleteDatabase).

        Raises:
            NotFound: ``EntityNotFoundException``.
        """
        ctx.require("write")
        key = catalog_name(name, "database")
        self.grants.check_database(ctx, key, "DROP")
        with self.db.session() as session:
            record = session.get(DatabaseRecord, key)
            if record is None:
                raise no_database(key)
            session.delete(record)
        self.grants.forget(key)

    # -- tables ----------------------------------------------------------------------------

    def create_table(self, ctx: RequestContext, database: str, spec: TableInput) -> Table:
        """Create a table or view (Glue's CreateTable); its first version is ``"0"``.

        Raises:
            NotFound: No such database (``EntityNotFoundException``).
            AlreadyExists: ``AlreadyExistsException``.
            ValidationError: Invalid names, types or location (``InvalidInputException``).
        """
        ctx.require("write")
        db_name = self._require_database(database).name
        spec = _check_table_input(spec)
        now = utcnow()
        body = spec.model_dump(mode="json", exclude={"name"})
        record = TableRecord(
            database_name=db_name,
            name=spec.name,
            spec=body,
            version=0,
            created_by=ctx.principal,
            create_time=now,
            update_time=now,
        )
        try:
            with self.db.session() as session:
                if session.get(TableRecord, (db_name, spec.name)) is not None:
                    raise _table_exists(db_name, spec.name)
                session.add(record)
                session.flush()
                session.add(
                    TableVersionRecord(
                        database_name=db_name,
                        table_name=spec.name,
                        version=0,
                        spec=body,
                        update_time=now,
                    )
                )
        except IntegrityError:
            raise _table_exists(db_name, spec.name) from None
        return self._table(record, record)

    def _require_table(self, database: str, name: str) -> TableRecord:
        db_name = self._require_database(database).name
        key = catalog_name(name, "table")
        with self.db.session() as session:
            record = session.get(TableRecord, (db_name, key))
        if record is None:
            raise no_table(db_name, key)
        return record

    def get_table(self, ctx: RequestContext, database: str, name: str) -> Table:
        """A table's current definition (Glue's GetTable).

        Raises:
            NotFound: No such database or table (``EntityNotFoundException``).
        """
        ctx.require("read")
        record = self._require_table(database, name)
        self.grants.check_table(ctx, record.database_name, record.name, "DESCRIBE")
        return self._table(record, record)

    def list_tables(
        self,
        ctx: RequestContext,
        database: str,
        *,
        expression: str | None = None,
        next_token: str | None = None,
        max_results: int = 100,
    ) -> Page[Table]:
        """Tables of a database by name (Glue's GetTables).

        Args:
            expression: A regular expression the whole table name must match.

        Raises:
            NotFound: No such database.
            ValidationError: A malformed expression or token.
        """
        ctx.require("read")
        db_name = self._require_database(database).name
        limit = page_limit(max_results)
        pattern = _name_pattern(expression)
        after = _after(next_token)
        visible = self.grants.table_filter(ctx, db_name)
        items: list[Table] = []
        token = None
        while True:
            with self.db.session() as session:
                rows = store.list_tables(session, db_name, after, MAX_PAGE)
            for row in rows:
                if (pattern is None or pattern.fullmatch(row.name)) and visible(row.name):
                    if len(items) == limit:
                        token = encode_token({"after": items[-1].name})
                        return Page(items=items, next_token=token)
                    items.append(self._table(row, row))
            if len(rows) < MAX_PAGE:
                return Page(items=items, next_token=token)
            after = rows[-1].name

    def update_table(
        self, ctx: RequestContext, database: str, spec: TableInput, *, skip_archive: bool = False
    ) -> Table:
        """Replace a table's definition (Glue's UpdateTable); the old one stays a version.

        Args:
            skip_archive: Replace the current version instead of adding one (Glue's
                ``SkipArchive``).

        Raises:
            NotFound: No such database or table (``EntityNotFoundException``).
            ValidationError: Invalid names, types or location.
        """
        ctx.require("write")
        spec = _check_table_input(spec)
        record = self._require_table(database, spec.name)
        self.grants.check_table(ctx, record.database_name, record.name, "ALTER")
        body = spec.model_dump(mode="json", exclude={"name"})
        now = utcnow()
        with self.db.session() as session:
            current = session.get(TableRecord, (record.database_name, record.name))
            if current is None:
                raise no_table(record.database_name, record.name)
            version = current.version if skip_archive else current.version + 1
            current.spec = body
            current.version = version
            current.update_time = now
            session.merge(
                TableVersionRecord(
                    database_name=current.database_name,
                    table_name=current.name,
                    version=version,
                    spec=body,
                    update_time=now,
                )
            )
            session.flush()
            return self._table(current, current)

    def delete_table(self, ctx: RequestContext, database: str, name: str) -> None:
        """Delete a table with its versions and partitions (Glue's DeleteTable).

        Raises:
            NotFound: No such database or table.
        """
        ctx.require("write")
        record = self._require_table(database, name)
        self.grants.check_table(ctx, record.database_name, record.name, "DROP")
        with self.db.session() as session:
            current = session.get(TableRecord, (record.database_name, record.name))
            if current is None:
                raise no_table(record.database_name, record.name)
            session.delete(current)
        self.grants.forget(record.database_name, record.name)

    def get_table_versions(
        self,
        ctx: RequestContext,
        database: str,
        table: str,
        *,
        next_token: str | None = None,
        max_results: int = 100,
    ) -> Page[TableVersion]:
        """A table's versions, newest first (Glue's GetTableVersions)."""
        ctx.require("read")
        record = self._require_table(database, table)
        limit = page_limit(max_results)
        offset = int(decode_token(next_token, "after")["after"]) if next_token else 0
        with self.db.session() as session:
            rows = store.list_versions(session, record.database_name, record.name)
        page = rows[offset : offset + limit]
        items = [
            TableVersion(table=self._table(r, record), version_id=str(r.version)) for r in page
        ]
        more = len(rows) > offset + limit
        return Page(
            items=items, next_token=encode_token({"after": str(offset + limit)}) if more else None
        )

    def get_table_version(
        self, ctx: RequestContext, database: str, table: str, version_id: str | None = None
    ) -> TableVersion:
        """One version of a table (the current one when ``version_id`` is omitted).

        Raises:
            NotFound: No such table or version (``EntityNotFoundException``).
        """
        ctx.require("read")
        record = self._require_table(database, table)
        if version_id is None:
            return TableVersion(table=self._table(record, record), version_id=str(record.version))
        if not version_id.isdigit():
            raise NotFound(
                f"Version {version_id!r} of table {record.name!r} not found",
                aws_code="EntityNotFoundException",
            )
        with self.db.session() as session:
            row = session.get(
                TableVersionRecord, (record.database_name, record.name, int(version_id))
            )
        if row is None:
            raise NotFound(
                f"Version {version_id!r} of table {record.name!r} not found",
                aws_code="EntityNotFoundException",
            )
        return TableVersion(table=self._table(row, record), version_id=str(row.version))

    def table_record(self, database: str, name: str) -> TableRecord:
        """The record of a table (no scope check; for crawlers and queries).

        Raises:
            NotFound: No such database or table.
        """
        return self._require_table(database, name)

    def table_records(self, database: str) -> list[TableRecord]:
        """Every table of a database (no scope check)."""
        db_name = self._require_database(database).name
        with self.db.session() as session:
            return store.list_tables(session, db_name, None, None)


def _name_pattern(expression: str | None) -> re.Pattern[str] | None:
    if not expression:
        return None
    try:
        return re.compile(expression, re.IGNORECASE)
    except re.error as exc:
        raise ValidationError(
            f"Invalid table name expression {expression!r}: {exc}",
            aws_code="InvalidInputException",
        ) from None


def _database_exists(name: str) -> AlreadyExists:
    return AlreadyExists(
        f"Database {name!r} already exists",
        aws_code="AlreadyExistsException",
        details={"database": name},
    )


def _table_exists(database: str, name: str) -> AlreadyExists:
    return AlreadyExists(
        f"Table {name!r} already exists in database {database!r}",
        aws_code="AlreadyExistsException",
        details={"database": database, "table": name},
    )
