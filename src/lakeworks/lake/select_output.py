"""S3 Select's output: record batches serialized as CSV or JSON, as S3 writes them.

CSV follows the request's delimiters and quoting (``QuoteFields`` ``ASNEEDED`` or ``ALWAYS``);
NULL is an empty field, booleans ``true``/``false``, nested values JSON. JSON writes one object
per record (the column names as keys) followed by ``RecordDelimiter``; decimals become
numbers and times ISO 8601 text.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
from typing import Any

import pyarrow as pa

from lakeworks.schemas.lake_select import CsvOutput, SelectRequest

__all__ = ["RecordWriter"]


def _value(value: Any) -> Any:
    """A value as S3 Select's JSON output writes it."""
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, list):
        return [_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _value(v) for k, v in value.items()}
    return value


def _text(value: Any) -> str:
    """A value as S3 Select's CSV output writes it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(_value(value), separators=(",", ":"), ensure_ascii=False)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)


class RecordWriter:
    """Serializes record batches as S3 Select's CSV or JSON output.

    Args:
        spec: The select, for its output serialization.
    """

    def __init__(self, spec: SelectRequest) -> None:
        target = spec.output_serialization
        self.json = target.json_output is not None
        self.delimiter = target.json_output.record_delimiter if target.json_output else "\n"
        options = target.csv or CsvOutput()
        self.buffer = io.StringIO()
        escape = options.quote_escape_character
        self.csv = csv.writer(
            self.buffer,
            delimiter=options.field_delimiter,
            quotechar=options.quote_character,
            escapechar=None if escape == options.quote_character else escape,
            doublequote=escape == options.quote_character,
            quoting=csv.QUOTE_ALL if options.quote_fields == "ALWAYS" else csv.QUOTE_MINIMAL,
            lineterminator=options.record_delimiter,
        )

    def write(self, batch: pa.RecordBatch) -> None:
        """Serialize a batch into the buffer."""
        names = batch.schema.names
        columns = [column.to_pylist() for column in batch.columns]
        for row in zip(*columns, strict=True):
            if self.json:
                record = {name: _value(value) for name, value in zip(names, row, strict=True)}
                self.buffer.write(json.dumps(record, separators=(",", ":"), ensure_ascii=False))
                self.buffer.write(self.delimiter)
            else:
                self.csv.writerow([_text(value) for value in row])

    def take(self) -> bytes:
        """The bytes serialized since the last call (UTF-8)."""
        data = self.buffer.getvalue().encode("utf-8")
        self.buffer.seek(0)
        self.buffer.truncate()
        return data
