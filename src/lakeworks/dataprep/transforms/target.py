"""Target mean encoding with smoothing, out-of-fold on the training frame.

Each category becomes the mean of the target over its rows, shrunk towards the overall mean::

    code(c) = (n_c * mean_c + smoothing * prior) / (n_c + smoothing)

Encoding the training rows with means that include their own target leaks the target into the
feature, so :meth:`TargetEncode.fit_transform` encodes the training frame out of fold: rows are
split into ``folds`` groups by ``numpy.random.default_rng(seed).permutation(n) % folds`` (row
``i`` is in fold ``perm[i] % folds``) and each group is encoded with statistics — category means
and prior — from the other groups only. :meth:`TargetEncode.transform` on new data uses the
statistics of the whole fitting frame (what :meth:`fit` stores).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from lakeworks.core.errors import ValidationError
from lakeworks.dataprep.frames import FrameT, like, to_native, to_pandas
from lakeworks.dataprep.transforms.base import Transform, as_float, register
from lakeworks.dataprep.transforms.encode import positions
from lakeworks.dataprep.transforms.params import check_int, check_number, check_str

__all__ = ["TargetEncode", "fold_ids"]


def fold_ids(n: int, folds: int, seed: int) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Return the fold of each of ``n`` rows: ``default_rng(seed).permutation(n) % folds``."""
    return np.asarray(np.random.default_rng(seed).permutation(n) % folds, dtype=np.int64)


@register
class TargetEncode(Transform):
    """Replace each category by the smoothed mean of a numeric target over its rows.

    Args:
        columns: Categorical columns; None takes every string column.
        target: The numeric or boolean target column (required; it is left unchanged).
        smoothing: Weight of the overall mean, in rows (0: plain category means).
        folds: Folds for the out-of-fold encoding of the training frame in ``fit_transform``
            (1: no cross-fitting — training rows see their own target).
        seed: Seed of the fold assignment.

    Learned: ``prior_`` (mean target), ``categories_`` and ``codes_`` (column → parallel lists).
    Unknown and missing categories get ``prior_``.
    """

    name = "target_encode"
    accepts = ("string", "boolean", "numeric")
    selects = ("string",)
    output_kind = "numeric"
    state_keys = ("prior_", "categories_", "codes_")

    prior_: float
    categories_: dict[str, list[Any]]
    codes_: dict[str, list[float]]

    def __init__(
        self,
        columns: list[str] | None = None,
        *,
        target: str,
        smoothing: float = 1.0,
        folds: int = 5,
        seed: int = 0,
    ) -> None:
        super().__init__(columns)
        self.target = target
        self.smoothing = smoothing
        self.folds = folds
        self.seed = seed
        check_str(self.name, "target", target)
        check_number(self.name, "smoothing", smoothing, minimum=0.0)
        check_int(self.name, "folds", folds, minimum=1, maximum=100)
        check_int(self.name, "seed", seed, minimum=0)

    def extra_columns(self) -> dict[str, tuple[str, ...]]:
        return {self.target: ("numeric", "boolean")}

    def serving_columns(self) -> dict[str, tuple[str, ...]]:
        return {}  # the target is only read when fitting

    def _target(self, df: pd.DataFrame) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        y = as_float(df[self.target])
        valid = ~np.isnan(y)
        if not valid.any():
            raise ValidationError(
                f"target_encode: target column {self.target!r} has no values to learn from"
            )
        return np.where(valid, y, 0.0), valid.astype("float64")

    def _fit(self, df: pd.DataFrame, columns: list[str]) -> None:
        y, weight = self._target(df)
        prior = float(y.sum() / weight.sum())
        self.prior_ = prior
        self.categories_, self.codes_ = {}, {}
        for column in columns:
            codes, uniques = pd.factorize(df[column], use_na_sentinel=True)
            present = codes >= 0
            k = len(uniques)
            sums = np.bincount(codes[present], weights=y[present], minlength=k)
            counts = np.bincount(codes[present], weights=weight[present], minlength=k)
            encoded = _smooth(sums, counts, prior, self.smoothing)
            self.categories_[column] = [to_native(v) for v in uniques]
            self.codes_[column] = [float(v) for v in encoded]

    def _transform(self, df: pd.DataFrame) -> pd.DataFrame:
        out = df.copy(deep=False)
        for column in self.columns_:
            table = np.append(np.asarray(self.codes_[column], dtype="float64"), self.prior_)
            out[column] = table[positions(df[column], self.categories_[column])]
        return out

    def fit_transform(self, frame: FrameT) -> FrameT:
        """Fit on ``frame`` (full-data statistics for later ``transform`` calls) and return it
        encoded out of fold, so no training row is encoded with its own target."""
        self.fit(frame)
        if self.folds < 2:
            return self.transform(frame)
        df = to_pandas(frame)
        y, weight = self._target(df)
        fold = fold_ids(len(df), self.folds, self.seed)
        out = df.copy(deep=False)
        for column in self.columns_:
            out[column] = self._out_of_fold(df[column], y, weight, fold)
        return like(frame, out)

    def _out_of_fold(
        self,
        series: pd.Series,
        y: np.ndarray[Any, Any],
        weight: np.ndarray[Any, Any],
        fold: np.ndarray[Any, Any],
    ) -> np.ndarray[Any, Any]:
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        k = len(uniques)
        present = codes >= 0
        total_sum = np.bincount(codes[present], weights=y[present], minlength=k)
        total_count = np.bincount(codes[present], weights=weight[present], minlength=k)
        result = np.empty(len(series), dtype="float64")
        for f in range(self.folds):
            inside = fold == f
            held = inside & present
            fold_sum = np.bincount(codes[held], weights=y[held], minlength=k)
            fold_count = np.bincount(codes[held], weights=weight[held], minlength=k)
            rest_weight = weight.sum() - weight[inside].sum()
            # A fold can, on tiny frames, hold every row with a target; fall back to all rows.
            prior = (y.sum() - y[inside].sum()) / rest_weight if rest_weight > 0 else self.prior_
            encoded = _smooth(total_sum - fold_sum, total_count - fold_count, prior, self.smoothing)
            table = np.append(encoded, prior)
            result[inside] = table[codes[inside]]  # code -1 (missing) picks the prior
        return result


def _smooth(
    sums: np.ndarray[Any, Any], counts: np.ndarray[Any, Any], prior: float, smoothing: float
) -> np.ndarray[Any, Any]:
    denominator = counts + smoothing
    with np.errstate(invalid="ignore", divide="ignore"):
        encoded = (sums + smoothing * prior) / denominator
    return np.where(denominator > 0, encoded, prior)
