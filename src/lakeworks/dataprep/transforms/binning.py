"""Binning (discretization): uniform, quantile or one-dimensional k-means bin edges.

Edges follow scikit-learn's ``KBinsDiscretizer``: uniform edges split [min, max] evenly; quantile
edges are the ``numpy.quantile`` (linear) of evenly spaced probabilities; k-means edges are the
midpoints between sorted cluster centers of a 1-D Lloyd's k-means started from the uniform bin
centers. Edges closer than 1e-8 are merged, so a skewed column can get fewer bins than asked
for. A value goes to bin ``i`` when ``edges[i] <= value < edges[i + 1]``; values outside the
fitted range go to the first or last bin.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from lakeworks.core.errors import ValidationError
from lakeworks.dataprep.frames import Schema
from lakeworks.dataprep.transforms.base import Transform, as_float, register, splice
from lakeworks.dataprep.transforms.params import check_choice, check_int

__all__ = ["Bin", "bin_edges", "kmeans_1d"]


def kmeans_1d(
    values: np.ndarray[Any, Any], centers: np.ndarray[Any, Any], max_iter: int = 300
) -> np.ndarray[Any, Any]:
    """Run Lloyd's k-means on 1-D ``values`` from ``centers``; return the sorted centers.

    In one dimension a point's nearest center is found by the midpoints between sorted centers,
    so each iteration is a sort-free ``searchsorted`` plus ``bincount``.
    """
    centers = np.sort(np.asarray(centers, dtype="float64"))
    for _ in range(max_iter):
        midpoints = (centers[1:] + centers[:-1]) / 2
        labels = np.searchsorted(midpoints, values, side="left")
        sums = np.bincount(labels, weights=values, minlength=len(centers))
        counts = np.bincount(labels, minlength=len(centers))
        # An empty cluster keeps its center, as scikit-learn relocates none in 1-D here.
        updated = np.where(counts > 0, sums / np.maximum(counts, 1), centers)
        updated = np.sort(updated)
        if np.allclose(updated, centers, rtol=0.0, atol=1e-12 * max(1.0, np.ptp(values))):
            return updated
        centers = updated
    return centers


def bin_edges(values: np.ndarray[Any, Any], n_bins: int, strategy: str) -> list[float]:
    """Return the bin edges (``n + 1`` values, n ≤ ``n_bins``) of non-missing ``values``."""
    low, high = float(values.min()), float(values.max())
    if low == high:
        return [low, high]  # scikit-learn: a constant column gets a single bin
    if strategy == "uniform":
        edges = np.linspace(low, high, n_bins + 1)
    elif strategy == "quantile":
        edges = np.quantile(values, np.linspace(0.0, 1.0, n_bins + 1))
    else:
        uniform = np.linspace(low, high, n_bins + 1)
        centers = kmeans_1d(values, (uniform[1:] + uniform[:-1]) / 2)
        edges = np.concatenate(([low], (centers[1:] + centers[:-1]) / 2, [high]))
    if strategy != "uniform":
        keep = np.concatenate(([True], np.diff(edges) > 1e-8))
        edges = edges[keep]
    return [float(e) for e in edges]


@register
class Bin(Transform):
    """Put numeric values into bins; output the bin number or one 0/1 column per bin.

    Args:
        columns: Numeric columns; None takes every numeric column.
        n_bins: Bins per column (≥ 2).
        strategy: ``uniform`` (equal widths), ``quantile`` (equal counts) or ``kmeans``.
        encode: ``ordinal`` (the bin number 0…n-1 replaces the value; missing stays missing) or
            ``onehot`` (columns ``<column>_bin<i>``; a missing value is all zeros).

    Learned: ``edges_`` (column → bin edges).
    """

    name = "bin"
    accepts = ("numeric",)
    state_keys = ("edges_",)

    edges_: dict[str, list[float]]

    def __init__(
        self,
        columns: list[str] | None = None,
        n_bins: int = 5,
        strategy: str = "quantile",
        encode: str = "ordinal",
    ) -> None:
        super().__init__(columns)
        self.n_bins = n_bins
        self.strategy = strategy
        self.encode = encode
        check_int(self.name, "n_bins", n_bins, minimum=2, maximum=10_000)
        check_choice(self.name, "strategy", strategy, ("uniform", "quantile", "kmeans"))
        check_choice(self.name, "encode", encode, ("ordinal", "onehot"))

    def _fit(self, df: pd.DataFrame, columns: list[str]) -> None:
        self.edges_ = {}
        for column in columns:
            values = as_float(df[column])
            values = values[~np.isnan(values)]
            if len(values) == 0:
                raise ValidationError(f"bin: column {column!r} has no values to find bins from")
            self.edges_[column] = bin_edges(values, self.n_bins, self.strategy)

    def bins_of(self, column: str, values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        """Return the bin number of each value of ``column`` as float (NaN stays NaN)."""
        edges = np.asarray(self.edges_[column], dtype="float64")
        index = np.searchsorted(edges[1:-1], values, side="right").astype("float64")
        index[np.isnan(values)] = np.nan
        return index

    def _transform(self, df: pd.DataFrame) -> pd.DataFrame:
        out = df.copy(deep=False)
        for column in self.columns_:
            index = self.bins_of(column, as_float(df[column]))
            if self.encode == "ordinal":
                out[column] = index
                continue
            count = len(self.edges_[column]) - 1
            matrix = np.zeros((len(index), count), dtype=np.uint8)
            rows = np.flatnonzero(~np.isnan(index))
            matrix[rows, index[rows].astype(np.intp)] = 1
            new = {f"{column}_bin{i}": matrix[:, i] for i in range(count)}
            out = splice(out, [column], new, f"transform {self.name!r}")
        return out

    def _output_schema(self, schema: Schema, columns: list[str]) -> Schema:
        if self.encode == "ordinal":
            return schema
        for column in columns:
            schema.kinds.pop(column, None)
            schema.open[f"{column}_bin"] = "numeric"
        return schema
