"""The data catalog, crawlers, queries, workgroups and SQL on the native API.

``/api/v1/catalog/databases[/{db}[/tables[/{table}[/partitions|/versions]]]]``,
``/api/v1/crawlers[/{name}[/start|/stop|/metrics|/crawls]]``, ``/api/v1/queries[/{id}[/results
|/stop]]``, ``/api/v1/workgroups[/{name}]`` and ``POST /api/v1/sql``, which answers an Arrow IPC
stream (``application/vnd.apache.arrow.stream``) or, for ``Accept: application/json``, JSON
``{"columns": [{"name", "type"}], "rows": [[…], …]}``.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from fastapi import APIRouter, Depends, Header, Query, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import ValidationError
from lakeworks.schemas.catalog import (
    BatchCreatePartitionRequest,
    BatchCreatePartitionResult,
    BatchQueryExecutions,
    Crawl,
    Crawler,
    CrawlerInput,
    CrawlerMetrics,
    CrawlerUpdate,
    Database,
    DatabaseInput,
    Partition,
    QueryExecution,
    QueryResults,
    QueryStart,
    QueryStarted,
    SqlRequest,
    Table,
    TableInput,
    TableVersion,
    WorkGroup,
    WorkGroupInput,
    WorkGroupSummary,
    WorkGroupUpdate,
)
from lakeworks.schemas.common import Page, RequestModel
from lakeworks.server.auth import authenticated, platform_of
from lakeworks.server.platform import Platform

__all__ = ["ARROW_STREAM", "router"]

router = APIRouter(prefix="/api/v1", tags=["catalog"])

ARROW_STREAM = "application/vnd.apache.arrow.stream"
Ctx = Depends(authenticated)
Plat = Depends(platform_of)
Token = Query(None, max_length=2048)

# Plain ``def`` routes: FastAPI runs them in the threadpool, off the event loop.

# -- databases -----------------------------------------------------------------------------


@router.post("/catalog/databases", status_code=201)
def create_database(
    spec: DatabaseInput, ctx: RequestContext = Ctx, platform: Platform = Plat
) -> Database:
    """Create a database (names are stored lower-cased)."""
    return platform.catalog.create_database(ctx, spec)


@router.get("/catalog/databases")
def list_databases(
    next_token: str | None = Token,
    max_results: int = Query(100, ge=1, le=1000),
    ctx: RequestContext = Ctx,
    platform: Platform = Plat,
) -> Page[Database]:
    """List databases by name."""
    return platform.catalog.list_databases(ctx, next_token=next_token, max_results=max_results)


@router.get("/catalog/databases/{database}")
def get_database(database: str, ctx: RequestContext = Ctx, platform: Platform = Plat) -> Database:
    """Describe a database."""
    return platform.catalog.get_database(ctx, database)


@router.put("/catalog/databases/{database}")
def update_database(
    database: str, spec: DatabaseInput, ctx: RequestContext = Ctx, platform: Platform = Plat
) -> Database:
    """Replace a database's description, location and parameters."""
    return platform.catalog.update_database(ctx, database, spec)


@router.delete("/catalog/databases/{database}", status_code=204)
def delete_database(
    database: str, ctx: RequestContext = Ctx, platform: Platform = Plat
) -> Response:
    """Delete a database with its tables."""
    platform.catalog.delete_database(ctx, database)
    return Response(status_code=204)


# -- tables --------------------------------------------------------------------------------


@router.post("/catalog/databases/{database}/tables", status_code=201)
def create_table(
    database: str, spec: TableInput, ctx: RequestContext = Ctx, platform: Platform = Plat
) -> Table:
    """Create a table or view."""
    return platform.catalog.create_table(ctx, database, spec)


@router.get("/catalog/databases/{database}/tables")
def list_tables(
    database: str,
    expression: str | None = Query(None, max_length=2048),
    next_token: str | None = Token,
    max_results: int = Query(100, ge=1, le=1000),
    ctx: RequestContext = Ctx,
    platform: Platform = Plat,
) -> Page[Table]:
    """List a database's tables; ``expression`` is a regular expression on names."""
    return platform.catalog.list_tables(
        ctx, database, expression=expression, next_token=next_token, max_results=max_results
    )


@router.get("/catalog/databases/{database}/tables/{table}")
def get_table(
    database: str, table: str, ctx: RequestContext = Ctx, platform: Platform = Plat
) -> Table:
    """Describe a table."""
    return platform.catalog.get_table(ctx, database, table)


@router.put("/catalog/databases/{database}/tables/{table}")
def update_table(
    database: str,
    table: str,
    spec: TableInput,
    skip_archive: bool = False,
    ctx: RequestContext = Ctx,
    platform: Platform = Plat,
) -> Table:
    """Replace a table's definition; the previous one stays as a version."""
    if spec.name.lower() != table.lower():
        raise ValidationError(
            f"The body names table {spec.name!r} but the path {table!r}; renaming is not supported",
            aws_code="InvalidInputException",
        )
    return platform.catalog.update_table(ctx, database, spec, skip_archive=skip_archive)


