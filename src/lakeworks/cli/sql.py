"""``lakeworks sql "SELECT ..."``: one statement over the lake, printed as a table, JSON or CSV.

The rows come as JSON from the server (``client.sql_rows``), so the CLI needs neither pyarrow
nor pandas; ``--output json`` prints ``{"columns": [{"name", "type"}], "rows": [[...]]}``,
the body ``POST /api/v1/sql`` answers for ``Accept: application/json``.
"""

from __future__ import annotations

import csv
import json
import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lakeworks.cli.output import emit_rows, jsonable
from lakeworks.cli.server import connect
from lakeworks.core.errors import ValidationError

if TYPE_CHECKING:
    from lakeworks.sdk.sql import SqlRows

__all__ = ["SqlOutput", "sql"]


class SqlOutput(StrEnum):
    """The ``--output`` choices of ``lakeworks sql``."""

    table = "table"
    json = "json"
    csv = "csv"


def sql(
    query: Annotated[
        str, typer.Argument(help="One SQL statement; '-' reads it from stdin.", show_default=False)
    ],
    database: Annotated[
        str | None,
        typer.Option("--database", "-d", help="Database of unqualified table names."),
    ] = None,
    output: Annotated[
        SqlOutput,
        typer.Option(
            "--output",
            "-o",
            case_sensitive=False,
            help="table: for people; json: columns and rows; csv: a header, then the rows.",
        ),
    ] = SqlOutput.table,
) -> None:
    """Run one SQL statement over the lake's catalog (SELECT, SHOW, DESCRIBE, DDL, CTAS …)."""
    text = sys.stdin.read() if query == "-" else query
    if not text.strip():
        raise ValidationError("The query is empty: give one SQL statement, e.g. 'SELECT 1'")
    with connect() as client:
        result = client.sql_rows(text, database)
    if output is SqlOutput.json:
        payload = {
            "columns": [{"name": name, "type": kind} for name, kind in result.columns],
            "rows": result.rows,
        }
        sys.stdout.write(json.dumps(jsonable(payload), indent=2) + "\n")
    elif output is SqlOutput.csv:
        _write_csv(result)
    else:
        _write_table(result)


def _write_csv(result: SqlRows) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow([name for name, _ in result.columns])
    # NULL is an empty field, as Athena writes it; nested values are JSON.
    writer.writerows([_csv_cell(v) for v in row] for row in result.rows)


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(jsonable(value), separators=(",", ":"))
    return str(value)


def _write_table(result: SqlRows) -> None:
    from lakeworks.cli.output import OutputFormat

    # Positional keys: column names may repeat or be empty (SELECT 1, 1).
    keys = [f"c{i}" for i in range(len(result.columns))]
    rows = [dict(zip(keys, row, strict=False)) for row in result.rows]
    columns = [(name, key) for (name, _), key in zip(result.columns, keys, strict=True)]
    emit_rows(rows, columns, OutputFormat.table)
    count = len(result.rows)
    typer.echo(f"({count} row{'' if count == 1 else 's'})", err=True)
