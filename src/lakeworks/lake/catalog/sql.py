"""SQL over the lake with DuckDB: catalog tables become DuckDB views over their files.

For each query a fresh in-memory DuckDB connection gets a catalog ``awsdatacatalog`` with one
schema per database, and, for every table the query references (views recursively), a view
that reads the table's files in place:

- delimited text: ``read_csv`` with the table's delimiter, quoting and header lines, every
  column read as text and ``TRY_CAST`` to its type (a bad value is NULL, as in Athena);
- JSON lines: ``read_json``, columns matched by name case-insensitively;
- Parquet: ``read_parquet`` (``union_by_name``), columns matched by name.

A partitioned table is the ``UNION ALL`` of one read per catalog partition, each adding the
partition values as constant columns, so a filter on partition keys prunes whole partitions
(DuckDB folds the constant comparisons away) and only catalog partitions are read, as in Athena.

Files: on the local store they are read where they are (``<root>/<bucket>/<key>``); keys the
store had to escape, and every object of an S3-compatible store, are staged once into
``<home>/cache/sql`` (keyed by ETag). DuckDB's httpfs extension is not used: it cannot be
installed offline.

The connection is sandboxed before the user's SQL runs: only the table files (and a spill
directory) are readable, external access is off and the configuration is locked, so a query
cannot read other server files, write files, attach databases or load extensions.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import stat
import tempfile
import threading
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import NotFound, ValidationError
from lakeworks.lake.catalog.ddl import decode_view
from lakeworks.lake.catalog.formats import DataFormat, format_of
from lakeworks.lake.catalog.store import TableRecord
from lakeworks.lake.catalog.types import to_duckdb
from lakeworks.lake.service import parse_s3_uri
from lakeworks.schemas.catalog import StorageDescriptor
from lakeworks.schemas.lake import ObjectInfo

if TYPE_CHECKING:
    from lakeworks.lake.catalog.service import CatalogService

__all__ = ["CATALOG", "PreparedQuery", "SqlEngine", "quote_ident"]

CATALOG = "awsdatacatalog"
_MAX_VIEW_DEPTH = 10
_GLOB_CHARS = frozenset("*?[]{}")
_COMPRESSED = (".gz", ".gzip", ".zst", ".bz2", ".snappy", ".lz4")


def quote_ident(name: str) -> str:
    """A DuckDB identifier in double quotes."""
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _suffix(key: str) -> str:
    name = key.rsplit("/", 1)[-1]
    parts = name.split(".")
    if len(parts) >= 3 and "." + parts[-1].lower() in _COMPRESSED:
        return "." + ".".join(parts[-2:])
    return "." + parts[-1] if len(parts) > 1 else ""


def _view_body(body: str | None, name: str) -> str:
    """A view's SQL, if it is exactly one SELECT statement.

    Raises:
        ValidationError: No readable definition, or anything but one SELECT.
    """
    try:
        statements = duckdb.extract_statements(body) if body else []
    except duckdb.Error:
        statements = []
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        raise ValidationError(
            f"View {name} has no readable definition: it must be one SELECT statement",
            aws_code="InvalidRequestException",
        )
    return body.strip().rstrip(";")  # type: ignore[union-attr]


class LakeFiles:
    """Local paths of lake objects: in place on the local store, else staged to a cache.

    Args:
        catalog: For the lake service.
        cache_dir: Where staged copies go.
    """

    def __init__(self, catalog: CatalogService, cache_dir: Path) -> None:
        self.lake = catalog.lake
        self.cache_dir = cache_dir
        self._lock = threading.Lock()

    def list(self, ctx: RequestContext, location: str) -> list[ObjectInfo]:
        """Data files under ``location`` (recursively; hidden and empty files skipped)."""
        bucket, prefix = parse_s3_uri(location)
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        found: list[ObjectInfo] = []
        token: str | None = None
        while True:
            try:
                page = self.lake.list_objects(ctx, bucket, prefix=prefix, continuation_token=token)
            except NotFound:
                return found  # a table over a bucket that is gone reads as empty
            for item in page.items:
                relative = item.key[len(prefix) :]
                if item.size == 0 or relative.endswith(("/", "$folder$", ".metadata")):
                    continue
                if any(part.startswith(("_", ".")) for part in relative.split("/")):
                    continue
                found.append(item)
            token = page.next_token
            if token is None:
                return found

    def path(self, ctx: RequestContext, item: ObjectInfo, scratch: Callable[[], Path]) -> Path:
        """A local file with the bytes of ``item``.

        The object is described through the lake service first, so the caller's access to
        it is checked (bucket policies can allow or deny single keys) and its encryption is
        known: only a plain object of the local store is read in place. Other objects are
        copied into the cache; an encrypted one only into ``scratch()``, a directory of the
        query's own that goes when the query ends, so no plaintext copy outlives it.

        Raises:
            NotFound: The object is gone.
            AccessDenied: The caller may not read it.
        """
        info = self.lake.head_object(ctx, item.bucket, item.key)
        sealed = bool(getattr(info, "server_side_encryption", None))
        uri = self.lake.store.uri(item.bucket, item.key)
        if uri.startswith("file://") and not sealed:
            path = Path(urllib.request.url2pathname(urllib.parse.urlparse(uri).path))
            with contextlib.suppress(OSError):
                found = os.lstat(path)
                if stat.S_ISREG(found.st_mode) and not _GLOB_CHARS & set(str(path)):
                    return path
        return self._stage(ctx, item, scratch() if sealed else None)

    def _stage(self, ctx: RequestContext, item: ObjectInfo, scratch: Path | None) -> Path:
        digest = hashlib.sha256(f"{item.bucket}/{item.key}".encode()).hexdigest()[:32]
        base = scratch if scratch is not None else self.cache_dir / item.bucket
        target = base / f"{digest}-{item.etag}{_suffix(item.key)}"
        if target.exists():
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        _, _, _, chunks = self.lake.get_object(ctx, item.bucket, item.key)
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=".stage-")
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    out.write(chunk)
            with self._lock:
                # drop older copies of the same key before the new one takes their place
                for old in target.parent.glob(f"{digest}-*"):
                    if old != target:
                        old.unlink(missing_ok=True)
                os.replace(name, target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name)
        return target


@dataclass
class PreparedQuery:
    """A DuckDB connection with the referenced tables registered, ready to run one query.

    Attributes:
        connection: The sandboxed connection.
        data_scanned: Bytes of the files of every table and partition the query references.
        tables: ``database.table`` of every catalog table registered.
    """

    connection: duckdb.DuckDBPyConnection
    data_scanned: int = 0
    tables: list[str] = field(default_factory=list)
    #: ``(database, target, body)`` of catalog views, created once the sandbox is closed.
    views: list[tuple[str, str, str]] = field(default_factory=list)
    #: Where this query's copies of encrypted objects go (removed by :meth:`close`).
    scratch: Path | None = None

    def run(self, sql: str) -> tuple[pa.Table, list[str]]:
        """Run a query; returns its rows and the DuckDB type of each column.

        Raises:
            duckdb.Error: DuckDB refused or failed the query (syntax, binding, interrupt).
        """
        relation = self.connection.sql(sql)
        if relation is None:
            return pa.table({}), []
        types = [str(t) for t in relation.types]
        table = relation.to_arrow_table()
        return _narrow(table, types), types

    def interrupt(self) -> None:
        """Stop the running query (from another thread)."""
        self.connection.interrupt()

    def close(self) -> None:
        """Close the connection and remove the query's scratch copies."""
        self.connection.close()
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)