@router.delete("/catalog/databases/{database}/tables/{table}", status_code=204)
def delete_table(
    database: str, table: str, ctx: RequestContext = Ctx, platform: Platform = Plat
) -> Response:
    """Delete a table with its versions and partitions."""
    platform.catalog.delete_table(ctx, database, table)
    return Response(status_code=204)


@router.get("/catalog/databases/{database}/tables/{table}/versions")
def get_table_versions(
    database: str,
    table: str,
    next_token: str | None = Token,
    max_results: int = Query(100, ge=1, le=1000),
    ctx: RequestContext = Ctx,
    platform: Platform = Plat,
) -> Page[TableVersion]:
    """A table's versions, newest first."""
    return platform.catalog.get_table_versions(
        ctx, database, table, next_token=next_token, max_results=max_results
    )


@router.get("/catalog/databases/{database}/tables/{table}/versions/{version_id}")
def get_table_version(
    database: str,
    table: str,
    version_id: str,
    ctx: RequestContext = Ctx,
    platform: Platform = Plat,
) -> TableVersion:
    """One version of a table."""
    return platform.catalog.get_table_version(ctx, database, table, version_id)


@router.get("/catalog/databases/{database}/tables/{table}/partitions")
def get_partitions(
    database: str,
    table: str,
    expression: str | None = Query(None, max_length=2048),
    next_token: str | None = Token,
    max_results: int = Query(1000, ge=1, le=1000),
    ctx: RequestContext = Ctx,
    platform: Platform = Plat,
) -> Page[Partition]:
    """A table's partitions; ``expression`` filters them (``year='2024' AND month='01'``)."""
    return platform.catalog.get_partitions(
        ctx, database, table, expression=expression, next_token=next_token, max_results=max_results
    )


@router.post("/catalog/databases/{database}/tables/{table}/partitions")
def batch_create_partition(
    database: str,
    table: str,
    body: BatchCreatePartitionRequest,
    ctx: RequestContext = Ctx,
    platform: Platform = Plat,
) -> BatchCreatePartitionResult:
    """Create up to 100 partitions; the answer lists those that failed."""
    return platform.catalog.batch_create_partition(ctx, database, table, body.partition_input_list)


# -- crawlers ------------------------------------------------------------------------------


@router.post("/crawlers", status_code=201)
def create_crawler(
    spec: CrawlerInput, ctx: RequestContext = Ctx, platform: Platform = Plat
) -> Crawler:
    """Create a crawler."""
    return platform.catalog.crawlers.create_crawler(ctx, spec)


@router.get("/crawlers")
def list_crawlers(
    next_token: str | None = Token,
    max_results: int = Query(100, ge=1, le=1000),
    ctx: RequestContext = Ctx,
    platform: Platform = Plat,
) -> Page[Crawler]:
    """List crawlers by name."""
    return platform.catalog.crawlers.list_crawlers(
        ctx, next_token=next_token, max_results=max_results
    )


@router.get("/crawlers/{name}")
def get_crawler(name: str, ctx: RequestContext = Ctx, platform: Platform = Plat) -> Crawler:
    """Describe a crawler, its state and last crawl."""
    return platform.catalog.crawlers.get_crawler(ctx, name)


@router.patch("/crawlers/{name}")
def update_crawler(
    name: str, update: CrawlerUpdate, ctx: RequestContext = Ctx, platform: Platform = Plat
) -> Crawler:
    """Change a crawler; omitted fields keep their values, ``null`` clears one."""
    return platform.catalog.crawlers.update_crawler(ctx, name, update)


@router.delete("/crawlers/{name}", status_code=204)
def delete_crawler(name: str, ctx: RequestContext = Ctx, platform: Platform = Plat) -> Response:
    """Delete a crawler (its tables stay)."""
    platform.catalog.crawlers.delete_crawler(ctx, name)
    return Response(status_code=204)


@router.post("/crawlers/{name}/start", status_code=202)
def start_crawler(name: str, ctx: RequestContext = Ctx, platform: Platform = Plat) -> Crawl:
    """Start a crawl in the background."""
    return platform.catalog.crawlers.start_crawler(ctx, name)


@router.post("/crawlers/{name}/stop", status_code=202)
def stop_crawler(name: str, ctx: RequestContext = Ctx, platform: Platform = Plat) -> Response:
    """Ask the running crawl to stop."""
    platform.catalog.crawlers.stop_crawler(ctx, name)
    return Response(status_code=202)


@router.get("/crawlers/{name}/metrics")
def get_crawler_metrics(
    name: str, ctx: RequestContext = Ctx, platform: Platform = Plat
) -> CrawlerMetrics:
    """Run-time figures of a crawler."""
    return platform.catalog.crawlers.get_crawler_metrics(ctx, [name])[0]


@router.get("/crawlers/{name}/crawls")
def list_crawls(
    name: str,
    max_results: int = Query(20, ge=1, le=100),
    ctx: RequestContext = Ctx,
    platform: Platform = Plat,
) -> Page[Crawl]:
    """The latest crawls with their reports, newest first."""
    return Page(items=platform.catalog.crawlers.list_crawls(ctx, name, max_results=max_results))


