"""Scaling: min-max, standardization and row-wise normalization.

Statistics ignore missing values, and missing values stay missing. A column with no spread
(max = min, std = 0) is scaled by 1, as scikit-learn does, so it maps to a constant instead of
dividing by zero.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from lakeworks.core.errors import ValidationError
from lakeworks.dataprep.transforms.base import Transform, as_float, register
from lakeworks.dataprep.transforms.params import check_bool, check_choice

__all__ = ["MinMaxScale", "Normalize", "Standardize"]

_NUMBERS = ("numeric", "boolean")


def _present(df: pd.DataFrame, column: str, name: str) -> np.ndarray[Any, Any]:
    values = as_float(df[column])
    values = values[~np.isnan(values)]
    if len(values) == 0:
        raise ValidationError(
            f"{name}: column {column!r} has no values to learn a scale from; impute or drop it"
        )
    return np.asarray(values)


@register
class MinMaxScale(Transform):
    """Scale numeric columns linearly so the fitting data spans ``feature_range``.

    Args:
        columns: Numeric columns; None takes every numeric column.
        feature_range: ``[low, high]`` of the output, low < high.
        clip: Clip values of new data outside the fitted range to ``feature_range``.

    Learned: ``min_`` and ``max_`` (column → float).
    """

    name = "min_max"
    accepts = _NUMBERS
    selects = ("numeric",)
    output_kind = "numeric"
    state_keys = ("min_", "max_")

    min_: dict[str, float]
    max_: dict[str, float]

    def __init__(
        self,
        columns: list[str] | None = None,
        feature_range: list[float] | None = None,
        clip: bool = False,
    ) -> None:
        super().__init__(columns)
        self.feature_range = feature_range
        self.clip = clip
        check_bool(self.name, "clip", clip)
        if feature_range is not None and not (
            isinstance(feature_range, list | tuple)
            and len(feature_range) == 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in feature_range)
            and feature_range[0] < feature_range[1]
        ):
            raise ValidationError(
                f"min_max: 'feature_range' must be [low, high] with low < high; got "
                f"{feature_range!r}"
            )

    def _fit(self, df: pd.DataFrame, columns: list[str]) -> None:
        self.min_, self.max_ = {}, {}
        for column in columns:
            values = _present(df, column, self.name)
            self.min_[column] = float(values.min())
            self.max_[column] = float(values.max())

    def _transform(self, df: pd.DataFrame) -> pd.DataFrame:
        low, high = (0.0, 1.0) if self.feature_range is None else map(float, self.feature_range)
        out = df.copy(deep=False)
        for column in self.columns_:
            span = self.max_[column] - self.min_[column]
            scaled = (as_float(df[column]) - self.min_[column]) / (span if span > 0 else 1.0)
            scaled = scaled * (high - low) + low
            out[column] = np.clip(scaled, low, high) if self.clip else scaled
        return out


@register
class Standardize(Transform):
    """Center numeric columns on their mean and divide by their (population) standard deviation.

    Args:
        columns: Numeric columns; None takes every numeric column.
        with_mean: Subtract the mean.
        with_std: Divide by the standard deviation (ddof 0, as scikit-learn).

    Learned: ``mean_`` and ``std_`` (column → float).
    """

    name = "standardize"
    accepts = _NUMBERS
    selects = ("numeric",)
    output_kind = "numeric"
    state_keys = ("mean_", "std_")

    mean_: dict[str, float]
    std_: dict[str, float]

    def __init__(
        self, columns: list[str] | None = None, with_mean: bool = True, with_std: bool = True
    ) -> None:
        super().__init__(columns)
        self.with_mean = with_mean
        self.with_std = with_std
        check_bool(self.name, "with_mean", with_mean)
        check_bool(self.name, "with_std", with_std)

    def _fit(self, df: pd.DataFrame, columns: list[str]) -> None:
        self.mean_, self.std_ = {}, {}
        for column in columns:
            values = _present(df, column, self.name)
            self.mean_[column] = float(values.mean())
            self.std_[column] = float(values.std())

    def _transform(self, df: pd.DataFrame) -> pd.DataFrame:
        out = df.copy(deep=False)
        for column in self.columns_:
            values = as_float(df[column])
            if self.with_mean:
                values = values - self.mean_[column]
            if self.with_std:
                std = self.std_[column]
                values = values / (std if std > 0 else 1.0)
            out[column] = values
        return out


@register
class Normalize(Transform):
    """Scale each row of the given columns to unit norm (L1, L2 or max).

    A row that is all zeros stays zeros; a missing value counts as 0 for the norm and stays
    missing.

    Args:
        columns: Numeric columns forming the row vector; None takes every numeric column.
        norm: ``l1``, ``l2`` or ``max``.
    """

    name = "normalize"
    accepts = _NUMBERS
    selects = ("numeric",)
    output_kind = "numeric"

    def __init__(self, columns: list[str] | None = None, norm: str = "l2") -> None:
        super().__init__(columns)
        self.norm = norm
        check_choice(self.name, "norm", norm, ("l1", "l2", "max"))

    def _fit(self, df: pd.DataFrame, columns: list[str]) -> None:
        pass

    def _transform(self, df: pd.DataFrame) -> pd.DataFrame:
        out = df.copy(deep=False)
        if not self.columns_:
            return out
        matrix = np.column_stack([as_float(df[c]) for c in self.columns_])
        filled = np.nan_to_num(matrix, nan=0.0)
        if self.norm == "l1":
            norms = np.abs(filled).sum(axis=1)
        elif self.norm == "l2":
            norms = np.sqrt((filled * filled).sum(axis=1))
        else:
            norms = np.abs(filled).max(axis=1)
        norms[norms == 0] = 1.0
        scaled = matrix / norms[:, None]
        for i, column in enumerate(self.columns_):
            out[column] = scaled[:, i]
        return out
