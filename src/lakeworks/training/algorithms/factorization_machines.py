"""Factorization machines (Rendle, 2010) for regression and binary classification, in numpy.

The model is ``y = b + Σ w_i x_i + Σ_{i<j} <v_i, v_j> x_i x_j`` with ``num_factors``-dimensional
factors ``v_i``, computed in ``O(features · factors)`` per row as
``½ Σ_f ((Σ_i v_if x_i)² − Σ_i v_if² x_i²)``. Sparse (CSR) input stays sparse, which is what the
algorithm is for (one-hot users × items …).

Training follows SageMaker's hyperparameters: mini-batches of ``mini_batch_size`` for ``epochs``,
separate learning rates (``bias_lr``, ``linear_lr``, ``factors_lr``) and weight decays
(``*_wd``) for the three parameter groups, initialisation per group (``*_init_method``
``normal``/``uniform``/``constant`` with ``*_init_sigma``/``*_init_scale``/``*_init_value``), and
the optimizer parameters ``clip_gradient``, ``eps`` and ``rescale_grad``. The optimizer is Adam
(AWS does not document its choice). The loss is squared error (``regressor``) or logistic loss
(``binary_classifier``, labels 0/1). Seeded, so reproducible.

Metrics: ``test:rmse`` (regressor); ``test:binary_classification_accuracy``,
``test:binary_classification_cross_entropy``, ``test:binary_f_beta`` (plus ``precision`` and
``recall``) for classifiers. Artifact ``factorization-machines-model.npz``: ``bias`` ``(1,)``,
``linear`` ``(features,)``, ``factors`` ``(features, num_factors)``. Response entries:
regressor ``{"score"}``; classifier ``{"score": probability, "predicted_label"}``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Self

import numpy as np
import scipy.sparse as sp

from lakeworks.core.errors import ValidationError
from lakeworks.training.algorithms.base import (
    Algorithm,
    load_arrays,
    save_arrays,
    score_definitions,
)
from lakeworks.training.algorithms.evaluation import binary_metrics
from lakeworks.training.algorithms.hyperparameters import (
    TUNING_OBJECTIVE,
    Categorical,
    Float,
    Hyperparameter,
    HyperparameterSpec,
    Integer,
    Text,
)
from lakeworks.training.algorithms.optimizers import Optimizer
from lakeworks.training.formats.dataset import Dataset, Features
from lakeworks.training.metrics import MetricDefinition, MetricLog, quality_metric_line

__all__ = ["FactorizationMachines"]

MODEL_FILE = "factorization-machines-model.npz"
SCORE_NAMES = (
    "rmse",
    "binary_classification_accuracy",
    "binary_classification_cross_entropy",
    "binary_f_beta",
    "precision",
    "recall",
)
_INIT = ("normal", "uniform", "constant")


def _group(prefix: str, lr: float, wd: float, sigma: float) -> tuple[Hyperparameter, ...]:
    return (
        Float(f"{prefix}_lr", lr, low=0),
        Float(f"{prefix}_wd", wd, low=0),
        Categorical(f"{prefix}_init_method", "normal", choices=_INIT),
        Float(f"{prefix}_init_scale", None, low=0),
        Float(f"{prefix}_init_sigma", sigma, low=0),
        Float(f"{prefix}_init_value", None),
    )


SPEC = HyperparameterSpec(
    "factorization-machines",
    (
        Integer("feature_dim", low=1),
        Integer("num_factors", low=1),
        Categorical("predictor_type", choices=("binary_classifier", "regressor")),
        Integer("mini_batch_size", 1000, low=1),
        Integer("epochs", 1, low=1),
        Float("clip_gradient", None, low=0, low_open=True),
        Float("eps", None, low=0, low_open=True),
        Float("rescale_grad", None, low=0, low_open=True),
        *_group("bias", 0.1, 0.01, 0.01),
        *_group("linear", 0.001, 0.001, 0.01),
        *_group("factors", 0.0001, 0.00001, 0.001),
        Text(
            TUNING_OBJECTIVE, None, hint="e.g. 'test:rmse' or 'test:binary_classification_accuracy'"
        ),
    ),
)


def _init(
    params: dict[str, Any], prefix: str, shape: tuple[int, ...], rng: np.random.Generator
) -> np.ndarray:
    method = params[f"{prefix}_init_method"]
    if method == "constant":
        return np.full(shape, params[f"{prefix}_init_value"] or 0.0)
    if method == "uniform":
        scale = params[f"{prefix}_init_scale"]
        scale = 0.01 if scale is None else scale
        return rng.uniform(-scale, scale, size=shape)
    return rng.normal(0.0, params[f"{prefix}_init_sigma"], size=shape)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * z)))


class FactorizationMachines(Algorithm):
    """Second-order factorization machines."""

    name = "factorization-machines"
    spec = SPEC
    extra_channels = ("test",)
    accepts_sparse = True

    bias_: np.ndarray
    linear_: np.ndarray
    factors_: np.ndarray

    def __init__(
        self,
        *,
        feature_dim: int,
        num_factors: int,
        predictor_type: str,
        mini_batch_size: int = 1000,
        epochs: int = 1,
        clip_gradient: float | None = None,
        eps: float | None = None,
        rescale_grad: float | None = None,
        bias_lr: float = 0.1,
        bias_wd: float = 0.01,
        bias_init_method: str = "normal",
        bias_init_scale: float | None = None,
        bias_init_sigma: float = 0.01,
        bias_init_value: float | None = None,
        linear_lr: float = 0.001,
        linear_wd: float = 0.001,
        linear_init_method: str = "normal",
        linear_init_scale: float | None = None,
        linear_init_sigma: float = 0.01,
        linear_init_value: float | None = None,
        factors_lr: float = 0.0001,
        factors_wd: float = 0.00001,
        factors_init_method: str = "normal",
        factors_init_scale: float | None = None,
        factors_init_sigma: float = 0.001,
        factors_init_value: float | None = None,
        _tuning_objective_metric: str | None = None,
    ) -> None:
        self.feature_dim = feature_dim
        self.num_factors = num_factors
        self.predictor_type = predictor_type
        self.mini_batch_size = mini_batch_size
        self.epochs = epochs
        self.clip_gradient = clip_gradient
        self.eps = eps
        self.rescale_grad = rescale_grad
        self.bias_lr = bias_lr
        self.bias_wd = bias_wd
        self.bias_init_method = bias_init_method
        self.bias_init_scale = bias_init_scale
        self.bias_init_sigma = bias_init_sigma
        self.bias_init_value = bias_init_value
        self.linear_lr = linear_lr
        self.linear_wd = linear_wd
        self.linear_init_method = linear_init_method
        self.linear_init_scale = linear_init_scale
        self.linear_init_sigma = linear_init_sigma
        self.linear_init_value = linear_init_value
        self.factors_lr = factors_lr
        self.factors_wd = factors_wd
        self.factors_init_method = factors_init_method
        self.factors_init_scale = factors_init_scale
        self.factors_init_sigma = factors_init_sigma
        self.factors_init_value = factors_init_value
        self._tuning_objective_metric = _tuning_objective_metric

    def _check_params(self, params: dict[str, Any]) -> None:
        tuning = params[TUNING_OBJECTIVE]
        if tuning is not None and tuning.partition(":")[2] not in SCORE_NAMES:
            raise ValidationError(
                f"Invalid value {tuning!r} for hyperparameter {TUNING_OBJECTIVE!r}: expected "
                f"'test:<metric>' with a metric from {', '.join(SCORE_NAMES)}",
                details={"hyperparameter": TUNING_OBJECTIVE},
            )

    def _raw(self, X: Features) -> tuple[np.ndarray, np.ndarray, Features]:
        """``(predictions before the link, X @ V, X²)``."""
        matrix: Any = X
        squared = matrix.multiply(matrix) if sp.issparse(matrix) else matrix * matrix
        xv = np.asarray(X @ self.factors_)
        interactions = 0.5 * np.sum(xv * xv - np.asarray(squared @ (self.factors_**2)), axis=1)
        linear = np.asarray(X @ self.linear_).ravel()
        return self.bias_[0] + linear + interactions, xv, squared

    def fit(
        self,
        X: Features,
        y: np.ndarray | None = None,
        *,
        sample_weight: np.ndarray | None = None,
        validation: Dataset | None = None,
        log: MetricLog | None = None,
    ) -> Self:
        """Learn bias, linear weights and factors by mini-batch Adam."""
        params = self.checked_params()
        features, labels = self._check_fit_input(X, y, feature_dim=params["feature_dim"])
        assert labels is not None
        binary = params["predictor_type"] == "binary_classifier"
        if binary and not np.all((labels == 0) | (labels == 1)):
            row = int(np.flatnonzero((labels != 0) & (labels != 1))[0])
            raise ValidationError(
                f"Channel 'train' row {row + 1}: label {labels[row]!r}; a binary classifier "
                "needs labels 0 or 1"
            )
        log = log if log is not None else MetricLog()
        data = sp.csr_matrix(features) if sp.issparse(features) else np.asarray(features)
        n, d = data.shape
        rng = np.random.default_rng(0)
        self.bias_ = _init(params, "bias", (1,), rng)
        self.linear_ = _init(params, "linear", (d,), rng)
        self.factors_ = _init(params, "factors", (d, params["num_factors"]), rng)
        self.n_features_in_ = d
        groups = [self.bias_, self.linear_, self.factors_]
        optimizer = Optimizer(
            "adam", groups, eps=params["eps"] or 1e-8, clip=params["clip_gradient"]
        )
        rates = [params["bias_lr"], params["linear_lr"], params["factors_lr"]]
        decays = [params["bias_wd"], params["linear_wd"], params["factors_wd"]]
        rescale = params["rescale_grad"]
        batch = params["mini_batch_size"]
        objective = "binary_classification_cross_entropy" if binary else "rmse"
        for epoch in range(params["epochs"]):
            order = rng.permutation(n)
            total = 0.0
            for start in range(0, n, batch):
                rows = order[start : start + batch]
                x, target = data[rows], labels[rows]
                raw, xv, squared = self._raw(x)
                if binary:
                    p = _sigmoid(raw)
                    g = p - target
                    total += float(
                        -np.sum(
                            target * np.log(np.clip(p, 1e-12, 1))
                            + (1 - target) * np.log(np.clip(1 - p, 1e-12, 1))
                        )
                    )
                else:
                    g = raw - target
                    total += float(np.sum(g * g))
                m = len(rows)
                grads = [
                    np.asarray([g.sum() / m]),
                    np.asarray(x.T @ g).ravel() / m,
                    (
                        np.asarray(x.T @ (g[:, None] * xv))
                        - self.factors_ * np.asarray(squared.T @ g).ravel()[:, None]
                    )
                    / m,
                ]
                grads = [
                    (grad * rescale if rescale else grad) + decay * param
                    for grad, decay, param in zip(grads, decays, groups, strict=True)
                ]
                optimizer.step(grads, rates)
            value = total / n if binary else float(np.sqrt(total / n))
            batches = (epoch + 1) * -(-n // batch)
            log.line(quality_metric_line(epoch, "train", objective, value, batch=batches))
            if not all(np.all(np.isfinite(group)) for group in groups):
                raise ValidationError(
                    "Training diverged (non-finite weights); lower the learning rates or scale "
                    "the features"
                )
        return self

    def _output(self, X: Features) -> np.ndarray:
        checked = self._check_input(X, dense=False)
        raw = self._raw(checked)[0]
        return _sigmoid(raw) if self.predictor_type == "binary_classifier" else raw

    def predict(self, X: Features) -> np.ndarray:
        """Regressor: the value; classifier: the predicted label (probability >= 0.5)."""
        out = self._output(X)
        if self.predictor_type == "binary_classifier":
            return (out >= 0.5).astype(np.float64)
        return out

    def predict_records(self, X: Features) -> list[dict[str, Any]]:
        """``{"score"}`` (regressor) or ``{"score", "predicted_label"}`` (classifier) per row."""
        out = self._output(X)
        if self.predictor_type == "binary_classifier":
            return [{"score": float(p), "predicted_label": int(p >= 0.5)} for p in out]
        return [{"score": float(v)} for v in out]

    def score(self, X: Features, y: np.ndarray | None, *, channel: str) -> dict[str, float]:
        """``<channel>:rmse`` or the binary classification measures."""
        if y is None:
            return {}
        out = self._output(X)
        if self.predictor_type == "regressor":
            return {f"{channel}:rmse": float(np.sqrt(np.mean((out - y) ** 2)))}
        found = binary_metrics(y, out, threshold=0.5, probability=out)
        wanted = (
            "binary_classification_accuracy",
            "binary_classification_cross_entropy",
            "binary_f_beta",
            "precision",
            "recall",
        )
        return {f"{channel}:{name}": found[name] for name in wanted}

    @classmethod
    def metric_definitions(cls) -> tuple[MetricDefinition, ...]:
        return score_definitions(("test",), SCORE_NAMES)

    def _save(self, model_dir: Path) -> tuple[list[str], dict[str, Any]]:
        save_arrays(
            model_dir / MODEL_FILE,
            {"bias": self.bias_, "linear": self.linear_, "factors": self.factors_},
        )
        return [MODEL_FILE], {}

    @classmethod
    def _load(cls, model_dir: Path, manifest: dict[str, Any]) -> Self:
        estimator = cls._from_manifest(manifest)
        arrays = load_arrays(model_dir / MODEL_FILE)
        estimator.bias_ = arrays["bias"]
        estimator.linear_ = arrays["linear"]
        estimator.factors_ = arrays["factors"]
        estimator.n_features_in_ = int(estimator.linear_.shape[0])
        return estimator
