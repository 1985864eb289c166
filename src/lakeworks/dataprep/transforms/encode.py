"""Categorical encodings: frequency (count, share, rank), one-hot and ordinal.

Categories are stored as lists of JSON scalars (never as dict keys), so ``1`` and ``"1"`` stay
different categories after a JSON round trip. Missing values are never a category: they stay
missing (NaN) in frequency and ordinal codes and are all zeros in a one-hot.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from lakeworks.core.errors import ValidationError
from lakeworks.dataprep.frames import Schema, to_native
from lakeworks.dataprep.transforms.base import Transform, register, splice
from lakeworks.dataprep.transforms.params import check_choice, check_int, check_number, check_str

__all__ = ["FrequencyEncode", "OneHot", "OrdinalEncode", "categories_by_count", "positions"]

_CATEGORICAL = ("string", "boolean", "numeric")


def categories_by_count(series: pd.Series) -> tuple[list[Any], list[int]]:
    """Return the categories of ``series`` and their counts, most frequent first.

    Ties are broken by the category's text, so the order never depends on row order.
    """
    counts = series.value_counts(dropna=True, sort=False)
    values = [to_native(v) for v in counts.index]
    numbers = counts.to_numpy(dtype="int64")
    order = np.lexsort((np.asarray([str(v) for v in values], dtype=object), -numbers))
    return [values[i] for i in order], [int(numbers[i]) for i in order]


def positions(series: pd.Series, categories: list[Any]) -> np.ndarray[Any, np.dtype[np.intp]]:
    """Return each value's index in ``categories`` (-1 for missing or unknown values)."""
    if not categories:
        return np.full(len(series), -1, dtype=np.intp)
    return np.asarray(pd.Index(categories).get_indexer(series), dtype=np.intp)


def _unknown_sample(series: pd.Series, mask: np.ndarray[Any, Any]) -> list[Any]:
    return [to_native(v) for v in pd.unique(series[mask])[:10]]


@register
class FrequencyEncode(Transform):
    """Replace each category by how often it occurs in the fitting data: count, share or rank.

    Args:
        columns: Categorical columns; None takes every string column.
        method: ``count`` (rows with the category), ``frequency`` (their share, 0–1) or ``rank``
            (1 for the most frequent category, 2 for the next count down; categories with the
            same count share a rank — dense ranking).
        unknown_value: Code for a category unseen when fitting; None means 0 for ``count`` and
            ``frequency`` and one past the largest rank for ``rank``.

    Learned: ``categories_`` and ``codes_`` (column → parallel lists).
    """

    name = "frequency_encode"
    accepts = _CATEGORICAL
    selects = ("string",)
    output_kind = "numeric"
    state_keys = ("categories_", "codes_")

    categories_: dict[str, list[Any]]
    codes_: dict[str, list[float]]

    def __init__(
        self,
        columns: list[str] | None = None,
        method: str = "count",
        unknown_value: float | None = None,
    ) -> None:
        super().__init__(columns)
        self.method = method
        self.unknown_value = unknown_value
        check_choice(self.name, "method", method, ("count", "frequency", "rank"))
        check_number(self.name, "unknown_value", unknown_value, optional=True)

    def _fit(self, df: pd.DataFrame, columns: list[str]) -> None:
        self.categories_, self.codes_ = {}, {}
        for column in columns:
            values, counts = categories_by_count(df[column])
            array = np.asarray(counts, dtype="float64")
            if self.method == "frequency":
                array = array / max(int(df[column].notna().sum()), 1)
            elif self.method == "rank":
                # Counts are sorted descending, so a dense rank is 1 + the number of drops so far.
                array = np.concatenate(([1.0], 1.0 + np.cumsum(np.diff(array) != 0)))
                array = array[: len(counts)]
            self.categories_[column] = values
            self.codes_[column] = [float(x) for x in array]

    def _unknown(self, column: str) -> float:
        if self.unknown_value is not None:
            return float(self.unknown_value)
        if self.method == "rank":
            return max(self.codes_[column], default=0.0) + 1.0
        return 0.0

    def _transform(self, df: pd.DataFrame) -> pd.DataFrame:
        out = df.copy(deep=False)
        for column in self.columns_:
            series = df[column]
            table = np.append(
                np.asarray(self.codes_[column], dtype="float64"), self._unknown(column)
            )
            codes = table[positions(series, self.categories_[column])]
            codes[series.isna().to_numpy()] = np.nan
            out[column] = codes
        return out


