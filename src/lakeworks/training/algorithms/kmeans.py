"""k-means as SageMaker runs it: web-scale mini-batch k-means, then a local Lloyd refinement.

Training streams the data in mini-batches (Sculley, "Web-scale k-means clustering", 2010):
``k * extra_center_factor`` centers are seeded from the first batch (``init_method`` ``random`` or
``kmeans++``); each batch is assigned to its nearest centers and every center moves to the
running mean of the points it has absorbed (with ``half_life_time_size`` > 0, older points'
weights halve every that many points). After ``epochs`` passes the extra centers, weighted by the
points they absorbed, are reduced to ``k`` by weighted Lloyd iterations (``local_lloyd_*``: the
best of ``local_lloyd_num_trials`` runs by sum of squared distances).

``force_dense`` (which the SageMaker SDK always sends) is accepted and has no effect: features are
dense here. ``auto`` values: ``extra_center_factor`` 4 (at most the number of rows / k);
``local_lloyd_num_trials`` 5. Randomness is seeded (AWS's k-means has no seed hyperparameter),
so a run is reproducible.

Metrics: ``test:msd`` (mean squared distance to the closest center) and ``test:ssd`` (their sum)
for the ``eval_metrics`` asked for, on the test channel. Artifact ``kmeans-model.npz`` with
``centroids`` ``(k, features)``. Response entries ``{"closest_cluster", "distance_to_cluster"}``
(Euclidean distance).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Self

import numpy as np

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
    Boolean,
    Categorical,
    Float,
    HyperparameterSpec,
    Integer,
    StringList,
    Text,
)
from lakeworks.training.formats.dataset import Dataset, Features
from lakeworks.training.metrics import MetricDefinition, MetricLog, quality_metric_line

__all__ = ["KMeans", "squared_distances"]

MODEL_FILE = "kmeans-model.npz"
EVAL_METRICS = ("msd", "ssd")

SPEC = HyperparameterSpec(
    "kmeans",
    (
        Integer("k", low=1, doc="Number of clusters"),
        Integer("feature_dim", low=1, doc="Number of features"),
        Integer("mini_batch_size", 5000, low=1),
        Categorical("init_method", "random", choices=("random", "kmeans++")),
        Integer("extra_center_factor", AUTO, low=1, auto=True),
        Integer("local_lloyd_max_iter", 300, low=1),
        Float("local_lloyd_tol", 0.0001, low=0, high=1),
        Categorical("local_lloyd_init_method", "kmeans++", choices=("random", "kmeans++")),
        Integer("local_lloyd_num_trials", AUTO, low=1, auto=True),
        Integer("half_life_time_size", 0, low=0),
        Integer("epochs", 1, low=1),
        StringList("eval_metrics", ("msd",), choices=EVAL_METRICS),
        Boolean("force_dense", True, doc="Sent by the SageMaker SDK; data is always dense here"),
        Text(TUNING_OBJECTIVE, None, hint="'test:msd' or 'test:ssd'"),
    ),
)


def squared_distances(points: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """``(n, k)`` squared Euclidean distances (clipped at 0 against rounding)."""
    d2 = (
        np.einsum("ij,ij->i", points, points)[:, None]
        - 2.0 * points @ centers.T
        + np.einsum("ij,ij->i", centers, centers)[None, :]
    )
    return np.asarray(np.maximum(d2, 0.0))


def _kmeans_pp(
    points: np.ndarray, weights: np.ndarray, k: int, rng: np.random.Generator
) -> np.ndarray:
    """Weighted k-means++ seeding."""
    probabilities = weights / weights.sum()
    chosen = [int(rng.choice(len(points), p=probabilities))]
    closest = squared_distances(points, points[chosen])[:, 0]
    for _ in range(1, k):
        mass = closest * weights
        total = mass.sum()
        index = (
            int(rng.choice(len(points), p=mass / total))
            if total > 0
            else int(rng.integers(len(points)))
        )
        chosen.append(index)
        closest = np.minimum(closest, squared_distances(points, points[[index]])[:, 0])
    return np.asarray(points[chosen].copy())


def _lloyd(
    points: np.ndarray,
    weights: np.ndarray,
    k: int,
    *,
    init: str,
    max_iter: int,
    tol: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, float]:
    """Weighted Lloyd iterations; return ``(centers, weighted sum of squared distances)``."""
    if init == "kmeans++":
        centers = _kmeans_pp(points, weights, k, rng)
    else:
        centers = points[rng.choice(len(points), size=k, replace=False)].copy()
    previous = np.inf
    ssd = np.inf
    for _ in range(max_iter):
        d2 = squared_distances(points, centers)
        assign = np.argmin(d2, axis=1)
        closest = d2[np.arange(len(points)), assign]
        ssd = float(np.sum(weights * closest))
        mass = np.bincount(assign, weights=weights, minlength=k)
        sums = np.zeros_like(centers)
        np.add.at(sums, assign, points * weights[:, None])
        empty = mass == 0
        centers[~empty] = sums[~empty] / mass[~empty, None]
        if empty.any():
            # An empty cluster takes the point that is worst served.
            far = np.argsort(-closest * weights)[: int(empty.sum())]
            centers[empty] = points[far]
        if np.isfinite(previous) and previous - ssd <= tol * max(previous, 1e-300):
            break
        previous = ssd
    return centers, ssd


class KMeans(Algorithm):
    """Web-scale mini-batch k-means with a local Lloyd finish."""

    name = "kmeans"
    spec = SPEC
    supervised = False
    extra_channels = ("test",)

    centroids_: np.ndarray

    def __init__(
        self,
        *,
        k: int,
        feature_dim: int,
        mini_batch_size: int = 5000,
        init_method: str = "random",
        extra_center_factor: int | str = AUTO,
        local_lloyd_max_iter: int = 300,
        local_lloyd_tol: float = 0.0001,
        local_lloyd_init_method: str = "kmeans++",
        local_lloyd_num_trials: int | str = AUTO,
        half_life_time_size: int = 0,
        epochs: int = 1,
        eval_metrics: tuple[str, ...] = ("msd",),
        force_dense: bool = True,
        _tuning_objective_metric: str | None = None,
    ) -> None:
        self.k = k
        self.feature_dim = feature_dim
        self.mini_batch_size = mini_batch_size
        self.init_method = init_method
        self.extra_center_factor = extra_center_factor
        self.local_lloyd_max_iter = local_lloyd_max_iter
        self.local_lloyd_tol = local_lloyd_tol
        self.local_lloyd_init_method = local_lloyd_init_method
        self.local_lloyd_num_trials = local_lloyd_num_trials
        self.half_life_time_size = half_life_time_size
        self.epochs = epochs
        self.eval_metrics = eval_metrics
        self.force_dense = force_dense
        self._tuning_objective_metric = _tuning_objective_metric

    def _check_params(self, params: dict[str, Any]) -> None:
        tuning = params[TUNING_OBJECTIVE]
        if tuning is not None and tuning not in ("test:msd", "test:ssd"):
            raise ValidationError(
                f"Invalid value {tuning!r} for hyperparameter {TUNING_OBJECTIVE!r}: expected "
                "'test:msd' or 'test:ssd'",
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
        """Cluster the rows of ``X`` (labels, if any, are ignored)."""
        params = self.checked_params()
        features, _ = self._check_fit_input(X, None, feature_dim=params["feature_dim"])
        points = np.asarray(features)
        log = log if log is not None else MetricLog()
        n = len(points)
        k = params["k"]
        if k > n:
            raise ValidationError(f"k={k} is more than the {n} training rows; use k <= {n}")
        factor = params["extra_center_factor"]
        factor = min(4, max(1, n // k)) if factor == AUTO else factor
        n_centers = min(k * factor, n)
        rng = np.random.default_rng(0)
        batch = params["mini_batch_size"]
        first = points[:batch]
        if params["init_method"] == "kmeans++" and len(first) >= n_centers:
            centers = _kmeans_pp(first, np.ones(len(first)), n_centers, rng)
        else:
            source = first if len(first) >= n_centers else points
            centers = source[rng.choice(len(source), size=n_centers, replace=False)].copy()
        counts = np.zeros(n_centers)
        half_life = params["half_life_time_size"]
        for epoch in range(params["epochs"]):
            total = 0.0
            for start in range(0, n, batch):
                rows = points[start : start + batch]
                if half_life:
                    counts *= 0.5 ** (len(rows) / half_life)
                d2 = squared_distances(rows, centers)
                assign = np.argmin(d2, axis=1)
                total += float(d2[np.arange(len(rows)), assign].sum())
                mass = np.bincount(assign, minlength=n_centers).astype(np.float64)
                sums = np.zeros_like(centers)
                np.add.at(sums, assign, rows)
                hit = mass > 0
                centers[hit] = (centers[hit] * counts[hit, None] + sums[hit]) / (
                    counts[hit] + mass[hit]
                )[:, None]
                counts += mass
            log.line(quality_metric_line(epoch, "train", "msd", total / n))
            log.line(
                f"#progress_metric: host=algo-1, completed {100 * (epoch + 1) // params['epochs']} "
                "% of epochs"
            )
        weights = np.maximum(counts, 1e-12)
        trials = params["local_lloyd_num_trials"]
        best: tuple[np.ndarray, float] | None = None
        for _ in range(5 if trials == AUTO else trials):
            result = _lloyd(
                centers,
                weights,
                k,
                init=params["local_lloyd_init_method"],
                max_iter=params["local_lloyd_max_iter"],
                tol=params["local_lloyd_tol"],
                rng=rng,
            )
            if best is None or result[1] < best[1]:
                best = result
        assert best is not None
        self.centroids_ = best[0]
        self.n_features_in_ = int(points.shape[1])
        return self

    def _distances(self, X: Features) -> np.ndarray:
        return squared_distances(np.asarray(self._check_input(X)), self.centroids_)

    def predict(self, X: Features) -> np.ndarray:
        """The index of the closest cluster per row."""
        return np.asarray(np.argmin(self._distances(X), axis=1))

    def predict_records(self, X: Features) -> list[dict[str, Any]]:
        """``{"closest_cluster": c, "distance_to_cluster": d}`` per row."""
        d2 = self._distances(X)
        closest = np.argmin(d2, axis=1)
        distance = np.sqrt(d2[np.arange(len(d2)), closest])
        return [
            {"closest_cluster": int(c), "distance_to_cluster": float(v)}
            for c, v in zip(closest, distance, strict=True)
        ]

    def score(self, X: Features, y: np.ndarray | None, *, channel: str) -> dict[str, float]:
        """``<channel>:msd`` / ``<channel>:ssd`` as listed in ``eval_metrics``."""
        closest = np.min(self._distances(X), axis=1)
        values = {"msd": float(np.mean(closest)), "ssd": float(np.sum(closest))}
        wanted = self.checked_params()["eval_metrics"]
        return {f"{channel}:{name}": values[name] for name in EVAL_METRICS if name in wanted}

    @classmethod
    def metric_definitions(cls) -> tuple[MetricDefinition, ...]:
        return score_definitions(("test",), EVAL_METRICS)

    def _save(self, model_dir: Path) -> tuple[list[str], dict[str, Any]]:
        save_arrays(model_dir / MODEL_FILE, {"centroids": self.centroids_})
        return [MODEL_FILE], {}

    @classmethod
    def _load(cls, model_dir: Path, manifest: dict[str, Any]) -> Self:
        estimator = cls._from_manifest(manifest)
        estimator.centroids_ = load_arrays(model_dir / MODEL_FILE)["centroids"]
        estimator.n_features_in_ = int(estimator.centroids_.shape[1])
        return estimator
