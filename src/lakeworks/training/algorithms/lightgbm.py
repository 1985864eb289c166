"""LightGBM, with SageMaker's LightGBM hyperparameters (the library does the learning).

SageMaker offers LightGBM as a JumpStart script model rather than an image of its own; Lakeworks
runs it as a built-in algorithm (see :mod:`lakeworks.training.images` for the names it answers
to). The task follows the labels, as AWS describes it ("determined by the number of unique
integers in the label column"): labels that are all non-negative integers with at most 20
distinct values make a classification (binary with values 0 and 1 only, else multiclass with
``num_class = max label + 1``), anything else a regression; an explicit ``metric`` of one kind
decides instead (``rmse`` … regression, ``auc`` … classification). ``metric=auto`` means
``rmse``, ``binary_logloss`` or ``multi_logloss``.

Training uses ``train`` and, when present, ``validation`` (early stopping after
``early_stopping_rounds`` rounds without improvement on it; ``<= 0`` disables it). Each round logs
``[i]#011validation's rmse: 0.41`` and the final metrics are named as AWS names them — the bare
metric (``rmse``, ``auc`` …), from the validation channel when there is one.
``use_dask`` is accepted and has no effect (one machine).

Artifact ``lightgbm-model.txt``: LightGBM's text model (best iteration only);
``lightgbm.Booster(model_file=...)`` reads it. Response entries: regression ``{"score"}``;
classification ``{"probabilities": [...], "predicted_label"}``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Self

import lightgbm as lgb
import numpy as np
import scipy.sparse as sp

from lakeworks.core.errors import ValidationError
from lakeworks.training.algorithms.base import Algorithm
from lakeworks.training.algorithms.hyperparameters import (
    AUTO,
    TUNING_OBJECTIVE,
    Categorical,
    Float,
    HyperparameterSpec,
    Integer,
    Text,
)
from lakeworks.training.formats.channel import CSV, LIBSVM, PARQUET, RECORDIO_PROTOBUF
from lakeworks.training.formats.dataset import Dataset, Features
from lakeworks.training.metrics import (
    MetricDefinition,
    MetricLog,
    lightgbm_definition,
    lightgbm_line,
)

__all__ = ["LightGBM"]

MODEL_FILE = "lightgbm-model.txt"
REGRESSION_METRICS = ("rmse", "l1", "l2", "huber", "fair")
CLASSIFICATION_METRICS = (
    "binary_logloss",
    "binary_error",
    "auc",
    "average_precision",
    "multi_logloss",
    "multi_error",
    "auc_mu",
    "cross_entropy",
)
MAX_CLASSES = 20
_TF = ("True", "False")

SPEC = HyperparameterSpec(
    "lightgbm",
    (
        Integer("num_boost_round", 100, low=1),
        Integer("early_stopping_rounds", 10),
        Categorical("metric", AUTO, choices=(AUTO, *REGRESSION_METRICS, *CLASSIFICATION_METRICS)),
        Float("learning_rate", 0.1, low=0, high=1, low_open=True, high_open=True),
        Integer("num_leaves", 64, low=2, high=131072),
        Float("feature_fraction", 0.9, low=0, high=1, low_open=True),
        Float("bagging_fraction", 0.9, low=0, high=1, low_open=True),
        Integer("bagging_freq", 1, low=0),
        Integer("max_depth", 6),
        Integer("min_data_in_leaf", 3, low=0),
        Float("max_delta_step", 0.0),
        Float("lambda_l1", 0.0, low=0),
        Float("lambda_l2", 0.0, low=0),
        Categorical("boosting", "gbdt", choices=("gbdt", "rf", "dart", "goss")),
        Float("min_gain_to_split", 0.0, low=0),
        Float("scale_pos_weight", 1.0, low=0, low_open=True),
        Categorical("tree_learner", "serial", choices=("serial", "feature", "data", "voting")),
        Float("feature_fraction_bynode", 1.0, low=0, high=1, low_open=True),
        Categorical("is_unbalance", "False", choices=_TF),
        Integer("max_bin", 255, low=2),
        Float("tweedie_variance_power", 1.5, low=1, high=2, high_open=True),
        Integer("num_threads", 0, low=0),
        Integer("verbosity", 1),
        Categorical("use_dask", "False", choices=_TF),
        Text(TUNING_OBJECTIVE, None, hint="a LightGBM metric name such as 'rmse' or 'auc'"),
    ),
)
_PASSED = (
    "learning_rate",
    "num_leaves",
    "feature_fraction",
    "bagging_fraction",
    "bagging_freq",
    "max_depth",
    "min_data_in_leaf",
    "max_delta_step",
    "lambda_l1",
    "lambda_l2",
    "boosting",
    "min_gain_to_split",
    "tree_learner",
    "feature_fraction_bynode",
    "max_bin",
    "num_threads",
    "verbosity",
)


def detect_task(labels: np.ndarray, metric: str) -> tuple[str, int]:
    """``("regression" | "binary" | "multiclass", num_class)`` for these labels and ``metric``."""
    integral = bool(np.all(labels == np.round(labels)) and np.all(labels >= 0))
    distinct = np.unique(labels)
    if metric in REGRESSION_METRICS:
        return "regression", 1
    classification = metric in CLASSIFICATION_METRICS or (integral and len(distinct) <= MAX_CLASSES)
    if not classification:
        return "regression", 1
    if not integral:
        raise ValidationError(
            f"metric {metric!r} needs class labels 0, 1, 2 …; the train labels include "
            f"{float(distinct[~np.isclose(distinct, np.round(distinct)) | (distinct < 0)][0])!r}"
        )
    if metric.startswith("multi") or metric == "auc_mu" or distinct.max() > 1:
        return "multiclass", int(distinct.max()) + 1
    return "binary", 2


class LightGBM(Algorithm):
    """Gradient-boosted trees with the LightGBM library."""

    name = "lightgbm"
    spec = SPEC
    content_types = (CSV, LIBSVM, PARQUET, RECORDIO_PROTOBUF)
    default_content_type = CSV
    extra_channels = ("validation",)
    accepts_missing = True
    accepts_sparse = True

    booster_: lgb.Booster
    task_: str
    num_class_: int

    def __init__(
        self,
        *,
        num_boost_round: int = 100,
        early_stopping_rounds: int = 10,
        metric: str = AUTO,
        learning_rate: float = 0.1,
        num_leaves: int = 64,
        feature_fraction: float = 0.9,
        bagging_fraction: float = 0.9,
        bagging_freq: int = 1,
        max_depth: int = 6,
        min_data_in_leaf: int = 3,
        max_delta_step: float = 0.0,
        lambda_l1: float = 0.0,
        lambda_l2: float = 0.0,
        boosting: str = "gbdt",
        min_gain_to_split: float = 0.0,
        scale_pos_weight: float = 1.0,
        tree_learner: str = "serial",
        feature_fraction_bynode: float = 1.0,
        is_unbalance: str = "False",
        max_bin: int = 255,
        tweedie_variance_power: float = 1.5,
        num_threads: int = 0,
        verbosity: int = 1,
        use_dask: str = "False",
        _tuning_objective_metric: str | None = None,
    ) -> None:
        self.num_boost_round = num_boost_round
        self.early_stopping_rounds = early_stopping_rounds
        self.metric = metric
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.feature_fraction = feature_fraction
        self.bagging_fraction = bagging_fraction
        self.bagging_freq = bagging_freq
        self.max_depth = max_depth
        self.min_data_in_leaf = min_data_in_leaf
        self.max_delta_step = max_delta_step
        self.lambda_l1 = lambda_l1
        self.lambda_l2 = lambda_l2
        self.boosting = boosting
        self.min_gain_to_split = min_gain_to_split
        self.scale_pos_weight = scale_pos_weight
        self.tree_learner = tree_learner
        self.feature_fraction_bynode = feature_fraction_bynode
        self.is_unbalance = is_unbalance
        self.max_bin = max_bin
        self.tweedie_variance_power = tweedie_variance_power
        self.num_threads = num_threads
        self.verbosity = verbosity
        self.use_dask = use_dask
        self._tuning_objective_metric = _tuning_objective_metric

    def _check_params(self, params: dict[str, Any]) -> None:
        if params["is_unbalance"] == "True" and params["scale_pos_weight"] != 1.0:
            raise ValidationError(
                "is_unbalance='True' cannot be combined with scale_pos_weight; set one of them",
                details={"hyperparameter": "scale_pos_weight"},
            )
        tuning = params[TUNING_OBJECTIVE]
        if tuning is not None and tuning not in (*REGRESSION_METRICS, *CLASSIFICATION_METRICS):
            raise ValidationError(
                f"Invalid value {tuning!r} for hyperparameter {TUNING_OBJECTIVE!r}: expected a "
                "LightGBM metric name such as 'rmse' or 'auc'",
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
        """Boost up to ``num_boost_round`` rounds; early-stop on ``validation`` if given."""
        params = self.checked_params()
        features, labels = self._check_fit_input(X, y)
        assert labels is not None
        log = log if log is not None else MetricLog()
        task, num_class = detect_task(labels, params["metric"])
        if task == "binary" and params["metric"].startswith("multi"):
            task, num_class = "multiclass", max(num_class, 2)
        metric = params["metric"]
        if metric == AUTO:
            metric = {"regression": "rmse", "binary": "binary_logloss"}.get(task, "multi_logloss")
        train_params: dict[str, Any] = {name: params[name] for name in _PASSED}
        train_params.update(objective=task, metric=metric, deterministic=True)
        if task == "multiclass":
            train_params["num_class"] = num_class
            if labels.max() >= num_class:
                raise ValidationError(f"Labels must be below {num_class} for {num_class} classes")
        if task == "binary":
            train_params["scale_pos_weight"] = params["scale_pos_weight"]
            train_params["is_unbalance"] = params["is_unbalance"] == "True"
        data = sp.csr_matrix(features) if sp.issparse(features) else np.asarray(features)
        train_set = lgb.Dataset(data, label=labels, weight=sample_weight, free_raw_data=False)
        sets, names = [train_set], ["train"]
        if validation is not None:
            val = validation.with_columns(data.shape[1])
            val_labels = validation.require_labels("validation")
            val_data = sp.csr_matrix(val.features) if val.is_sparse else np.asarray(val.features)
            sets = [lgb.Dataset(val_data, label=val_labels, reference=train_set)]
            names = ["validation"]
        last: dict[str, float] = {}

        def report(env: Any) -> None:
            results = [
                (name, float(value)) for _data, name, value, *_ in env.evaluation_result_list
            ]
            last.update(results)
            log.line(lightgbm_line(env.iteration + 1, names[0], results))

        callbacks: list[Any] = [report]
        if validation is not None and params["early_stopping_rounds"] > 0:
            callbacks.append(lgb.early_stopping(params["early_stopping_rounds"], verbose=False))
        try:
            booster = lgb.train(
                train_params,
                train_set,
                num_boost_round=params["num_boost_round"],
                valid_sets=sets,
                valid_names=names,
                callbacks=callbacks,
            )
        except lgb.basic.LightGBMError as exc:
            raise ValidationError(f"LightGBM rejected the data or parameters: {exc}") from None
        self.booster_ = booster
        self.task_, self.num_class_ = task, num_class
        self.n_features_in_ = int(data.shape[1])
        for name, value in last.items():
            log.final(name, value)
        return self

    def _raw(self, X: Features) -> np.ndarray:
        data = self._check_input(X, dense=False)
        best = self.booster_.best_iteration or None
        return np.asarray(self.booster_.predict(data, num_iteration=best))

    def predict(self, X: Features) -> np.ndarray:
        """Regression: the value; classification: the predicted class (as float)."""
        out = self._raw(X)
        if self.task_ == "regression":
            return out
        if self.task_ == "binary":
            return (out >= 0.5).astype(np.float64)
        return np.asarray(np.argmax(out, axis=1), dtype=np.float64)

    def predict_records(self, X: Features) -> list[dict[str, Any]]:
        """``{"score"}`` (regression) or ``{"probabilities", "predicted_label"}`` per row."""
        out = self._raw(X)
        if self.task_ == "regression":
            return [{"score": float(v)} for v in out]
        probabilities = np.column_stack([1 - out, out]) if self.task_ == "binary" else out
        return [
            {"probabilities": row.tolist(), "predicted_label": int(np.argmax(row))}
            for row in probabilities
        ]

    @classmethod
    def metric_definitions(cls) -> tuple[MetricDefinition, ...]:
        return tuple(lightgbm_definition(m) for m in (*REGRESSION_METRICS, *CLASSIFICATION_METRICS))

    def _save(self, model_dir: Path) -> tuple[list[str], dict[str, Any]]:
        best = self.booster_.best_iteration or None
        self.booster_.save_model(str(model_dir / MODEL_FILE), num_iteration=best)
        return [MODEL_FILE], {"task": self.task_, "num_class": self.num_class_}

    @classmethod
    def _load(cls, model_dir: Path, manifest: dict[str, Any]) -> Self:
        estimator = cls._from_manifest(manifest)
        text = (model_dir / MODEL_FILE).read_text()
        if not text.startswith("tree"):
            raise ValidationError(f"{model_dir / MODEL_FILE} is not a LightGBM text model")
        estimator.booster_ = lgb.Booster(model_str=text)
        metadata = manifest.get("metadata", {})
        estimator.task_ = str(metadata.get("task", "regression"))
        estimator.num_class_ = int(metadata.get("num_class", 1))
        return estimator
