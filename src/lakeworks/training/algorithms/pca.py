"""Principal component analysis, in SageMaker's two modes.

``regular`` accumulates the covariance matrix over mini-batches and takes its exact eigen
decomposition (what AWS recommends for moderate ``feature_dim``); ``randomized`` uses a
randomized range finder (Halko, Martinsson and Tropp, 2011) with ``extra_components``
oversampling (``-1``: ``max(10, num_components)``) and two power iterations. ``subtract_mean``
centres the data for training and inference.

Components come in order of decreasing variance, each with its sign fixed so that its largest
coefficient is positive (so two runs agree). SageMaker's PCA publishes no tuning metrics; the
training log shows the explained variance ratio.

Artifact ``pca-model.npz``: ``mean`` ``(features,)`` (zeros without ``subtract_mean``),
``components`` ``(num_components, features)``, ``singular_values``. Response entries
``{"projection": [...]}``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Self

import numpy as np

from lakeworks.core.errors import ValidationError
from lakeworks.training.algorithms.base import Algorithm, load_arrays, save_arrays
from lakeworks.training.algorithms.hyperparameters import (
    Boolean,
    Categorical,
    HyperparameterSpec,
    Integer,
)
from lakeworks.training.formats.dataset import Dataset, Features
from lakeworks.training.metrics import MetricLog

__all__ = ["PCA"]

MODEL_FILE = "pca-model.npz"

SPEC = HyperparameterSpec(
    "pca",
    (
        Categorical("algorithm_mode", "regular", choices=("regular", "randomized")),
        Integer("num_components", low=1),
        Boolean("subtract_mean", True),
        Integer("extra_components", -1, low=-1),
        Integer("feature_dim", low=1),
        Integer("mini_batch_size", low=1),
    ),
)


def _fix_signs(components: np.ndarray) -> np.ndarray:
    largest = np.argmax(np.abs(components), axis=1)
    signs = np.sign(components[np.arange(len(components)), largest])
    return np.asarray(components * np.where(signs == 0, 1.0, signs)[:, None])


class PCA(Algorithm):
    """Projects rows onto the directions of largest variance."""

    name = "pca"
    spec = SPEC
    supervised = False
    extra_channels = ()

    mean_: np.ndarray
    components_: np.ndarray
    singular_values_: np.ndarray

    def __init__(
        self,
        *,
        num_components: int,
        feature_dim: int,
        mini_batch_size: int,
        algorithm_mode: str = "regular",
        subtract_mean: bool = True,
        extra_components: int = -1,
    ) -> None:
        self.algorithm_mode = algorithm_mode
        self.num_components = num_components
        self.subtract_mean = subtract_mean
        self.extra_components = extra_components
        self.feature_dim = feature_dim
        self.mini_batch_size = mini_batch_size

    def fit(
        self,
        X: Features,
        y: np.ndarray | None = None,
        *,
        sample_weight: np.ndarray | None = None,
        validation: Dataset | None = None,
        log: MetricLog | None = None,
    ) -> Self:
        """Find ``num_components`` principal directions of ``X``."""
        params = self.checked_params()
        features, _ = self._check_fit_input(X, None, feature_dim=params["feature_dim"])
        data = np.asarray(features)
        log = log if log is not None else MetricLog()
        n, d = data.shape
        k = params["num_components"]
        if k > d:
            raise ValidationError(
                f"num_components={k} is more than the {d} features; use num_components <= {d}",
                details={"hyperparameter": "num_components"},
            )
        mean = data.mean(axis=0) if params["subtract_mean"] else np.zeros(d)
        if params["algorithm_mode"] == "regular":
            covariance = np.zeros((d, d))
            for start in range(0, n, params["mini_batch_size"]):
                block = data[start : start + params["mini_batch_size"]] - mean
                covariance += block.T @ block
            values, vectors = np.linalg.eigh(covariance)
            order = np.argsort(values)[::-1][:k]
            components = vectors[:, order].T
            singular = np.sqrt(np.maximum(values[order], 0.0))
        else:
            extra = params["extra_components"]
            extra = max(10, k) if extra == -1 else extra
            width = min(d, k + extra)
            centred = data - mean
            rng = np.random.default_rng(0)
            basis = centred @ rng.normal(size=(d, width))
            for _ in range(2):
                basis, _r = np.linalg.qr(basis)
                basis = centred @ (centred.T @ basis)
            basis, _r = np.linalg.qr(basis)
            _u, singular_all, vt = np.linalg.svd(basis.T @ centred, full_matrices=False)
            components, singular = vt[:k], singular_all[:k]
        self.mean_ = mean
        self.components_ = _fix_signs(components)
        self.singular_values_ = np.asarray(singular)
        self.n_features_in_ = d
        total = float(np.sum((data - mean) ** 2))
        if total > 0:
            ratio = float(np.sum(self.singular_values_**2) / total)
            log.line(f"#pca: host=algo-1, explained_variance_ratio={ratio!r} ({k} components)")
        return self

    def predict(self, X: Features) -> np.ndarray:
        """The projection of each row onto the components, ``(n, num_components)``."""
        data = np.asarray(self._check_input(X))
        return np.asarray((data - self.mean_) @ self.components_.T)

    def predict_records(self, X: Features) -> list[dict[str, Any]]:
        """``{"projection": [...]}`` per row."""
        return [{"projection": row.tolist()} for row in self.predict(X)]

    def _save(self, model_dir: Path) -> tuple[list[str], dict[str, Any]]:
        save_arrays(
            model_dir / MODEL_FILE,
            {
                "mean": self.mean_,
                "components": self.components_,
                "singular_values": self.singular_values_,
            },
        )
        return [MODEL_FILE], {}

    @classmethod
    def _load(cls, model_dir: Path, manifest: dict[str, Any]) -> Self:
        estimator = cls._from_manifest(manifest)
        arrays = load_arrays(model_dir / MODEL_FILE)
        estimator.mean_ = arrays["mean"]
        estimator.components_ = arrays["components"]
        estimator.singular_values_ = arrays["singular_values"]
        estimator.n_features_in_ = int(estimator.components_.shape[1])
        return estimator
