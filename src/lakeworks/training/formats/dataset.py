"""The in-memory shape every reader produces: features, optional labels and weights.

Features are a dense ``float64`` array or a CSR matrix (libsvm and sparse RecordIO-protobuf keep
their sparsity, which XGBoost reads as "missing" and factorization machines as zero). ``parts``
remembers which file each run of rows came from, so a bad value found after reading can still be
reported as "file, row N, column M".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
import scipy.sparse as sp

from lakeworks.core.errors import ValidationError

__all__ = ["Dataset", "Features", "as_dense", "concatenate", "n_columns"]

#: A feature matrix: dense, or CSR (scipy is untyped, so this is partly ``Any`` to mypy).
Features: TypeAlias = np.ndarray | sp.csr_matrix


def n_columns(features: Features) -> int:
    """Number of feature columns."""
    return int(features.shape[1])


def as_dense(features: Features) -> np.ndarray:
    """A dense ``float64`` view of ``features`` (absent sparse entries become 0)."""
    if sp.issparse(features):
        sparse: Any = features
        return np.asarray(sparse.toarray(), dtype=np.float64)
    return np.asarray(features, dtype=np.float64)


@dataclass
class Dataset:
    """Rows read from one channel.

    Attributes:
        features: ``(n_rows, n_features)`` dense float64 array or CSR matrix.
        labels: ``(n_rows,)`` float64, or None when the channel has no label column.
        weights: ``(n_rows,)`` float64 instance weights, or None.
        parts: ``(source name, rows)`` per file, in row order.
    """

    features: Features
    labels: np.ndarray | None = None
    weights: np.ndarray | None = None
    parts: list[tuple[str, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        n = self.features.shape[0]
        for name, column in (("labels", self.labels), ("weights", self.weights)):
            if column is not None and column.shape != (n,):
                raise ValueError(f"{name} has shape {column.shape}, expected ({n},)")
        if not self.parts:
            self.parts = [("<data>", n)]

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return int(self.features.shape[0])

    @property
    def n_features(self) -> int:
        """Number of feature columns."""
        return n_columns(self.features)

    @property
    def is_sparse(self) -> bool:
        """True for CSR features."""
        return bool(sp.issparse(self.features))

    def dense(self) -> np.ndarray:
        """Dense float64 features."""
        return as_dense(self.features)

    def locate(self, row: int) -> tuple[str, int]:
        """The file and 1-based row within it of 0-based ``row``."""
        start = 0
        for name, rows in self.parts:
            if row < start + rows:
                return name, row - start + 1
            start += rows
        return self.parts[-1][0], row - start + 1

    def with_columns(self, n_features: int) -> Dataset:
        """This dataset widened to ``n_features`` columns (sparse only; absent = missing).

        libsvm files of one job often differ in their highest feature index; XGBoost lines them
        up by padding, and so do we. Dense data of another width is an error.

        Raises:
            ValidationError: Dense features of a different width, or more columns than allowed.
        """
        if self.n_features == n_features:
            return self
        if self.is_sparse and self.n_features < n_features:
            features = sp.csr_matrix(self.features)
            features.resize((self.n_rows, n_features))
            return Dataset(features, self.labels, self.weights, list(self.parts))
        raise ValidationError(
            f"{self.parts[0][0]}: rows have {self.n_features} feature columns but the training "
            f"data has {n_features}; every channel must have the same columns"
        )

    def require_labels(self, channel: str) -> np.ndarray:
        """The labels, or a ValidationError saying the channel needs a label column."""
        if self.labels is None:
            raise ValidationError(
                f"Channel {channel!r} has no labels; this algorithm needs the label in the first "
                "column (CSV, Parquet) or in the record's label (RecordIO-protobuf)"
            )
        return self.labels

    def check_finite(self, channel: str, *, allow_missing: bool) -> None:
        """Reject NaN (unless ``allow_missing``) and infinite values, naming file, row, column.

        Raises:
            ValidationError: ``"<file> row N, column M: ..."`` (columns counted from 1 with the
                label as column 1, as in the file).
        """
        # Columns are counted as in the file: the label (and a weight column) come first.
        offset = (self.labels is not None) + (self.weights is not None)
        if self.labels is not None:
            bad = np.flatnonzero(~np.isfinite(self.labels))
            if bad.size:
                name, row = self.locate(int(bad[0]))
                raise ValidationError(
                    f"Channel {channel!r}, {name} row {row}, column 1: the label is "
                    f"{self.labels[bad[0]]!r}; labels must be finite numbers"
                )
        if sp.issparse(self.features):
            sparse: Any = self.features
            coo = sparse.tocoo()
            mask = np.isinf(coo.data) if allow_missing else ~np.isfinite(coo.data)
            if not mask.any():
                return
            index = int(np.flatnonzero(mask)[0])
            row_i, col_i = int(coo.row[index]), int(coo.col[index])
            value = float(coo.data[index])
        else:
            mask = np.isinf(self.features) if allow_missing else ~np.isfinite(self.features)
            if not mask.any():
                return
            row_i, col_i = (int(v) for v in np.argwhere(mask)[0])
            value = float(self.features[row_i, col_i])
        name, row = self.locate(row_i)
        what = "a missing value" if np.isnan(value) else f"{value!r}"
        rule = "infinite values are not allowed" if allow_missing else "values must be numbers"
        raise ValidationError(
            f"Channel {channel!r}, {name} row {row}, column {col_i + 1 + offset}: {what}; "
            f"{rule} for this algorithm"
        )


def concatenate(parts: Sequence[Dataset]) -> Dataset:
    """Stack datasets of one channel (one per file) into one.

    Raises:
        ValidationError: Files with and without labels mixed, or dense files of different widths.
    """
    if len(parts) == 1:
        return parts[0]
    has_labels = {p.labels is not None for p in parts}
    has_weights = {p.weights is not None for p in parts}
    if len(has_labels) > 1 or len(has_weights) > 1:
        raise ValidationError("Files of one channel must all have labels (and weights) or none")
    width = max(p.n_features for p in parts)
    aligned = [p.with_columns(width) if p.is_sparse else p for p in parts]
    widths = {p.n_features for p in aligned}
    if len(widths) > 1:
        first, other = aligned[0], next(p for p in aligned if p.n_features != aligned[0].n_features)
        raise ValidationError(
            f"{other.parts[0][0]} has {other.n_features} feature columns but "
            f"{first.parts[0][0]} has {first.n_features}; files of a channel must match"
        )
    if any(p.is_sparse for p in aligned):
        features: Features = sp.vstack([sp.csr_matrix(p.features) for p in aligned], format="csr")
    else:
        features = np.vstack([np.asarray(p.features) for p in aligned])
    labels = (
        np.concatenate([p.labels for p in aligned if p.labels is not None])
        if True in has_labels
        else None
    )
    weights = (
        np.concatenate([p.weights for p in aligned if p.weights is not None])
        if True in has_weights
        else None
    )
    return Dataset(features, labels, weights, [part for p in aligned for part in p.parts])
