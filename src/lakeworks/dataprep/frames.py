"""Frames in and out of data preparation: pandas or pyarrow, column kinds and schemas.

Every transform, recipe and profile accepts a :class:`pandas.DataFrame` or a
:class:`pyarrow.Table` and returns the same kind it was given. Internally the work happens on
pandas; :func:`to_pandas` and :func:`like` convert at the edges.

A column's *kind* is the coarse type a transform cares about — ``numeric``, ``boolean``,
``datetime``, ``string``, ``list`` (token lists) or ``other`` — so a step can say "numeric
columns only" and fail before it runs when handed text. An untyped (object) column with no
values at all is ``null``: its kind cannot be known, so every transform accepts it (a one-row
request whose only value is missing must not fail for its type). A :class:`Schema` maps column
names to kinds and is what a recipe propagates through its steps to find such mistakes before
any data is touched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import numpy as np
import pandas as pd
import pyarrow as pa

from lakeworks.core.errors import ValidationError

__all__ = [
    "KINDS",
    "Frame",
    "FrameT",
    "Schema",
    "column_kind",
    "frame_kinds",
    "like",
    "missing_column_error",
    "to_native",
    "to_pandas",
]

#: The coarse column kinds transforms and profiles speak of.
KINDS: tuple[str, ...] = ("numeric", "boolean", "datetime", "string", "list", "other", "null")

Frame = pd.DataFrame | pa.Table
# Unconstrained on purpose: pyarrow has no type hints, so a constraint on pa.Table would be Any.
# Anything else than a DataFrame or Table is refused at run time by to_pandas().
FrameT = TypeVar("FrameT")


def to_pandas(frame: Any) -> pd.DataFrame:
    """Return ``frame`` as a pandas DataFrame (unchanged when it already is one).

    Raises:
        ValidationError: ``frame`` is neither a pandas DataFrame nor a pyarrow Table.
    """
    if isinstance(frame, pd.DataFrame):
        return frame
    if isinstance(frame, pa.Table):
        converted: pd.DataFrame = frame.to_pandas()
        return converted
    raise ValidationError(
        f"Expected a pandas DataFrame or a pyarrow Table, got {type(frame).__name__}"
    )


def like(original: FrameT, result: pd.DataFrame) -> FrameT:
    """Return ``result`` in the kind of ``original``: pyarrow in, pyarrow out."""
    if isinstance(original, pa.Table):
        return cast(FrameT, pa.Table.from_pandas(result, preserve_index=False))
    return cast(FrameT, result)


def _object_kind(values: np.ndarray[Any, Any]) -> str:
    # Object columns say nothing in their dtype; the first present value decides. Mixed columns
    # are caught later by the transform that trips over them, with the value named.
    present = values[pd.notna(values)] if values.dtype == object else values
    if len(present) == 0:
        return "null"
    first = present[0]
    if isinstance(first, str | bytes):
        return "string"
    if isinstance(first, list | tuple | np.ndarray):
        return "list"
    if isinstance(first, bool | np.bool_):
        return "boolean"
    if isinstance(first, int | float | np.number):
        return "numeric"
    return "other"


def column_kind(series: pd.Series) -> str:
    """Return the kind of one column (see :data:`KINDS`)."""
    dtype = series.dtype
    if isinstance(dtype, pd.ArrowDtype):
        arrow = dtype.pyarrow_dtype
        if pa.types.is_boolean(arrow):
            return "boolean"
        if pa.types.is_integer(arrow) or pa.types.is_floating(arrow):
            return "numeric"
        if pa.types.is_timestamp(arrow) or pa.types.is_date(arrow):
            return "datetime"
        if pa.types.is_string(arrow) or pa.types.is_large_string(arrow):
            return "string"
        if pa.types.is_list(arrow) or pa.types.is_large_list(arrow):
            return "list"
        return "other"
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_numeric_dtype(dtype):
        return "numeric"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if isinstance(dtype, pd.CategoricalDtype):
        return "string"
    if isinstance(dtype, pd.StringDtype):
        return "string"
    if dtype == np.dtype(object):
        return _object_kind(series.to_numpy())
    return "other"


def frame_kinds(frame: pd.DataFrame, columns: Iterable[str] | None = None) -> dict[str, str]:
    """Return ``{column: kind}`` for ``columns`` (default: all) of ``frame``, in frame order."""
    names = list(frame.columns) if columns is None else list(columns)
    return {str(name): column_kind(frame[name]) for name in names}


def missing_column_error(
    missing: Iterable[str], available: Iterable[str], where: str
) -> ValidationError:
    """Build the error for a step naming columns the data does not have.

    Args:
        missing: The names that were asked for and are absent.
        available: The columns the data does have.
        where: Who asked ("step 3 (min_max)", "transform 'impute'").
    """
    names = list(missing)
    cols = [str(c) for c in available]
    plural = "s" if len(names) > 1 else ""
    listed = ", ".join(repr(n) for n in names)
    return ValidationError(
        f"{where}: column{plural} {listed} not found; the data has columns {cols}",
        details={"missing_columns": names, "columns": cols},
    )


def to_native(value: Any) -> Any:
    """Return ``value`` as a JSON-native Python scalar (numpy scalars unwrapped, NaN → None)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


@dataclass
class Schema:
    """Column names → kinds, as a recipe sees them between steps before any data runs.

    Attributes:
        kinds: Known columns and their kinds, in order.
        open: Prefixes of columns whose names depend on the data (``country_`` after a one-hot
            of ``country``) → the kind of those columns. A name under an open prefix cannot be
            checked before fitting; it is checked when the step runs.
    """

    kinds: dict[str, str]
    open: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, frame: pd.DataFrame) -> Schema:
        """Return the schema of a concrete frame.

        Raises:
            ValidationError: Column names that are not strings, or repeated names.
        """
        odd = [c for c in frame.columns if not isinstance(c, str)]
        if odd:
            raise ValidationError(
                f"Column names must be strings; got {odd[:5]} — name the columns (a CSV read "
                "without a header has numbered columns)"
            )
        repeated = sorted({c for c in frame.columns if list(frame.columns).count(c) > 1})
        if repeated:
            raise ValidationError(f"Column names must be unique; repeated: {repeated}")
        return cls(frame_kinds(frame))

    @classmethod
    def from_kinds(cls, kinds: Mapping[str, str]) -> Schema:
        """Return a schema from a ``{column: kind}`` mapping, checking each kind is known.

        Raises:
            ValidationError: A kind is not one of :data:`KINDS`.
        """
        for name, kind in kinds.items():
            if kind not in KINDS:
                raise ValidationError(
                    f"Column {name!r} has unknown kind {kind!r}; allowed kinds: {list(KINDS)}"
                )
        return cls(dict(kinds))

    def kind(self, column: str) -> str | None:
        """Return the kind of ``column``, or None when it is neither known nor under a prefix."""
        if column in self.kinds:
            return self.kinds[column]
        for prefix, kind in self.open.items():
            if column.startswith(prefix):
                return kind
        return None

    def copy(self) -> Schema:
        """Return an independent copy."""
        return Schema(dict(self.kinds), dict(self.open))
