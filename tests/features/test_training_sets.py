"""The point-in-time join, pure: labels against Parquet files written as the offline store does."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakeworks.core.errors import ValidationError
from lakeworks.features.offline import arrow_schema
from lakeworks.features.records import FeatureSchema
from lakeworks.features.training_sets import GroupFiles, point_in_time_join

SCHEMA = FeatureSchema(
    types={"customer_id": "String", "event_time": "String", "balance": "Fractional"},
    record_identifier="customer_id",
    event_time="event_time",
)
WRITTEN = datetime(2024, 6, 1)


def _write(path: Path, rows: list[tuple[str, str, float, bool]]) -> str:
    table = pa.Table.from_pylist(
        [
            {
                "customer_id": cid,
                "event_time": at,
                "balance": balance,
                "write_time": WRITTEN,
                "api_invocation_time": WRITTEN,
                "is_deleted": deleted,
            }
            for cid, at, balance, deleted in rows
        ],
        schema=arrow_schema(SCHEMA),
    )
    pq.write_table(table, path)
    return str(path)


def test_each_label_sees_features_as_of_its_time(tmp_path: Path) -> None:
    # the balance of c1 changes at 10:00, 12:00 and 14:00; c2 has one value at 11:00
    first = _write(
        tmp_path / "a.parquet",
        [
            ("c1", "2024-01-01T10:00:00Z", 1.0, False),
            ("c1", "2024-01-01T14:00:00Z", 3.0, False),
        ],
    )
    second = _write(
        tmp_path / "b.parquet",
        [("c1", "2024-01-01T12:00:00Z", 2.0, False), ("c2", "2024-01-01T11:00:00Z", 9.0, False)],
    )
    labels = pa.Table.from_pylist(
        [
            {"customer_id": "c1", "at": "2024-01-01T09:59:59Z", "label": 0},  # before any value
            {"customer_id": "c1", "at": "2024-01-01T10:00:00Z", "label": 1},  # exactly at one
            {"customer_id": "c1", "at": "2024-01-01T13:59:59Z", "label": 0},
            {"customer_id": "c2", "at": "2024-01-01T10:30:00Z", "label": 1},
            {"customer_id": "c1", "at": "2024-01-02T00:00:00Z", "label": 1},
            {"customer_id": "c2", "at": "2024-01-01T11:30:00Z", "label": 0},
        ]
    )
    result = point_in_time_join(
        labels, "customer_id", "at", [GroupFiles("accounts", SCHEMA, [first, second])]
    )
    assert result.column_names == ["customer_id", "at", "label", "balance"]
    assert result.column("balance").to_pylist() == [None, 1.0, 2.0, None, 3.0, 9.0]
    assert result.column("label").to_pylist() == [0, 1, 0, 1, 1, 0]  # order kept


def test_deletions_hide_values_unless_included(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "a.parquet",
        [
            ("c1", "2024-01-01T10:00:00Z", 1.0, False),
            ("c1", "2024-01-01T11:00:00Z", None, True),  # type: ignore[list-item]
        ],
    )
    labels = pa.Table.from_pylist([{"customer_id": "c1", "at": 1704110400.0}])  # 12:00 epoch
    group = [GroupFiles("accounts", SCHEMA, [path])]
    hidden = point_in_time_join(labels, "customer_id", "at", group)
    assert hidden.column("balance").to_pylist() == [None]
    kept = point_in_time_join(labels, "customer_id", "at", group, include_deleted=True)
    assert kept.column("balance").to_pylist() == [1.0]


def test_a_group_without_files_gives_nulls_and_bad_input_is_named(tmp_path: Path) -> None:
    labels = pa.Table.from_pylist([{"customer_id": "c1", "at": "2024-01-01T10:00:00Z"}])
    empty = [GroupFiles("accounts", SCHEMA, [])]
    result = point_in_time_join(labels, "customer_id", "at", empty, features=["balance"])
    assert result.column("balance").to_pylist() == [None]
    with pytest.raises(ValidationError, match="no column 'when'"):
        point_in_time_join(labels, "customer_id", "when", empty)
    with pytest.raises(ValidationError, match="Unknown features nope"):
        point_in_time_join(labels, "customer_id", "at", empty, features=["nope"])
    bad = pa.Table.from_pylist([{"customer_id": "c1", "at": "yesterday"}])
    with pytest.raises(ValidationError, match="'at' must hold event times"):
        point_in_time_join(bad, "customer_id", "at", empty)
