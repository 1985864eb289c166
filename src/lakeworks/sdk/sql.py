"""SQL over the lake: ``client.sql(...)``, ``client.queries`` and ``client.workgroups``.

``client.sql("SELECT ...", database="wine")`` runs one statement at once and returns a
``pyarrow.Table`` (``.to_pandas()`` gives a frame; ``client.sql_frame`` does both); the server
sends the rows as an Arrow IPC stream, so types survive the trip. ``client.queries`` is Athena's
asynchronous flow — start, poll, page through results written to the lake — for long queries
and for results that must be kept. pyarrow and pandas are imported only when a result is read.
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from lakeworks.schemas.catalog import (
    QueryExecution,
    QueryResults,
    QueryStart,
    QueryStarted,
    SqlRequest,
    WorkGroup,
    WorkGroupInput,
    WorkGroupSummary,
    WorkGroupUpdate,
)
from lakeworks.schemas.common import Page
from lakeworks.sdk._http import Transport, paginate, request_body
from lakeworks.sdk.waiters import poll_intervals

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

__all__ = [
    "ARROW_STREAM",
    "TERMINAL_QUERY_STATES",
    "Queries",
    "SqlRows",
    "Workgroups",
    "run_sql",
    "run_sql_rows",
]

#: The media type of the Arrow IPC stream ``POST /api/v1/sql`` answers.
ARROW_STREAM = "application/vnd.apache.arrow.stream"
#: Query states after which nothing changes any more.
TERMINAL_QUERY_STATES = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})

_SQL = "/api/v1/sql"
_QUERIES = "/api/v1/queries"
_WORKGROUPS = "/api/v1/workgroups"


@dataclass(frozen=True)
class SqlRows:
    """A statement's result as plain JSON values, for callers without pyarrow (the CLI).

    Attributes:
        columns: ``(name, arrow type)`` of each column, e.g. ``("price", "double")``.
        rows: One list of values per row; dates and times are ISO strings, NULL is ``None``.
    """

    columns: list[tuple[str, str]]
    rows: list[list[Any]] = field(default_factory=list)


def run_sql(transport: Transport, query: str, database: str | None = None) -> pa.Table:
    """Run one statement now and return its rows as an Arrow table.

    Raises:
        ValidationError: The statement does not parse or names an unknown table; the message
            is the engine's, with the line and a caret under the position.
        NotFound: No such database.
    """
    import pyarrow as pa

    body = request_body(SqlRequest, query=query, database=database)
    response = transport.request("POST", _SQL, json=body, headers={"Accept": ARROW_STREAM})
    return pa.ipc.open_stream(response.content).read_all()


def run_sql_rows(transport: Transport, query: str, database: str | None = None) -> SqlRows:
    """Run one statement now and return its rows as JSON values (no pyarrow needed).

    Raises:
        ValidationError: The statement does not parse or names an unknown table.
        NotFound: No such database.
    """
    body = request_body(SqlRequest, query=query, database=database)
    data = transport.request("POST", _SQL, json=body, headers={"Accept": "application/json"}).json()
    columns = [(str(c["name"]), str(c["type"])) for c in data.get("columns", [])]
    return SqlRows(columns=columns, rows=[list(row) for row in data.get("rows", [])])


def to_frame(table: pa.Table) -> pd.DataFrame:
    """An Arrow table as a pandas frame (pandas is imported here, not before)."""
    frame: pd.DataFrame = table.to_pandas()
    return frame


def _query_path(query_id: str) -> str:
    return f"{_QUERIES}/{quote(query_id, safe='')}"


class Queries:
    """Asynchronous queries (Athena's StartQueryExecution, GetQueryExecution …)."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def start(
        self,
        query: str,
        *,
        database: str | None = None,
        workgroup: str | None = None,
        output_location: str | None = None,
        client_request_token: str | None = None,
    ) -> str:
        """Start a query; it runs in the background.

        Args:
            query: One SQL statement.
            database: The database unqualified table names refer to.
            workgroup: The workgroup (``primary`` when omitted).
            output_location: ``s3://bucket/prefix/`` for the results (the workgroup's when
                it enforces one, or when this is omitted).
            client_request_token: Makes a retried start idempotent (32-128 characters).

        Returns:
            The query execution id.

        Raises:
            ValidationError: No output location from the query or its workgroup, or a bad field.
            NotFound: No such workgroup.
        """
        body = request_body(
            QueryStart,
            query=query,
            database=database,
            workgroup=workgroup,
            output_location=output_location,
            client_request_token=client_request_token,
        )
        return self._t.model(QueryStarted, "POST", _QUERIES, json=body).query_execution_id

    def get(self, query_id: str) -> QueryExecution:
        """A query's state, statistics and result location.

        Raises:
            NotFound: No query has that id.
        """
        return self._t.model(QueryExecution, "GET", _query_path(query_id))

    def list(self, *, workgroup: str | None = None) -> Iterator[QueryExecution]:
        """Iterate over a workgroup's queries (``primary`` by default), newest first."""

        def page(token: str | None) -> tuple[list[QueryExecution], str | None]:
            params = {"workgroup": workgroup, "next_token": token}
            got = self._t.model(Page[QueryExecution], "GET", _QUERIES, params=params)
            return got.items, got.next_token

        return paginate(page)

    def stop(self, query_id: str) -> None:
        """Cancel a queued or running query (stopping a finished one changes nothing).

        Raises:
            NotFound: No query has that id.
        """
        self._t.request("POST", f"{_query_path(query_id)}/stop")

    def results(self, query_id: str, *, page_size: int | None = None) -> Iterator[QueryResults]:
        """Iterate over the pages of a finished query's results, as Athena returns them.

        The first page of a SELECT starts with the header row; a NULL is a datum without
        ``var_char_value``. :meth:`rows` gives the values without the header.

        Raises:
            NotFound: No query has that id.
            ValidationError: The query has not succeeded (the message says its state).
        """
        path = f"{_query_path(query_id)}/results"
        token: str | None = None
        while True:
            params = {"next_token": token, "max_results": page_size}
            page = self._t.model(QueryResults, "GET", path, params=params)
            yield page
            token = page.next_token
            if not token:
                return

    def rows(
        self, query_id: str, *, page_size: int | None = None
    ) -> Iterator[builtins.list[str | None]]:
        """Iterate over a finished query's rows as text values (NULL is ``None``), no header.

        Raises:
            NotFound: No query has that id.
            ValidationError: The query has not succeeded.
        """
        execution = self.get(query_id)
        # A SELECT's results are a CSV whose first row is the header; DDL writes a .txt without.
        location = execution.result_configuration.output_location or ""
        skip = 1 if location.endswith(".csv") else 0
        for page in self.results(query_id, page_size=page_size):
            for row in page.result_set.rows:
                if skip:
                    skip -= 1
                    continue
                yield [datum.var_char_value for datum in row.data]

    def wait(
        self, query_id: str, *, timeout: float | None = None, max_interval: float = 1.0
    ) -> QueryExecution:
        """Wait until a query has SUCCEEDED, FAILED or was CANCELLED.

        Returns:
            The final execution; a failed query is returned, not raised — check
            ``.status.state`` and ``.status.state_change_reason``.

        Raises:
            TimeoutError: Still queued or running after ``timeout`` seconds.
            NotFound: No query has that id.
        """
        start = time.monotonic()
        for pause in poll_intervals(first=0.05, most=max_interval):
            execution = self.get(query_id)
            if execution.status.state in TERMINAL_QUERY_STATES:
                return execution
            elapsed = time.monotonic() - start
            if timeout is not None and elapsed >= timeout:
                raise TimeoutError(
                    f"Query {query_id} is still {execution.status.state} after {timeout:g}s"
                )
            time.sleep(pause if timeout is None else max(0.0, min(pause, timeout - elapsed)))
        raise AssertionError("unreachable: poll_intervals never ends")  # pragma: no cover


