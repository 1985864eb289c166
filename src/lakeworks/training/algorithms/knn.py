"""k-nearest neighbours: an index of sampled training points, queried by brute force.

As SageMaker's k-NN: training draws ``sample_size`` rows (seeded, without replacement),
optionally reduces their dimension (``dimension_reduction_type`` ``sign``: a random ±1 projection;
``fjlt``: random signs, an orthonormal DCT and a random choice of ``dimension_reduction_target``
coordinates — the fast Johnson–Lindenstrauss transform), and stores them with their labels.
Inference finds the ``k`` nearest stored points by ``index_metric`` (``L2``, ``INNER_PRODUCT``,
``COSINE``) and predicts their most common label (``classifier``; ties go to the smallest label)
or their mean label (``regressor``).

The FAISS index types are accepted for compatibility; every index is searched exactly (what
``faiss.Flat`` does), so ``faiss.IVFFlat``/``faiss.IVFPQ`` give exact rather than approximate
answers and ``faiss_index_ivf_nlists``/``faiss_index_pq_m`` have no effect.

Metrics: ``test:accuracy`` (classifier) or ``test:mse`` (regressor). Artifact ``knn-model.npz``:
``points``, ``labels``, and ``projection`` (``(features, target)``, identity-free: absent without
dimension reduction). Response entries ``{"predicted_label": value}``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Self

import numpy as np
import scipy.fft

from lakeworks.core.errors import ValidationError
from lakeworks.training.algorithms.base import (
    Algorithm,
    load_arrays,
    save_arrays,
    score_definitions,
)
from lakeworks.training.algorithms.hyperparameters import (
    AUTO,
    TUNING_OBJECTIVE,
    Categorical,
    HyperparameterSpec,
    Integer,
    Text,
)
from lakeworks.training.formats.dataset import Dataset, Features
from lakeworks.training.metrics import MetricDefinition, MetricLog

__all__ = ["KNN"]

MODEL_FILE = "knn-model.npz"
PQ_M = (1, 2, 3, 4, 8, 12, 16, 20, 24, 28, 32, 40, 48, 56, 64, 96)
_CHUNK = 1024

SPEC = HyperparameterSpec(
    "knn",
    (
        Integer("feature_dim", low=1),
        Integer("k", low=1),
        Categorical("predictor_type", choices=("classifier", "regressor")),
        Integer("sample_size", low=1),
        Integer("mini_batch_size", 5000, low=1),
        Categorical("dimension_reduction_type", None, choices=("sign", "fjlt")),
        Integer("dimension_reduction_target", None, low=1),
        Categorical(
            "index_type", "faiss.Flat", choices=("faiss.Flat", "faiss.IVFFlat", "faiss.IVFPQ")
        ),
        Categorical("index_metric", "L2", choices=("L2", "INNER_PRODUCT", "COSINE")),
        Integer("faiss_index_ivf_nlists", AUTO, low=1, auto=True),
        Categorical("faiss_index_pq_m", None, choices=tuple(str(m) for m in PQ_M)),
        Text(TUNING_OBJECTIVE, None, hint="'test:accuracy' or 'test:mse'"),
    ),
)


def _projection(kind: str, d: int, target: int, rng: np.random.Generator) -> np.ndarray:
    """The ``(d, target)`` matrix of a sign projection or an FJLT."""
    if kind == "sign":
        return np.asarray(rng.choice([-1.0, 1.0], size=(d, target)) / np.sqrt(target))
    signs = rng.choice([-1.0, 1.0], size=d)
    transform = scipy.fft.dct(np.diag(signs), axis=1, norm="ortho")
    chosen = np.sort(rng.choice(d, size=target, replace=False))
    return np.asarray(transform[:, chosen] * np.sqrt(d / target))


class KNN(Algorithm):
    """Nearest-neighbour classification or regression over a sampled index."""

    name = "knn"
    spec = SPEC
    extra_channels = ("test",)

    points_: np.ndarray
    labels_: np.ndarray
    projection_: np.ndarray | None

    def __init__(
        self,
        *,
        feature_dim: int,
        k: int,
        predictor_type: str,
        sample_size: int,
        mini_batch_size: int = 5000,
        dimension_reduction_type: str | None = None,
        dimension_reduction_target: int | None = None,
        index_type: str = "faiss.Flat",
        index_metric: str = "L2",
        faiss_index_ivf_nlists: int | str = AUTO,
        faiss_index_pq_m: str | None = None,
        _tuning_objective_metric: str | None = None,
    ) -> None:
        self.feature_dim = feature_dim
        self.k = k
        self.predictor_type = predictor_type
        self.sample_size = sample_size
        self.mini_batch_size = mini_batch_size
        self.dimension_reduction_type = dimension_reduction_type
        self.dimension_reduction_target = dimension_reduction_target
        self.index_type = index_type
        self.index_metric = index_metric
        self.faiss_index_ivf_nlists = faiss_index_ivf_nlists
        self.faiss_index_pq_m = faiss_index_pq_m
        self._tuning_objective_metric = _tuning_objective_metric

    def _check_params(self, params: dict[str, Any]) -> None:
        kind, target = params["dimension_reduction_type"], params["dimension_reduction_target"]
        if kind is not None and target is None:
            raise ValidationError(
                "Hyperparameter 'dimension_reduction_target' is required when "
                "dimension_reduction_type is set (an integer between 0 and feature_dim, exclusive)",
                details={"hyperparameter": "dimension_reduction_target"},
            )
        if target is not None and target >= params["feature_dim"]:
            raise ValidationError(
                f"dimension_reduction_target={target} must be less than feature_dim="
                f"{params['feature_dim']}",
                details={"hyperparameter": "dimension_reduction_target"},
            )
        if params["index_type"] == "faiss.IVFPQ" and params["index_metric"] != "L2":
            raise ValidationError(
                "index_metric INNER_PRODUCT and COSINE are not supported with index_type "
                "faiss.IVFPQ; use L2",
                details={"hyperparameter": "index_metric"},
            )
        tuning = params[TUNING_OBJECTIVE]
        if tuning is not None and tuning not in ("test:accuracy", "test:mse"):
            raise ValidationError(
                f"Invalid value {tuning!r} for hyperparameter {TUNING_OBJECTIVE!r}: expected "
                "'test:accuracy' (classifier) or 'test:mse' (regressor)",
                details={"hyperparameter": TUNING_OBJECTIVE},
            )

    def fit(
        self,
        X: Features,
        y: np.ndarray | None = None,
        *,
        sample_weight: np.ndarray | None = None,
        validation: Dataset | None = None,
        log: MetricLog | None = None,
    ) -> Self:
        """Sample the training rows into the index."""
        params = self.checked_params()
        features, labels = self._check_fit_input(X, y, feature_dim=params["feature_dim"])
        assert labels is not None
        data = np.asarray(features)
        log = log if log is not None else MetricLog()
        rng = np.random.default_rng(0)
        n, d = data.shape
        size = min(params["sample_size"], n)
        rows = np.sort(rng.choice(n, size=size, replace=False)) if size < n else np.arange(n)
        kind = params["dimension_reduction_type"]
        self.projection_ = (
            _projection(kind, d, params["dimension_reduction_target"], rng) if kind else None
        )
        self.n_features_in_ = d
        self.points_ = self._transform(data[rows])
        self.labels_ = labels[rows]
        log.line(f"#knn: host=algo-1, indexed {size} of {n} rows in {self.points_.shape[1]} dims")
        return self

    def _transform(self, data: np.ndarray) -> np.ndarray:
        projected = data @ self.projection_ if self.projection_ is not None else data
        if self.index_metric == "COSINE":
            norms = np.linalg.norm(projected, axis=1, keepdims=True)
            projected = projected / np.where(norms > 0, norms, 1.0)
        return np.asarray(projected)

    def _neighbours(self, X: Features) -> np.ndarray:
        """Indices ``(n, k)`` of the nearest stored points, nearest first."""
        queries = self._transform(np.asarray(self._check_input(X)))
        k = min(self.k, len(self.points_))
        out = np.empty((len(queries), k), dtype=np.int64)
        point_norms = np.einsum("ij,ij->i", self.points_, self.points_)
        for start in range(0, len(queries), _CHUNK):
            block = queries[start : start + _CHUNK]
            products = block @ self.points_.T
            # Smaller is nearer: squared L2 distance, or the negated inner product.
            cost = point_norms[None, :] - 2 * products if self.index_metric == "L2" else -products
            part = np.argpartition(cost, k - 1, axis=1)[:, :k]
            order = np.argsort(np.take_along_axis(cost, part, axis=1), axis=1, kind="stable")
            out[start : start + _CHUNK] = np.take_along_axis(part, order, axis=1)
        return out

    def predict(self, X: Features) -> np.ndarray:
        """Most common neighbour label (classifier) or mean neighbour label (regressor)."""
        neighbours = self._neighbours(X)
        votes = self.labels_[neighbours]
        if self.predictor_type == "regressor":
            return np.asarray(votes.mean(axis=1))
        result = np.empty(len(votes))
        for index, row in enumerate(votes):
            values, counts = np.unique(row, return_counts=True)
            result[index] = values[np.argmax(counts)]
        return result

    def predict_records(self, X: Features) -> list[dict[str, Any]]:
        """``{"predicted_label": value}`` per row."""
        return [{"predicted_label": float(v)} for v in self.predict(X)]

    def score(self, X: Features, y: np.ndarray | None, *, channel: str) -> dict[str, float]:
        """``<channel>:accuracy`` (classifier) or ``<channel>:mse`` (regressor)."""
        if y is None:
            return {}
        predicted = self.predict(X)
        if self.predictor_type == "regressor":
            return {f"{channel}:mse": float(np.mean((predicted - y) ** 2))}
        return {f"{channel}:accuracy": float(np.mean(predicted == y))}

    @classmethod
    def metric_definitions(cls) -> tuple[MetricDefinition, ...]:
        return score_definitions(("test",), ("accuracy", "mse"))

    def _save(self, model_dir: Path) -> tuple[list[str], dict[str, Any]]:
        arrays = {"points": self.points_, "labels": self.labels_}
        if self.projection_ is not None:
            arrays["projection"] = self.projection_
        save_arrays(model_dir / MODEL_FILE, arrays)
        return [MODEL_FILE], {}

    @classmethod
    def _load(cls, model_dir: Path, manifest: dict[str, Any]) -> Self:
        estimator = cls._from_manifest(manifest)
        arrays = load_arrays(model_dir / MODEL_FILE)
        estimator.points_ = arrays["points"]
        estimator.labels_ = arrays["labels"]
        estimator.projection_ = arrays.get("projection")
        return estimator
