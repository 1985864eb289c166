"""Outliers by the IQR rule or z-scores: flag them, clip them or drop their rows."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from lakeworks.core.errors import ValidationError
from lakeworks.dataprep.frames import Schema
from lakeworks.dataprep.transforms.base import Transform, as_float, register, splice
from lakeworks.dataprep.transforms.params import check_choice, check_number

__all__ = ["Outliers", "iqr_fences"]


def iqr_fences(values: np.ndarray[Any, Any], factor: float = 1.5) -> tuple[float, float]:
    """Return Tukey's fences ``(Q1 - factor·IQR, Q3 + factor·IQR)`` of non-missing ``values``.

    Quartiles are numpy's linear ones (pandas' ``quantile`` default).
    """
    q1, q3 = np.quantile(values, [0.25, 0.75])
    spread = q3 - q1
    return float(q1 - factor * spread), float(q3 + factor * spread)


@register
class Outliers(Transform):
    """Find values outside fences learned from the fitting data, by IQR or z-score.

    Args:
        columns: Numeric columns; None takes every numeric column.
        method: ``iqr`` (outside Q1 - t·IQR … Q3 + t·IQR) or ``zscore`` (|x - mean| > t·std).
        threshold: The ``t`` above; None means 1.5 for ``iqr`` and 3 for ``zscore``.
        action: ``flag`` adds a 0/1 column ``<column>_outlier`` per column (at the end),
            ``clip`` moves outliers onto the fences, ``drop_rows`` removes rows with any outlier.

    Learned: ``lower_`` and ``upper_`` (column → fence).
    """

    name = "outliers"
    state_keys = ("lower_", "upper_")

    lower_: dict[str, float]
    upper_: dict[str, float]

    def __init__(
        self,
        columns: list[str] | None = None,
        method: str = "iqr",
        threshold: float | None = None,
        action: str = "flag",
    ) -> None:
        super().__init__(columns)
        self.method = method
        self.threshold = threshold
        self.action = action
        check_choice(self.name, "method", method, ("iqr", "zscore"))
        check_number(self.name, "threshold", threshold, minimum=0.0, exclusive=True, optional=True)
        check_choice(self.name, "action", action, ("flag", "clip", "drop_rows"))

    def _fit(self, df: pd.DataFrame, columns: list[str]) -> None:
        self.lower_, self.upper_ = {}, {}
        for column in columns:
            values = as_float(df[column])
            values = values[~np.isnan(values)]
            if len(values) == 0:
                raise ValidationError(f"outliers: column {column!r} has no values to learn from")
            if self.method == "iqr":
                low, high = iqr_fences(values, 1.5 if self.threshold is None else self.threshold)
            else:
                t = 3.0 if self.threshold is None else self.threshold
                mean, std = float(values.mean()), float(values.std())
                low, high = mean - t * std, mean + t * std
            self.lower_[column], self.upper_[column] = low, high

    def _transform(self, df: pd.DataFrame) -> pd.DataFrame:
        if self.action == "clip":
            out = df.copy(deep=False)
            for column in self.columns_:
                out[column] = np.clip(
                    as_float(df[column]), self.lower_[column], self.upper_[column]
                )
            return out
        flags = {}
        for column in self.columns_:
            values = as_float(df[column])
            with np.errstate(invalid="ignore"):
                flags[f"{column}_outlier"] = (
                    (values < self.lower_[column]) | (values > self.upper_[column])
                ).astype(np.uint8)
        if self.action == "drop_rows":
            if not flags:
                return df
            any_outlier = np.logical_or.reduce(list(flags.values())).astype(bool)
            kept: pd.DataFrame = df[~any_outlier]
            return kept
        return splice(df, [], flags, f"transform {self.name!r}")

    def _output_schema(self, schema: Schema, columns: list[str]) -> Schema:
        if self.action == "flag":
            for column in columns:
                schema.kinds[f"{column}_outlier"] = "numeric"
        return schema