def _narrow(table: pa.Table, types: list[str]) -> pa.Table:
    """Turn DuckDB's HUGEINT results (``sum`` of integers) into int64, as Athena's bigint."""
    columns = []
    for column, type_ in zip(table.columns, types, strict=True):
        if type_ == "HUGEINT":
            with contextlib.suppress(pa.ArrowInvalid):
                column = column.cast(pa.int64())
        columns.append(column)
    return pa.table(columns, names=table.column_names) if columns else table


class SqlEngine:
    """Builds sandboxed DuckDB connections over catalog tables.

    Args:
        catalog: The catalog (tables, partitions) and its lake.
        cache_dir: Staged copies of objects that cannot be read in place.
        threads: DuckDB threads per query (DuckDB's default when ``None``).
    """

    def __init__(
        self, catalog: CatalogService, cache_dir: Path, threads: int | None = None
    ) -> None:
        self.catalog = catalog
        self.files = LakeFiles(catalog, cache_dir / "objects")
        self.spill_dir = cache_dir / "spill"
        self.scratch_dir = cache_dir / "scratch"
        self.threads = threads

    def prepare(self, ctx: RequestContext, sql: str, database: str | None) -> PreparedQuery:
        """Open a connection with every table ``sql`` references registered, then lock it.

        Args:
            sql: One query (already checked to be a query, not DDL).
            database: The database unqualified names refer to.

        Raises:
            NotFound: ``database`` does not exist.
            ValidationError: A referenced table cannot be read (an unknown format).
        """
        self.spill_dir.mkdir(parents=True, exist_ok=True)
        config: dict[str, Any] = {"temp_directory": str(self.spill_dir)}
        if self.threads:
            config["threads"] = self.threads
        connection = duckdb.connect(":memory:", config=config)
        prepared = PreparedQuery(connection)
        try:
            connection.execute(f"ATTACH ':memory:' AS {CATALOG}")
            current = None
            if database:
                current = self.catalog.get_database(ctx, database).name
                self._schema(connection, current)
            paths: list[str] = []
            for ref in self._references(connection, sql, current):
                self._register(ctx, prepared, ref, paths, 0)
            connection.execute(f"SET allowed_paths = [{', '.join(_literal(p) for p in paths)}]")
            connection.execute(f"SET allowed_directories = [{_literal(str(self.spill_dir))}]")
            connection.execute("SET enable_external_access = false")
            # a view's text comes from the catalog (anyone with write scope can set it), so
            # views are made only now, when no statement can reach the file system
            for schema, target, body in prepared.views:
                connection.execute(f"USE {CATALOG}.{quote_ident(schema)}")
                connection.execute(f"CREATE VIEW {target} AS {body}")
            connection.execute(f"USE {CATALOG}.{quote_ident(current or 'main')}")
            connection.execute("SET lock_configuration = true")
        except BaseException:
            prepared.close()
            raise
        return prepared

    @staticmethod
    def _schema(connection: duckdb.DuckDBPyConnection, database: str) -> None:
        connection.execute(f"CREATE SCHEMA IF NOT EXISTS {CATALOG}.{quote_ident(database)}")

    @staticmethod
    def _references(
        connection: duckdb.DuckDBPyConnection, sql: str, current: str | None
    ) -> Iterator[tuple[str, str]]:
        """``(database, table)`` of every table name in ``sql`` that could be a catalog table."""
        try:
            names = connection.get_table_names(sql, qualified=True)
        except duckdb.Error:
            return  # DuckDB will report the syntax error when the query runs
        for name in sorted(names):
            parts = [p.strip('"').lower() for p in name.split(".")]
            if len(parts) == 3 and parts[0] == CATALOG:
                parts = parts[1:]
            if len(parts) == 2:
                yield parts[0], parts[1]
            elif len(parts) == 1 and current:
                yield current, parts[0]

    def _register(
        self,
        ctx: RequestContext,
        prepared: PreparedQuery,
        ref: tuple[str, str],
        paths: list[str],
        depth: int,
    ) -> None:
        database, name = ref
        qualified = f"{database}.{name}"
        if qualified in prepared.tables:
            return
        try:
            record = self.catalog.table_record(database, name)
        except (NotFound, ValidationError):
            return  # not a catalog table: DuckDB reports it if it is nothing else either
        # Lake Formation grants: every table read, views and the tables under them alike
        self.catalog.grants.check_table(ctx, record.database_name, record.name, "SELECT")
        connection = prepared.connection
        prepared.tables.append(qualified)
        self._schema(connection, record.database_name)
        target = f"{CATALOG}.{quote_ident(record.database_name)}.{quote_ident(record.name)}"
        spec = record.spec
        if spec.get("table_type") == "VIRTUAL_VIEW":
            body = _view_body(decode_view(spec.get("view_original_text")), qualified)
            if depth >= _MAX_VIEW_DEPTH:
                raise ValidationError(f"View {qualified} nests views more than {depth} deep")
            for inner in self._references(connection, body, record.database_name):
                self._register(ctx, prepared, inner, paths, depth + 1)
            prepared.views.append((record.database_name, target, body))
            return
        connection.execute(
            f"CREATE VIEW {target} AS {self._table_sql(ctx, prepared, record, paths)}"
        )

    def _table_sql(
        self, ctx: RequestContext, prepared: PreparedQuery, record: TableRecord, paths: list[str]
    ) -> str:
        spec = record.spec
        descriptor = StorageDescriptor.model_validate(spec.get("storage_descriptor") or {})
        fmt = format_of(descriptor, spec.get("parameters") or {})
        columns = [(c.name, c.type) for c in descriptor.columns]
        keys = [(k["name"], k.get("type") or "string") for k in spec.get("partition_keys", [])]
        sources: list[tuple[list[str], list[str]]] = []
        if keys:
            for partition in self.catalog.partitions_of(record):
                location = ((partition.spec.get("storage_descriptor") or {}).get("location")) or (
                    (descriptor.location or "").rstrip("/")
                    + "/"
                    + "/".join(
                        f"{k}={v}" for (k, _), v in zip(keys, partition.values, strict=False)
                    )
                )
                sources.append((self._paths(ctx, prepared, location), list(partition.values)))
        elif descriptor.location:
            sources.append((self._paths(ctx, prepared, descriptor.location), []))
        branches = []
        for files, values in sources:
            if not files:
                continue
            paths.extend(files)
            branches.append(self._branch(prepared.connection, fmt, files, columns, keys, values))
        if not branches:
            names = [*columns, *keys]
            select = ", ".join(
                f"CAST(NULL AS {to_duckdb(t)}) AS {quote_ident(n)}" for n, t in names
            )
            return f"SELECT {select or '1 AS empty'} WHERE false"
        return " UNION ALL ".join(branches)

    def _paths(self, ctx: RequestContext, prepared: PreparedQuery, location: str) -> list[str]:
        def scratch() -> Path:
            if prepared.scratch is None:
                self.scratch_dir.mkdir(parents=True, exist_ok=True)
                prepared.scratch = Path(tempfile.mkdtemp(dir=self.scratch_dir, prefix="q-"))
            return prepared.scratch

        paths = []
        for item in self.files.list(ctx, location):
            try:
                paths.append(str(self.files.path(ctx, item, scratch)))
            except NotFound:
                continue  # deleted since it was listed
            prepared.data_scanned += item.size
        return paths

    @staticmethod
    def _branch(
        connection: duckdb.DuckDBPyConnection,
        fmt: DataFormat,
        files: list[str],
        columns: list[tuple[str, str]],
        keys: list[tuple[str, str]],
        values: list[str],
    ) -> str:
        file_list = "[" + ", ".join(_literal(f) for f in files) + "]"
        if fmt.kind == "csv":
            text_columns = "{" + ", ".join(f"{_literal(n)}: 'VARCHAR'" for n, _ in columns) + "}"
            quote = fmt.quote or ""
            escape = fmt.escape or (fmt.quote or "")
            source = (
                f"read_csv({file_list}, delim={_literal(fmt.delimiter)}, quote={_literal(quote)}, "
                f"escape={_literal(escape)}, header=false, skip={fmt.header_lines}, "
                f"columns={text_columns}, auto_detect=false, strict_mode=false, "
                "null_padding=true, nullstr='\\N', compression='auto')"
            )
            available = {n: n for n, _ in columns}
        else:
            if fmt.kind == "json":
                source = (
                    f"read_json({file_list}, format='newline_delimited', union_by_name=true, "
                    "ignore_errors=true)"
                )
            else:
                source = f"read_parquet({file_list}, union_by_name=true)"
            # every piece of ``source`` is quoted with _literal; no user text reaches it
            described = connection.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()  # noqa: S608
            available = {str(row[0]).lower(): str(row[0]) for row in described}
        exprs = []
        for name, type_ in columns:
            duck = to_duckdb(type_)
            actual = available.get(name.lower())
            if actual is None:
                value = f"CAST(NULL AS {duck})"
            elif fmt.kind != "csv":
                value = f"TRY_CAST({quote_ident(actual)} AS {duck})"
            elif duck == "VARCHAR":
                value = quote_ident(actual)
            else:
                # NULLIF keeps DuckDB from pushing the cast into the CSV reader, where a bad
                # value would fail the query instead of reading as NULL (Hive's behaviour)
                value = f"TRY_CAST(NULLIF({quote_ident(actual)}, '') AS {duck})"
            exprs.append(f"{value} AS {quote_ident(name)}")
        for (name, type_), value_text in zip(keys, values, strict=False):
            exprs.append(
                f"TRY_CAST({_literal(value_text)} AS {to_duckdb(type_)}) AS {quote_ident(name)}"
            )
        return f"SELECT {', '.join(exprs) or '*'} FROM {source}"  # noqa: S608 - all quoted
