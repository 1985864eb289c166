"""How commands print results: ``--output table`` for people, ``--output json`` for programs.

JSON output is exactly the wire shape of the REST API (the pydantic models dumped in JSON mode),
so ``lakeworks jobs describe x -o json`` and ``GET /api/v1/jobs/x`` agree. Tables are rendered
with rich, imported only when a table is printed so ``lakeworks --help`` stays fast.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from enum import Enum, StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "Column",
    "OutputFormat",
    "OutputOption",
    "console",
    "emit",
    "emit_record",
    "emit_rows",
    "jsonable",
    "print_error",
]


class OutputFormat(StrEnum):
    """The ``--output`` choices."""

    table = "table"
    json = "json"


OutputOption = Annotated[
    OutputFormat,
    typer.Option(
        "--output",
        "-o",
        case_sensitive=False,
        help="table: for people; json: the REST API's JSON, for scripts.",
    ),
]

#: A table column: header and the field of each (JSON-mode) row it shows.
Column = tuple[str, str]

#: Width for output that is not a terminal (a pipe, a file): wide enough that nothing is cut.
_PIPE_WIDTH = 1000


def console(*, stderr: bool = False) -> Console:
    """A rich console; when not writing to a terminal, wide enough that tables are not cut."""
    from rich.console import Console

    out = Console(stderr=stderr, highlight=False)
    if not out.is_terminal:
        out = Console(stderr=stderr, highlight=False, width=_PIPE_WIDTH)
    return out


def jsonable(value: Any) -> Any:
    """Turn models, dataclasses and containers of them into plain JSON values."""
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


#: A UTC timestamp as the JSON mode writes it; tables show it to the second.
_UTC_TIME = re.compile(r"^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(\.\d+)?(Z|\+00:00)$")


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, str) and (match := _UTC_TIME.match(value)):
        return f"{match[1]} {match[2]}"
    if isinstance(value, list | dict):
        if not value:
            return "-"
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return ",".join(value)
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(jsonable(data), indent=2) + "\n")


def emit_rows(rows: Iterable[Any], columns: Sequence[Column], output: OutputFormat) -> None:
    """Print a list of records: a table with ``columns``, or a JSON array of the full records.

    Args:
        rows: Models, dataclasses or dicts.
        columns: ``(header, field)`` pairs shown in table mode.
        output: The chosen format.
    """
    items = [jsonable(row) for row in rows]
    if output is OutputFormat.json:
        _print_json(items)
        return
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for header, _ in columns:
        table.add_column(header, overflow="fold")
    for item in items:
        table.add_row(*(escape(_cell(item.get(field))) for _, field in columns))
    if items:
        _print_table(table)
    else:
        typer.echo("(none)")


def emit_record(record: Any, output: OutputFormat, fields: Sequence[str] | None = None) -> None:
    """Print one record: a two-column field/value table, or its full JSON.

    Args:
        record: A model, dataclass or dict.
        output: The chosen format.
        fields: Fields shown in table mode, in order (all when omitted).
    """
    data = jsonable(record)
    if output is OutputFormat.json:
        _print_json(data)
        return
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    table = Table(box=box.SIMPLE, show_header=False, show_edge=False, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for field in fields or list(data):
        if field in data:
            table.add_row(escape(field), escape(_cell(data[field])))
    _print_table(table)


def _print_table(table: Any) -> None:
    out = console()
    if out.is_terminal:
        out.print(table)
        return
    # For pipes and files: no padding at line ends, so the output greps and diffs cleanly.
    with out.capture() as captured:
        out.print(table)
    sys.stdout.write("".join(line.rstrip() + "\n" for line in captured.get().splitlines()))


def emit(data: Any, output: OutputFormat, text: str) -> None:
    """Print ``text`` for people, or ``data`` as JSON for programs."""
    if output is OutputFormat.json:
        _print_json(data)
    else:
        typer.echo(text)


def print_error(message: str) -> None:
    """Print an error message to stderr (plain text: no markup, no traceback)."""
    typer.echo(f"Error: {message}", err=True)
