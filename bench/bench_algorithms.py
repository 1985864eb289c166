"""Built-in algorithms side by side with the library a user would otherwise call.

For each algorithm: a quality figure and the fit time of Lakeworks' implementation and of the
baseline (XGBoost/LightGBM called directly, scikit-learn otherwise) on the same generated data,
with their ratios. Figures move between machines; compare the ratios.

Run: ``.venv/bin/python bench/bench_algorithms.py [--rows 20000]``.
"""

from __future__ import annotations

import argparse
import io
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
import xgboost as xgb
from sklearn.cluster import MiniBatchKMeans
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.linear_model import SGDRegressor
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPRegressor

from lakeworks.training.algorithms import algorithm_class
from lakeworks.training.metrics import MetricLog


@dataclass
class Row:
    """One algorithm's figures."""

    name: str
    measure: str
    ours: float
    baseline: float
    ours_s: float
    baseline_s: float


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def _fit(name: str, hyperparameters: dict[str, str], x: np.ndarray, y: np.ndarray | None) -> Any:
    model = algorithm_class(name).from_hyperparameters(hyperparameters)
    return model.fit(x, y, log=MetricLog(io.StringIO()))


def _mse(predict: Callable[[np.ndarray], np.ndarray], x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((predict(x) - y) ** 2))


def supervised(x: np.ndarray, y: np.ndarray, x_test: np.ndarray, y_test: np.ndarray) -> list[Row]:
    """XGBoost, LightGBM, Linear Learner and the MLP against their baselines (test MSE)."""
    rows = []
    ours, ours_s = _timed(lambda: _fit("xgboost", {"num_round": "50"}, x, y))
    base, base_s = _timed(lambda: xgb.train({}, xgb.DMatrix(x, label=y), 50))
    base_mse = _mse(lambda a: base.predict(xgb.DMatrix(a)), x_test, y_test)
    rows.append(
        Row("xgboost", "test mse", _mse(ours.predict, x_test, y_test), base_mse, ours_s, base_s)
    )

    hp = {"num_boost_round": "50", "verbosity": "-1"}
    ours, ours_s = _timed(lambda: _fit("lightgbm", hp, x, y))
    params = {"verbosity": -1, "num_leaves": 64, "max_depth": 6}
    base, base_s = _timed(lambda: lgb.train(params, lgb.Dataset(x, label=y), 50))
    rows.append(
        Row(
            "lightgbm",
            "test mse",
            _mse(ours.predict, x_test, y_test),
            _mse(base.predict, x_test, y_test),
            ours_s,
            base_s,
        )
    )

    hp = {"predictor_type": "regressor", "epochs": "5", "mini_batch_size": "200"}
    ours, ours_s = _timed(lambda: _fit("linear-learner", hp, x, y))
    base, base_s = _timed(lambda: SGDRegressor(max_iter=5, tol=None).fit(x, y))
    rows.append(
        Row(
            "linear-learner",
            "test mse",
            _mse(ours.predict, x_test, y_test),
            _mse(base.predict, x_test, y_test),
            ours_s,
            base_s,
        )
    )

    hp = {"predictor_type": "regressor", "epochs": "10", "hidden_layers": "64"}
    ours, ours_s = _timed(lambda: _fit("mlp", hp, x, y))
    mlp = MLPRegressor(hidden_layer_sizes=(64,), max_iter=10, random_state=0)
    base, base_s = _timed(lambda: mlp.fit(x, y))
    rows.append(
        Row(
            "mlp",
            "test mse",
            _mse(ours.predict, x_test, y_test),
            _mse(base.predict, x_test, y_test),
            ours_s,
            base_s,
        )
    )
    return rows


def unsupervised(x: np.ndarray, rng: np.random.Generator) -> list[Row]:
    """k-means, PCA, k-NN and Random Cut Forest against scikit-learn."""
    n, d = x.shape
    rows = []
    blobs = rng.normal(scale=5, size=(8, d))[rng.integers(0, 8, size=n)] + rng.normal(size=(n, d))
    ours, ours_s = _timed(lambda: _fit("kmeans", {"k": "8", "feature_dim": str(d)}, blobs, None))
    base, base_s = _timed(lambda: MiniBatchKMeans(8, n_init=3, random_state=0).fit(blobs))
    inertia = float(np.sum(np.min(((blobs[:, None] - ours.centroids_) ** 2).sum(-1), axis=1)))
    rows.append(Row("kmeans", "inertia", inertia, float(base.inertia_), ours_s, base_s))

    hp = {"num_components": "3", "feature_dim": str(d), "mini_batch_size": "1000"}
    ours, ours_s = _timed(lambda: _fit("pca", hp, x, None))
    base, base_s = _timed(lambda: PCA(3).fit(x))
    rows.append(
        Row(
            "pca",
            "sum of singular values",
            float(ours.singular_values_.sum()),
            float(base.singular_values_.sum()),
            ours_s,
            base_s,
        )
    )

    labels = (blobs @ rng.normal(size=d) > 0).astype(np.float64)
    hp = {"feature_dim": str(d), "k": "5", "predictor_type": "classifier", "sample_size": str(n)}
    ours, ours_s = _timed(lambda: _fit("knn", hp, blobs, labels))
    base, base_s = _timed(lambda: KNeighborsClassifier(5).fit(blobs, labels))
    probe, truth = blobs[:2000], labels[:2000]
    rows.append(
        Row(
            "knn",
            "accuracy (2000 train rows)",
            float(np.mean(ours.predict(probe) == truth)),
            float(np.mean(base.predict(probe) == truth)),
            ours_s,
            base_s,
        )
    )

    mixed = np.r_[rng.normal(size=(1900, d)), rng.normal(size=(100, d)) + 4]
    flags = np.r_[np.zeros(1900), np.ones(100)]
    ours, ours_s = _timed(lambda: _fit("randomcutforest", {"feature_dim": str(d)}, x, None))
    base, base_s = _timed(lambda: IsolationForest(random_state=0).fit(x))
    rows.append(
        Row(
            "randomcutforest",
            "anomaly AUC",
            float(roc_auc_score(flags, ours.predict(mixed))),
            float(roc_auc_score(flags, -base.score_samples(mixed))),
            ours_s,
            base_s,
        )
    )
    return rows


def main() -> None:
    """Print the side-by-side table."""
    parser = argparse.ArgumentParser(description="Built-in algorithms against their baselines")
    parser.add_argument("--rows", type=int, default=20000)
    n = parser.parse_args().rows
    rng = np.random.default_rng(0)
    weights = rng.normal(size=10)
    x, x_test = rng.normal(size=(n, 10)), rng.normal(size=(2000, 10))
    y = x @ weights + np.sin(x[:, 0]) + rng.normal(scale=0.1, size=n)
    y_test = x_test @ weights + np.sin(x_test[:, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn's convergence notes at few iterations
        rows = supervised(x, y, x_test, y_test) + unsupervised(x, rng)
    print(f"{n} training rows, 10 features")
    print(
        f"{'algorithm':<16} {'measure':<27} {'lakeworks':>10} {'baseline':>10} {'ratio':>6} "
        f"{'fit s':>7} {'base s':>7} {'ratio':>6}"
    )
    for r in rows:
        print(
            f"{r.name:<16} {r.measure:<27} {r.ours:>10.4g} {r.baseline:>10.4g} "
            f"{r.ours / r.baseline:>6.2f} {r.ours_s:>7.2f} {r.baseline_s:>7.2f} "
            f"{r.ours_s / r.baseline_s:>6.2f}"
        )


if __name__ == "__main__":
    main()
