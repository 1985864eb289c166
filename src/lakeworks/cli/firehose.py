"""``lakeworks delivery-streams``: list and describe delivery streams, put records into one.

Streams are created through the SDK or boto3's ``firehose`` client; these commands sit on
:mod:`lakeworks.sdk.firehose`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from lakeworks.cli.output import Column, OutputFormat, OutputOption, emit, emit_record, emit_rows
from lakeworks.cli.server import connect
from lakeworks.core.errors import ValidationError

__all__ = ["app"]

app = typer.Typer(help="Delivery streams (Firehose): list, describe, put.", no_args_is_help=True)

StreamName = Annotated[str, typer.Argument(help="The delivery stream's name.", show_default=False)]

_COLUMNS: list[Column] = [
    ("NAME", "delivery_stream_name"),
    ("STATUS", "delivery_stream_status"),
    ("ACKNOWLEDGED", "records_acknowledged"),
    ("DELIVERED", "records_delivered"),
    ("CREATED", "create_timestamp"),
]
_FIELDS = [
    "delivery_stream_name",
    "delivery_stream_arn",
    "delivery_stream_status",
    "s3_destination",
    "records_acknowledged",
    "records_delivered",
    "failure_description",
    "create_timestamp",
]


@app.command("list")
def list_(output: OutputOption = OutputFormat.table) -> None:
    """List delivery streams by name."""
    with connect() as client:
        emit_rows(client.delivery_streams.list(), _COLUMNS, output)


@app.command()
def describe(name: StreamName, output: OutputOption = OutputFormat.table) -> None:
    """One delivery stream, with the records it acknowledged and delivered."""
    with connect() as client:
        emit_record(client.delivery_streams.get(name), output, _FIELDS)


@app.command()
def put(
    name: StreamName,
    file: Annotated[
        str,
        typer.Argument(help="A file of records, one a line; - (the default) reads stdin."),
    ] = "-",
    flush: Annotated[
        bool, typer.Option(help="Deliver what the stream holds now, whatever its buffering.")
    ] = False,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Put each line (with its newline) of FILE or stdin into the stream as one record."""
    data = sys.stdin.buffer.read() if file == "-" else _read(Path(file))
    records = data.splitlines(keepends=True)
    if not records:
        raise ValidationError(f"No records to put: {file if file != '-' else 'stdin'} is empty")
    with connect() as client:
        ids = client.delivery_streams.put(name, records)
        if flush:
            client.delivery_streams.flush(name)
    emit({"delivery_stream_name": name, "record_ids": ids}, output, f"Put {len(ids)} records")


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ValidationError(f"Cannot read {path}: {exc.strerror}") from None
