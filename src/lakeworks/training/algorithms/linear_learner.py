"""Linear Learner: linear regression and binary/multiclass linear classifiers, trained in numpy.

Follows SageMaker's linear learner: the same hyperparameters (``predictor_type`` required,
``feature_dim=auto``, ``epochs=15``, ``mini_batch_size=1000``, ``loss=auto`` …), mini-batch
SGD/Adam/RMSProp with L2 (``wd``) and L1 (``l1``, a proximal step), feature standardisation from
the first ``num_point_for_scaler`` rows, label standardisation for regression, a learning-rate
schedule, early stopping on the validation loss (the training loss without a validation channel)
keeping the best epoch's model, and, for binary classifiers, a decision threshold calibrated on
the validation data by ``binary_classifier_model_selection_criteria``.

Differences from AWS, documented: one model is trained (``num_models`` is accepted and ignored;
AWS trains several in parallel with nearby settings and keeps the best — tuning jobs do that
here); ``auto`` values resolve to fixed choices instead of that internal search: optimizer
``adam``; learning rate 0.03 (adam), 0.01 (sgd, rmsprop); ``wd`` and ``l1`` 0; momentum 0.9;
``beta_1`` 0.9, ``beta_2`` 0.999; ``bias_lr_mult`` 1; ``bias_wd_mult`` 0; the schedule multiplies
the rate by 0.95 (``lr_scheduler_factor``) every epoch (``lr_scheduler_step`` = batches per
epoch) down to ``lr_scheduler_minimum_lr`` = 1e-5; ``positive_example_weight_mult=auto`` means
``balanced``. Early stopping always watches the objective loss.

Artifact ``linear-learner-model.npz``: ``weights`` ``(features, outputs)`` and ``bias``
``(outputs,)`` in the original feature and label units (normalisation folded in), and
``threshold`` (binary). Scores are ``X @ weights + bias``; probabilities for logistic/softmax
losses. Response entries: regressor ``{"score"}``; binary ``{"score", "predicted_label"}``;
multiclass ``{"score": [per class], "predicted_label"}``.
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
from lakeworks.training.algorithms.evaluation import (
    binary_metrics,
    choose_threshold,
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
    Text,
)
from lakeworks.training.algorithms.optimizers import Optimizer
from lakeworks.training.formats.dataset import Dataset, Features, as_dense
from lakeworks.training.metrics import (
    MetricDefinition,
    MetricLog,
    quality_metric_definition,
    quality_metric_line,
)

__all__ = ["LinearLearner"]

MODEL_FILE = "linear-learner-model.npz"
REGRESSION_LOSSES = (
    "squared_loss",
    "absolute_loss",
    "eps_insensitive_squared_loss",
    "eps_insensitive_absolute_loss",
    "quantile_loss",
    "huber_loss",
)
LOSSES_BY_TYPE = {
    "regressor": REGRESSION_LOSSES,
    "binary_classifier": ("logistic", "hinge_loss"),
    "multiclass_classifier": ("softmax_loss", "logistic", "hinge_loss"),
}
AUTO_LOSS = {
    "regressor": "squared_loss",
    "binary_classifier": "logistic",
    "multiclass_classifier": "softmax_loss",
}
OBJECTIVE_NAMES = {
    "squared_loss": "mse_objective",
    "absolute_loss": "absolute_loss_objective",
    "eps_insensitive_squared_loss": "eps_insensitive_squared_loss_objective",
    "eps_insensitive_absolute_loss": "eps_insensitive_absolute_loss_objective",
    "quantile_loss": "quantile_loss_objective",
    "huber_loss": "huber_loss_objective",
    "logistic": "binary_classification_cross_entropy_objective",
    "hinge_loss": "hinge_loss_objective",
    "softmax_loss": "multiclass_cross_entropy_objective",
}
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
_AUTO_RATE = {"adam": 0.03, "sgd": 0.01, "rmsprop": 0.01}

SPEC = HyperparameterSpec(
    "linear-learner",
    (
        Categorical(
            "predictor_type", choices=("binary_classifier", "multiclass_classifier", "regressor")
        ),
        Integer("feature_dim", AUTO, low=1, auto=True),
        Integer("num_classes", None, low=3, high=1_000_000),
        Integer("accuracy_top_k", 3, low=1),
        Boolean("balance_multiclass_weights", False),
        Float("beta_1", AUTO, low=0, high=1, high_open=True, auto=True),
        Float("beta_2", AUTO, low=0, high=1, high_open=True, auto=True),
        Float("bias_lr_mult", AUTO, low=0, low_open=True, auto=True),
        Float("bias_wd_mult", AUTO, low=0, auto=True),
        Categorical(
            "binary_classifier_model_selection_criteria",
            "accuracy",
            choices=(
                "accuracy",
                "f1",
                "f_beta",
                "precision_at_target_recall",
                "recall_at_target_precision",
                "loss_function",
                "cross_entropy_loss",
            ),
        ),
        Integer("early_stopping_patience", 3, low=1),
        Float("early_stopping_tolerance", 0.001, low=0, low_open=True),
        Integer("epochs", 15, low=1),
        Float("f_beta", 1.0, low=0, low_open=True),
        Float("huber_delta", 1.0, low=0, low_open=True),
        Float("init_bias", 0.0),
        Categorical("init_method", "uniform", choices=("uniform", "normal")),
        Float("init_scale", 0.07, low=0, low_open=True),
        Float("init_sigma", 0.01, low=0, low_open=True),
        Float("l1", AUTO, low=0, auto=True),
        Float("learning_rate", AUTO, low=0, low_open=True, auto=True),
        Categorical(
            "loss",
            AUTO,
            choices=(AUTO, *REGRESSION_LOSSES, "logistic", "hinge_loss", "softmax_loss"),
        ),
        Float("loss_insensitivity", 0.01, low=0, low_open=True),
        Float("lr_scheduler_factor", AUTO, low=0, high=1, low_open=True, high_open=True, auto=True),
        Float("lr_scheduler_minimum_lr", AUTO, low=0, low_open=True, auto=True),
        Integer("lr_scheduler_step", AUTO, low=1, auto=True),
        Float("margin", 1.0, low=0, low_open=True),
        Integer("mini_batch_size", 1000, low=1),
        Float("momentum", AUTO, low=0, high=1, high_open=True, auto=True),
        Boolean("normalize_data", True, auto=True),
        Boolean("normalize_label", AUTO, auto=True),
        Integer("num_calibration_samples", AUTO, low=1, auto=True),
        Integer("num_models", AUTO, low=1, auto=True),
        Integer("num_point_for_scaler", 10000, low=1),
        Categorical("optimizer", AUTO, choices=(AUTO, "sgd", "adam", "rmsprop")),
        Float(
            "positive_example_weight_mult",
            1.0,
            low=0,
            low_open=True,
            auto=True,
            words=("balanced",),
        ),
        Float("quantile", 0.5, low=0, high=1, low_open=True, high_open=True),
        Float("target_precision", 0.8, low=0, high=1),
        Float("target_recall", 0.8, low=0, high=1),
        Boolean("unbias_data", AUTO, auto=True),
        Boolean("unbias_label", AUTO, auto=True),
        Boolean("use_bias", True),
        Boolean("use_lr_scheduler", True),
        Float("wd", AUTO, low=0, auto=True),
        Text(TUNING_OBJECTIVE, None, hint="a linear learner metric such as 'validation:mse'"),
    ),
)


def _auto(value: Any, default: Any) -> Any:
    return default if value == AUTO else value


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * z)))


def _softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return np.asarray(e / e.sum(axis=1, keepdims=True))


class _Loss:
    """A loss on scores ``S (n, k)``: per-row values and the gradient with respect to ``S``."""

    def __init__(self, kind: str, *, margin: float, quantile: float, delta: float, eps: float):
        self.kind, self.margin, self.quantile, self.delta, self.eps = (
            kind,
            margin,
            quantile,
            delta,
            eps,
        )

    def __call__(self, S: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        kind = self.kind
        if kind in REGRESSION_LOSSES:
            r = S[:, 0] - y
            a = np.abs(r)
            if kind == "squared_loss":
                loss, g = r * r, 2 * r
            elif kind == "absolute_loss":
                loss, g = a, np.sign(r)
            elif kind == "eps_insensitive_squared_loss":
                m = np.maximum(a - self.eps, 0.0)
                loss, g = m * m, 2 * m * np.sign(r)
            elif kind == "eps_insensitive_absolute_loss":
                loss, g = np.maximum(a - self.eps, 0.0), np.sign(r) * (a > self.eps)
            elif kind == "quantile_loss":
                u = -r
                q = self.quantile
                loss = np.maximum(q * u, (q - 1) * u)
                g = np.where(u > 0, -q, 1 - q)
            else:
                d = self.delta
                loss = np.where(a <= d, 0.5 * r * r, d * (a - 0.5 * d))
                g = np.where(a <= d, r, d * np.sign(r))
            return loss, g[:, None]
        if S.shape[1] == 1:
            s = S[:, 0]
            if kind == "logistic":
                return np.logaddexp(0.0, s) - y * s, (_sigmoid(s) - y)[:, None]
            t = 2 * y - 1
            m = self.margin - t * s
            return np.maximum(m, 0.0), (-t * (m > 0))[:, None]
        onehot = np.zeros_like(S)
        onehot[np.arange(len(y)), y.astype(np.int64)] = 1.0
        if kind == "softmax_loss":
            top = S.max(axis=1)
            lse = top + np.log(np.exp(S - top[:, None]).sum(axis=1))
            return lse - S[np.arange(len(y)), y.astype(np.int64)], _softmax(S) - onehot
        if kind == "logistic":
            return (np.logaddexp(0.0, S) - onehot * S).sum(axis=1), _sigmoid(S) - onehot
        t = 2 * onehot - 1
        m = self.margin - t * S
        return np.maximum(m, 0.0).sum(axis=1), -t * (m > 0)


class LinearLearner(Algorithm):
    """Linear models trained with mini-batch stochastic optimisation."""

    name = "linear-learner"
    spec = SPEC

    weights_: np.ndarray
    bias_: np.ndarray
    threshold_: float
    loss_: str

    def __init__(
        self,
        *,
        predictor_type: str,
        feature_dim: int | str = AUTO,
        num_classes: int | None = None,
        accuracy_top_k: int = 3,
        balance_multiclass_weights: bool = False,
        beta_1: float | str = AUTO,
        beta_2: float | str = AUTO,
        bias_lr_mult: float | str = AUTO,
        bias_wd_mult: float | str = AUTO,
        binary_classifier_model_selection_criteria: str = "accuracy",
        early_stopping_patience: int = 3,
        early_stopping_tolerance: float = 0.001,
        epochs: int = 15,
        f_beta: float = 1.0,
        huber_delta: float = 1.0,
        init_bias: float = 0.0,
        init_method: str = "uniform",
        init_scale: float = 0.07,
        init_sigma: float = 0.01,
        l1: float | str = AUTO,
        learning_rate: float | str = AUTO,
        loss: str = AUTO,
        loss_insensitivity: float = 0.01,
        lr_scheduler_factor: float | str = AUTO,
        lr_scheduler_minimum_lr: float | str = AUTO,
        lr_scheduler_step: int | str = AUTO,
        margin: float = 1.0,
        mini_batch_size: int = 1000,
        momentum: float | str = AUTO,
        normalize_data: bool | str = True,
        normalize_label: bool | str = AUTO,
        num_calibration_samples: int | str = AUTO,
        num_models: int | str = AUTO,
        num_point_for_scaler: int = 10000,
        optimizer: str = AUTO,
        positive_example_weight_mult: float | str = 1.0,
        quantile: float = 0.5,
        target_precision: float = 0.8,
        target_recall: float = 0.8,
        unbias_data: bool | str = AUTO,
        unbias_label: bool | str = AUTO,
        use_bias: bool = True,
        use_lr_scheduler: bool = True,
        wd: float | str = AUTO,
        _tuning_objective_metric: str | None = None,
    ) -> None:
        self.predictor_type = predictor_type
        self.feature_dim = feature_dim
        self.num_classes = num_classes
        self.accuracy_top_k = accuracy_top_k
        self.balance_multiclass_weights = balance_multiclass_weights
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.bias_lr_mult = bias_lr_mult
        self.bias_wd_mult = bias_wd_mult
        self.binary_classifier_model_selection_criteria = binary_classifier_model_selection_criteria
        self.early_stopping_patience = early_stopping_patience
        self.early_stopping_tolerance = early_stopping_tolerance
        self.epochs = epochs
        self.f_beta = f_beta
        self.huber_delta = huber_delta
        self.init_bias = init_bias
        self.init_method = init_method
        self.init_scale = init_scale
        self.init_sigma = init_sigma
        self.l1 = l1
        self.learning_rate = learning_rate
        self.loss = loss
        self.loss_insensitivity = loss_insensitivity
        self.lr_scheduler_factor = lr_scheduler_factor
        self.lr_scheduler_minimum_lr = lr_scheduler_minimum_lr
        self.lr_scheduler_step = lr_scheduler_step
        self.margin = margin
        self.mini_batch_size = mini_batch_size
        self.momentum = momentum
        self.normalize_data = normalize_data
        self.normalize_label = normalize_label
        self.num_calibration_samples = num_calibration_samples
        self.num_models = num_models
        self.num_point_for_scaler = num_point_for_scaler
        self.optimizer = optimizer
        self.positive_example_weight_mult = positive_example_weight_mult
        self.quantile = quantile
        self.target_precision = target_precision
        self.target_recall = target_recall
        self.unbias_data = unbias_data
        self.unbias_label = unbias_label
        self.use_bias = use_bias
        self.use_lr_scheduler = use_lr_scheduler
        self.wd = wd
        self._tuning_objective_metric = _tuning_objective_metric

    # -- hyperparameters ---------------------------------------------------------------------

    def _check_params(self, params: dict[str, Any]) -> None:
        kind = params["predictor_type"]
        if kind == "multiclass_classifier" and params["num_classes"] is None:
            raise ValidationError(
                "Hyperparameter 'num_classes' is required when predictor_type is "
                "'multiclass_classifier' (an integer from 3 to 1000000)",
                details={"hyperparameter": "num_classes"},
            )
        loss = params["loss"]
        if loss != AUTO and loss not in LOSSES_BY_TYPE[kind]:
            raise ValidationError(
                f"Invalid value {loss!r} for hyperparameter 'loss' with predictor_type {kind!r}: "
                f"expected 'auto' or one of {', '.join(LOSSES_BY_TYPE[kind])}",
                details={"hyperparameter": "loss", "allowed": ["auto", *LOSSES_BY_TYPE[kind]]},
            )
        tuning = params[TUNING_OBJECTIVE]
        if tuning is not None:
            channel, _, metric = tuning.partition(":")
            if channel not in ("train", "validation", "test") or metric not in SCORE_NAMES:
                raise ValidationError(
                    f"Invalid value {tuning!r} for hyperparameter {TUNING_OBJECTIVE!r}: expected "
                    f"'<validation|test>:<metric>' with a metric from {', '.join(SCORE_NAMES)}",
                    details={"hyperparameter": TUNING_OBJECTIVE},
                )

    def _resolved_loss(self, params: dict[str, Any]) -> str:
        loss = params["loss"]
        return str(AUTO_LOSS[params["predictor_type"]] if loss == AUTO else loss)

    # -- learning ----------------------------------------------------------------------------

    def _labels(self, y: np.ndarray, params: dict[str, Any], channel: str) -> np.ndarray:
        kind = params["predictor_type"]
        if kind == "binary_classifier":
            bad = np.flatnonzero((y != 0) & (y != 1))
            if bad.size:
                raise ValidationError(
                    f"Channel {channel!r} row {bad[0] + 1}: label {y[bad[0]]!r}; a binary "
                    "classifier needs labels 0 or 1"
                )
        elif kind == "multiclass_classifier":
            k = params["num_classes"]
            bad = np.flatnonzero((y < 0) | (y >= k) | (y != np.round(y)))
            if bad.size:
                raise ValidationError(
                    f"Channel {channel!r} row {bad[0] + 1}: label {y[bad[0]]!r}; with "
                    f"num_classes={k} labels must be integers 0..{k - 1}"
                )
        return y

    def _row_weights(self, y: np.ndarray, params: dict[str, Any]) -> np.ndarray | None:
        kind = params["predictor_type"]
        if kind == "binary_classifier":
            mult = params["positive_example_weight_mult"]
            if mult in (AUTO, "balanced"):
                positives = max(float(np.sum(y == 1)), 1.0)
                mult = float(np.sum(y == 0)) / positives or 1.0
            if mult == 1.0:
                return None
            return np.where(y == 1, float(mult), 1.0)
        if kind == "multiclass_classifier" and params["balance_multiclass_weights"]:
            k = params["num_classes"]
            counts = np.bincount(y.astype(np.int64), minlength=k).astype(np.float64)
            per_class = len(y) / (k * np.maximum(counts, 1.0))
            return np.asarray(per_class[y.astype(np.int64)])
        return None

    def fit(
        self,
        X: Features,
        y: np.ndarray | None = None,
        *,
        sample_weight: np.ndarray | None = None,
        validation: Dataset | None = None,
        log: MetricLog | None = None,
    ) -> Self:
        """Train one linear model; report per-epoch objective losses to ``log``."""
        params = self.checked_params()
        features, labels = self._check_fit_input(X, y, feature_dim=params["feature_dim"])
        assert labels is not None
        labels = self._labels(labels, params, "train")
        log = log if log is not None else MetricLog()
        kind, loss_kind = params["predictor_type"], self._resolved_loss(params)
        self.loss_ = loss_kind
        n, d = features.shape
        k = params["num_classes"] if kind == "multiclass_classifier" else 1
        use_bias = params["use_bias"]

        # Feature and label scaling from the first rows, as AWS does.
        sample = features[: params["num_point_for_scaler"]]
        unbias = _auto(params["unbias_data"], use_bias)
        mean = sample.mean(axis=0) if unbias else np.zeros(d)
        scale = sample.std(axis=0) if _auto(params["normalize_data"], True) else np.ones(d)
        scale = np.where(scale > 0, scale, 1.0)
        regression = kind == "regressor"
        y_mean = (
            float(labels.mean()) if regression and _auto(params["unbias_label"], use_bias) else 0.0
        )
        y_scale = (
            float(labels.std()) if regression and _auto(params["normalize_label"], True) else 1.0
        )
        y_scale = y_scale if y_scale > 0 else 1.0
        Xn = (features - mean) / scale
        target = (labels - y_mean) / y_scale if regression else labels
        loss_fn = _Loss(
            loss_kind,
            margin=params["margin"],
            quantile=params["quantile"],
            delta=params["huber_delta"] / y_scale,
            eps=params["loss_insensitivity"] / y_scale,
        )
        row_weights = self._row_weights(labels, params)

        rng = np.random.default_rng(0)
        if params["init_method"] == "uniform":
            W = rng.uniform(-params["init_scale"], params["init_scale"], size=(d, k))
        else:
            W = rng.normal(0.0, params["init_sigma"], size=(d, k))
        b = np.full(k, params["init_bias"] if use_bias else 0.0)
        optimizer_kind = _auto(params["optimizer"], "adam")
        rate = float(_auto(params["learning_rate"], _AUTO_RATE[optimizer_kind]))
        optimizer = Optimizer(
            optimizer_kind,
            [W, b],
            momentum=float(_auto(params["momentum"], 0.9)),
            beta_1=float(_auto(params["beta_1"], 0.9)),
            beta_2=float(_auto(params["beta_2"], 0.999)),
        )
        wd, l1 = float(_auto(params["wd"], 0.0)), float(_auto(params["l1"], 0.0))
        bias_lr = float(_auto(params["bias_lr_mult"], 1.0))
        bias_wd = wd * float(_auto(params["bias_wd_mult"], 0.0))
        batch = params["mini_batch_size"]
        batches_per_epoch = max(1, -(-n // batch))
        schedule_step = int(_auto(params["lr_scheduler_step"], batches_per_epoch))
        schedule_factor = float(_auto(params["lr_scheduler_factor"], 0.95))
        minimum_rate = float(_auto(params["lr_scheduler_minimum_lr"], 1e-5))

        val: tuple[np.ndarray, np.ndarray] | None = None
        if validation is not None:
            val_y = self._labels(validation.require_labels("validation"), params, "validation")
            val_x = validation.with_columns(d)
            Dataset(val_x.features, val_y).check_finite("validation", allow_missing=False)
            val = (as_dense(val_x.features), val_y)
        objective = OBJECTIVE_NAMES.get(loss_kind, f"{loss_kind}_objective")
        best_loss, best_state, stale, step = np.inf, (W.copy(), b.copy()), 0, 0
        self._set_state(W, b, mean, scale, y_mean, y_scale, d, 0.5)
        for epoch in range(params["epochs"]):
            order = rng.permutation(n)
            total, count = 0.0, 0.0
            for start in range(0, n, batch):
                rows = order[start : start + batch]
                S = Xn[rows] @ W + b
                values, grad = loss_fn(S, target[rows])
                weight = row_weights[rows] if row_weights is not None else None
                if weight is not None:
                    values, grad = values * weight, grad * weight[:, None]
                total += float(values.sum())
                count += float(weight.sum()) if weight is not None else len(rows)
                norm = float(weight.sum()) if weight is not None else float(len(rows))
                grad_w = Xn[rows].T @ grad / norm + wd * W
                grad_b = (grad.sum(axis=0) / norm + bias_wd * b) if use_bias else np.zeros_like(b)
                optimizer.step([grad_w, grad_b], [rate, rate * bias_lr])
                if l1 > 0:
                    W[:] = np.sign(W) * np.maximum(np.abs(W) - rate * l1, 0.0)
                step += 1
                if params["use_lr_scheduler"] and step % schedule_step == 0:
                    rate = max(rate * schedule_factor, minimum_rate)
            power = 2 if loss_kind in ("squared_loss", "eps_insensitive_squared_loss") else 1
            train_loss = total / max(count, 1.0) * (y_scale**power if regression else 1.0)
            log.line(quality_metric_line(epoch, "train", objective, train_loss, batch=step))
            watched = train_loss
            if val is not None:
                self._set_state(W, b, mean, scale, y_mean, y_scale, d, 0.5)
                watched = self._objective(val[0], val[1], loss_kind, params)
                log.line(quality_metric_line(epoch, "validation", objective, watched))
            tolerance = params["early_stopping_tolerance"] * abs(best_loss)
            if not np.isfinite(best_loss) or watched < best_loss - tolerance:
                best_loss, best_state, stale = watched, (W.copy(), b.copy()), 0
            else:
                stale += 1
                if stale >= params["early_stopping_patience"]:
                    log.line(f"Early stop condition met. Stopping training after epoch {epoch}.")
                    break
            if not np.all(np.isfinite(W)):
                raise ValidationError(
                    "Training diverged (non-finite weights); lower learning_rate or normalize the "
                    "data (normalize_data=true)"
                )
        self._set_state(*best_state, mean, scale, y_mean, y_scale, d, 0.5)
        if kind == "binary_classifier":
            self.threshold_ = self._calibrate(features, labels, val, params, loss_kind)
        return self

    def _set_state(
        self,
        W: np.ndarray,
        b: np.ndarray,
        mean: np.ndarray,
        scale: np.ndarray,
        y_mean: float,
        y_scale: float,
        d: int,
        threshold: float,
    ) -> None:
        """Fold the scaling into weights in original units."""
        weights = W / scale[:, None]
        bias = b - mean @ weights
        self.weights_ = weights * y_scale
        self.bias_ = bias * y_scale + y_mean
        self.threshold_ = threshold
        self.n_features_in_ = d

    def _calibrate(
        self,
        features: np.ndarray,
        labels: np.ndarray,
        val: tuple[np.ndarray, np.ndarray] | None,
        params: dict[str, Any],
        loss_kind: str,
    ) -> float:
        x, y = val if val is not None else (features, labels)
        limit = params["num_calibration_samples"]
        if limit != AUTO:
            x, y = x[:limit], y[:limit]
        scores = self._scores(x)[:, 0]
        default = 0.5 if loss_kind == "logistic" else 0.0
        return choose_threshold(
            y,
            scores,
            criterion=params["binary_classifier_model_selection_criteria"],
            beta=params["f_beta"],
            target_precision=params["target_precision"],
            target_recall=params["target_recall"],
            default=default,
        )

    # -- predicting --------------------------------------------------------------------------

    def _scores(self, X: np.ndarray) -> np.ndarray:
        """Per-output scores: probabilities for logistic/softmax losses, raw values otherwise."""
        raw = X @ self.weights_ + self.bias_
        loss = self.loss_
        if loss == "logistic":
            return _sigmoid(raw)
        if loss == "softmax_loss":
            return _softmax(raw)
        return np.asarray(raw)

    def _objective(self, X: np.ndarray, y: np.ndarray, loss: str, params: dict[str, Any]) -> float:
        raw = X @ self.weights_ + self.bias_
        fn = _Loss(
            loss,
            margin=params["margin"],
            quantile=params["quantile"],
            delta=params["huber_delta"],
            eps=params["loss_insensitivity"],
        )
        return float(np.mean(fn(raw, y)[0]))

    def predict(self, X: Features) -> np.ndarray:
        """Regressor: the value; classifiers: the predicted label (as float)."""
        scores = self._scores(np.asarray(self._check_input(X)))
        kind = self.predictor_type
        if kind == "regressor":
            return np.asarray(scores[:, 0])
        if kind == "binary_classifier":
            return (scores[:, 0] >= self.threshold_).astype(np.float64)
        return np.asarray(np.argmax(scores, axis=1), dtype=np.float64)

    def predict_records(self, X: Features) -> list[dict[str, Any]]:
        """AWS linear learner response entries (``score`` and, for classifiers, the label)."""
        scores = self._scores(np.asarray(self._check_input(X)))
        kind = self.predictor_type
        if kind == "regressor":
            return [{"score": float(s)} for s in scores[:, 0]]
        if kind == "binary_classifier":
            return [
                {"score": float(s), "predicted_label": int(s >= self.threshold_)}
                for s in scores[:, 0]
            ]
        return [{"score": row.tolist(), "predicted_label": int(np.argmax(row))} for row in scores]

    def score(self, X: Features, y: np.ndarray | None, *, channel: str) -> dict[str, float]:
        """``<channel>:objective_loss`` plus the regression/binary/multiclass measures."""
        if y is None:
            return {}
        params = self.checked_params()
        x = np.asarray(self._check_input(X))
        y = self._labels(np.asarray(y, dtype=np.float64), params, channel)
        metrics = {"objective_loss": self._objective(x, y, self.loss_, params)}
        scores = self._scores(x)
        kind = params["predictor_type"]
        if kind == "regressor":
            metrics.update(regression_metrics(y, scores[:, 0]))
        elif kind == "binary_classifier":
            found = binary_metrics(
                y, scores[:, 0], threshold=self.threshold_, beta=params["f_beta"]
            )
            metrics.update({k: v for k, v in found.items() if np.isfinite(v)})
        else:
            metrics.update(
                multiclass_metrics(y, scores, top_k=params["accuracy_top_k"], beta=params["f_beta"])
            )
        return {f"{channel}:{name}": value for name, value in metrics.items()}

    @classmethod
    def metric_definitions(cls) -> tuple[MetricDefinition, ...]:
        return (
            quality_metric_definition("train:objective_loss", "train"),
            *score_definitions(("validation", "test"), SCORE_NAMES),
        )

    # -- artifacts ---------------------------------------------------------------------------

    def _save(self, model_dir: Path) -> tuple[list[str], dict[str, Any]]:
        save_arrays(
            model_dir / MODEL_FILE,
            {
                "weights": self.weights_,
                "bias": self.bias_,
                "threshold": np.asarray([self.threshold_]),
            },
        )
        return [MODEL_FILE], {"loss": self.loss_}

    @classmethod
    def _load(cls, model_dir: Path, manifest: dict[str, Any]) -> Self:
        estimator = cls._from_manifest(manifest)
        arrays = load_arrays(model_dir / MODEL_FILE)
        estimator.weights_ = arrays["weights"]
        estimator.bias_ = arrays["bias"]
        estimator.threshold_ = float(arrays["threshold"][0])
        estimator.loss_ = str(
            manifest.get("metadata", {}).get("loss") or AUTO_LOSS[estimator.predictor_type]
        )
        estimator.n_features_in_ = int(estimator.weights_.shape[0])
        return estimator
