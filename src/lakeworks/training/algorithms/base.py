"""The contract every built-in algorithm follows, the registry, and ``load_model``.

The estimator contract (scikit-learn's): hyperparameters are explicit keyword arguments named
exactly as AWS names them (``lambda`` is spelled ``lambda_`` in Python only) and stored unchanged;
``fit`` checks them, learns, and returns ``self``; learned state ends in ``_``. So tuning and
AutoML can build any algorithm from a ``{name: string}`` map with
:meth:`Algorithm.from_hyperparameters` and no per-algorithm code.

**Artifacts.** :meth:`Algorithm.save` writes the algorithm's native files (XGBoost UBJSON,
LightGBM text, numpy ``.npz`` without object arrays …) plus ``lakeworks-model.json``::

    {"algorithm": "kmeans", "format_version": 1, "hyperparameters": {...},
     "files": ["kmeans-model.npz"], "metadata": {...}}

:func:`load_model` reads that manifest and returns a fitted estimator with ``predict`` and
``predict_records`` (the AWS response entries). Nothing is ever unpickled: ``.npz`` files are
opened with ``allow_pickle=False``.
"""

from __future__ import annotations

import importlib
import json
import os
from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp

from lakeworks.core.errors import ValidationError
from lakeworks.training.algorithms.hyperparameters import HyperparameterSpec
from lakeworks.training.formats.channel import CSV, PARQUET, RECORDIO_PROTOBUF
from lakeworks.training.formats.dataset import Dataset, Features, as_dense
from lakeworks.training.metrics import MetricDefinition, MetricLog, score_definition, score_line

__all__ = [
    "ALGORITHMS",
    "MANIFEST",
    "Algorithm",
    "NotFittedError",
    "algorithm_class",
    "load_arrays",
    "load_model",
    "read_manifest",
    "report_scores",
    "save_arrays",
    "score_definitions",
]

MANIFEST = "lakeworks-model.json"
FORMAT_VERSION = 1

#: name → "module:Class", imported on first use so a job pays only for its own algorithm.
ALGORITHMS: dict[str, str] = {
    "factorization-machines": "factorization_machines:FactorizationMachines",
    "kmeans": "kmeans:KMeans",
    "knn": "knn:KNN",
    "lightgbm": "lightgbm:LightGBM",
    "linear-learner": "linear_learner:LinearLearner",
    "mlp": "mlp:MLP",
    "pca": "pca:PCA",
    "randomcutforest": "rcf:RandomCutForest",
    "xgboost": "xgboost:XGBoost",
}


class NotFittedError(RuntimeError):
    """``predict`` or ``save`` before ``fit`` (a programming error, not a user's)."""


def algorithm_class(name: str) -> type[Algorithm]:
    """The class of the built-in algorithm ``name`` (as in :data:`ALGORITHMS`).

    Raises:
        ValidationError: Unknown name, listing the known ones.
    """
    target = ALGORITHMS.get(name)
    if target is None:
        raise ValidationError(
            f"Unknown algorithm {name!r}; supported: {', '.join(sorted(ALGORITHMS))}",
            details={"allowed": sorted(ALGORITHMS)},
        )
    module_name, class_name = target.split(":")
    module = importlib.import_module(f"lakeworks.training.algorithms.{module_name}")
    cls: type[Algorithm] = getattr(module, class_name)
    return cls


