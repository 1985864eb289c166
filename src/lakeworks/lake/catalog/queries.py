"""Query executions (Athena semantics): start, get, list, stop, results; and synchronous SQL.

``start_query_execution`` records the query QUEUED and hands it to a thread pool in the server
process; a worker runs it (RUNNING) with :class:`~.statements.StatementRunner` and ends it
SUCCEEDED, FAILED (with the reason, e.g. DuckDB's syntax error and its position, or the
workgroup's scan cutoff) or CANCELLED. Results go to the lake as Athena writes them:
``<output>/<id>.csv`` plus ``<id>.csv.metadata`` for queries, ``<id>.txt`` for DDL; pages of
``get_query_results`` are read back from there. Queries a previous server left QUEUED or RUNNING
are failed when the service starts. :meth:`QueryService.sql` runs a statement at once and
returns an Arrow table.
"""

from __future__ import annotations

import io
import logging
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING

import pyarrow as pa

from lakeworks.core.clock import utcnow
from lakeworks.core.context import RequestContext
from lakeworks.core.errors import NotFound, ValidationError
from lakeworks.lake.catalog import store
from lakeworks.lake.catalog.names import catalog_name
from lakeworks.lake.catalog.results import (
    column_infos,
    metadata_document,
    parse_csv_rows,
    parse_txt_rows,
    to_athena_csv,
    to_text_lines,
)
from lakeworks.lake.catalog.service import check_location
from lakeworks.lake.catalog.sql import PreparedQuery, SqlEngine
from lakeworks.lake.catalog.statements import (
    StatementFailed,
    StatementResult,
    StatementRunner,
    classify,
)
from lakeworks.lake.catalog.store import QueryRecord
from lakeworks.lake.catalog.workgroups import PRIMARY, WorkGroupService
from lakeworks.lake.objects import decode_token, encode_token
from lakeworks.lake.service import parse_s3_uri
from lakeworks.schemas.catalog import (
    AthenaError,
    BatchQueryExecutions,
    ColumnInfo,
    Datum,
    QueryExecution,
    QueryExecutionContext,
    QueryExecutionStatistics,
    QueryExecutionStatus,
    QueryResults,
    ResultConfiguration,
    ResultSet,
    ResultSetMetadata,
    Row,
    UnprocessedQueryExecutionId,
    WorkGroupConfiguration,
)
from lakeworks.schemas.common import Page

if TYPE_CHECKING:
    from lakeworks.lake.catalog.service import CatalogService

__all__ = ["QueryService"]

log = logging.getLogger("lakeworks.catalog")

_READ_WINDOW = 1024 * 1024
_FINISHED = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})


def _not_found(query_id: str) -> NotFound:
    return NotFound(
        f"QueryExecution {query_id} was not found",
        aws_code="InvalidRequestException",
        details={"query_execution_id": query_id},
    )