@register
class OneHot(Transform):
    """Replace each categorical column by one 0/1 column per category (``<column>_<category>``).

    Args:
        columns: Categorical columns; None takes every string column.
        top_k: Keep only the k most frequent categories; the rest share an ``<column>_other``
            column. None keeps every category.
        handle_unknown: What a category unseen when fitting becomes: ``ignore`` (all zeros),
            ``error`` (the transform fails, naming the values) or ``other`` (the other column).
        other_label: Suffix of the column that collects rare (and, with ``other``, unknown)
            categories.

    Learned: ``categories_`` (kept, in sorted order), ``infrequent_`` (seen but beyond
    ``top_k``) and ``outputs_`` (column → output column names).
    """

    name = "one_hot"
    accepts = _CATEGORICAL
    selects = ("string",)
    state_keys = ("categories_", "infrequent_", "outputs_")

    categories_: dict[str, list[Any]]
    infrequent_: dict[str, list[Any]]
    outputs_: dict[str, list[str]]

    def __init__(
        self,
        columns: list[str] | None = None,
        top_k: int | None = None,
        handle_unknown: str = "ignore",
        other_label: str = "other",
    ) -> None:
        super().__init__(columns)
        self.top_k = top_k
        self.handle_unknown = handle_unknown
        self.other_label = other_label
        check_int(self.name, "top_k", top_k, minimum=1, optional=True)
        check_choice(self.name, "handle_unknown", handle_unknown, ("ignore", "error", "other"))
        check_str(self.name, "other_label", other_label)

    def _fit(self, df: pd.DataFrame, columns: list[str]) -> None:
        self.categories_, self.infrequent_, self.outputs_ = {}, {}, {}
        for column in columns:
            values, _ = categories_by_count(df[column])
            kept = values if self.top_k is None else values[: self.top_k]
            rare = [] if self.top_k is None else values[self.top_k :]
            kept = sorted(kept, key=lambda v: (type(v).__name__, v))
            names = [f"{column}_{v}" for v in kept]
            if rare or self.handle_unknown == "other":
                other = f"{column}_{self.other_label}"
                if other in names:
                    raise ValidationError(
                        f"one_hot: column {column!r} has a category named "
                        f"{self.other_label!r}; choose another 'other_label'"
                    )
                names.append(other)
            self.categories_[column] = kept
            self.infrequent_[column] = rare
            self.outputs_[column] = names

    def _transform(self, df: pd.DataFrame) -> pd.DataFrame:
        out = df
        for column in self.columns_:
            series = out[column]
            kept = self.categories_[column]
            names = self.outputs_[column]
            has_other = len(names) > len(kept)
            pos = positions(series, kept)
            outside = (pos < 0) & series.notna().to_numpy()
            if outside.any():
                unknown = outside & (positions(series, self.infrequent_[column]) < 0)
                if unknown.any() and self.handle_unknown == "error":
                    raise ValidationError(
                        f"one_hot: column {column!r} has categories not seen when fitting: "
                        f"{_unknown_sample(series, unknown)}; known: {kept[:20]}",
                        details={"column": column},
                    )
                if has_other:
                    route = outside if self.handle_unknown == "other" else outside & ~unknown
                    pos = np.where(route, len(kept), pos)
            matrix = np.zeros((len(series), len(names)), dtype=np.uint8)
            rows = np.flatnonzero(pos >= 0)
            matrix[rows, pos[rows]] = 1
            new = {name: matrix[:, i] for i, name in enumerate(names)}
            out = splice(out, [column], new, f"transform {self.name!r}")
        return out

    def _output_schema(self, schema: Schema, columns: list[str]) -> Schema:
        for column in columns:
            schema.kinds.pop(column, None)
            schema.open[f"{column}_"] = "numeric"
        return schema


@register
class OrdinalEncode(Transform):
    """Replace categories by their position in an order: given, or sorted when not given.

    Args:
        columns: Categorical columns; None takes every string column.
        categories: Column → its categories in order (``{"size": ["S", "M", "L"]}``); a column
            not listed gets its sorted distinct values.
        handle_unknown: ``error`` (fail, naming the values) or ``value`` (use ``unknown_value``).
        unknown_value: The code of an unknown category with ``handle_unknown="value"``.

    Learned: ``categories_`` (column → ordered categories; code = position).
    """

    name = "ordinal_encode"
    accepts = _CATEGORICAL
    selects = ("string",)
    output_kind = "numeric"
    state_keys = ("categories_",)

    categories_: dict[str, list[Any]]

    def __init__(
        self,
        columns: list[str] | None = None,
        categories: dict[str, list[Any]] | None = None,
        handle_unknown: str = "error",
        unknown_value: float = -1.0,
    ) -> None:
        super().__init__(columns)
        self.categories = categories
        self.handle_unknown = handle_unknown
        self.unknown_value = unknown_value
        check_choice(self.name, "handle_unknown", handle_unknown, ("error", "value"))
        check_number(self.name, "unknown_value", unknown_value)
        if categories is not None and not (
            isinstance(categories, dict)
            and all(isinstance(v, list) and v for v in categories.values())
        ):
            raise ValidationError(
                "ordinal_encode: 'categories' must map column names to non-empty lists of "
                f"categories; got {categories!r}"
            )

    def _fit(self, df: pd.DataFrame, columns: list[str]) -> None:
        given = self.categories or {}
        unexpected = sorted(set(given) - set(columns))
        if unexpected:
            raise ValidationError(
                f"ordinal_encode: 'categories' names columns {unexpected} that the step does not "
                f"encode; it encodes {columns}"
            )
        self.categories_ = {}
        for column in columns:
            if column in given:
                self.categories_[column] = list(given[column])
            else:
                values, _ = categories_by_count(df[column])
                self.categories_[column] = sorted(values, key=lambda v: (type(v).__name__, v))

    def _transform(self, df: pd.DataFrame) -> pd.DataFrame:
        out = df.copy(deep=False)
        for column in self.columns_:
            series = df[column]
            pos = positions(series, self.categories_[column])
            present = series.notna().to_numpy()
            unknown = (pos < 0) & present
            if unknown.any() and self.handle_unknown == "error":
                raise ValidationError(
                    f"ordinal_encode: column {column!r} has categories outside its order: "
                    f"{_unknown_sample(series, unknown)}; known: {self.categories_[column][:20]}",
                    details={"column": column},
                )
            codes = pos.astype("float64")
            codes[unknown] = float(self.unknown_value)
            codes[~present] = np.nan
            out[column] = codes
        return out
