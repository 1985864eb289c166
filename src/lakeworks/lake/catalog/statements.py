"""Run one SQL statement: a query through DuckDB, or a DDL statement against the catalog.

Queries (``SELECT``, ``WITH``, ``EXPLAIN``) run on a sandboxed DuckDB connection over the
referenced tables (:mod:`.sql`); the DDL Athena speaks (:mod:`.ddl`) becomes catalog
operations. ``CREATE TABLE … AS SELECT`` writes Parquet into the lake and registers the table
(and its partitions). Every failure is a :class:`StatementFailed` with Athena's error category.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import AlreadyExists, LakeworksError, NotFound
from lakeworks.lake.catalog import ddl
from lakeworks.lake.catalog.formats import (
    JSON_SERDE,
    LAZY_SIMPLE_SERDE,
    DataFormat,
    descriptor_for,
)
from lakeworks.lake.catalog.sql import PreparedQuery, SqlEngine
from lakeworks.lake.catalog.types import arrow_to_hive, duckdb_to_hive
from lakeworks.lake.service import parse_s3_uri
from lakeworks.schemas.catalog import (
    DatabaseInput,
    PartitionInput,
    SerDeInfo,
    StorageDescriptor,
    TableColumn,
    TableInput,
)

if TYPE_CHECKING:
    from lakeworks.lake.catalog.service import CatalogService

__all__ = ["StatementFailed", "StatementResult", "StatementRunner", "classify"]

StatementType = Literal["DDL", "DML", "UTILITY"]


class StatementFailed(Exception):
    """A statement failed; ``category`` is Athena's (1 system, 2 user, 3 other)."""

    def __init__(
        self,
        message: str,
        *,
        category: int = 2,
        error_type: int = 1000,
        cause: LakeworksError | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.category = category
        self.error_type = error_type
        self.cause = cause


@dataclass
class StatementResult:
    """What a statement produced."""

    table: pa.Table
    types: list[str]
    kind: Literal["csv", "txt"]
    data_scanned: int = 0
    update_count: int = 0


_SUBSTATEMENTS: dict[type, str] = {
    ddl.CreateExternalTable: "CREATE_TABLE",
    ddl.CreateTableAs: "CREATE_TABLE_AS_SELECT",
    ddl.CreateView: "CREATE_VIEW",
    ddl.CreateDatabase: "CREATE_DATABASE",
    ddl.DropTable: "DROP_TABLE",
    ddl.DropDatabase: "DROP_DATABASE",
    ddl.ShowTables: "SHOW_TABLES",
    ddl.ShowDatabases: "SHOW_DATABASES",
    ddl.ShowPartitions: "SHOW_PARTITIONS",
    ddl.Describe: "DESCRIBE_TABLE",
    ddl.MsckRepair: "MSCK_REPAIR_TABLE",
    ddl.AlterPartitions: "ALTER_TABLE",
}


def classify(sql: str) -> tuple[StatementType, str]:
    """Athena's statement type and sub-type of ``sql``, never raising (errors come at run)."""
    try:
        statement = ddl.parse_statement(sql)
    except LakeworksError:
        return "DDL", "UNKNOWN"
    if statement is not None:
        return "DDL", _SUBSTATEMENTS[type(statement)]
    if re.match(r"^\s*(\(\s*)*explain\b", sql, re.IGNORECASE):
        return "UTILITY", "EXPLAIN"
    return "DML", "SELECT"


def _check_query(sql: str) -> None:
    """Refuse anything but one SELECT/EXPLAIN statement (the rest is not Athena's SQL)."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise StatementFailed(str(exc), error_type=1002) from None
    if len(statements) != 1:
        raise StatementFailed(f"Only one sql statement is allowed. Got: {len(statements)}")
    kind = statements[0].type
    if kind not in (duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN):
        raise StatementFailed(
            f"{kind.name} statements are not supported; run SELECT, WITH, EXPLAIN, or the DDL "
            "statements CREATE EXTERNAL TABLE, CREATE TABLE AS, CREATE VIEW, DROP, SHOW, "
            "DESCRIBE, MSCK REPAIR TABLE, ALTER TABLE ADD/DROP PARTITION"
        )


def _text_table(columns: dict[str, list[str]]) -> StatementResult:
    table = pa.table({name: pa.array(values, type=pa.string()) for name, values in columns.items()})
    return StatementResult(table, ["VARCHAR"] * table.num_columns, "txt")


class StatementRunner:
    """Runs statements for the query service and the synchronous ``sql`` call.

    Args:
        catalog: The catalog DDL changes and queries read.
        engine: The DuckDB engine.
    """

    def __init__(self, catalog: CatalogService, engine: SqlEngine) -> None:
        self.catalog = catalog
        self.engine = engine

    def execute(
        self,
        ctx: RequestContext,
        sql: str,
        database: str | None,
        *,
        query_id: str,
        output_location: str | None,
        cutoff: int | None,
        on_prepared: Callable[[PreparedQuery], None] = lambda _: None,
    ) -> StatementResult:
        """Run ``sql``.

        Args:
            query_id: Names the files a CTAS writes.
            output_location: Where a CTAS without ``external_location`` writes.
            cutoff: Most bytes the statement may scan (the workgroup's cutoff).
            on_prepared: Called with the connection before a query runs (to interrupt it).

        Raises:
            StatementFailed: The statement failed; the message says why.
        """
        try:
            statement = ddl.parse_statement(sql)
            if statement is None:
                _check_query(sql)
                table, types, scanned = self._query(ctx, sql, database, cutoff, on_prepared)
                return StatementResult(table, types, "csv", scanned)
            return self._ddl(
                ctx, statement, database, query_id, output_location, cutoff, on_prepared
            )
        except LakeworksError as exc:
            category = 2 if exc.status < 500 else 1
            raise StatementFailed(exc.message, category=category, cause=exc) from None
        except duckdb.InterruptException:
            raise StatementFailed("Query was cancelled", category=3) from None
        except duckdb.Error as exc:
            raise StatementFailed(
                str(exc), error_type=1002 if isinstance(exc, duckdb.ParserException) else 1000
            ) from None

    def _query(
        self,
        ctx: RequestContext,
        sql: str,
        database: str | None,
        cutoff: int | None,
        on_prepared: Callable[[PreparedQuery], None],
    ) -> tuple[pa.Table, list[str], int]:
        ctx.require("read")
        prepared = self.engine.prepare(ctx, sql, database)
        try:
            if cutoff is not None and prepared.data_scanned > cutoff:
                raise StatementFailed(
                    f"Query exhausted the workgroup's data usage limit: it would scan "
                    f"{prepared.data_scanned} bytes, over BytesScannedCutoffPerQuery of "
                    f"{cutoff} bytes",
                    error_type=1001,
                )
            on_prepared(prepared)
            table, types = prepared.run(sql)
            return table, types, prepared.data_scanned
        finally:
            prepared.close()

    def _database(self, name: str | None, database: str | None) -> str:
        chosen = name or database
        if not chosen:
            raise StatementFailed("No database given: qualify the table name or pass a database")
        return chosen

    def _ddl(
        self,
        ctx: RequestContext,
        statement: ddl.Statement,
        database: str | None,
        query_id: str,
        output_location: str | None,
        cutoff: int | None,
        on_prepared: Callable[[PreparedQuery], None],
    ) -> StatementResult:
        catalog = self.catalog
        empty = _text_table({})
        match statement:
            case ddl.CreateDatabase():
                spec = DatabaseInput(
                    name=statement.name,
                    description=statement.comment,
                    location_uri=statement.location,
                )
                try:
                    catalog.create_database(ctx, spec)
                except AlreadyExists:
                    if not statement.if_not_exists:
                        raise
                return empty
            case ddl.DropDatabase():
                try:
                    found = catalog.get_database(ctx, statement.name)
                except NotFound:
                    if statement.if_exists:
                        return empty
                    raise
                if not statement.cascade and catalog.table_records(found.name):
                    raise StatementFailed(
                        f"Database {found.name} is not empty. One or more tables exist "
                        "(use DROP DATABASE … CASCADE)"
                    )
                catalog.delete_database(ctx, found.name)
                return empty
            case ddl.CreateExternalTable():
                db_name = self._database(statement.table.database, database)
                try:
                    catalog.create_table(ctx, db_name, _external_table(statement))
                except AlreadyExists:
                    if not statement.if_not_exists:
                        raise
                return empty
            case ddl.DropTable():
                db_name = self._database(statement.table.database, database)
                try:
                    table = catalog.get_table(ctx, db_name, statement.table.name)
                except NotFound:
                    if statement.if_exists:
                        return empty
                    raise
                is_view = table.table_type == "VIRTUAL_VIEW"
                if is_view != statement.view:
                    what = "a view" if is_view else "a table"
                    raise StatementFailed(
                        f"{table.name} is {what}; use DROP {'VIEW' if is_view else 'TABLE'}"
                    )
                catalog.delete_table(ctx, db_name, table.name)
                return empty
            case ddl.CreateView():
                return self._create_view(ctx, statement, database)
            case ddl.CreateTableAs():
                return self._ctas(
                    ctx, statement, database, query_id, output_location, cutoff, on_prepared
                )
            case ddl.ShowTables():
                names = [
                    r.name
                    for r in catalog.table_records(self._database(statement.database, database))
                ]
                pattern = ddl.show_pattern(statement.pattern)
                return _text_table(
                    {"tab_name": [n for n in names if not pattern or pattern.match(n)]}
                )
            case ddl.ShowDatabases():
                pattern = ddl.show_pattern(statement.pattern)
                names, token = [], None
                while True:
                    page = catalog.list_databases(ctx, next_token=token, max_results=1000)
                    names += [d.name for d in page.items if not pattern or pattern.match(d.name)]
                    if (token := page.next_token) is None:
                        break
                return _text_table({"database_name": names})
            case ddl.ShowPartitions():
                table = catalog.get_table(
                    ctx, self._database(statement.table.database, database), statement.table.name
                )
                keys = [k.name for k in table.partition_keys]
                record = catalog.table_record(table.database_name, table.name)
                rows = [
                    "/".join(f"{k}={v}" for k, v in zip(keys, p.values, strict=False))
                    for p in catalog.partitions_of(record)
                ]
                return _text_table({"partition": sorted(rows)})
            case ddl.Describe():
                return self._describe(ctx, statement, database)
            case ddl.MsckRepair():
                return self._msck(ctx, statement, database)
            case ddl.AlterPartitions():
                return self._alter(ctx, statement, database)
        raise StatementFailed("Unsupported statement")  # pragma: no cover - match is exhaustive

    def _describe(
        self, ctx: RequestContext, statement: ddl.Describe, database: str | None
    ) -> StatementResult:
        table = self.catalog.get_table(
            ctx, self._database(statement.table.database, database), statement.table.name
        )
        descriptor = table.storage_descriptor or StorageDescriptor()
        names, types, comments = [], [], []
        for column in [*descriptor.columns, *table.partition_keys]:
            names.append(column.name)
            types.append(column.type)
            comments.append(column.comment or "")
        if table.partition_keys:
            names += ["", "# Partition Information", "# col_name"]
            types += ["", "", "data_type"]
            comments += ["", "", "comment"]
            for key in table.partition_keys:
                names.append(key.name)
                types.append(key.type)
                comments.append(key.comment or "")
        return _text_table({"col_name": names, "data_type": types, "comment": comments})

    def _create_view(
        self, ctx: RequestContext, statement: ddl.CreateView, database: str | None
    ) -> StatementResult:
        db_name = self._database(statement.table.database, database)
        _check_query(statement.query)
        prepared = self.engine.prepare(ctx, statement.query, db_name)
        try:
            described = prepared.connection.execute(f"DESCRIBE {statement.query}").fetchall()
        finally:
            prepared.close()
        columns = [(str(row[0]), duckdb_to_hive(str(row[1]))) for row in described]
        spec = TableInput(
            name=statement.table.name,
            table_type="VIRTUAL_VIEW",
            storage_descriptor=StorageDescriptor(
                columns=[TableColumn(name=n.lower(), type=t) for n, t in columns],
                serde_info=SerDeInfo(),
            ),
            view_original_text=ddl.encode_view(statement.query, db_name, columns),
            view_expanded_text="/* Presto View */",
            parameters={"presto_view": "true", "comment": "Presto View"},
        )
        try:
            self.catalog.create_table(ctx, db_name, spec)
        except AlreadyExists:
            existing = self.catalog.get_table(ctx, db_name, statement.table.name)
            if not statement.or_replace or existing.table_type != "VIRTUAL_VIEW":
                raise
            self.catalog.update_table(ctx, db_name, spec)
        return _text_table({})

    def _ctas(
        self,
        ctx: RequestContext,
        statement: ddl.CreateTableAs,
        database: str | None,
        query_id: str,
        output_location: str | None,
        cutoff: int | None,
        on_prepared: Callable[[PreparedQuery], None],
    ) -> StatementResult:
        ctx.require("write")
        db_name = self._database(statement.table.database, database)
        self.catalog.get_database(ctx, db_name)
        props = statement.properties
        fmt = str(props.get("format", "PARQUET")).upper()
        if fmt != "PARQUET":
            raise StatementFailed(f"CTAS format {fmt!r} is not supported; use format='PARQUET'")
        location = props.get("external_location")
        if location is None:
            if not output_location:
                raise StatementFailed("CTAS needs external_location or a result output location")
            location = output_location.rstrip("/") + f"/tables/{query_id}/"
        location = str(location).rstrip("/") + "/"
        bucket, prefix = parse_s3_uri(location)
        try:
            self.catalog.get_table(ctx, db_name, statement.table.name)
        except NotFound:
            pass
        else:
            if statement.if_not_exists:
                return _text_table({})
            raise StatementFailed(f"Table {db_name}.{statement.table.name} already exists")
        if self.catalog.lake.list_objects(ctx, bucket, prefix=prefix, max_keys=1).items:
            raise StatementFailed(
                f"HIVE_PATH_ALREADY_EXISTS: Target directory for table already exists: {location}"
            )
        _check_query(statement.query)
        table, _, scanned = self._query(ctx, statement.query, db_name, cutoff, on_prepared)
        partitioned = [str(c).lower() for c in props.get("partitioned_by", [])]
        names = [n.lower() for n in table.column_names]
        missing = [c for c in partitioned if c not in names]
        if missing:
            raise StatementFailed(
                f"partitioned_by names columns the query does not return: {missing}"
            )
        table = table.rename_columns(names)
        data_columns = [n for n in names if n not in partitioned]
        groups: list[tuple[list[str], pa.Table]] = []
        if partitioned:
            keys = table.select(partitioned).group_by(partitioned).aggregate([]).to_pylist()
            for key in keys:
                mask = (
                    pc.and_kleene(*[pc.equal(table[c], key[c]) for c in partitioned])
                    if len(partitioned) > 1
                    else pc.equal(table[partitioned[0]], key[partitioned[0]])
                )
                groups.append(
                    ([str(key[c]) for c in partitioned], table.filter(mask).select(data_columns))
                )
        else:
            groups.append(([], table))
        partitions = []
        for values, part in groups:
            folder = "".join(f"{c}={v}/" for c, v in zip(partitioned, values, strict=True))
            sink = io.BytesIO()
            pq.write_table(part, sink)
            sink.seek(0)
            self.catalog.lake.put_object(
                ctx, bucket, f"{prefix}{folder}{query_id}-00000.parquet", sink
            )
            partitions.append(
                PartitionInput(
                    values=values, storage_descriptor=StorageDescriptor(location=location + folder)
                )
            )
        schema = table.schema
        columns = [
            TableColumn(name=n, type=arrow_to_hive(schema.field(n).type)) for n in data_columns
        ]
        descriptor = descriptor_for(DataFormat("parquet"), columns, location)
        spec = TableInput(
            name=statement.table.name,
            table_type="EXTERNAL_TABLE",
            storage_descriptor=descriptor,
            partition_keys=[
                TableColumn(name=c, type=arrow_to_hive(schema.field(c).type)) for c in partitioned
            ],
            parameters={
                "classification": "parquet",
                "has_encrypted_data": "false",
                "EXTERNAL": "TRUE",
            },
        )
        self.catalog.create_table(ctx, db_name, spec)
        for start in range(0, len(partitions), 100):
            self.catalog.batch_create_partition(
                ctx, db_name, spec.name, partitions[start : start + 100]
            )
        # like Athena: no rows, the number written is the update count
        return StatementResult(pa.table({}), [], "txt", scanned, table.num_rows)

    def _msck(
        self, ctx: RequestContext, statement: ddl.MsckRepair, database: str | None
    ) -> StatementResult:
        table = self.catalog.get_table(
            ctx, self._database(statement.table.database, database), statement.table.name
        )
        keys = [k.name for k in table.partition_keys]
        location = (table.storage_descriptor or StorageDescriptor()).location
        if not keys or not location:
            return _text_table({"result": []})
        root = location.rstrip("/") + "/"
        found: dict[tuple[str, ...], str] = {}
        for item in self.engine.files.list(ctx, root):
            parts = item.key[len(parse_s3_uri(root)[1]) :].split("/")[:-1]
            if len(parts) != len(keys):
                continue
            pairs = [p.split("=", 1) for p in parts]
            if all(
                len(pair) == 2 and pair[0].lower() == k for pair, k in zip(pairs, keys, strict=True)
            ):
                values = tuple(pair[1] for pair in pairs)
                found.setdefault(values, root + "".join(p + "/" for p in parts))
        record = self.catalog.table_record(table.database_name, table.name)
        existing = {tuple(p.values) for p in self.catalog.partitions_of(record)}
        new = [(v, loc) for v, loc in sorted(found.items()) if v not in existing]
        base = table.storage_descriptor or StorageDescriptor()
        inputs = [
            PartitionInput(
                values=list(v), storage_descriptor=base.model_copy(update={"location": loc})
            )
            for v, loc in new
        ]
        for start in range(0, len(inputs), 100):
            self.catalog.batch_create_partition(
                ctx, table.database_name, table.name, inputs[start : start + 100]
            )
        lines = [
            f"Repair: Added partition to metastore {table.name}:"
            + "/".join(f"{k}={x}" for k, x in zip(keys, v, strict=True))
            for v, _ in new
        ]
        return _text_table({"result": lines})

    def _alter(
        self, ctx: RequestContext, statement: ddl.AlterPartitions, database: str | None
    ) -> StatementResult:
        table = self.catalog.get_table(
            ctx, self._database(statement.table.database, database), statement.table.name
        )
        keys = [k.name for k in table.partition_keys]
        base = table.storage_descriptor or StorageDescriptor()
        for spec, _ in statement.partitions:
            if sorted(spec) != sorted(keys):
                raise StatementFailed(
                    f"Partition spec {spec} must name exactly the partition keys {keys}"
                )
        if statement.add:
            inputs = []
            for spec, location in statement.partitions:
                values = [spec[k] for k in keys]
                where = (
                    location
                    or (base.location or "").rstrip("/")
                    + "/"
                    + "/".join(f"{k}={spec[k]}" for k in keys)
                    + "/"
                )
                inputs.append(
                    PartitionInput(
                        values=values,
                        storage_descriptor=base.model_copy(update={"location": where}),
                    )
                )
            result = self.catalog.batch_create_partition(
                ctx, table.database_name, table.name, inputs
            )
            problems = [
                e
                for e in result.errors
                if not (statement.if_flag and e.error_detail.error_code == "AlreadyExistsException")
            ]
            if problems:
                first = problems[0]
                raise StatementFailed(
                    f"Partition {first.partition_values}: {first.error_detail.error_message}"
                )
        else:
            for spec, _ in statement.partitions:
                try:
                    self.catalog.delete_partition(
                        ctx, table.database_name, table.name, [spec[k] for k in keys]
                    )
                except NotFound:
                    if not statement.if_flag:
                        raise
        return _text_table({})


def _external_table(statement: ddl.CreateExternalTable) -> TableInput:
    stored = statement.stored_as
    properties = dict(statement.properties)
    if stored == "PARQUET" or (statement.input_format or "").lower().find("parquet") >= 0:
        descriptor = descriptor_for(DataFormat("parquet"), [], statement.location)
        properties.setdefault("classification", "parquet")
    elif stored in (None, "TEXTFILE", "JSON"):
        serde = statement.serde or (JSON_SERDE if stored == "JSON" else LAZY_SIMPLE_SERDE)
        descriptor = descriptor_for(DataFormat("csv"), [], statement.location)
        params = dict(statement.serde_properties)
        if serde == LAZY_SIMPLE_SERDE:
            params.setdefault("field.delim", "\x01")
            params.setdefault("serialization.format", params["field.delim"])
        descriptor.serde_info = SerDeInfo(serialization_library=serde, parameters=params)
        if serde == JSON_SERDE or "json" in serde.lower():
            properties.setdefault("classification", "json")
        else:
            properties.setdefault("classification", "csv")
    else:
        raise StatementFailed(f"STORED AS {stored} is not supported; use TEXTFILE, JSON or PARQUET")
    if statement.input_format:
        descriptor.input_format = statement.input_format
    if statement.output_format:
        descriptor.output_format = statement.output_format
    descriptor.columns = [TableColumn(name=n, type=t, comment=c) for n, t, c in statement.columns]
    properties.setdefault("EXTERNAL", "TRUE")
    return TableInput(
        name=statement.table.name,
        description=statement.comment,
        table_type="EXTERNAL_TABLE",
        storage_descriptor=descriptor,
        partition_keys=[
            TableColumn(name=n, type=t, comment=c) for n, t, c in statement.partition_keys
        ],
        parameters=properties,
    )
