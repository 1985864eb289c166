"""JSON → Parquet conversion with a catalog table's columns (pure)."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pyarrow.parquet as pq
import pytest

from lakeworks.core.errors import ValidationError
from lakeworks.lake.firehose.convert import ParquetConverter, error_document
from lakeworks.lake.firehose.wal import LogRecord


def _records(*docs: object) -> list[LogRecord]:
    return [
        LogRecord(i, 1000, d if isinstance(d, bytes) else json.dumps(d).encode())
        for i, d in enumerate(docs)
    ]


def test_converts_typed_columns_and_reports_each_failure() -> None:
    converter = ParquetConverter(
        [("id", "tinyint"), ("price", "decimal(6,2)"), ("day", "date"), ("at", "timestamp")]
    )
    data, failed = converter.convert(
        _records(
            {"ID": 1, "price": "12.50", "day": "2024-03-07", "at": "2024-03-07T10:00:00Z"},
            {"id": 2, "extra": "dropped"},
            {"id": 300},  # out of tinyint's range
            {"id": "two"},
            b"[1, 2]",
        )
    )
    assert data is not None
    table = pq.read_table(io.BytesIO(data))
    assert table.column_names == ["id", "price", "day", "at"]
    rows = table.to_pylist()
    assert [r["id"] for r in rows] == [1, 2]
    assert rows[0]["price"] == Decimal("12.50")
    assert str(rows[0]["at"]) == "2024-03-07 10:00:00"
    assert [r.seq for r, _ in failed] == [3, 4, 2]
    reasons = dict((r.seq, why) for r, why in failed)
    assert "expected an integer" in reasons[3]
    assert "not a JSON object" in reasons[4]
    doc = error_document(failed[0][0], "DataFormatConversion.MalformedData", reasons[3])
    assert doc["rawData"]
    assert doc["errorCode"] == "DataFormatConversion.MalformedData"


def test_unsupported_column_types_are_refused_with_the_allowed_ones() -> None:
    with pytest.raises(ValidationError, match=r"array<string>.*bigint"):
        ParquetConverter([("tags", "array<string>")])
