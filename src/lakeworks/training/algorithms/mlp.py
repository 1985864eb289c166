"""A multilayer perceptron in numpy: fully connected layers trained by backpropagation.

A Lakeworks algorithm (AWS has no built-in MLP); its hyperparameters follow the first-party
algorithms' style. ``hidden_layers`` lists the hidden widths (``"64,32"``); each hidden layer
applies ``activation`` (``relu``, ``tanh`` or ``sigmoid``); the output layer is linear with
squared loss (``regressor``), one sigmoid unit with logistic loss (``binary_classifier``) or a
softmax over ``num_classes`` units with cross-entropy (``multiclass_classifier``). Weights start
with He (relu) or Glorot scaling, features are standardised (``normalize_data``), regression
labels too; training is mini-batch ``sgd`` (with ``momentum``) or ``adam`` with L2 ``wd`` for
``epochs``, stopping early when the validation loss has not improved for
``early_stopping_patience`` epochs and keeping the best epoch's weights. Seeded by ``seed``.

Metrics like Linear Learner's: per epoch ``#quality_metric: … train|validation
objective_loss <loss>=…``; final ``<channel>:objective_loss`` and ``mse``/``rmse``/
``absolute_loss`` (regressor), the binary measures or the multiclass measures.

Artifact ``mlp-model.npz``: ``W0``, ``b0``, ``W1``, ``b1`` … plus ``mean``, ``scale`` (features)
and ``label`` (``[mean, scale]``). Response entries as Linear Learner's.
"""

from __future__ import annotations

import itertools
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
from lakeworks.training.algorithms.evaluation import (
    binary_metrics,
    multiclass_metrics,
    regression_metrics,
)
from lakeworks.training.algorithms.hyperparameters import (
    AUTO,
    TUNING_OBJECTIVE,
    Boolean,
    Categorical,
    Float,
    HyperparameterSpec,
    Integer,
    IntegerTuple,
    Text,
)
from lakeworks.training.algorithms.optimizers import Optimizer
from lakeworks.training.formats.channel import CSV, PARQUET, RECORDIO_PROTOBUF
from lakeworks.training.formats.dataset import Dataset, Features, as_dense
from lakeworks.training.metrics import (
    MetricDefinition,
    MetricLog,
    quality_metric_definition,
    quality_metric_line,
)

__all__ = ["MLP"]

MODEL_FILE = "mlp-model.npz"
SCORE_NAMES = (
    "objective_loss",
    "mse",
    "rmse",
    "absolute_loss",
    "binary_classification_accuracy",
    "binary_f_beta",
    "precision",
    "recall",
    "roc_auc_score",
    "multiclass_accuracy",
    "multiclass_top_k_accuracy",
    "macro_precision",
    "macro_recall",
    "macro_f_beta",
    "dcg",
)

SPEC = HyperparameterSpec(
    "mlp",
    (
        Categorical(
            "predictor_type", choices=("regressor", "binary_classifier", "multiclass_classifier")
        ),
        Integer("feature_dim", AUTO, low=1, auto=True),
        Integer("num_classes", None, low=3, high=100_000),
        IntegerTuple("hidden_layers", (64,)),
        Categorical("activation", "relu", choices=("relu", "tanh", "sigmoid")),
        Categorical("optimizer", "adam", choices=("sgd", "adam")),
        Float("learning_rate", 0.001, low=0, low_open=True),
        Float("momentum", 0.9, low=0, high=1, high_open=True),
        Integer("epochs", 10, low=1),
        Integer("mini_batch_size", 32, low=1),
        Float("wd", 0.0, low=0),
        Boolean("normalize_data", True),
        Integer("early_stopping_patience", 5, low=1),
        Integer("seed", 0, low=0, high=2**32 - 1),
        Text(TUNING_OBJECTIVE, None, hint="e.g. 'validation:objective_loss'"),
    ),
)


def _activate(kind: str, z: np.ndarray) -> np.ndarray:
    if kind == "relu":
        return np.asarray(np.maximum(z, 0.0))
    if kind == "tanh":
        return np.asarray(np.tanh(z))
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * z)))


def _derivative(kind: str, z: np.ndarray, a: np.ndarray) -> np.ndarray:
    if kind == "relu":
        return (z > 0).astype(np.float64)
    if kind == "tanh":
        return np.asarray(1.0 - a * a)
    return np.asarray(a * (1.0 - a))


