"""Imputation: fill missing values with a learned statistic or a constant, optionally per group."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from lakeworks.core.errors import ValidationError
from lakeworks.dataprep.frames import Schema, to_native
from lakeworks.dataprep.transforms.base import Transform, as_float, register
from lakeworks.dataprep.transforms.params import check_choice, check_str

__all__ = ["Impute"]

STRATEGIES = ("mean", "median", "mode", "constant")
_NUMERIC_ONLY = ("mean", "median")
_ANY_KIND = ("numeric", "boolean", "string", "datetime")


@register
class Impute(Transform):
    """Fill missing values with the mean, median, mode or a constant, optionally per group.

    Args:
        columns: Columns to fill; None takes every numeric column for mean/median and every
            scalar column for mode/constant.
        strategy: ``mean``, ``median`` (numeric columns), ``mode`` (most frequent value; the
            smallest of a tie) or ``constant``.
        value: The fill value for ``constant``; it must suit every column's kind (a number for
            numeric columns, a string for text, true/false for booleans, an ISO date for dates).
        group_by: A column whose groups get their own statistic (mean price per variety);
            a group never seen, or with no values, falls back to the statistic over all rows.

    Learned: ``fill_`` (column → value) and ``group_fill_`` (column → ``{"groups", "values"}``,
    empty without ``group_by``).
    """

    name = "impute"
    accepts = _ANY_KIND
    state_keys = ("fill_", "group_fill_")

    fill_: dict[str, Any]
    group_fill_: dict[str, dict[str, list[Any]]]

    def __init__(
        self,
        columns: list[str] | None = None,
        strategy: str = "mean",
        value: Any = None,
        group_by: str | None = None,
    ) -> None:
        super().__init__(columns)
        self.strategy = strategy
        self.value = value
        self.group_by = group_by
        check_choice(self.name, "strategy", strategy, STRATEGIES)
        check_str(self.name, "group_by", group_by, optional=True)
        if strategy == "constant":
            if value is None or isinstance(value, list | dict):
                raise ValidationError(
                    "impute: strategy 'constant' needs a scalar 'value' (a number, string or "
                    f"boolean); got {value!r}"
                )
            if group_by is not None:
                raise ValidationError("impute: 'group_by' makes no sense with a constant value")
        elif value is not None:
            raise ValidationError(
                f"impute: 'value' is only used with strategy 'constant', not {strategy!r}"
            )

    def allowed_kinds(self) -> tuple[str, ...]:
        return ("numeric",) if self.strategy in _NUMERIC_ONLY else _ANY_KIND

    def extra_columns(self) -> dict[str, tuple[str, ...]]:
        if self.group_by is None:
            return {}
        return {self.group_by: ("numeric", "boolean", "string", "datetime")}

    def resolve(self, schema: Schema) -> list[str]:
        columns = super().resolve(schema)
        if self.strategy == "constant":
            for column in columns:
                self._check_constant(column, schema.kind(column))
        return columns

    def _check_constant(self, column: str, kind: str | None) -> None:
        value = self.value
        ok = {
            "numeric": isinstance(value, int | float) and not isinstance(value, bool),
            "boolean": isinstance(value, bool),
            "string": isinstance(value, str),
            "datetime": isinstance(value, str) and _parses_as_date(value),
        }.get(kind or "", False)
        if not ok:
            wanted = {
                "numeric": "a number",
                "boolean": "true or false",
                "string": "a string",
                "datetime": "an ISO date string",
            }.get(kind or "", "a scalar")
            raise ValidationError(
                f"impute: constant {value!r} does not suit {kind} column {column!r}; "
                f"it needs {wanted}",
                details={"column": column, "kind": kind},
            )

    def _statistic(self, series: pd.Series) -> Any:
        present = series.dropna()
        if len(present) == 0:
            return None
        if self.strategy == "mean":
            return float(np.mean(as_float(present)))
        if self.strategy == "median":
            return float(np.median(as_float(present)))
        if self.strategy == "mode":
            return to_native(present.mode(dropna=True).iloc[0])
        return self.value

    def _fit(self, df: pd.DataFrame, columns: list[str]) -> None:
        fill: dict[str, Any] = {}
        groups: dict[str, dict[str, list[Any]]] = {}
        for column in columns:
            value = self._statistic(df[column])
            if value is None:
                raise ValidationError(
                    f"impute: column {column!r} has no values to compute a {self.strategy} from; "
                    "use strategy 'constant' or drop the column"
                )
            fill[column] = value
            if self.group_by is not None:
                keys: list[Any] = []
                values: list[Any] = []
                for key, part in df.groupby(self.group_by, sort=True, dropna=True)[column]:
                    stat = self._statistic(part)
                    if stat is not None:
                        keys.append(to_native(key))
                        values.append(stat)
                groups[column] = {"groups": keys, "values": values}
        self.fill_ = fill
        self.group_fill_ = groups

    def _transform(self, df: pd.DataFrame) -> pd.DataFrame:
        out = df.copy(deep=False)
        for column in self.columns_:
            series = df[column]
            if not series.hasnans:
                continue
            fill = self.fill_[column]
            if self.strategy in _NUMERIC_ONLY:
                series = pd.Series(as_float(series), index=df.index, name=column)
            if pd.api.types.is_datetime64_any_dtype(series.dtype):
                fill = pd.Timestamp(fill)
            if column in self.group_fill_ and self.group_by is not None:
                out[column] = self._fill_by_group(df, series, column, fill)
            else:
                out[column] = series.fillna(fill)
        return out

    def _fill_by_group(
        self, df: pd.DataFrame, series: pd.Series, column: str, fill: Any
    ) -> pd.Series:
        assert self.group_by is not None
        table = self.group_fill_[column]
        position = pd.Index(table["groups"]).get_indexer(df[self.group_by])
        per_row = np.asarray(table["values"] + [fill], dtype=object)[position]
        filler = pd.Series(per_row, index=df.index)
        if self.strategy in _NUMERIC_ONLY:
            filler = filler.astype("float64")
        return series.fillna(filler)


def _parses_as_date(value: str) -> bool:
    try:
        pd.Timestamp(value)
    except (ValueError, TypeError):
        return False
    return True
