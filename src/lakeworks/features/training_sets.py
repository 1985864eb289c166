"""Point-in-time-correct training sets: labels joined to features as of each label's time.

For every label row and every feature group, the feature row taken is the latest one of the
same record identifier whose event time is at or before the label's event time (a DuckDB
``ASOF LEFT JOIN`` over the offline store's Parquet files), so no value from the label's future
leaks into its row. Rewrites of the same record and event time resolve to the last one written;
a record deleted as of the label's time gives nulls unless deleted records are included. Pure:
the caller hands in local Parquet paths and a labels table.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd
import pyarrow as pa

from lakeworks.core.errors import ValidationError
from lakeworks.features.records import FeatureSchema

__all__ = ["GroupFiles", "epoch_seconds", "point_in_time_join"]

_ROW = "__lw_row"
_ID = "__lw_id"
_TS = "__lw_ts"


@dataclass(frozen=True)
class GroupFiles:
    """One feature group's offline data: its name, schema and local Parquet files."""

    name: str
    schema: FeatureSchema
    paths: list[str]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def epoch_seconds(column: pa.ChunkedArray | pa.Array, name: str) -> pa.Array:
    """Epoch seconds (float64) of a column of times: numbers, timestamps or ISO 8601 text.

    Raises:
        ValidationError: A value that is no time (naming the column).
    """
    kind = column.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        return pa.array(column.to_pandas(), type=pa.float64())
    try:
        times = pd.to_datetime(pd.Series(column.to_pandas()), utc=True, format="ISO8601")
    except (ValueError, TypeError) as exc:
        raise ValidationError(
            f"Label column {name!r} must hold event times (ISO 8601 or epoch seconds): {exc}"
        ) from None
    if times.isna().any():
        raise ValidationError(f"Label column {name!r} has rows without an event time")
    seconds = (times - pd.Timestamp(0, tz="UTC")).dt.total_seconds()
    return pa.array(seconds, type=pa.float64())


_DUCK_TYPES = {"Integral": "BIGINT", "Fractional": "DOUBLE", "String": "VARCHAR"}


def _feature_sql(index: int, group: GroupFiles, include_deleted: bool) -> str:
    schema = group.schema
    if not group.paths:  # nothing written yet: every feature reads as null
        nulls = ", ".join(
            f"CAST(NULL AS {_DUCK_TYPES[t]}) AS {_quote(n)}" for n, t in schema.types.items()
        )
        return (
            f"CREATE TEMP VIEW f{index} AS SELECT CAST(NULL AS VARCHAR) AS {_ID}, "
            f"CAST(NULL AS DOUBLE) AS {_TS}, {nulls}, CAST(NULL AS BOOLEAN) AS is_deleted "
            "WHERE false"
        )
    files = "[" + ", ".join(_literal(p) for p in group.paths) + "]"
    event = _quote(schema.event_time)
    if schema.types[schema.event_time] == "Fractional":
        ts = f"CAST({event} AS DOUBLE)"
    else:
        ts = f"epoch(TRY_CAST({event} AS TIMESTAMPTZ))"
    deleted = "" if not include_deleted else "WHERE NOT is_deleted"
    columns = ", ".join(_quote(n) for n in schema.types)
    # rewrites of one (id, event time) pair: the last one written wins, as online
    ident = _quote(schema.record_identifier)
    return (  # every name and path in it is quoted
        f"CREATE TEMP VIEW f{index} AS SELECT CAST({ident} AS VARCHAR) "  # noqa: S608
        f"AS {_ID}, {ts} AS {_TS}, {columns}, is_deleted FROM "
        f"read_parquet({files}, union_by_name=true) {deleted} "
        f"QUALIFY row_number() OVER (PARTITION BY {_ID}, {_TS} "
        "ORDER BY api_invocation_time DESC, write_time DESC) = 1"
    )


def point_in_time_join(
    labels: pa.Table,
    record_identifier: str,
    event_time: str,
    groups: list[GroupFiles],
    *,
    features: list[str] | None = None,
    include_deleted: bool = False,
) -> pa.Table:
    """Join each label row to every group's features as of the label's event time.

    Args:
        labels: The label rows; their columns come first in the result, in their order.
        record_identifier: The labels' column holding the record identifier.
        event_time: The labels' column holding the event time.
        groups: The feature groups and their offline files.
        features: Feature names to keep (every feature of each group when ``None``); a name
            shared by two groups, or with a label column, is prefixed ``<group>__``.
        include_deleted: Ignore deletions, taking the last value written before them.

    Returns:
        One row per label row, in the labels' order.

    Raises:
        ValidationError: A missing label column or an unknown feature name.
    """
    for column in (record_identifier, event_time):
        if column not in labels.column_names:
            raise ValidationError(
                f"The labels have no column {column!r}; they have {', '.join(labels.column_names)}"
            )
    known = {n for g in groups for n in g.schema.types}
    unknown = sorted(set(features or []) - known)
    if unknown:
        raise ValidationError(
            f"Unknown features {', '.join(unknown)}; the groups define {', '.join(sorted(known))}"
        )
    prepared = labels.append_column(_ROW, pa.array(range(labels.num_rows), type=pa.int64()))
    prepared = prepared.append_column(_ID, pa.compute.cast(labels[record_identifier], pa.string()))
    prepared = prepared.append_column(_TS, epoch_seconds(labels[event_time], event_time))
    connection = duckdb.connect(":memory:")
    try:
        connection.register("lbl", prepared)
        select = [f"l.{_quote(c)}" for c in labels.column_names]
        taken = set(labels.column_names)
        joins = []
        counts: dict[str, int] = {}
        for g in groups:
            for n in g.schema.types:
                counts[n] = counts.get(n, 0) + 1
        for index, group in enumerate(groups):
            connection.execute(_feature_sql(index, group, include_deleted))
            alias = f"f{index}"
            joins.append(
                f"ASOF LEFT JOIN {alias} ON l.{_ID} = {alias}.{_ID} AND l.{_TS} >= {alias}.{_TS}"
            )
            for name in group.schema.types:
                key_feature = name in (group.schema.record_identifier, group.schema.event_time)
                if (features is None and key_feature) or (features and name not in features):
                    continue
                label = name if counts[name] == 1 and name not in taken else f"{group.name}__{name}"
                taken.add(label)
                value = f"{alias}.{_quote(name)}"
                if not include_deleted:
                    value = f"CASE WHEN {alias}.is_deleted THEN NULL ELSE {value} END"
                select.append(f"{value} AS {_quote(label)}")
        sql = f"SELECT {', '.join(select)} FROM lbl l {' '.join(joins)} ORDER BY l.{_ROW}"  # noqa: S608
        return connection.sql(sql).to_arrow_table()
    finally:
        connection.close()
