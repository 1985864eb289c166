"""Decomposition and correlation: PCA by SVD, correlation matrices, dropping correlated columns."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from lakeworks.core.errors import ValidationError
from lakeworks.dataprep.frames import Frame, Schema, frame_kinds, missing_column_error, to_pandas
from lakeworks.dataprep.transforms.base import Transform, as_float, register, splice
from lakeworks.dataprep.transforms.params import check_bool, check_choice, check_number, check_str

__all__ = ["PCA", "DropCorrelated", "correlation_matrix"]


def correlation_matrix(
    frame: Frame, columns: list[str] | None = None, method: str = "pearson"
) -> dict[str, Any]:
    """Return the correlation matrix of numeric columns as ``{"method", "columns", "matrix"}``.

    Pairs use the rows where both values are present (pandas' pairwise rule); a pair with
    fewer than two such rows, or a constant column, gives None.

    Args:
        frame: pandas or pyarrow data.
        columns: Numeric columns; None takes every numeric column.
        method: ``pearson`` or ``spearman`` (Pearson of average ranks).

    Raises:
        ValidationError: Unknown method, missing or non-numeric columns.
    """
    check_choice("correlation", "method", method, ("pearson", "spearman"))
    df = to_pandas(frame)
    kinds = frame_kinds(df)
    if columns is None:
        columns = [c for c, k in kinds.items() if k in ("numeric", "boolean")]
    missing = [c for c in columns if c not in kinds]
    if missing:
        raise missing_column_error(missing, df.columns, "correlation")
    wrong = [c for c in columns if kinds[c] not in ("numeric", "boolean")]
    if wrong:
        raise ValidationError(
            f"correlation works on numeric columns; {wrong} are not numeric",
            details={"columns": wrong},
        )
    numbers = pd.DataFrame({c: as_float(df[c]) for c in columns})
    matrix = numbers.corr(method="spearman" if method == "spearman" else "pearson").to_numpy()
    return {
        "method": method,
        "columns": list(columns),
        "matrix": [[None if np.isnan(v) else float(v) for v in row] for row in matrix],
    }


@register
class PCA(Transform):
    """Replace numeric columns by their principal components (centered SVD).

    Components are sign-normalized as scikit-learn does (the largest loading of each is
    positive), so results match ``sklearn.decomposition.PCA(svd_solver="full")``.

    Args:
        columns: Numeric columns (no missing values when fitting); None takes every numeric
            column.
        n_components: How many components: an integer ≥ 1, or a fraction in (0, 1) of variance
            to explain (the fewest components reaching it); None keeps all.
        whiten: Divide components by their standard deviation.
        prefix: Output columns are ``<prefix>1``, ``<prefix>2`` …

    Learned: ``mean_``, ``components_`` (rows), ``explained_variance_`` and
    ``explained_variance_ratio_``. A row with a missing input gets missing components.
    """

    name = "pca"
    state_keys = ("mean_", "components_", "explained_variance_", "explained_variance_ratio_")

    mean_: list[float]
    components_: list[list[float]]
    explained_variance_: list[float]
    explained_variance_ratio_: list[float]

    def __init__(
        self,
        columns: list[str] | None = None,
        n_components: float | None = None,
        whiten: bool = False,
        prefix: str = "pc",
    ) -> None:
        super().__init__(columns)
        self.n_components = n_components
        self.whiten = whiten
        self.prefix = prefix
        check_bool(self.name, "whiten", whiten)
        check_str(self.name, "prefix", prefix)
        if isinstance(n_components, int) and not isinstance(n_components, bool):
            if n_components < 1:
                raise ValidationError(f"pca: 'n_components' must be ≥ 1; got {n_components}")
        else:
            check_number(
                self.name,
                "n_components",
                n_components,
                minimum=0.0,
                maximum=1.0,
                exclusive=True,
                optional=True,
            )

    def _fit(self, df: pd.DataFrame, columns: list[str]) -> None:
        if not columns:
            raise ValidationError("pca: there are no numeric columns to decompose")
        matrix = np.column_stack([as_float(df[c]) for c in columns])
        holes = [c for i, c in enumerate(columns) if np.isnan(matrix[:, i]).any()]
        if holes:
            raise ValidationError(
                f"pca: columns {holes} have missing values; impute them before PCA",
                details={"columns": holes},
            )
        n, p = matrix.shape
        if n < 2:
            raise ValidationError("pca: needs at least two rows to fit")
        mean = matrix.mean(axis=0)
        _, singular, vt = np.linalg.svd(matrix - mean, full_matrices=False)
        # scikit-learn's svd_flip (v-based): make the largest loading of each component positive.
        signs = np.sign(vt[np.arange(vt.shape[0]), np.argmax(np.abs(vt), axis=1)])
        signs[signs == 0] = 1.0
        vt = vt * signs[:, None]
        variance = singular**2 / (n - 1)
        total = variance.sum()
        ratio = variance / total if total > 0 else np.zeros_like(variance)
        k = self._count(ratio, min(n, p))
        self.mean_ = [float(v) for v in mean]
        self.components_ = [[float(v) for v in row] for row in vt[:k]]
        self.explained_variance_ = [float(v) for v in variance[:k]]
        self.explained_variance_ratio_ = [float(v) for v in ratio[:k]]

    def _count(self, ratio: np.ndarray[Any, Any], limit: int) -> int:
        wanted = self.n_components
        if wanted is None:
            return limit
        if isinstance(wanted, int) and not isinstance(wanted, bool):
            if wanted > limit:
                raise ValidationError(
                    f"pca: 'n_components' is {wanted} but the data allows at most {limit} "
                    "(the smaller of rows and columns)"
                )
            return wanted
        reaching = int(np.searchsorted(np.cumsum(ratio), wanted, side="right")) + 1
        return min(reaching, limit)

    def _transform(self, df: pd.DataFrame) -> pd.DataFrame:
        matrix = np.column_stack([as_float(df[c]) for c in self.columns_])
        scores = (matrix - np.asarray(self.mean_)) @ np.asarray(self.components_).T
        if self.whiten:
            scores = scores / np.sqrt(np.asarray(self.explained_variance_))
        new = {f"{self.prefix}{i + 1}": scores[:, i] for i in range(scores.shape[1])}
        return splice(df, self.columns_, new, f"transform {self.name!r}")

    def _output_schema(self, schema: Schema, columns: list[str]) -> Schema:
        for column in columns:
            schema.kinds.pop(column, None)
        if isinstance(self.n_components, int) and not isinstance(self.n_components, bool):
            for i in range(self.n_components):
                schema.kinds[f"{self.prefix}{i + 1}"] = "numeric"
        else:
            schema.open[self.prefix] = "numeric"
        return schema


@register
class DropCorrelated(Transform):
    """Drop numeric columns strongly correlated with an earlier kept column.

    Columns are visited in order; a column whose absolute correlation with any column kept
    before it exceeds ``threshold`` is dropped.

    Args:
        columns: Numeric columns to consider; None takes every numeric column.
        threshold: Absolute correlation above which the later column goes, in (0, 1].
        method: ``pearson`` or ``spearman``.

    Learned: ``dropped_`` (the columns removed).
    """

    name = "drop_correlated"
    accepts = ("numeric", "boolean")
    state_keys = ("dropped_",)

    dropped_: list[str]

    def __init__(
        self, columns: list[str] | None = None, threshold: float = 0.95, method: str = "pearson"
    ) -> None:
        super().__init__(columns)
        self.threshold = threshold
        self.method = method
        check_number(self.name, "threshold", threshold, minimum=0.0, maximum=1.0)
        if threshold == 0:
            raise ValidationError("drop_correlated: 'threshold' must be above 0")
        check_choice(self.name, "method", method, ("pearson", "spearman"))

    def _fit(self, df: pd.DataFrame, columns: list[str]) -> None:
        result = correlation_matrix(df, columns, self.method)
        matrix = np.array(
            [[np.nan if v is None else abs(v) for v in row] for row in result["matrix"]]
        ).reshape(len(columns), len(columns))
        kept: list[int] = []
        dropped: list[str] = []
        for j, column in enumerate(columns):
            if any(matrix[i, j] > self.threshold for i in kept):
                dropped.append(column)
            else:
                kept.append(j)
        self.dropped_ = dropped

    def _transform(self, df: pd.DataFrame) -> pd.DataFrame:
        return df.drop(columns=self.dropped_)
