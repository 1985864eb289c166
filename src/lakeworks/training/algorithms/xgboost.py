"""XGBoost, as SageMaker's XGBoost algorithm container runs it (the library does the learning).

Hyperparameters are the container's (``sagemaker-xgboost`` 1.7-1: ``num_round`` required, the
rest with XGBoost's defaults). As the container does, only hyperparameters that differ from their
default are handed to ``xgboost.train``, so a model trained here equals one trained with
``xgboost.train`` and the same parameters. Differences, all because XGBoost itself changed:

* ``tree_method=gpu_hist`` runs ``hist`` on the CPU (no GPU here);
* ``lambda_bias``, ``predictor``, ``single_precision_histogram``, ``sketch_eps``, ``dsplit``,
  ``prob_buffer_row``, ``deterministic_histogram``, ``use_dask_gpu_training`` and
  ``save_model_on_termination`` are accepted and have no effect (removed from XGBoost or
  meaningful only on GPUs / Dask clusters);
* ``reg:linear`` is trained as ``reg:squarederror`` (its current name);
* the container's hidden ``_kfold`` cross-validation mode is not offered.

Metrics: XGBoost's own ``eval_metric`` names plus the container's extras (``accuracy``, ``f1``,
``mse``, ``r2`` …), logged per round as ``[i]#011train-rmse:…#011validation-rmse:…`` and reported
finally as ``train:<metric>`` / ``validation:<metric>``. ``_tuning_objective_metric`` (set by
tuning jobs) adds its metric last, which also makes it the early-stopping metric.

Artifact: ``xgboost-model``, the booster in XGBoost's UBJSON format (what XGBoost writes for a
name without extension); ``xgboost.Booster().load_model(path)`` reads it. With early stopping the
file holds the best iteration's model, which is what SageMaker hosting serves.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

import numpy as np
import scipy.sparse as sp
import xgboost as xgb

from lakeworks.core.errors import ValidationError
from lakeworks.training.algorithms.base import MANIFEST, Algorithm
from lakeworks.training.algorithms.hyperparameters import (
    TUNING_OBJECTIVE,
    Categorical,
    Float,
    HyperparameterSpec,
    Integer,
    IntegerTuple,
    NestedIntegerList,
    StringList,
    Text,
)
from lakeworks.training.formats.channel import CSV, LIBSVM, PARQUET, RECORDIO_PROTOBUF
from lakeworks.training.formats.dataset import Dataset, Features
from lakeworks.training.metrics import MetricDefinition, MetricLog, xgboost_definition, xgboost_line

__all__ = ["XGBoost"]

MODEL_FILE = "xgboost-model"
OBJECTIVES = (
    "binary:hinge",
    "binary:logistic",
    "binary:logitraw",
    "count:poisson",
    "multi:softmax",
    "multi:softprob",
    "rank:map",
    "rank:ndcg",
    "rank:pairwise",
    "reg:absoluteerror",
    "reg:gamma",
    "reg:linear",
    "reg:logistic",
    "reg:pseudohubererror",
    "reg:squarederror",
    "reg:squaredlogerror",
    "reg:tweedie",
    "survival:aft",
    "survival:cox",
)
#: XGBoost's own metrics (``error@t``, ``ndcg@n``, ``map@n`` also allowed).
NATIVE_METRICS = (
    "aft-nloglik",
    "auc",
    "aucpr",
    "cox-nloglik",
    "error",
    "gamma-deviance",
    "gamma-nloglik",
    "interval-regression-accuracy",
    "logloss",
    "mae",
    "map",
    "mape",
    "merror",
    "mlogloss",
    "mphe",
    "ndcg",
    "poisson-nloglik",
    "pre",
    "rmse",
    "rmsle",
    "tweedie-nloglik",
)
#: Metrics the SageMaker container computes itself (scikit-learn definitions).
EXTRA_METRICS = (
    "accuracy",
    "balanced_accuracy",
    "f1",
    "f1_binary",
    "f1_macro",
    "mse",
    "precision",
    "precision_macro",
    "precision_micro",
    "r2",
    "recall",
    "recall_macro",
    "recall_micro",
)
MAXIMIZE = frozenset(
    {"auc", "aucpr", "map", "ndcg", "pre", "interval-regression-accuracy", *EXTRA_METRICS} - {"mse"}
)
#: Hyperparameters that are not XGBoost parameters, or that current XGBoost no longer has.
_NOT_PASSED = frozenset(
    {
        "num_round",
        "early_stopping_rounds",
        "csv_weights",
        "eval_metric",
        TUNING_OBJECTIVE,
        "save_model_on_termination",
        "use_dask_gpu_training",
        "lambda_bias",
        "predictor",
        "single_precision_histogram",
        "sketch_eps",
        "dsplit",
        "prob_buffer_row",
        "deterministic_histogram",
    }
)
#: XGBoost errors that are the data's fault (the container's CUSTOMER_ERRORS).
_USER_ERRORS = (
    "label must be in [0,1]",
    "label must be in [0, num_class)",
    "feature_names mismatch",
    "preds.size() == info.labels_.size()",
    "dataset only contains pos or neg samples",
    "base_score must be in (0,1)",
    "label must be nonnegative",
    "should be greater equal to 0",
    "Check failed: info.labels.Size()",
    "labels are not correctly provided",
    "Invalid Parameter",
    "Unknown objective",
    "Unknown metric",
    "is only supported",
    "must be in",
)

_TRUE_FALSE = ("true", "false")
SPEC = HyperparameterSpec(
    "xgboost",
    (
        Integer("num_round", low=1, doc="Boosting rounds"),
        Integer("num_class", None, low=2, doc="Classes; required for multi:softmax/softprob"),
        Float("alpha", 0.0, low=0),
        Float("base_score", None, low=0, doc="Initial score; unset lets XGBoost estimate it"),
        Categorical("booster", "gbtree", choices=("gbtree", "gblinear", "dart")),
        Float("colsample_bylevel", 1.0, low=0, high=1, low_open=True),
        Float("colsample_bynode", 1.0, low=0, high=1, low_open=True),
        Float("colsample_bytree", 1.0, low=0, high=1, low_open=True),
        Integer("csv_weights", 0, low=0, high=1, doc="1: CSV column 2 holds instance weights"),
        Categorical("deterministic_histogram", "true", choices=_TRUE_FALSE),
        Integer("early_stopping_rounds", None, low=1),
        Float("eta", 0.3, low=0, high=1),
        StringList("eval_metric", None, open_choices=True),
        Float("gamma", 0.0, low=0),
        Categorical("grow_policy", "depthwise", choices=("depthwise", "lossguide")),
        NestedIntegerList("interaction_constraints", None),
        Float("lambda", 1.0, low=0),
        Float("lambda_bias", 0.0, low=0, high=1),
        Integer("max_bin", 256, low=2),
        Float("max_delta_step", 0.0, low=0),
        Integer("max_depth", 6, low=0),
        Integer("max_leaves", 0, low=0),
        Float("min_child_weight", 1.0, low=0),
        IntegerTuple("monotone_constraints", None, choices=(-1, 0, 1)),
        Categorical("normalize_type", "tree", choices=("tree", "forest")),
        Integer("nthread", None, low=1),
        Integer("num_parallel_tree", 1, low=1),
        Categorical("objective", "reg:squarederror", choices=OBJECTIVES),
        Integer("one_drop", 0, low=0, high=1),
        Categorical("predictor", "auto", choices=("auto", "cpu_predictor", "gpu_predictor")),
        Integer("prob_buffer_row", None, low=2),
        Categorical("process_type", "default", choices=("default", "update")),
        Float("rate_drop", 0.0, low=0, high=1),
        Integer("refresh_leaf", 1, low=0, high=1),
        Categorical("sample_type", "uniform", choices=("uniform", "weighted")),
        Categorical("sampling_method", "uniform", choices=("uniform", "gradient_based")),
        Categorical("save_model_on_termination", "false", choices=_TRUE_FALSE),
        Float("scale_pos_weight", 1.0, low=0, low_open=True),
        Integer("seed", 0, low=-(2**31) + 1, high=2**31 - 2),
        Categorical("single_precision_histogram", "false", choices=_TRUE_FALSE),
        Float("sketch_eps", 0.03, low=0, high=1, low_open=True, high_open=True),
        Float("skip_drop", 0.0, low=0, high=1),
        Float("subsample", 1.0, low=0, high=1, low_open=True),
        Categorical("tree_method", "auto", choices=("auto", "exact", "approx", "hist", "gpu_hist")),
        Float("tweedie_variance_power", 1.5, low=1, high=2, low_open=True, high_open=True),
        StringList(
            "updater",
            None,
            choices=(
                "grow_colmaker",
                "distcol",
                "grow_histmaker",
                "grow_local_histmaker",
                "grow_skmaker",
                "grow_quantile_histmaker",
                "sync",
                "refresh",
                "prune",
                "shotgun",
                "coord_descent",
            ),
        ),
        Categorical("dsplit", "row", choices=("row", "col")),
        Integer("verbosity", 1, low=0, high=3),
        Categorical("aft_loss_distribution", "normal", choices=("normal", "logistic", "extreme")),
        Float("aft_loss_distribution_scale", 1.0, low=0),
        Categorical("use_dask_gpu_training", "false", choices=_TRUE_FALSE),
        Text(TUNING_OBJECTIVE, None, hint="'validation:<metric>' or 'train:<metric>'"),
    ),
)


def _metric_ok(metric: str) -> bool:
    name, at, threshold = metric.partition("@")
    if at:
        if name not in ("error", "ndcg", "map"):
            return False
        try:
            float(threshold.rstrip("-"))
        except ValueError:
            return False
        return True
    return metric in NATIVE_METRICS or metric in EXTRA_METRICS


def _extra_metric(name: str, objective: str) -> Callable[[np.ndarray, np.ndarray], float]:
    from sklearn import metrics as skm

    def labels_of(predt: np.ndarray) -> np.ndarray:
        if predt.ndim == 2:
            return np.asarray(np.argmax(predt, axis=1), dtype=np.float64)
        if objective.startswith(("binary:logistic", "reg:logistic")):
            return (predt > 0.5).astype(np.float64)
        if objective == "binary:logitraw":
            return (predt > 0).astype(np.float64)
        return np.round(predt)

    def fn(y: np.ndarray, predt: np.ndarray) -> float:
        if name in ("mse", "r2"):
            scorer = skm.mean_squared_error if name == "mse" else skm.r2_score
            return float(scorer(y, predt))
        predicted = labels_of(predt)
        if name == "accuracy":
            return float(skm.accuracy_score(y, predicted))
        if name == "balanced_accuracy":
            return float(skm.balanced_accuracy_score(y, predicted))
        base, _, average = name.partition("_")
        average = {"": "binary", "binary": "binary"}.get(average, average)
        if base == "f1" and name == "f1":
            average = "binary" if len(np.unique(y)) <= 2 else "macro"
        scorer = {"f1": skm.f1_score, "precision": skm.precision_score, "recall": skm.recall_score}
        return float(scorer[base](y, predicted, average=average, zero_division=0))

    return fn


class _Report(xgb.callback.TrainingCallback):
    """Logs each round in the container's format and keeps the last values."""

    def __init__(self, log: MetricLog) -> None:
        self.log = log
        self.last: dict[str, float] = {}

    def after_iteration(self, model: Any, epoch: int, evals_log: dict[str, Any]) -> bool:
        results = [
            (channel, metric, float(np.ravel(values[-1])[0]))
            for channel, by_metric in evals_log.items()
            for metric, values in by_metric.items()
        ]
        for channel, metric, value in results:
            self.last[f"{channel}:{metric}"] = value
        self.log.line(xgboost_line(epoch, results))
        return False


