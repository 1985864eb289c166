"""Random Cut Forest: anomaly scores from a forest of random cut trees (Guha et al., ICML 2016).

Each of ``num_trees`` trees is built on its own uniform random sample of ``num_samples_per_tree``
training rows: a node's bounding box is cut on a dimension chosen with probability proportional
to the box's extent in it, at a uniform position, until every leaf holds one distinct point
(duplicates share a leaf and count as its mass).

A point's score is the one AWS's RCF computes (the ``randomcutforest`` library's anomaly score, an
estimate of collusive displacement): walk the point down each tree to a leaf; at the leaf the
score is ``damp * 1 / (depth + log2(mass + 1))`` when the point equals the leaf's point, else
``1 / (depth + 1)``; then, moving up, each node mixes in ``1 / (depth + 1)`` with the probability
that a random cut of the node's box grown to include the point would separate it. The tree's
score is scaled by ``log2(sample size + 1)`` and the forest averages its trees. Typical points
score near 1; anomalies score higher.

With a labelled test channel (``text/csv;label_size=1``), a point is called anomalous when its
score exceeds the mean training score plus three standard deviations (AWS's rule), and the
``eval_metrics`` are reported: ``test:f1``, ``test:precision``, ``test:recall``
(``precision_recall_fscore``) and ``test:accuracy``. Seeded, so reproducible.

Artifact ``randomcutforest-model.npz``: per tree, padded to ``2 * samples - 1`` nodes: ``left``,
``right`` (-1 at leaves), ``cut_dim``, ``cut_value``, ``box_min``, ``box_max``, ``mass``; plus
``tree_mass`` and ``threshold``. Response entries ``{"score": value}``. ``mini_batch_size``, which
the SageMaker SDK sends with every first-party estimator, is accepted and has no effect.
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
    TUNING_OBJECTIVE,
    HyperparameterSpec,
    Integer,
    StringList,
    Text,
)
from lakeworks.training.formats.dataset import Dataset, Features
from lakeworks.training.metrics import MetricDefinition, MetricLog

__all__ = ["RandomCutForest"]

MODEL_FILE = "randomcutforest-model.npz"
EVAL_METRICS = ("accuracy", "precision_recall_fscore")

SPEC = HyperparameterSpec(
    "randomcutforest",
    (
        Integer("feature_dim", low=1, high=10000),
        StringList("eval_metrics", EVAL_METRICS, choices=EVAL_METRICS),
        Integer("num_samples_per_tree", 256, low=1, high=2048),
        Integer("num_trees", 100, low=50, high=1000),
        Integer("mini_batch_size", None, low=1, doc="Sent by the SageMaker SDK; no effect"),
        Text(TUNING_OBJECTIVE, None, hint="'test:f1'"),
    ),
)


def _build_tree(points: np.ndarray, rng: np.random.Generator, size: int) -> dict[str, np.ndarray]:
    """One random cut tree over ``points``, as arrays padded to ``size`` nodes."""
    d = points.shape[1]
    left = np.full(size, -1, dtype=np.int32)
    right = np.full(size, -1, dtype=np.int32)
    cut_dim = np.zeros(size, dtype=np.int32)
    cut_value = np.zeros(size)
    box_min = np.zeros((size, d))
    box_max = np.zeros((size, d))
    mass = np.zeros(size, dtype=np.int64)
    count = 1
    stack = [(0, np.arange(len(points)))]
    while stack:
        node, rows = stack.pop()
        block = points[rows]
        low, high = block.min(axis=0), block.max(axis=0)
        box_min[node], box_max[node], mass[node] = low, high, len(rows)
        extent = high - low
        total = float(extent.sum())
        if len(rows) == 1 or total <= 0:
            continue
        while True:
            dim = int(rng.choice(d, p=extent / total))
            value = float(rng.uniform(low[dim], high[dim]))
            goes_left = block[:, dim] <= value
            if 0 < goes_left.sum() < len(rows):
                break
        cut_dim[node], cut_value[node] = dim, value
        left[node], right[node] = count, count + 1
        count += 2
        stack.append((int(left[node]), rows[goes_left]))
        stack.append((int(right[node]), rows[~goes_left]))
    return {
        "left": left,
        "right": right,
        "cut_dim": cut_dim,
        "cut_value": cut_value,
        "box_min": box_min,
        "box_max": box_max,
        "mass": mass,
    }


def _tree_scores(tree: dict[str, np.ndarray], X: np.ndarray, tree_mass: float) -> np.ndarray:
    """Anomaly scores of the rows of ``X`` in one tree (before the forest average)."""
    n = len(X)
    rows = np.arange(n)
    node = np.zeros(n, dtype=np.int64)
    path = [node.copy()]
    active = tree["left"][node] >= 0
    while active.any():
        go_left = X[rows, tree["cut_dim"][node]] <= tree["cut_value"][node]
        step = np.where(go_left, tree["left"][node], tree["right"][node])
        node = np.where(active, step, node)
        path.append(node.copy())
        active = tree["left"][node] >= 0
    depth = np.zeros(n, dtype=np.int64)
    for level in range(1, len(path)):
        depth += path[level] != path[level - 1]
    leaf_mass = tree["mass"][node].astype(np.float64)
    seen = np.all(tree["box_min"][node] == X, axis=1)
    damp = 1.0 - leaf_mass / (2.0 * tree_mass)
    score = np.where(seen, damp / (depth + np.log2(leaf_mass + 1.0)), 1.0 / (depth + 1.0))
    for level in range(int(depth.max()) - 1, -1, -1):
        on_path = level < depth
        at = path[level]
        low, high = tree["box_min"][at], tree["box_max"][at]
        inside = np.sum(high - low, axis=1)
        merged = np.sum(np.maximum(high, X) - np.minimum(low, X), axis=1)
        separation = np.where(merged > 0, (merged - inside) / np.where(merged > 0, merged, 1), 0.0)
        mixed = (1.0 - separation) * score + separation / (level + 1.0)
        score = np.where(on_path, mixed, score)
    return np.asarray(score * np.log2(tree_mass + 1.0))


class RandomCutForest(Algorithm):
    """Unsupervised anomaly detection."""

    name = "randomcutforest"
    spec = SPEC
    supervised = False
    extra_channels = ("test",)

    trees_: list[dict[str, np.ndarray]]
    tree_mass_: np.ndarray
    threshold_: float

    def __init__(
        self,
        *,
        feature_dim: int,
        eval_metrics: tuple[str, ...] = EVAL_METRICS,
        num_samples_per_tree: int = 256,
        num_trees: int = 100,
        mini_batch_size: int | None = None,
        _tuning_objective_metric: str | None = None,
    ) -> None:
        self.feature_dim = feature_dim
        self.eval_metrics = eval_metrics
        self.num_samples_per_tree = num_samples_per_tree
        self.num_trees = num_trees
        self.mini_batch_size = mini_batch_size
        self._tuning_objective_metric = _tuning_objective_metric

    def _check_params(self, params: dict[str, Any]) -> None:
        tuning = params[TUNING_OBJECTIVE]
        if tuning is not None and tuning != "test:f1":
            raise ValidationError(
                f"Invalid value {tuning!r} for hyperparameter {TUNING_OBJECTIVE!r}: expected "
                "'test:f1'",
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
        """Grow the forest on samples of ``X`` (labels, if any, are ignored)."""
        params = self.checked_params()
        features, _ = self._check_fit_input(X, None, feature_dim=params["feature_dim"])
        data = np.asarray(features)
        log = log if log is not None else MetricLog()
        rng = np.random.default_rng(0)
        n = len(data)
        samples = min(params["num_samples_per_tree"], n)
        size = 2 * samples - 1
        self.trees_, masses = [], []
        for _ in range(params["num_trees"]):
            rows = rng.choice(n, size=samples, replace=False)
            self.trees_.append(_build_tree(data[rows], rng, size))
            masses.append(samples)
        self.tree_mass_ = np.asarray(masses, dtype=np.float64)
        self.n_features_in_ = int(data.shape[1])
        train_scores = self._scores(data[rng.choice(n, size=min(n, 10_000), replace=False)])
        self.threshold_ = float(train_scores.mean() + 3.0 * train_scores.std())
        log.line(
            f"#rcf: host=algo-1, {params['num_trees']} trees of {samples} samples; mean train "
            f"score {float(train_scores.mean())!r}, anomaly threshold {self.threshold_!r}"
        )
        return self

    def _scores(self, data: np.ndarray) -> np.ndarray:
        total = np.zeros(len(data))
        for tree, mass in zip(self.trees_, self.tree_mass_, strict=True):
            total += _tree_scores(tree, data, float(mass))
        return total / len(self.trees_)

    def predict(self, X: Features) -> np.ndarray:
        """The anomaly score of each row."""
        return self._scores(np.asarray(self._check_input(X)))

    def predict_records(self, X: Features) -> list[dict[str, Any]]:
        """``{"score": value}`` per row."""
        return [{"score": float(s)} for s in self.predict(X)]

    def score(self, X: Features, y: np.ndarray | None, *, channel: str) -> dict[str, float]:
        """Accuracy and precision/recall/F1 of "score above threshold" against labels 0/1."""
        if y is None:
            return {}
        flagged = self.predict(X) > self.threshold_
        truth = np.asarray(y) > 0.5
        tp = float(np.sum(flagged & truth))
        precision = tp / max(float(flagged.sum()), 1.0)
        recall = tp / max(float(truth.sum()), 1.0)
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        wanted = self.checked_params()["eval_metrics"]
        metrics: dict[str, float] = {}
        if "accuracy" in wanted:
            metrics["accuracy"] = float(np.mean(flagged == truth))
        if "precision_recall_fscore" in wanted:
            metrics.update({"precision": precision, "recall": recall, "f1": f1})
        return {f"{channel}:{name}": value for name, value in metrics.items()}

    @classmethod
    def metric_definitions(cls) -> tuple[MetricDefinition, ...]:
        return score_definitions(("test",), ("f1", "precision", "recall", "accuracy"))

    def _save(self, model_dir: Path) -> tuple[list[str], dict[str, Any]]:
        arrays = {key: np.stack([tree[key] for tree in self.trees_]) for key in self.trees_[0]}
        arrays["tree_mass"] = self.tree_mass_
        arrays["threshold"] = np.asarray([self.threshold_])
        save_arrays(model_dir / MODEL_FILE, arrays)
        return [MODEL_FILE], {"num_trees": len(self.trees_)}

    @classmethod
    def _load(cls, model_dir: Path, manifest: dict[str, Any]) -> Self:
        estimator = cls._from_manifest(manifest)
        arrays = load_arrays(model_dir / MODEL_FILE)
        keys = ("left", "right", "cut_dim", "cut_value", "box_min", "box_max", "mass")
        estimator.trees_ = [
            {key: arrays[key][index] for key in keys} for index in range(len(arrays["left"]))
        ]
        estimator.tree_mass_ = arrays["tree_mass"]
        estimator.threshold_ = float(arrays["threshold"][0])
        estimator.n_features_in_ = int(arrays["box_min"].shape[2])
        return estimator
