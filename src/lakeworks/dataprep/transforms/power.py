"""Power transforms: log, Box-Cox and Yeo-Johnson, with λ fitted by maximum likelihood.

The λ of Box-Cox and Yeo-Johnson maximizes the same profile log-likelihood scipy and
scikit-learn maximize::

    box-cox:      (λ - 1) Σ log x          - n/2 · log var(y_λ)
    yeo-johnson:  (λ - 1) Σ sign(x) log1p|x| - n/2 · log var(y_λ)

found by a grid over [-10, 10] (step 0.25) followed by a golden-section search around the best
grid point to 1e-10. Unlike scipy's unbounded Brent search, λ is confined to [-10, 10]; inside
that range the two agree to optimizer precision.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from lakeworks.core.errors import ValidationError
from lakeworks.dataprep.transforms.base import Transform, as_float, register
from lakeworks.dataprep.transforms.params import check_bool, check_choice, check_number

__all__ = [
    "BoxCox",
    "Log",
    "YeoJohnson",
    "box_cox",
    "box_cox_lambda",
    "yeo_johnson",
    "yeo_johnson_lambda",
]

_LAMBDA_LIMIT = 10.0
_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0

Array = np.ndarray[Any, Any]


def box_cox(x: Array, lmbda: float) -> Array:
    """Return the Box-Cox transform of positive ``x``: ``(x^λ - 1)/λ``, or ``log x`` at λ = 0."""
    with np.errstate(over="ignore", invalid="ignore"):
        if abs(lmbda) < 1e-12:
            return np.log(x)
        return np.asarray(np.expm1(lmbda * np.log(x)) / lmbda)


def yeo_johnson(x: Array, lmbda: float) -> Array:
    """Return the Yeo-Johnson transform of ``x`` (any sign) for ``λ``."""
    out = np.empty_like(x, dtype="float64")
    positive = x >= 0
    with np.errstate(over="ignore", invalid="ignore"):
        xp, xn = x[positive], x[~positive]
        if abs(lmbda) < 1e-12:
            out[positive] = np.log1p(xp)
        else:
            out[positive] = np.expm1(lmbda * np.log1p(xp)) / lmbda
        if abs(lmbda - 2.0) < 1e-12:
            out[~positive] = -np.log1p(-xn)
        else:
            out[~positive] = -np.expm1((2.0 - lmbda) * np.log1p(-xn)) / (2.0 - lmbda)
    return out


def _log_variance_of_powers(logs: Array, lmbda: float) -> float:
    # log var((x^λ - 1)/λ) = log var(exp(λ log x)) - 2 log|λ|, computed with the largest
    # exponent factored out so that large |λ| does not overflow.
    if abs(lmbda) < 1e-12:
        return float(np.log(np.var(logs)))
    scaled = lmbda * logs
    top = float(scaled.max())
    variance = float(np.var(np.exp(scaled - top)))
    if variance <= 0:
        return -math.inf
    return 2.0 * top + math.log(variance) - 2.0 * math.log(abs(lmbda))


def _maximize(objective: Callable[[float], float]) -> float:
    grid = np.arange(-_LAMBDA_LIMIT, _LAMBDA_LIMIT + 0.125, 0.25)
    scores = np.array([objective(float(g)) for g in grid])
    scores[~np.isfinite(scores)] = -np.inf
    best = int(np.argmax(scores))
    low = float(grid[max(best - 1, 0)])
    high = float(grid[min(best + 1, len(grid) - 1)])
    a, b = low + (1 - _GOLDEN) * (high - low), low + _GOLDEN * (high - low)
    fa, fb = objective(a), objective(b)
    while high - low > 1e-10:
        if fa >= fb:
            high, b, fb = b, a, fa
            a = low + (1 - _GOLDEN) * (high - low)
            fa = objective(a)
        else:
            low, a, fa = a, b, fb
            b = low + _GOLDEN * (high - low)
            fb = objective(b)
    return (low + high) / 2.0


def box_cox_lambda(x: Array) -> float:
    """Return the maximum-likelihood Box-Cox λ of positive ``x`` (within [-10, 10])."""
    logs = np.log(x)
    total = float(logs.sum())
    n = len(x)

    def llf(lmbda: float) -> float:
        return (lmbda - 1.0) * total - n / 2.0 * _log_variance_of_powers(logs, lmbda)

    return _maximize(llf)


def yeo_johnson_lambda(x: Array) -> float:
    """Return the maximum-likelihood Yeo-Johnson λ of ``x`` (within [-10, 10])."""
    total = float((np.sign(x) * np.log1p(np.abs(x))).sum())
    n = len(x)

    def llf(lmbda: float) -> float:
        variance = float(np.var(yeo_johnson(x, lmbda)))
        if not np.isfinite(variance) or variance <= 0:
            return -math.inf
        return (lmbda - 1.0) * total - n / 2.0 * math.log(variance)

    return _maximize(llf)


def _values(df: pd.DataFrame, column: str, name: str) -> Array:
    values = as_float(df[column])
    present = values[~np.isnan(values)]
    if len(present) < 2:
        raise ValidationError(f"{name}: column {column!r} needs at least two values to fit λ")
    return np.asarray(present)


def _require_positive(values: Array, column: str, name: str, offset: float = 0.0) -> None:
    bad = values[values + offset <= 0]
    if len(bad):
        hint = " (add an offset)" if name == "log" else "; use yeo_johnson, which takes any sign"
        raise ValidationError(
            f"{name}: column {column!r} has {len(bad)} value(s) that are not positive after the "
            f"offset, such as {float(bad[0])!r}{hint}",
            details={"column": column},
        )


@register
class Log(Transform):
    """Take the logarithm of numeric columns: ``log(x + offset)``.

    Args:
        columns: Numeric columns; None takes every numeric column.
        offset: Added before the logarithm (1 gives ``log1p``); every value plus the offset
            must be positive, or the step fails naming the column.
        base: ``e``, ``2`` or ``10``.
    """

    name = "log"
    output_kind = "numeric"

    def __init__(self, columns: list[str] | None = None, offset: float = 0.0, base: str = "e"):
        super().__init__(columns)
        self.offset = offset
        self.base = base
        check_number(self.name, "offset", offset)
        check_choice(self.name, "base", base, ("e", "2", "10"))

    def _fit(self, df: pd.DataFrame, columns: list[str]) -> None:
        for column in columns:
            values = as_float(df[column])
            _require_positive(values[~np.isnan(values)], column, self.name, self.offset)

    def _transform(self, df: pd.DataFrame) -> pd.DataFrame:
        out = df.copy(deep=False)
        log = {"e": np.log, "2": np.log2, "10": np.log10}[self.base]
        for column in self.columns_:
            values = as_float(df[column])
            _require_positive(values[~np.isnan(values)], column, self.name, self.offset)
            out[column] = log(values + self.offset)
        return out


class _PowerTransform(Transform):
    output_kind = "numeric"
    state_keys = ("lambdas_", "mean_", "std_")

    lambdas_: dict[str, float]
    mean_: dict[str, float]
    std_: dict[str, float]

    def __init__(self, columns: list[str] | None = None, standardize: bool = False) -> None:
        super().__init__(columns)
        self.standardize = standardize
        check_bool(self.name, "standardize", standardize)

    @abc.abstractmethod
    def _lambda(self, values: Array, column: str) -> float: ...

    @abc.abstractmethod
    def _apply(self, values: Array, lmbda: float) -> Array: ...

    def _check(self, values: Array, column: str) -> None:
        pass

    def _fit(self, df: pd.DataFrame, columns: list[str]) -> None:
        self.lambdas_, self.mean_, self.std_ = {}, {}, {}
        for column in columns:
            values = _values(df, column, self.name)
            self._check(values, column)
            lmbda = self._lambda(values, column)
            transformed = self._apply(values, lmbda)
            self.lambdas_[column] = lmbda
            self.mean_[column] = float(transformed.mean())
            self.std_[column] = float(transformed.std())

    def _transform(self, df: pd.DataFrame) -> pd.DataFrame:
        out = df.copy(deep=False)
        for column in self.columns_:
            values = as_float(df[column])
            self._check(values[~np.isnan(values)], column)
            result = self._apply(values, self.lambdas_[column])
            if self.standardize:
                std = self.std_[column]
                result = (result - self.mean_[column]) / (std if std > 0 else 1.0)
            out[column] = result
        return out


@register
class BoxCox(_PowerTransform):
    """Box-Cox transform of positive numeric columns, λ by maximum likelihood.

    Args:
        columns: Numeric columns (all values positive); None takes every numeric column.
        standardize: Also scale the result to zero mean and unit variance (fitted data).

    Learned: ``lambdas_``, and the mean and std of the transformed fitting data (``mean_``,
    ``std_``) used by ``standardize``.
    """

    name = "box_cox"

    def _check(self, values: Array, column: str) -> None:
        _require_positive(values, column, self.name)

    def _lambda(self, values: Array, column: str) -> float:
        if np.ptp(values) == 0:
            raise ValidationError(f"box_cox: column {column!r} is constant; λ is undefined")
        return box_cox_lambda(values)

    def _apply(self, values: Array, lmbda: float) -> Array:
        return box_cox(values, lmbda)


@register
class YeoJohnson(_PowerTransform):
    """Yeo-Johnson transform of numeric columns (any sign), λ by maximum likelihood.

    Args:
        columns: Numeric columns; None takes every numeric column.
        standardize: Also scale the result to zero mean and unit variance (fitted data).

    Learned: ``lambdas_`` (1, the identity, for a constant column, as scikit-learn), and
    ``mean_``/``std_`` of the transformed fitting data.
    """

    name = "yeo_johnson"

    def _lambda(self, values: Array, column: str) -> float:
        if np.ptp(values) == 0:
            return 1.0
        return yeo_johnson_lambda(values)

    def _apply(self, values: Array, lmbda: float) -> Array:
        return yeo_johnson(values, lmbda)