def _workgroup_path(name: str) -> str:
    return f"{_WORKGROUPS}/{quote(name, safe='')}"


class Workgroups:
    """Workgroups: where query results go and how much one query may scan."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create(
        self,
        name: str,
        *,
        output_location: str | None = None,
        bytes_scanned_cutoff_per_query: int | None = None,
        description: str | None = None,
        configuration: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> WorkGroup:
        """Create a workgroup.

        Args:
            name: The workgroup's name.
            output_location: ``s3://bucket/prefix/`` for its queries' results.
            bytes_scanned_cutoff_per_query: Fail queries that would scan more (at least 10 MB).
            description: Free text.
            configuration: Other :class:`~lakeworks.schemas.catalog.WorkGroupConfiguration`
                fields (``enforce_work_group_configuration`` …).
            tags: Tags.

        Raises:
            ValidationError: A field is invalid (e.g. a cutoff under 10 MB).
            AlreadyExists: A workgroup of that name exists.
        """
        config: dict[str, Any] = dict(configuration or {})
        if output_location is not None:
            config["result_configuration"] = {"output_location": output_location}
        if bytes_scanned_cutoff_per_query is not None:
            config["bytes_scanned_cutoff_per_query"] = bytes_scanned_cutoff_per_query
        body = request_body(
            WorkGroupInput,
            name=name,
            description=description,
            configuration=config,
            tags=dict(tags or {}),
        )
        return self._t.model(WorkGroup, "POST", _WORKGROUPS, json=body)

    def list(self) -> list[WorkGroupSummary]:
        """Every workgroup, ``primary`` included."""
        return self._t.model(Page[WorkGroupSummary], "GET", _WORKGROUPS).items

    def get(self, name: str) -> WorkGroup:
        """Describe a workgroup.

        Raises:
            NotFound: No workgroup has that name.
        """
        return self._t.model(WorkGroup, "GET", _workgroup_path(name))

    def update(self, name: str, **fields: Any) -> WorkGroup:
        """Change a workgroup's ``description``, ``state`` or ``configuration_updates``.

        Raises:
            NotFound: No workgroup has that name.
            ValidationError: A field is invalid.
        """
        body = request_body(WorkGroupUpdate, **fields)
        return self._t.model(WorkGroup, "PATCH", _workgroup_path(name), json=body)

    def delete(self, name: str) -> None:
        """Delete a workgroup (``primary`` cannot be deleted).

        Raises:
            NotFound: No workgroup has that name.
            ValidationError: It is ``primary``.
        """
        self._t.request("DELETE", _workgroup_path(name))