class QueryService:
    """Athena-style query executions over the catalog, and synchronous SQL.

    Args:
        catalog: The catalog and its lake.
        max_workers: Queries running at once; more wait QUEUED.
        clock: The time (tests pin it).
    """

    def __init__(
        self,
        catalog: CatalogService,
        *,
        max_workers: int = 4,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.catalog = catalog
        self.db = catalog.db
        self.clock = clock
        self.max_workers = max_workers
        self.workgroups = WorkGroupService(catalog)
        self.engine = SqlEngine(catalog, catalog.settings.home / "cache" / "sql")
        self.runner = StatementRunner(catalog, self.engine)
        self._mutex = threading.Lock()
        self._running: dict[str, PreparedQuery] = {}
        self._pool: ThreadPoolExecutor | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Fail queries a previous server left unfinished; start the worker pool."""
        # plaintext copies of encrypted objects a crashed server left behind
        shutil.rmtree(self.engine.scratch_dir, ignore_errors=True)
        now = self.clock()
        with self.db.session() as session:
            for record in store.unfinished_queries(session):
                record.state = "FAILED"
                record.state_change_reason = "The server stopped before the query finished"
                record.completion_time = now
        self._executor()

    def _executor(self) -> ThreadPoolExecutor:
        with self._mutex:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    self.max_workers, thread_name_prefix="lakeworks-sql"
                )
            return self._pool

    def close(self) -> None:
        """Interrupt running queries and stop the pool (queued ones end CANCELLED)."""
        with self.db.session() as session:
            for record in store.unfinished_queries(session):
                store.move_query(
                    session,
                    record.query_id,
                    ("QUEUED", "RUNNING"),
                    state="CANCELLED",
                    state_change_reason="The server stopped",
                    completion_time=self.clock(),
                )
        with self._mutex:
            pool, self._pool = self._pool, None
            running = list(self._running.values())
        for prepared in running:
            prepared.interrupt()
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    # -- shapes ----------------------------------------------------------------------------

    @staticmethod
    def _execution(record: QueryRecord) -> QueryExecution:
        stats = record.statistics
        error = AthenaError.model_validate(record.error) if record.error else None
        return QueryExecution(
            query_execution_id=record.query_id,
            query=record.query,
            statement_type=record.statement_type,
            substatement_type=record.substatement_type,
            result_configuration=ResultConfiguration(output_location=record.output_location),
            query_execution_context=QueryExecutionContext(database=record.database),
            status=QueryExecutionStatus(
                state=record.state,
                state_change_reason=record.state_change_reason,
                submission_date_time=record.submission_time,
                completion_date_time=record.completion_time,
                athena_error=error,
            ),
            statistics=QueryExecutionStatistics(
                engine_execution_time_in_millis=stats.get("engine_ms", 0),
                data_scanned_in_bytes=stats.get("scanned", 0),
                total_execution_time_in_millis=stats.get("total_ms", 0),
                query_queue_time_in_millis=stats.get("queue_ms", 0),
                service_processing_time_in_millis=stats.get("service_ms", 0),
            ),
            work_group=record.workgroup,
        )

    def _record(self, query_id: str) -> QueryRecord:
        if not isinstance(query_id, str) or len(query_id) > 128:
            raise _not_found(str(query_id)[:128])
        with self.db.session() as session:
            record = session.get(QueryRecord, query_id)
        if record is None:
            raise _not_found(query_id)
        return record

    # -- starting --------------------------------------------------------------------------

    def start_query_execution(
        self,
        ctx: RequestContext,
        query: str,
        database: str | None = None,
        workgroup: str | None = None,
        output_location: str | None = None,
        *,
        client_request_token: str | None = None,
    ) -> str:
        """Queue a query; returns its id (Athena's StartQueryExecution).

        Args:
            query: One SQL statement (a query or Athena DDL).
            database: The database unqualified table names refer to.
            workgroup: Its workgroup (``primary`` when omitted).
            output_location: ``s3://bucket/prefix/`` for results; a workgroup that enforces
                its configuration overrides it.
            client_request_token: Starting again with the same token returns the same query.

        Raises:
            ValidationError: No output location, a bad location or database name, or a
                disabled workgroup (``InvalidRequestException``).
            NotFound: No such workgroup (``InvalidRequestException``).
        """
        ctx.require("read")
        if not isinstance(query, str) or not 1 <= len(query) <= 262144:
            raise ValidationError(
                "The query must be 1-262144 characters", aws_code="InvalidRequestException"
            )
        group = self.workgroups.require(workgroup or PRIMARY)
        if group.state != "ENABLED":
            raise ValidationError(
                f"WorkGroup {group.name} is disabled", aws_code="InvalidRequestException"
            )
        config = WorkGroupConfiguration.model_validate(group.configuration)
        configured = (
            config.result_configuration.output_location if config.result_configuration else None
        )
        location = configured if config.enforce_work_group_configuration and configured else None
        location = location or output_location or configured
        if not location:
            raise ValidationError(
                "No output location provided. An output location is required either through "
                "the Workgroup result configuration setting or as an API input.",
                aws_code="InvalidRequestException",
            )
        check_location(location, "result")
        if database is not None:
            database = catalog_name(database, "database")
        if client_request_token:
            with self.db.session() as session:
                same = (
                    session.query(QueryRecord)
                    .filter_by(client_request_token=client_request_token)
                    .first()
                )
            if same is not None:
                return same.query_id
        statement_type, substatement = classify(query)
        query_id = str(uuid.uuid4())
        extension = "csv" if statement_type != "DDL" else "txt"
        record = QueryRecord(
            query_id=query_id,
            query=query,
            statement_type=statement_type,
            substatement_type=substatement,
            workgroup=group.name,
            database=database,
            principal=ctx.principal,
            client_request_token=client_request_token,
            output_location=f"{location.rstrip('/')}/{query_id}.{extension}",
            state="QUEUED",
            state_change_reason=None,
            error=None,
            submission_time=self.clock(),
            completion_time=None,
            statistics={"cutoff": config.bytes_scanned_cutoff_per_query},
            columns=[],
            result_kind=extension,
        )
        with self.db.session() as session:
            session.add(record)
        self._executor().submit(self._run, ctx, query_id)
        return query_id

    def _run(self, ctx: RequestContext, query_id: str) -> None:
        record = self._record(query_id)
        if record.state != "QUEUED":
            return  # stopped while it waited
        started = self.clock()
        with self.db.session() as session:
            if not store.move_query(session, query_id, ("QUEUED",), state="RUNNING"):
                return
        clock_start = time.monotonic()
        stats = {"queue_ms": _millis(started - record.submission_time)}
        state, reason, error, columns = "SUCCEEDED", None, None, []
        try:
            result = self.runner.execute(
                ctx,
                record.query,
                record.database,
                query_id=query_id,
                output_location=(record.output_location or "").rsplit("/", 1)[0] + "/",
                cutoff=record.statistics.get("cutoff"),
                on_prepared=lambda prepared: self._track(query_id, prepared),
            )
            stats["engine_ms"] = int((time.monotonic() - clock_start) * 1000)
            stats["scanned"] = result.data_scanned
            stats["rows"] = result.update_count
            columns = self._write_results(ctx, record, result)
        except StatementFailed as exc:
            state, reason = "FAILED", exc.message
            error = AthenaError(
                error_category=exc.category, error_type=exc.error_type, error_message=exc.message
            ).model_dump()
        except Exception as exc:  # a bug must not leave the query RUNNING
            log.exception("query %s failed", query_id)
            state, reason = "FAILED", f"Internal error ({type(exc).__name__}); see the server log"
            error = AthenaError(error_category=1, error_type=0, error_message=reason).model_dump()
        finally:
            with self._mutex:
                self._running.pop(query_id, None)
        finished = self.clock()
        stats["total_ms"] = _millis(finished - record.submission_time)
        stats["service_ms"] = max(
            0, stats["total_ms"] - stats.get("engine_ms", 0) - stats["queue_ms"]
        )
        with self.db.session() as session:
            # only a RUNNING query ends here: a stop that came first keeps it CANCELLED
            store.move_query(
                session,
                query_id,
                ("RUNNING",),
                state=state,
                state_change_reason=reason,
                error=error,
                completion_time=finished,
                statistics={**record.statistics, **stats},
                columns=[c.model_dump() for c in columns],
            )

    def _track(self, query_id: str, prepared: PreparedQuery) -> None:
        # register first, then look: a stop either finds the connection or is seen here
        with self._mutex:
            self._running[query_id] = prepared
        with self.db.session() as session:
            current = session.get(QueryRecord, query_id)
            cancelled = current is None or current.state == "CANCELLED"
        if cancelled:
            raise StatementFailed("Query was cancelled", category=3)

    def _write_results(
        self, ctx: RequestContext, record: QueryRecord, result: StatementResult
    ) -> list[ColumnInfo]:
        columns = column_infos(result.table.column_names, result.types)
        bucket, key = parse_s3_uri(record.output_location or "")
        lake = self.catalog.lake
        try:
            if result.kind == "csv":
                lake.put_object(
                    ctx,
                    bucket,
                    key,
                    io.BytesIO(to_athena_csv(result.table)),
                    content_type="text/csv",
                )
                lake.put_object(
                    ctx,
                    bucket,
                    key + ".metadata",
                    io.BytesIO(metadata_document(columns, result.table.num_rows)),
                )
            else:
                lake.put_object(
                    ctx,
                    bucket,
                    key,
                    io.BytesIO(to_text_lines(result.table)),
                    content_type="text/plain",
                )
        except NotFound as exc:
            raise StatementFailed(
                f"Could not write the results to {record.output_location}: {exc.message}"
            ) from None
        return columns

    # -- reading ---------------------------------------------------------------------------

    def get_query_execution(self, ctx: RequestContext, query_id: str) -> QueryExecution:
        """A query's state, statistics and result location (Athena's GetQueryExecution).

        Raises:
            NotFound: ``InvalidRequestException``, as Athena answers.
        """
        ctx.require("read")
        return self._execution(self._record(query_id))

    def batch_get_query_execution(
        self, ctx: RequestContext, query_ids: list[str]
    ) -> BatchQueryExecutions:
        """Up to 50 queries at once; unknown ids are listed as unprocessed.

        Raises:
            ValidationError: No ids, or more than 50.
        """
        ctx.require("read")
        if not 1 <= len(query_ids) <= 50:
            raise ValidationError(
                f"Pass 1-50 query execution ids, got {len(query_ids)}",
                aws_code="InvalidRequestException",
            )
        out = BatchQueryExecutions()
        for query_id in query_ids:
            try:
                out.query_executions.append(self._execution(self._record(query_id)))
            except NotFound as exc:
                out.unprocessed_query_execution_ids.append(
                    UnprocessedQueryExecutionId(
                        query_execution_id=query_id,
                        error_code="INVALID_INPUT",
                        error_message=exc.message,
                    )
                )
        return out

    def list_query_executions(
        self,
        ctx: RequestContext,
        *,
        workgroup: str | None = None,
        next_token: str | None = None,
        max_results: int = 50,
    ) -> Page[QueryExecution]:
        """Queries of a workgroup (``primary`` when omitted), newest first."""
        ctx.require("read")
        if isinstance(max_results, bool) or not 1 <= max_results <= 50:
            raise ValidationError(
                f"max_results must be 1-50, got {max_results!r}", aws_code="InvalidRequestException"
            )
        group = self.workgroups.require(workgroup or PRIMARY)
        offset = int(decode_token(next_token, "offset")["offset"]) if next_token else 0
        with self.db.session() as session:
            rows = store.list_queries(session, group.name, offset, max_results + 1)
        token = (
            encode_token({"offset": str(offset + max_results)}) if len(rows) > max_results else None
        )
        return Page(items=[self._execution(r) for r in rows[:max_results]], next_token=token)

    def stop_query_execution(self, ctx: RequestContext, query_id: str) -> None:
        """Cancel a queued or running query; a finished one is left as it is.

        Raises:
            NotFound: ``InvalidRequestException``.
        """
        ctx.require("write")
        self._record(query_id)
        with self.db.session() as session:
            stopped = store.move_query(
                session,
                query_id,
                ("QUEUED", "RUNNING"),
                state="CANCELLED",
                state_change_reason="Query cancelled by user",
                completion_time=self.clock(),
            )
        if not stopped:
            return  # finished already: Athena leaves it as it is
        with self._mutex:
            prepared = self._running.get(query_id)
        if prepared is not None:
            prepared.interrupt()

    def get_query_results(
        self,
        ctx: RequestContext,
        query_id: str,
        *,
        next_token: str | None = None,
        max_results: int = 1000,
    ) -> QueryResults:
        """One page of a finished query's rows (Athena's GetQueryResults).

        The first page of a SELECT starts with the header row; a NULL is a ``Datum`` without
        ``var_char_value``.

        Raises:
            NotFound: ``InvalidRequestException``.
            ValidationError: The query has not succeeded, or a bad token or page size.
        """
        ctx.require("read")
        if isinstance(max_results, bool) or not 1 <= max_results <= 1000:
            raise ValidationError(
                f"max_results must be 1-1000, got {max_results!r}",
                aws_code="InvalidRequestException",
            )
        record = self._record(query_id)
        if record.state != "SUCCEEDED":
            why = (
                f"Query has not yet finished. Current state: {record.state}"
                if record.state not in _FINISHED
                else f"Query did not finish successfully. Final query state: {record.state}"
            )
            raise ValidationError(why, aws_code="InvalidRequestException")
        offset = int(decode_token(next_token, "offset")["offset"]) if next_token else 0
        columns = [ColumnInfo.model_validate(c) for c in record.columns]
        bucket, key = parse_s3_uri(record.output_location or "")
        size = self.catalog.lake.head_object(ctx, bucket, key).size
        rows: list[list[str | None]] = []
        consumed = 0
        window = _READ_WINDOW
        while offset < size:
            last = min(size, offset + window) - 1
            _, _, _, chunks = self.catalog.lake.get_object(
                ctx, bucket, key, byte_range=(offset, last)
            )
            data = b"".join(chunks)
            final = last == size - 1
            if record.result_kind == "csv":
                rows, consumed = parse_csv_rows(data, final=final, limit=max_results)
            else:
                rows, consumed = parse_txt_rows(
                    data, final=final, limit=max_results, width=len(columns)
                )
            if len(rows) == max_results or final:
                break
            window *= 2
        end = offset + consumed
        token = encode_token({"offset": str(end)}) if end < size else None
        return QueryResults(
            update_count=record.statistics.get("rows", 0) if record.statement_type == "DDL" else 0,
            result_set=ResultSet(
                rows=[Row(data=[Datum(var_char_value=v) for v in row]) for row in rows],
                result_set_metadata=ResultSetMetadata(column_info=columns),
            ),
            next_token=token,
        )

    # -- synchronous -----------------------------------------------------------------------

    def sql(self, ctx: RequestContext, query: str, database: str | None = None) -> pa.Table:
        """Run one statement now and return its rows as an Arrow table (native only).

        DDL statements run too (returning what Athena would show, e.g. ``SHOW TABLES``);
        nothing is written to a result location and no workgroup cutoff applies.

        Raises:
            ValidationError: The statement failed: a syntax error (with its position), an
                unknown table, … (``InvalidRequestException``).
        """
        ctx.require("read")
        if database is not None:
            database = catalog_name(database, "database")
        try:
            result = self.runner.execute(
                ctx, query, database, query_id=str(uuid.uuid4()), output_location=None, cutoff=None
            )
        except StatementFailed as exc:
            if exc.cause is not None:
                raise exc.cause from None
            raise ValidationError(exc.message, aws_code="InvalidRequestException") from None
        return result.table


def _millis(delta: object) -> int:
    return max(0, int(delta.total_seconds() * 1000))  # type: ignore[attr-defined]