# -- queries -------------------------------------------------------------------------------


@router.post("/queries", status_code=201)
def start_query_execution(
    spec: QueryStart, ctx: RequestContext = Ctx, platform: Platform = Plat
) -> QueryStarted:
    """Start a query; poll ``GET /queries/{id}`` for its state."""
    query_id = platform.catalog.queries.start_query_execution(
        ctx,
        spec.query,
        spec.database,
        spec.workgroup,
        spec.output_location,
        client_request_token=spec.client_request_token,
    )
    return QueryStarted(query_execution_id=query_id)


@router.get("/queries")
def list_query_executions(
    workgroup: str | None = Query(None, max_length=128),
    next_token: str | None = Token,
    max_results: int = Query(50, ge=1, le=50),
    ctx: RequestContext = Ctx,
    platform: Platform = Plat,
) -> Page[QueryExecution]:
    """Queries of a workgroup (``primary`` by default), newest first."""
    return platform.catalog.queries.list_query_executions(
        ctx, workgroup=workgroup, next_token=next_token, max_results=max_results
    )


class _BatchGet(RequestModel):
    query_execution_ids: list[str]


@router.post("/queries/batch-get")
def batch_get_query_execution(
    body: _BatchGet, ctx: RequestContext = Ctx, platform: Platform = Plat
) -> BatchQueryExecutions:
    """Up to 50 queries at once; unknown ids come back as unprocessed."""
    return platform.catalog.queries.batch_get_query_execution(ctx, body.query_execution_ids)


@router.get("/queries/{query_id}")
def get_query_execution(
    query_id: str, ctx: RequestContext = Ctx, platform: Platform = Plat
) -> QueryExecution:
    """A query's state, statistics and result location."""
    return platform.catalog.queries.get_query_execution(ctx, query_id)


@router.get("/queries/{query_id}/results")
def get_query_results(
    query_id: str,
    next_token: str | None = Token,
    max_results: int = Query(1000, ge=1, le=1000),
    ctx: RequestContext = Ctx,
    platform: Platform = Plat,
) -> QueryResults:
    """A page of a finished query's rows (the first page starts with the header row)."""
    return platform.catalog.queries.get_query_results(
        ctx, query_id, next_token=next_token, max_results=max_results
    )


@router.post("/queries/{query_id}/stop", status_code=202)
def stop_query_execution(
    query_id: str, ctx: RequestContext = Ctx, platform: Platform = Plat
) -> Response:
    """Cancel a queued or running query."""
    platform.catalog.queries.stop_query_execution(ctx, query_id)
    return Response(status_code=202)


# -- workgroups ----------------------------------------------------------------------------


@router.post("/workgroups", status_code=201)
def create_work_group(
    spec: WorkGroupInput, ctx: RequestContext = Ctx, platform: Platform = Plat
) -> WorkGroup:
    """Create a workgroup."""
    return platform.catalog.workgroups.create_work_group(ctx, spec)


@router.get("/workgroups")
def list_work_groups(
    ctx: RequestContext = Ctx, platform: Platform = Plat
) -> Page[WorkGroupSummary]:
    """Every workgroup (``primary`` included)."""
    return Page(items=platform.catalog.workgroups.list_work_groups(ctx))


@router.get("/workgroups/{name}")
def get_work_group(name: str, ctx: RequestContext = Ctx, platform: Platform = Plat) -> WorkGroup:
    """Describe a workgroup."""
    return platform.catalog.workgroups.get_work_group(ctx, name)


@router.patch("/workgroups/{name}")
def update_work_group(
    name: str, update: WorkGroupUpdate, ctx: RequestContext = Ctx, platform: Platform = Plat
) -> WorkGroup:
    """Change a workgroup's description, state or configuration."""
    return platform.catalog.workgroups.update_work_group(ctx, name, update)


@router.delete("/workgroups/{name}", status_code=204)
def delete_work_group(name: str, ctx: RequestContext = Ctx, platform: Platform = Plat) -> Response:
    """Delete a workgroup (not ``primary``)."""
    platform.catalog.workgroups.delete_work_group(ctx, name)
    return Response(status_code=204)


# -- synchronous SQL -----------------------------------------------------------------------


def _json_rows(table: pa.Table) -> dict[str, Any]:
    columns = [{"name": f.name, "type": str(f.type)} for f in table.schema]
    rows = [list(row.values()) for row in table.to_pylist()]
    return {"columns": columns, "rows": jsonable_encoder(rows)}


@router.post("/sql", response_model=None)
def sql(
    body: SqlRequest,
    accept: str | None = Header(None),
    ctx: RequestContext = Ctx,
    platform: Platform = Plat,
) -> Response:
    """Run one statement now: an Arrow IPC stream, or JSON rows for ``Accept: application/json``."""
    table = platform.catalog.queries.sql(ctx, body.query, body.database)
    if accept and "application/json" in accept and ARROW_STREAM not in accept:
        return JSONResponse(_json_rows(table))
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return Response(content=sink.getvalue().to_pybytes(), media_type=ARROW_STREAM)