def save_arrays(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Write numeric arrays as an uncompressed ``.npz`` (refusing object arrays)."""
    for name, array in arrays.items():
        if array.dtype.hasobject:
            raise TypeError(f"array {name!r} has dtype object; artifacts hold numbers only")
    with path.open("wb") as out:
        np.savez(out, **arrays)  # type: ignore[arg-type]


def load_arrays(path: Path) -> dict[str, np.ndarray]:
    """Read an ``.npz`` written by :func:`save_arrays`; never unpickles."""
    with np.load(path, allow_pickle=False) as archive:
        return {name: np.asarray(archive[name]) for name in archive.files}


def read_manifest(model_dir: Path) -> dict[str, Any]:
    """The parsed ``lakeworks-model.json`` of ``model_dir``.

    Raises:
        ValidationError: Missing or unreadable manifest.
    """
    path = model_dir / MANIFEST
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise ValidationError(f"{model_dir} holds no {MANIFEST}; not a Lakeworks model") from None
    except ValueError as exc:
        raise ValidationError(f"{path} is not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or "algorithm" not in manifest:
        raise ValidationError(f"{path} does not name an algorithm")
    if manifest.get("format_version", 1) > FORMAT_VERSION:
        raise ValidationError(
            f"{path} has format_version {manifest['format_version']}; this Lakeworks reads up to "
            f"{FORMAT_VERSION}"
        )
    return manifest


def load_model(model_dir: str | os.PathLike[str]) -> Algorithm:
    """Load the model a built-in algorithm saved in ``model_dir`` (an extracted model.tar.gz).

    Without a manifest, a lone ``xgboost-model`` (a SageMaker XGBoost artifact in XGBoost's own
    format) loads as XGBoost; a pickled one is refused.

    Raises:
        ValidationError: Not a model directory, or files that are not what the manifest says.
    """
    directory = Path(model_dir)
    if not (directory / MANIFEST).is_file() and (directory / "xgboost-model").is_file():
        return algorithm_class("xgboost").load(directory)
    manifest = read_manifest(directory)
    return algorithm_class(str(manifest["algorithm"])).load(directory)


class Algorithm(ABC):
    """Base of the built-in algorithms (see the module docstring for the contract)."""

    #: The registry name (``"linear-learner"``).
    name: ClassVar[str]
    #: Every hyperparameter with its AWS name, default and range.
    spec: ClassVar[HyperparameterSpec]
    #: True when the train channel needs labels.
    supervised: ClassVar[bool] = True
    #: Content types the channels accept; the first-party algorithms read these three.
    content_types: ClassVar[tuple[str, ...]] = (RECORDIO_PROTOBUF, CSV, PARQUET)
    #: The type assumed when a channel names none (AWS: RecordIO-protobuf for 1P algorithms).
    default_content_type: ClassVar[str] = RECORDIO_PROTOBUF
    #: Channels besides ``train`` that the algorithm reads.
    extra_channels: ClassVar[tuple[str, ...]] = ("validation", "test")
    #: Whether missing values (empty CSV cells, absent libsvm entries) are allowed.
    accepts_missing: ClassVar[bool] = False
    #: Whether CSR features are used as they are (else they are made dense).
    accepts_sparse: ClassVar[bool] = False

    n_features_in_: int

    # -- hyperparameters ---------------------------------------------------------------------

    @classmethod
    def from_hyperparameters(cls, raw: Mapping[str, object]) -> Self:
        """Build from an AWS hyperparameter map (values as strings, as in hyperparameters.json).

        Raises:
            ValidationError: Unknown name, missing required hyperparameter, bad value.
        """
        estimator = cls(**cls.spec.parse(raw))
        estimator.checked_params()
        return estimator

    def get_params(self) -> dict[str, Any]:
        """AWS name → stored value, for every hyperparameter."""
        return {p.name: getattr(self, p.attr) for p in self.spec.params}

    def checked_params(self) -> dict[str, Any]:
        """The stored hyperparameters, parsed and cross-checked; AWS name → value.

        Raises:
            ValidationError: A value out of range or a combination AWS rejects.
        """
        params = self.spec.check(self.get_params())
        self._check_params(params)
        return params

    def uses_weight_column(self) -> bool:
        """True when CSV/Parquet training data carries instance weights after the label."""
        return False

    def _check_params(self, params: dict[str, Any]) -> None:  # noqa: B027 - optional hook
        """Cross-field checks (``num_class`` for ``multi:softmax`` …); raise ValidationError."""

    # -- learning and predicting -------------------------------------------------------------

    @abstractmethod
    def fit(
        self,
        X: Features,
        y: np.ndarray | None = None,
        *,
        sample_weight: np.ndarray | None = None,
        validation: Dataset | None = None,
        log: MetricLog | None = None,
    ) -> Self:
        """Learn from ``X`` (and ``y``); report progress to ``log``; return ``self``.

        Raises:
            ValidationError: Bad hyperparameters, or data the algorithm cannot learn from.
        """

    @abstractmethod
    def predict(self, X: Features) -> np.ndarray:
        """The model's main output per row (label, value, cluster, score or projection)."""

    @abstractmethod
    def predict_records(self, X: Features) -> list[dict[str, Any]]:
        """One AWS response entry per row (``{"score": ..., "predicted_label": ...}`` …)."""

    def score(self, X: Features, y: np.ndarray | None, *, channel: str) -> dict[str, float]:
        """Final metrics on a labelled channel, named as AWS names them (``test:mse``)."""
        return {}

    @classmethod
    def metric_definitions(cls) -> tuple[MetricDefinition, ...]:
        """The metrics this algorithm logs, with the regexes that find them."""
        return ()

    # -- artifacts ---------------------------------------------------------------------------

    @abstractmethod
    def _save(self, model_dir: Path) -> tuple[list[str], dict[str, Any]]:
        """Write the native model files; return ``(file names, manifest metadata)``."""

    @classmethod
    @abstractmethod
    def _load(cls, model_dir: Path, manifest: dict[str, Any]) -> Self:
        """Rebuild a fitted estimator from ``model_dir``."""

    def save(self, model_dir: str | os.PathLike[str]) -> Path:
        """Write the model into ``model_dir`` (created if needed); return the manifest path."""
        self._require_fitted()
        directory = Path(model_dir)
        directory.mkdir(parents=True, exist_ok=True)
        files, metadata = self._save(directory)
        manifest = {
            "algorithm": self.name,
            "format_version": FORMAT_VERSION,
            "hyperparameters": _jsonable(self.get_params()),
            "files": files,
            "metadata": {"n_features": self.n_features_in_, **metadata},
        }
        path = directory / MANIFEST
        path.write_text(json.dumps(manifest, indent=2, sort_keys=True))
        return path

    @classmethod
    def load(cls, model_dir: str | os.PathLike[str]) -> Self:
        """Load a model saved by :meth:`save` of this class.

        Raises:
            ValidationError: The manifest names another algorithm or files are missing.
        """
        directory = Path(model_dir)
        manifest = read_manifest(directory)
        if manifest["algorithm"] != cls.name:
            raise ValidationError(
                f"{directory} holds a {manifest['algorithm']!r} model, not {cls.name!r}"
            )
        for name in manifest.get("files", []):
            if not (directory / str(name)).is_file():
                raise ValidationError(f"{directory} lacks the model file {name!r}")
        return cls._load(directory, manifest)

    @classmethod
    def _from_manifest(cls, manifest: dict[str, Any]) -> Self:
        """A new estimator with the manifest's hyperparameters (state still to be restored)."""
        estimator = cls(**cls.spec.parse(manifest.get("hyperparameters", {})))
        estimator.n_features_in_ = int(manifest.get("metadata", {}).get("n_features", 0))
        return estimator

    # -- helpers for subclasses --------------------------------------------------------------

    def _require_fitted(self) -> None:
        if not hasattr(self, "n_features_in_"):
            raise NotFittedError(f"This {type(self).__name__} is not fitted; call fit first")

    def _check_input(self, X: Features, *, dense: bool = True) -> Features:
        """Check a prediction input's width; return it dense (or CSR when ``dense=False``).

        Raises:
            ValidationError: Wrong number of features or non-finite values.
        """
        self._require_fitted()
        shape = getattr(X, "shape", None)
        if shape is None or len(shape) != 2:
            raise ValidationError(f"Expected a 2-D array of rows, got {type(X).__name__}")
        if shape[1] != self.n_features_in_:
            raise ValidationError(
                f"Rows have {shape[1]} features; this model was trained on {self.n_features_in_}"
            )
        if sp.issparse(X) and not dense:
            return sp.csr_matrix(X, dtype=np.float64)
        array = as_dense(X)
        if not self.accepts_missing and not np.isfinite(array).all():
            raise ValidationError("Input has missing or infinite values; this model needs numbers")
        return array

    def _check_fit_input(
        self, X: Features, y: np.ndarray | None, *, feature_dim: object = "auto"
    ) -> tuple[Features, np.ndarray | None]:
        """Check training data: rows, labels for supervised algorithms, ``feature_dim``.

        Raises:
            ValidationError: No rows, missing labels, or a ``feature_dim`` that does not match.
        """
        if X.shape[0] == 0:
            raise ValidationError("No training rows: the train channel is empty")
        if self.supervised and y is None:
            raise ValidationError(
                f"{self.name} needs labels: put the label in the first column of the train data"
            )
        if isinstance(feature_dim, int) and feature_dim != X.shape[1]:
            raise ValidationError(
                f"feature_dim is {feature_dim} but the training data has {X.shape[1]} features; "
                "set feature_dim to the number of feature columns (the label excluded)"
            )
        data = Dataset(X, y)
        data.check_finite("train", allow_missing=self.accepts_missing)
        features = X if (self.accepts_sparse and sp.issparse(X)) else as_dense(X)
        labels = None if y is None else np.asarray(y, dtype=np.float64)
        return features, labels


def report_scores(log: MetricLog, metrics: Mapping[str, float]) -> None:
    """Log final scores as first-party algorithms do and record them as final metrics.

    ``{"test:mse": 0.5}`` prints ``#test_score (algo-1) : ('mse', 0.5)`` and ``#metric
    test:mse=0.5``.
    """
    for name, value in metrics.items():
        channel, _, short = name.partition(":")
        log.line(score_line(channel, short, value))
        log.final(name, value)


def score_definitions(
    channels: tuple[str, ...], names: tuple[str, ...]
) -> tuple[MetricDefinition, ...]:
    """Definitions matching :func:`report_scores` lines for every channel and name."""
    return tuple(score_definition(channel, name) for channel in channels for name in names)


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in params.items():
        if isinstance(value, tuple):
            value = [list(v) if isinstance(v, tuple) else v for v in value]
        out[name] = value
    return out