class MLP(Algorithm):
    """A feed-forward neural network for regression or classification."""

    name = "mlp"
    spec = SPEC
    content_types = (CSV, PARQUET, RECORDIO_PROTOBUF)
    default_content_type = CSV

    layers_: list[tuple[np.ndarray, np.ndarray]]
    mean_: np.ndarray
    scale_: np.ndarray
    label_: np.ndarray

    def __init__(
        self,
        *,
        predictor_type: str,
        feature_dim: int | str = AUTO,
        num_classes: int | None = None,
        hidden_layers: tuple[int, ...] = (64,),
        activation: str = "relu",
        optimizer: str = "adam",
        learning_rate: float = 0.001,
        momentum: float = 0.9,
        epochs: int = 10,
        mini_batch_size: int = 32,
        wd: float = 0.0,
        normalize_data: bool = True,
        early_stopping_patience: int = 5,
        seed: int = 0,
        _tuning_objective_metric: str | None = None,
    ) -> None:
        self.predictor_type = predictor_type
        self.feature_dim = feature_dim
        self.num_classes = num_classes
        self.hidden_layers = hidden_layers
        self.activation = activation
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.epochs = epochs
        self.mini_batch_size = mini_batch_size
        self.wd = wd
        self.normalize_data = normalize_data
        self.early_stopping_patience = early_stopping_patience
        self.seed = seed
        self._tuning_objective_metric = _tuning_objective_metric

    def _check_params(self, params: dict[str, Any]) -> None:
        if params["predictor_type"] == "multiclass_classifier" and params["num_classes"] is None:
            raise ValidationError(
                "Hyperparameter 'num_classes' is required when predictor_type is "
                "'multiclass_classifier'",
                details={"hyperparameter": "num_classes"},
            )
        if any(width < 1 or width > 65536 for width in params["hidden_layers"]):
            raise ValidationError(
                f"Invalid value {params['hidden_layers']!r} for hyperparameter 'hidden_layers': "
                "expected widths from 1 to 65536, e.g. '64,32'",
                details={"hyperparameter": "hidden_layers"},
            )
        tuning = params[TUNING_OBJECTIVE]
        if tuning is not None and tuning.partition(":")[2] not in SCORE_NAMES:
            raise ValidationError(
                f"Invalid value {tuning!r} for hyperparameter {TUNING_OBJECTIVE!r}: expected "
                f"'<validation|test>:<metric>' with a metric from {', '.join(SCORE_NAMES)}",
                details={"hyperparameter": TUNING_OBJECTIVE},
            )

    # -- the network -------------------------------------------------------------------------

    def _outputs(self) -> int:
        if self.predictor_type == "multiclass_classifier" and self.num_classes is not None:
            return int(self.num_classes)
        return 1

    def _forward(self, x: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Pre-activations and activations of every layer (the input is activation 0)."""
        zs: list[np.ndarray] = []
        activations = [x]
        for index, (W, b) in enumerate(self.layers_):
            z = activations[-1] @ W + b
            zs.append(z)
            last = index == len(self.layers_) - 1
            activations.append(z if last else _activate(self.activation, z))
        return zs, activations

    def _loss(self, out: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-row loss and its gradient with respect to the output layer's pre-activation."""
        if self.predictor_type == "regressor":
            r = out[:, 0] - y
            return r * r, 2 * r[:, None]
        if self.predictor_type == "binary_classifier":
            s = out[:, 0]
            p = 0.5 * (1.0 + np.tanh(0.5 * s))
            return np.logaddexp(0.0, s) - y * s, (p - y)[:, None]
        shifted = out - out.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        p = e / e.sum(axis=1, keepdims=True)
        rows = np.arange(len(y))
        labels = y.astype(np.int64)
        loss = -np.log(np.clip(p[rows, labels], 1e-12, 1.0))
        grad = p.copy()
        grad[rows, labels] -= 1.0
        return loss, grad

    def _check_labels(self, y: np.ndarray, channel: str) -> np.ndarray:
        if self.predictor_type == "binary_classifier":
            bad = np.flatnonzero((y != 0) & (y != 1))
        elif self.predictor_type == "multiclass_classifier":
            k = int(self.num_classes or 0)
            bad = np.flatnonzero((y < 0) | (y >= k) | (y != np.round(y)))
        else:
            return y
        if bad.size:
            raise ValidationError(
                f"Channel {channel!r} row {bad[0] + 1}: label {y[bad[0]]!r} is not a valid class "
                f"for predictor_type {self.predictor_type!r}"
            )
        return y

    # -- learning ----------------------------------------------------------------------------

    def fit(
        self,
        X: Features,
        y: np.ndarray | None = None,
        *,
        sample_weight: np.ndarray | None = None,
        validation: Dataset | None = None,
        log: MetricLog | None = None,
    ) -> Self:
        """Train by backpropagation; report per-epoch losses to ``log``."""
        params = self.checked_params()
        features, labels = self._check_fit_input(X, y, feature_dim=params["feature_dim"])
        assert labels is not None
        labels = self._check_labels(labels, "train")
        log = log if log is not None else MetricLog()
        data = np.asarray(features)
        n, d = data.shape
        self.mean_ = data.mean(axis=0) if params["normalize_data"] else np.zeros(d)
        scale = data.std(axis=0) if params["normalize_data"] else np.ones(d)
        self.scale_ = np.where(scale > 0, scale, 1.0)
        regression = params["predictor_type"] == "regressor"
        y_scale = float(labels.std()) if regression and labels.std() > 0 else 1.0
        self.label_ = np.asarray([float(labels.mean()) if regression else 0.0, y_scale])
        xn = (data - self.mean_) / self.scale_
        target = (labels - self.label_[0]) / self.label_[1]
        rng = np.random.default_rng(params["seed"])
        widths = [d, *params["hidden_layers"], self._outputs()]
        gain = 2.0 if params["activation"] == "relu" else 1.0
        self.layers_ = [
            (rng.normal(0.0, np.sqrt(gain / fan_in), size=(fan_in, fan_out)), np.zeros(fan_out))
            for fan_in, fan_out in itertools.pairwise(widths)
        ]
        self.n_features_in_ = d
        flat = [p for layer in self.layers_ for p in layer]
        optimizer = Optimizer(params["optimizer"], flat, momentum=params["momentum"])
        rates = [params["learning_rate"]] * len(flat)
        val = None
        if validation is not None:
            val_y = self._check_labels(validation.require_labels("validation"), "validation")
            val = (as_dense(validation.with_columns(d).features), val_y)
        best, best_layers, stale = (
            np.inf,
            [tuple(p.copy() for p in layer) for layer in self.layers_],
            0,
        )
        for epoch in range(params["epochs"]):
            order = rng.permutation(n)
            total = 0.0
            for start in range(0, n, params["mini_batch_size"]):
                rows = order[start : start + params["mini_batch_size"]]
                zs, activations = self._forward(xn[rows])
                values, delta = self._loss(activations[-1], target[rows])
                total += float(values.sum())
                grads: list[np.ndarray] = []
                for index in range(len(self.layers_) - 1, -1, -1):
                    W, _b = self.layers_[index]
                    grads[:0] = [
                        activations[index].T @ delta / len(rows) + params["wd"] * W,
                        delta.mean(axis=0),
                    ]
                    if index:
                        delta = (delta @ W.T) * _derivative(
                            self.activation, zs[index - 1], activations[index]
                        )
                optimizer.step(grads, rates)
            unit = self.label_[1] ** 2 if regression else 1.0
            train_loss = total / n * unit
            log.line(quality_metric_line(epoch, "train", "objective_loss", train_loss))
            watched = train_loss
            if val is not None:
                watched = self._objective(val[0], val[1])
                log.line(quality_metric_line(epoch, "validation", "objective_loss", watched))
            if not np.isfinite(watched):
                raise ValidationError("Training diverged (non-finite loss); lower learning_rate")
            if watched < best:
                best, stale = watched, 0
                best_layers = [tuple(p.copy() for p in layer) for layer in self.layers_]
            else:
                stale += 1
                if stale >= params["early_stopping_patience"]:
                    log.line(f"Early stop condition met. Stopping training after epoch {epoch}.")
                    break
        self.layers_ = [(W, b) for W, b in best_layers]
        return self

    # -- predicting --------------------------------------------------------------------------

    def _raw(self, X: np.ndarray) -> np.ndarray:
        return self._forward((X - self.mean_) / self.scale_)[1][-1]

    def _objective(self, X: np.ndarray, y: np.ndarray) -> float:
        target = (y - self.label_[0]) / self.label_[1]
        unit = self.label_[1] ** 2 if self.predictor_type == "regressor" else 1.0
        return float(np.mean(self._loss(self._raw(X), target)[0]) * unit)

    def _scores(self, X: Features) -> np.ndarray:
        raw = self._raw(np.asarray(self._check_input(X)))
        if self.predictor_type == "regressor":
            return np.asarray(raw * self.label_[1] + self.label_[0])
        if self.predictor_type == "binary_classifier":
            return np.asarray(0.5 * (1.0 + np.tanh(0.5 * raw)))
        e = np.exp(raw - raw.max(axis=1, keepdims=True))
        return np.asarray(e / e.sum(axis=1, keepdims=True))

    def predict(self, X: Features) -> np.ndarray:
        """Regressor: the value; classifiers: the predicted label (as float)."""
        scores = self._scores(X)
        if self.predictor_type == "regressor":
            return np.asarray(scores[:, 0])
        if self.predictor_type == "binary_classifier":
            return (scores[:, 0] >= 0.5).astype(np.float64)
        return np.asarray(np.argmax(scores, axis=1), dtype=np.float64)

    def predict_records(self, X: Features) -> list[dict[str, Any]]:
        """``{"score"}`` plus ``"predicted_label"`` for classifiers (per-class for multiclass)."""
        scores = self._scores(X)
        if self.predictor_type == "regressor":
            return [{"score": float(s)} for s in scores[:, 0]]
        if self.predictor_type == "binary_classifier":
            return [{"score": float(s), "predicted_label": int(s >= 0.5)} for s in scores[:, 0]]
        return [{"score": row.tolist(), "predicted_label": int(np.argmax(row))} for row in scores]

    def score(self, X: Features, y: np.ndarray | None, *, channel: str) -> dict[str, float]:
        """``<channel>:objective_loss`` and the measures of the predictor type."""
        if y is None:
            return {}
        x = np.asarray(self._check_input(X))
        y = self._check_labels(np.asarray(y, dtype=np.float64), channel)
        metrics = {"objective_loss": self._objective(x, y)}
        scores = self._scores(x)
        if self.predictor_type == "regressor":
            metrics.update(regression_metrics(y, scores[:, 0]))
        elif self.predictor_type == "binary_classifier":
            found = binary_metrics(y, scores[:, 0], threshold=0.5)
            metrics.update({k: v for k, v in found.items() if np.isfinite(v)})
        else:
            metrics.update(multiclass_metrics(y, scores))
        return {f"{channel}:{name}": value for name, value in metrics.items()}

    @classmethod
    def metric_definitions(cls) -> tuple[MetricDefinition, ...]:
        return (
            quality_metric_definition("train:objective_loss", "train"),
            *score_definitions(("validation", "test"), SCORE_NAMES),
        )

    # -- artifacts ---------------------------------------------------------------------------

    def _save(self, model_dir: Path) -> tuple[list[str], dict[str, Any]]:
        arrays: dict[str, np.ndarray] = {
            "mean": self.mean_,
            "scale": self.scale_,
            "label": self.label_,
        }
        for index, (W, b) in enumerate(self.layers_):
            arrays[f"W{index}"], arrays[f"b{index}"] = W, b
        save_arrays(model_dir / MODEL_FILE, arrays)
        return [MODEL_FILE], {"layers": len(self.layers_)}

    @classmethod
    def _load(cls, model_dir: Path, manifest: dict[str, Any]) -> Self:
        estimator = cls._from_manifest(manifest)
        arrays = load_arrays(model_dir / MODEL_FILE)
        count = sum(1 for name in arrays if name.startswith("W"))
        estimator.layers_ = [(arrays[f"W{i}"], arrays[f"b{i}"]) for i in range(count)]
        estimator.mean_, estimator.scale_ = arrays["mean"], arrays["scale"]
        estimator.label_ = arrays["label"]
        estimator.n_features_in_ = int(estimator.layers_[0][0].shape[0])
        return estimator
