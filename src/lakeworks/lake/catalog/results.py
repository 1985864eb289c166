"""Query results as Athena writes and returns them (pure logic).

Athena writes a SELECT's rows to ``<output>/<query id>.csv``: a header row, then every value in
double quotes (quotes inside doubled) and NULL as an empty, unquoted field. DDL and utility
statements write ``<query id>.txt``: tab-separated lines, no header. Beside the CSV, Athena keeps
``<query id>.csv.metadata`` (a binary protobuf in AWS); Lakeworks writes the same column
information as JSON there.

GetQueryResults pages through those files: the first page of a SELECT starts with the header
row, a NULL is a ``Datum`` without ``var_char_value``. Page tokens carry the byte offset of the
next row, so every page costs the same however deep it is.
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
import json
import math
import re
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from lakeworks.lake.catalog.types import athena_result_type
from lakeworks.schemas.catalog import ColumnInfo

__all__ = [
    "column_infos",
    "format_value",
    "metadata_document",
    "parse_csv_rows",
    "parse_txt_rows",
    "to_athena_csv",
    "to_text_lines",
]

_QUOTED = re.compile(rb'"((?:[^"]|"")*)"')


def column_infos(names: list[str], duckdb_types: list[str]) -> list[ColumnInfo]:
    """Athena's description of result columns of the given DuckDB types."""
    infos = []
    for name, type_ in zip(names, duckdb_types, strict=True):
        athena, precision, scale = athena_result_type(type_)
        infos.append(
            ColumnInfo(
                name=name,
                label=name,
                type=athena,
                precision=precision,
                scale=scale,
                case_sensitive=athena == "varchar",
            )
        )
    return infos


def format_value(value: Any) -> str | None:
    """A value as Athena prints it (``true``, ``1.5``, ``2024-01-31 12:00:00.000``, ``[1, 2]``)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}"
    if isinstance(value, dt.date | decimal.Decimal | int | str):
        return str(value)
    if isinstance(value, bytes):
        return " ".join(f"{b:02x}" for b in value)
    if isinstance(value, list):
        return "[" + ", ".join(_inner(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_inner(v)}" for k, v in value.items()) + "}"
    return str(value)


def _inner(value: Any) -> str:
    text = format_value(value)
    return "null" if text is None else text


def _as_text(column: pa.ChunkedArray) -> pa.ChunkedArray | pa.Array:
    """A column as strings, formatted like Athena (nested, float and time values by hand)."""
    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return column
    if pa.types.is_integer(kind) or pa.types.is_decimal(kind) or pa.types.is_date(kind):
        return column.cast(pa.string())
    return pa.array([format_value(v) for v in column.to_pylist()], type=pa.string())


def to_athena_csv(table: pa.Table) -> bytes:
    """The CSV Athena writes for ``table``: quoted header, quoted values, NULL as nothing."""
    names = [n or f"_col{i}" for i, n in enumerate(table.column_names)]
    text = pa.table([_as_text(c) for c in table.columns], names=names) if names else table
    sink = io.BytesIO()
    options = pacsv.WriteOptions(include_header=True, quoting_style="all_valid")
    if table.num_columns:
        pacsv.write_csv(text, sink, write_options=options)
    return sink.getvalue()


def to_text_lines(table: pa.Table) -> bytes:
    """The ``.txt`` Athena writes for DDL results: tab-separated lines, no header."""
    rows = zip(*[c.to_pylist() for c in table.columns], strict=True) if table.num_columns else []
    lines = []
    for row in rows:
        cells = [(format_value(v) or "").replace("\t", " ").replace("\n", " ") for v in row]
        lines.append("\t".join(cells) + "\n")
    return "".join(lines).encode("utf-8")


def metadata_document(columns: list[ColumnInfo], rows: int) -> bytes:
    """The ``.csv.metadata`` beside a result (JSON here; AWS writes binary protobuf)."""
    body = {
        "column_info": [c.model_dump() for c in columns],
        "row_count": rows,
    }
    return json.dumps(body, indent=1).encode("utf-8")


def parse_csv_rows(data: bytes, *, final: bool, limit: int) -> tuple[list[list[str | None]], int]:
    """Parse up to ``limit`` whole rows of Athena CSV from the start of ``data``.

    Args:
        data: Bytes starting at a row boundary.
        final: Whether ``data`` runs to the end of the file (a last row without newline
            counts).
        limit: Most rows to return.

    Returns:
        ``(rows, consumed)``: the rows, and how many bytes of ``data`` they took.
    """
    rows: list[list[str | None]] = []
    pos = 0
    size = len(data)
    while len(rows) < limit and pos < size:
        row: list[str | None] = []
        cursor = pos
        while True:
            if cursor < size and data[cursor : cursor + 1] == b'"':
                match = _QUOTED.match(data, cursor)
                if match is None:
                    return rows, pos  # the value continues beyond this buffer
                row.append(match.group(1).replace(b'""', b'"').decode("utf-8"))
                cursor = match.end()
            else:
                row.append(None)
            if cursor >= size:
                if not final:
                    return rows, pos
                rows.append(row)
                return rows, size
            separator = data[cursor : cursor + 1]
            cursor += 1
            if separator == b"\n":
                break
            if separator == b"\r" and data[cursor : cursor + 1] == b"\n":
                cursor += 1
                break
        rows.append(row)
        pos = cursor
    return rows, pos


def parse_txt_rows(
    data: bytes, *, final: bool, limit: int, width: int
) -> tuple[list[list[str | None]], int]:
    """Parse up to ``limit`` whole lines of a ``.txt`` result (see :func:`parse_csv_rows`)."""
    rows: list[list[str | None]] = []
    pos = 0
    while len(rows) < limit and pos < len(data):
        end = data.find(b"\n", pos)
        if end < 0:
            if not final:
                break
            end = len(data)
        cells: list[str | None] = list(data[pos:end].decode("utf-8").split("\t"))
        rows.append((cells + [None] * width)[: max(width, 1)])
        pos = end + 1
    return rows, min(pos, len(data))
