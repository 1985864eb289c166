"""``text/csv`` as SageMaker's built-in algorithms read it.

No header row; every cell a number; the label first when the content type's ``label_size`` is 1
(the default for supervised algorithms; ``text/csv;label_size=0`` for unsupervised ones); XGBoost's
``csv_weights=1`` makes the column after the label the instance weight. An empty cell is a missing
value, which only the tree learners accept (checked by the caller). Anything else that is not a
number is an error naming the file, row and column, e.g. a header line:
``train.csv row 1, column 1: 'price' is not a number (CSV input has no header row)``.
"""

from __future__ import annotations

import csv as _csv
import io

import numpy as np
import pandas as pd

from lakeworks.core.errors import ValidationError
from lakeworks.training.formats.dataset import Dataset

__all__ = ["read_csv", "split_columns"]


def _lines(data: bytes) -> list[bytes]:
    return [line for line in data.replace(b"\r\n", b"\n").split(b"\n") if line.strip()]


def _check_shape(lines: list[bytes], source: str) -> int:
    """All rows must have the same number of fields; return that number."""
    counts = [line.count(b",") for line in lines]
    width = counts[0] + 1
    for number, count in enumerate(counts, start=1):
        if count + 1 != width:
            raise ValidationError(
                f"{source} row {number}: {count + 1} columns, but row 1 has {width}; "
                "every CSV row needs the same number of columns"
            )
    return width


def _first_bad_cell(text: str, source: str) -> ValidationError:
    """Scan ``text`` for the first cell that is not a number (the slow path, only on error)."""
    for number, row in enumerate(_csv.reader(io.StringIO(text)), start=1):
        for column, cell in enumerate(row, start=1):
            value = cell.strip()
            if not value:
                continue
            try:
                float(value)
            except ValueError:
                hint = " (CSV input has no header row)" if number == 1 else ""
                return ValidationError(
                    f"{source} row {number}, column {column}: {value[:40]!r} is not a number{hint}"
                )
    return ValidationError(f"{source}: cannot read as CSV of numbers")


def split_columns(
    matrix: np.ndarray, *, source: str, label_size: int, weight_column: bool
) -> Dataset:
    """Split a numeric matrix into label, weight and feature columns.

    Raises:
        ValidationError: Too few columns for the label (and weight) plus one feature.
    """
    needed = label_size + int(weight_column) + 1
    if matrix.shape[1] < needed:
        what = "a label column, " if label_size else ""
        what += "a weight column, " if weight_column else ""
        raise ValidationError(
            f"{source}: rows have {matrix.shape[1]} columns; expected {what}then at least one "
            "feature column"
        )
    labels = matrix[:, 0].copy() if label_size else None
    weights = matrix[:, label_size].copy() if weight_column else None
    start = label_size + int(weight_column)
    features = np.ascontiguousarray(matrix[:, start:], dtype=np.float64)
    return Dataset(features, labels, weights, [(source, matrix.shape[0])])


def read_csv(
    data: bytes, *, source: str, label_size: int = 1, weight_column: bool = False
) -> Dataset | None:
    """Read one CSV file's bytes.

    Args:
        data: The file's content (already decompressed).
        source: The name used in error messages (``"train/part-0.csv"``).
        label_size: 1 when the first column is the label, 0 when there is none.
        weight_column: True when the column after the label holds instance weights.

    Returns:
        The rows, or None for a file with no rows.

    Raises:
        ValidationError: Ragged rows, a cell that is not a number, or too few columns.
    """
    if label_size not in (0, 1):
        raise ValidationError(f"label_size={label_size} is not supported; use 0 or 1")
    lines = _lines(data)
    if not lines:
        return None
    _check_shape(lines, source)
    try:
        text = b"\n".join(lines).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError(f"{source}: not UTF-8 text at byte {exc.start}") from None
    try:
        frame = pd.read_csv(io.StringIO(text), header=None, dtype=np.float64, skip_blank_lines=True)
    except (ValueError, pd.errors.ParserError):
        raise _first_bad_cell(text, source) from None
    matrix = frame.to_numpy(dtype=np.float64)
    return split_columns(matrix, source=source, label_size=label_size, weight_column=weight_column)
