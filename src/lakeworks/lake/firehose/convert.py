"""Record conversion for delivery: JSON records to Parquet with a catalog table's schema, and
the error documents Firehose writes for records that fail.

Keys of a JSON record match columns case-insensitively (as Firehose's OpenX JSON SerDe does);
missing keys are nulls and extra keys are dropped. A record that is not one JSON object or whose
value does not fit its column's type goes to the error output, with the reason.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from lakeworks.core.errors import ValidationError
from lakeworks.lake.catalog.types import parse_type
from lakeworks.lake.firehose.wal import LogRecord

__all__ = ["ParquetConverter", "error_document"]

_ARROW: dict[str, pa.DataType] = {
    "tinyint": pa.int8(),
    "smallint": pa.int16(),
    "int": pa.int32(),
    "integer": pa.int32(),
    "bigint": pa.int64(),
    "float": pa.float32(),
    "real": pa.float32(),
    "double": pa.float64(),
    "boolean": pa.bool_(),
    "string": pa.string(),
    "varchar": pa.string(),
    "char": pa.string(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("ms"),
}


def _integer(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value)
    raise ValueError(f"expected an integer, got {json.dumps(value)}")


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"expected a number, got {json.dumps(value)}")
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"expected a number, got {json.dumps(value)}") from None


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ValueError(f"expected a boolean, got {json.dumps(value)}")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _date(value: Any) -> date:
    if not isinstance(value, str):
        raise ValueError(f"expected a date (YYYY-MM-DD), got {json.dumps(value)}")
    return date.fromisoformat(value)


def _timestamp(value: Any) -> datetime:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC).replace(tzinfo=None)
    if not isinstance(value, str):
        raise ValueError(f"expected a timestamp, got {json.dumps(value)}")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"expected a decimal, got {json.dumps(value)}") from None


def _column(name: str, hive: str) -> tuple[pa.Field, Callable[[Any], Any]]:
    parsed = parse_type(hive)
    if parsed.name == "decimal":
        precision, scale = (*parsed.params, 0)[:2] if parsed.params else (10, 0)
        return pa.field(name, pa.decimal128(precision, scale)), _decimal
    arrow = _ARROW.get(parsed.name)
    if arrow is None:
        raise ValidationError(
            f"Column {name!r} has type {hive}; Lakeworks converts to Parquet only columns of "
            f"the types {', '.join(sorted(_ARROW))} and decimal",
            aws_code="InvalidArgumentException",
        )
    caster: Callable[[Any], Any] = {
        "boolean": _boolean,
        "date": _date,
        "timestamp": _timestamp,
    }.get(parsed.name, _text)
    if pa.types.is_integer(arrow):
        caster = _integer
    elif pa.types.is_floating(arrow):
        caster = _number
    return pa.field(name, arrow), caster


class ParquetConverter:
    """Converts JSON records to one Parquet file with the columns of a catalog table.

    Args:
        columns: ``(name, hive type)`` pairs, in table order.

    Raises:
        ValidationError: A column type Lakeworks does not convert.
    """

    def __init__(self, columns: list[tuple[str, str]]) -> None:
        if not columns:
            raise ValidationError(
                "The schema table has no columns to convert records to",
                aws_code="InvalidArgumentException",
            )
        built = [_column(name, hive) for name, hive in columns]
        self.schema = pa.schema([field for field, _ in built])
        self._casters = [(field.name, field.name.lower(), cast) for field, cast in built]

    def _row(self, record: LogRecord) -> dict[str, Any]:
        try:
            value = json.loads(record.data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValueError(f"The record is not valid JSON: {exc}") from None
        if not isinstance(value, dict):
            raise ValueError("The record is not a JSON object")
        lowered = {str(k).lower(): v for k, v in value.items()}
        row: dict[str, Any] = {}
        for name, key, cast in self._casters:
            item = lowered.get(key)
            try:
                row[name] = None if item is None else cast(item)
            except (ValueError, TypeError, OverflowError) as exc:
                raise ValueError(f"Column {name!r}: {exc}") from None
        return row

    def convert(self, records: list[LogRecord]) -> tuple[bytes | None, list[tuple[LogRecord, str]]]:
        """The Parquet bytes of the records that convert (``None`` if none) and the failures."""
        rows: list[tuple[LogRecord, dict[str, Any]]] = []
        failed: list[tuple[LogRecord, str]] = []
        for record in records:
            try:
                rows.append((record, self._row(record)))
            except ValueError as exc:
                failed.append((record, str(exc)))
        try:
            table = pa.Table.from_pylist([row for _, row in rows], schema=self.schema)
        except (pa.ArrowException, OverflowError):  # out of a column's range: find which
            kept = []
            for record, row in rows:
                try:
                    pa.Table.from_pylist([row], schema=self.schema)
                except (pa.ArrowException, OverflowError) as exc:
                    failed.append((record, str(exc)))
                    continue
                kept.append(row)
            table = pa.Table.from_pylist(kept, schema=self.schema)
        if table.num_rows == 0:
            return None, failed
        sink = io.BytesIO()
        pq.write_table(table, sink)
        return sink.getvalue(), failed


def error_document(record: LogRecord, error_code: str, message: str) -> dict[str, Any]:
    """Firehose's error record for one failed record (one JSON line in the error object)."""
    return {
        "attemptsMade": 1,
        "arrivalTimestamp": record.arrival_ms,
        "errorCode": error_code,
        "errorMessage": message,
        "rawData": base64.b64encode(record.data).decode(),
        "sequenceNumber": str(record.seq),
    }
