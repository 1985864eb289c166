"""``application/x-parquet``: the label is the first column, as with CSV (XGBoost's rule).

Column names do not matter; every column must be numeric (integers, floats or booleans). Nulls
become missing values.
"""

from __future__ import annotations

import io

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from lakeworks.core.errors import ValidationError
from lakeworks.training.formats.csv import split_columns
from lakeworks.training.formats.dataset import Dataset

__all__ = ["read_parquet", "write_parquet"]


def _numeric(field: pa.Field) -> bool:
    kind = field.type
    return bool(
        pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)
    )


def read_parquet(
    data: bytes, *, source: str, label_size: int = 1, weight_column: bool = False
) -> Dataset | None:
    """Read one Parquet file's bytes.

    Returns:
        The rows, or None for a file with no rows.

    Raises:
        ValidationError: Not Parquet, or a column that is not numeric (named with its position).
    """
    try:
        table = pq.read_table(io.BytesIO(data))
    except (pa.ArrowInvalid, OSError) as exc:
        raise ValidationError(f"{source}: not a readable Parquet file ({exc})") from None
    for position, field in enumerate(table.schema, start=1):
        if not _numeric(field):
            raise ValidationError(
                f"{source} column {position} ({field.name!r}) has type {field.type}; Parquet "
                "input must be all numeric columns, the label first"
            )
    if table.num_rows == 0:
        return None
    columns = [
        np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)
        for column in table.columns
    ]
    matrix = np.column_stack(columns) if columns else np.empty((table.num_rows, 0))
    return split_columns(matrix, source=source, label_size=label_size, weight_column=weight_column)


def write_parquet(features: np.ndarray, labels: np.ndarray | None) -> bytes:
    """Encode rows as Parquet, label first (columns ``label``, ``f0``, ``f1`` …); for tests."""
    arrays: dict[str, np.ndarray] = {}
    if labels is not None:
        arrays["label"] = np.asarray(labels, dtype=np.float64)
    for j in range(features.shape[1]):
        arrays[f"f{j}"] = np.asarray(features[:, j], dtype=np.float64)
    sink = io.BytesIO()
    pq.write_table(pa.table(arrays), sink)
    return sink.getvalue()