class XGBoost(Algorithm):
    """Gradient-boosted trees (or linear models) with the XGBoost library."""

    name = "xgboost"
    spec = SPEC
    content_types = (LIBSVM, CSV, PARQUET, RECORDIO_PROTOBUF)
    default_content_type = LIBSVM
    extra_channels = ("validation",)
    accepts_missing = True
    accepts_sparse = True

    booster_: xgb.Booster

    def __init__(
        self,
        *,
        num_round: int,
        num_class: int | None = None,
        alpha: float = 0.0,
        base_score: float | None = None,
        booster: str = "gbtree",
        colsample_bylevel: float = 1.0,
        colsample_bynode: float = 1.0,
        colsample_bytree: float = 1.0,
        csv_weights: int = 0,
        deterministic_histogram: str = "true",
        early_stopping_rounds: int | None = None,
        eta: float = 0.3,
        eval_metric: tuple[str, ...] | None = None,
        gamma: float = 0.0,
        grow_policy: str = "depthwise",
        interaction_constraints: tuple[tuple[int, ...], ...] | None = None,
        lambda_: float = 1.0,
        lambda_bias: float = 0.0,
        max_bin: int = 256,
        max_delta_step: float = 0.0,
        max_depth: int = 6,
        max_leaves: int = 0,
        min_child_weight: float = 1.0,
        monotone_constraints: tuple[int, ...] | None = None,
        normalize_type: str = "tree",
        nthread: int | None = None,
        num_parallel_tree: int = 1,
        objective: str = "reg:squarederror",
        one_drop: int = 0,
        predictor: str = "auto",
        prob_buffer_row: int | None = None,
        process_type: str = "default",
        rate_drop: float = 0.0,
        refresh_leaf: int = 1,
        sample_type: str = "uniform",
        sampling_method: str = "uniform",
        save_model_on_termination: str = "false",
        scale_pos_weight: float = 1.0,
        seed: int = 0,
        single_precision_histogram: str = "false",
        sketch_eps: float = 0.03,
        skip_drop: float = 0.0,
        subsample: float = 1.0,
        tree_method: str = "auto",
        tweedie_variance_power: float = 1.5,
        updater: tuple[str, ...] | None = None,
        dsplit: str = "row",
        verbosity: int = 1,
        aft_loss_distribution: str = "normal",
        aft_loss_distribution_scale: float = 1.0,
        use_dask_gpu_training: str = "false",
        _tuning_objective_metric: str | None = None,
    ) -> None:
        self.num_round = num_round
        self.num_class = num_class
        self.alpha = alpha
        self.base_score = base_score
        self.booster = booster
        self.colsample_bylevel = colsample_bylevel
        self.colsample_bynode = colsample_bynode
        self.colsample_bytree = colsample_bytree
        self.csv_weights = csv_weights
        self.deterministic_histogram = deterministic_histogram
        self.early_stopping_rounds = early_stopping_rounds
        self.eta = eta
        self.eval_metric = eval_metric
        self.gamma = gamma
        self.grow_policy = grow_policy
        self.interaction_constraints = interaction_constraints
        self.lambda_ = lambda_
        self.lambda_bias = lambda_bias
        self.max_bin = max_bin
        self.max_delta_step = max_delta_step
        self.max_depth = max_depth
        self.max_leaves = max_leaves
        self.min_child_weight = min_child_weight
        self.monotone_constraints = monotone_constraints
        self.normalize_type = normalize_type
        self.nthread = nthread
        self.num_parallel_tree = num_parallel_tree
        self.objective = objective
        self.one_drop = one_drop
        self.predictor = predictor
        self.prob_buffer_row = prob_buffer_row
        self.process_type = process_type
        self.rate_drop = rate_drop
        self.refresh_leaf = refresh_leaf
        self.sample_type = sample_type
        self.sampling_method = sampling_method
        self.save_model_on_termination = save_model_on_termination
        self.scale_pos_weight = scale_pos_weight
        self.seed = seed
        self.single_precision_histogram = single_precision_histogram
        self.sketch_eps = sketch_eps
        self.skip_drop = skip_drop
        self.subsample = subsample
        self.tree_method = tree_method
        self.tweedie_variance_power = tweedie_variance_power
        self.updater = updater
        self.dsplit = dsplit
        self.verbosity = verbosity
        self.aft_loss_distribution = aft_loss_distribution
        self.aft_loss_distribution_scale = aft_loss_distribution_scale
        self.use_dask_gpu_training = use_dask_gpu_training
        self._tuning_objective_metric = _tuning_objective_metric

    # -- hyperparameters ---------------------------------------------------------------------

    def _check_params(self, params: dict[str, Any]) -> None:
        objective = params["objective"]
        if objective.startswith("multi:") and params["num_class"] is None:
            raise ValidationError(
                f"Hyperparameter 'num_class' is required when objective is {objective!r}",
                details={"hyperparameter": "num_class"},
            )
        metrics = list(params["eval_metric"] or ())
        tuning = params[TUNING_OBJECTIVE]
        if tuning is not None:
            channel, _, metric = tuning.partition(":")
            if channel not in ("train", "validation") or not _metric_ok(metric):
                raise ValidationError(
                    f"Invalid value {tuning!r} for hyperparameter {TUNING_OBJECTIVE!r}: expected "
                    "'validation:<metric>' or 'train:<metric>' with an XGBoost metric",
                    details={"hyperparameter": TUNING_OBJECTIVE},
                )
            metrics.append(metric)
        for metric in metrics:
            if not _metric_ok(metric):
                raise ValidationError(
                    f"Invalid eval_metric {metric!r}: allowed are "
                    f"{', '.join(NATIVE_METRICS + EXTRA_METRICS)} and error@t, ndcg@n, map@n",
                    details={"hyperparameter": "eval_metric"},
                )
            if metric.startswith("auc") and not objective.startswith(("binary:", "rank:")):
                raise ValidationError(
                    f"Metric {metric!r} applies only to binary: and rank: objectives, not "
                    f"{objective!r}",
                    details={"hyperparameter": "eval_metric"},
                )

    def uses_weight_column(self) -> bool:
        """``csv_weights=1``: the column after the label holds instance weights."""
        return bool(self.csv_weights == 1)

    def _metrics(self, params: dict[str, Any]) -> tuple[list[str], list[str]]:
        """``(native, extra)`` metric names, the tuning objective's metric last."""
        ordered = list(params["eval_metric"] or ())
        if params[TUNING_OBJECTIVE]:
            metric = params[TUNING_OBJECTIVE].partition(":")[2]
            if metric in ordered:
                ordered.remove(metric)
            ordered.append(metric)
        native = [m for m in ordered if m not in EXTRA_METRICS]
        extra = [m for m in ordered if m in EXTRA_METRICS]
        return native, extra

    def xgboost_params(self) -> dict[str, Any]:
        """The parameters handed to ``xgboost.train``: those differing from their default."""
        params = self.checked_params()
        out: dict[str, Any] = {"objective": params["objective"]}
        for name, value in params.items():
            if name in _NOT_PASSED or value is None or value == SPEC[name].default:
                continue
            if name == "monotone_constraints":
                value = "(" + ",".join(str(v) for v in value) + ")"
            elif name == "interaction_constraints":
                value = str([list(group) for group in value]).replace(" ", "")
            elif name == "updater":
                value = ",".join(value)
            out[name] = value
        if out["objective"] == "reg:linear":
            out["objective"] = "reg:squarederror"
        if out.get("tree_method") == "gpu_hist":
            out["tree_method"] = "hist"
        native, _extra = self._metrics(params)
        if native:
            out["eval_metric"] = native
        return out

    # -- learning ----------------------------------------------------------------------------

    def _dmatrix(self, X: Features, y: np.ndarray | None, weight: np.ndarray | None) -> xgb.DMatrix:
        data = sp.csr_matrix(X) if sp.issparse(X) else np.asarray(X, dtype=np.float64)
        return xgb.DMatrix(data, label=y, weight=weight, missing=np.nan)

    def fit(
        self,
        X: Features,
        y: np.ndarray | None = None,
        *,
        sample_weight: np.ndarray | None = None,
        validation: Dataset | None = None,
        log: MetricLog | None = None,
    ) -> Self:
        """Boost ``num_round`` rounds on ``X, y`` (early-stopping on ``validation`` if given)."""
        params = self.checked_params()
        features, labels = self._check_fit_input(X, y)
        log = log if log is not None else MetricLog()
        train_params = self.xgboost_params()
        evals = [(self._dmatrix(features, labels, sample_weight), "train")]
        if validation is not None:
            val_labels = validation.require_labels("validation")
            val = validation.with_columns(features.shape[1])
            evals.append((self._dmatrix(val.features, val_labels, val.weights), "validation"))
        native, extra = self._metrics(params)
        report = _Report(log)
        callbacks: list[xgb.callback.TrainingCallback] = [report]
        if params["early_stopping_rounds"]:
            watched = extra[-1] if extra else (native[-1] if native else None)
            callbacks.append(
                xgb.callback.EarlyStopping(
                    rounds=params["early_stopping_rounds"],
                    metric_name=watched,
                    data_name=evals[-1][1],
                    maximize=watched in MAXIMIZE if watched else None,
                    save_best=False,
                )
            )
        custom = self._custom_metric(extra, params["objective"])
        try:
            booster = xgb.train(
                train_params,
                evals[0][0],
                num_boost_round=params["num_round"],
                evals=evals,
                custom_metric=custom,
                callbacks=callbacks,
                verbose_eval=False,
            )
        except xgb.core.XGBoostError as exc:
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
            if any(fragment in str(exc) for fragment in _USER_ERRORS):
                raise ValidationError(
                    f"XGBoost rejected the data or parameters: {message}"
                ) from None
            raise
        best = booster.attr("best_iteration")
        if best is not None and params["booster"] != "gblinear":
            booster = booster[: int(best) + 1]
        self.booster_ = booster
        self.n_features_in_ = int(features.shape[1])
        for name, value in report.last.items():
            log.final(name, value)
        return self

    @staticmethod
    def _custom_metric(
        names: list[str], objective: str
    ) -> Callable[[np.ndarray, xgb.DMatrix], list[tuple[str, float]]] | None:
        if not names:
            return None
        functions = [(name, _extra_metric(name, objective)) for name in names]

        def custom(predt: np.ndarray, data: xgb.DMatrix) -> list[tuple[str, float]]:
            y = data.get_label()
            return [(name, fn(y, predt)) for name, fn in functions]

        return custom

    # -- predicting --------------------------------------------------------------------------

    def predict(self, X: Features) -> np.ndarray:
        """Predictions as ``Booster.predict`` returns them (probabilities for softprob …)."""
        features = self._check_input(X, dense=False)
        return np.asarray(self.booster_.predict(self._dmatrix(features, None, None)))

    def predict_records(self, X: Features) -> list[dict[str, Any]]:
        """``{"score": value}`` per row (a list of class probabilities for multi:softprob)."""
        return [{"score": row.tolist()} for row in self.predict(X)]

    @classmethod
    def metric_definitions(cls) -> tuple[MetricDefinition, ...]:
        names = (*NATIVE_METRICS, *EXTRA_METRICS)
        return tuple(xgboost_definition(ch, m) for ch in ("train", "validation") for m in names)

    # -- artifacts ---------------------------------------------------------------------------

    def _save(self, model_dir: Path) -> tuple[list[str], dict[str, Any]]:
        (model_dir / MODEL_FILE).write_bytes(bytes(self.booster_.save_raw("ubj")))
        return [MODEL_FILE], {"format": "xgboost-ubj"}

    @classmethod
    def _load(cls, model_dir: Path, manifest: dict[str, Any]) -> Self:
        estimator = cls._from_manifest(manifest)
        estimator.booster_ = _read_booster(model_dir / MODEL_FILE)
        return estimator

    @classmethod
    def load(cls, model_dir: str | os.PathLike[str]) -> Self:
        """Load a Lakeworks XGBoost model, or a bare SageMaker ``xgboost-model`` (not pickled).

        Raises:
            ValidationError: A pickled model (never loaded) or an unreadable file.
        """
        directory = Path(model_dir)
        if (directory / MANIFEST).is_file():
            return super().load(directory)
        booster = _read_booster(directory / MODEL_FILE)
        estimator = cls(num_round=max(1, booster.num_boosted_rounds()))
        estimator.booster_ = booster
        estimator.n_features_in_ = booster.num_features()
        return estimator


def _read_booster(path: Path) -> xgb.Booster:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ValidationError(f"No XGBoost model at {path}") from None
    if raw[:1] == b"\x80":
        raise ValidationError(
            f"{path} is a pickled model; Lakeworks never unpickles artifacts. Save it with "
            "Booster.save_model (JSON or UBJSON) instead"
        )
    booster = xgb.Booster()
    try:
        # From bytes: XGBoost guesses the format without warning about the missing extension.
        booster.load_model(bytearray(raw))
    except xgb.core.XGBoostError as exc:
        raise ValidationError(f"{path} is not an XGBoost model ({exc})") from None
    return booster
