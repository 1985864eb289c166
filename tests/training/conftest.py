"""Small generated datasets and a job-directory builder for the training tests.

Every built-in algorithm has a :class:`Case`: hyperparameters (strings, as SageMaker sends them)
that train fast on a few hundred rows, the data, and a check that the model beats a trivial
baseline (the mean, the majority class, one cluster …).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from lakeworks.training.algorithms.base import Algorithm, algorithm_class, report_scores
from lakeworks.training.formats import CSV, LIBSVM, PARQUET, RECORDIO_PROTOBUF, Dataset
from lakeworks.training.formats.libsvm import write_libsvm
from lakeworks.training.formats.parquet import write_parquet
from lakeworks.training.formats.recordio_protobuf import write_numpy_to_dense_tensor
from lakeworks.training.metrics import MetricLog


@dataclass
class Case:
    """What one algorithm is trained on in the tests, and how it must do."""

    name: str
    hyperparameters: dict[str, str]
    X: np.ndarray
    y: np.ndarray | None
    X_test: np.ndarray
    y_test: np.ndarray | None
    #: (model output on X_test, y_test) -> (model error, baseline error); lower is better.
    quality: Callable[[np.ndarray, np.ndarray | None], tuple[float, float]]
    #: Channels the entrypoint test feeds besides train.
    channels: tuple[str, ...] = ()
    extra: dict[str, object] = field(default_factory=dict)


def _rng() -> np.random.Generator:
    return np.random.default_rng(20240601)


def _regression() -> tuple[np.ndarray, np.ndarray]:
    rng = _rng()
    X = rng.normal(size=(400, 4))
    y = 2 * X[:, 0] - X[:, 1] + 0.5 * X[:, 2] ** 2 + rng.normal(scale=0.1, size=400)
    return X, y


def _mse(out: np.ndarray, y: np.ndarray | None) -> tuple[float, float]:
    assert y is not None
    return float(np.mean((out - y) ** 2)), float(np.var(y))


def _error_rate(out: np.ndarray, y: np.ndarray | None) -> tuple[float, float]:
    assert y is not None
    majority = np.bincount(y.astype(int)).max() / len(y)
    return float(np.mean(out != y)), float(1 - majority)


def _blobs(n_per: int = 100) -> tuple[np.ndarray, np.ndarray]:
    rng = _rng()
    centers = np.array([[0.0, 0.0], [6.0, 6.0], [0.0, 6.0]])
    X = np.vstack([c + rng.normal(scale=0.5, size=(n_per, 2)) for c in centers])
    y = np.repeat(np.arange(3.0), n_per)
    order = rng.permutation(len(X))
    return X[order], y[order]


def make_case(name: str) -> Case:
    """The test case of algorithm ``name``."""
    if name in ("xgboost", "linear-learner", "lightgbm", "mlp"):
        X, y = _regression()
        hyperparameters = {
            "xgboost": {"num_round": "20", "max_depth": "3"},
            "linear-learner": {"predictor_type": "regressor", "mini_batch_size": "50",
                               "epochs": "8"},
            "lightgbm": {"num_boost_round": "30", "verbosity": "-1", "num_leaves": "8"},
            "mlp": {"predictor_type": "regressor", "hidden_layers": "16", "epochs": "25",
                    "learning_rate": "0.01"},
        }[name]  # fmt: skip
        channels = ("validation",) if name in ("xgboost", "lightgbm") else ("validation", "test")
        return Case(name, hyperparameters, X[:300], y[:300], X[300:], y[300:], _mse, channels)
    if name == "kmeans":
        X, _ = _blobs()

        def msd(out: np.ndarray, _y: np.ndarray | None) -> tuple[float, float]:
            # ``out`` is the closest cluster; compare the spread around the found centers with
            # the spread around the overall mean.
            spread = sum(float(np.sum((X[240:][out == c] - X[240:][out == c].mean(axis=0)) ** 2))
                         for c in np.unique(out))  # fmt: skip
            baseline = float(np.sum((X[240:] - X[240:].mean(axis=0)) ** 2))
            return spread, 0.2 * baseline

        hp = {"k": "3", "feature_dim": "2", "mini_batch_size": "100"}
        return Case(name, hp, X[:240], None, X[240:], None, msd, ("test",))
    if name == "pca":
        rng = _rng()
        latent = rng.normal(size=(300, 1))
        X = latent @ np.array([[3.0, 2.0, -1.0]]) + rng.normal(scale=0.1, size=(300, 3))

        def reconstruction(out: np.ndarray, _y: np.ndarray | None) -> tuple[float, float]:
            test = X[240:]
            centred = test - test.mean(axis=0)
            # One component captures almost all variance: the projection's variance is close to
            # the total.
            return float(np.sum(centred**2) - np.sum((out - out.mean(axis=0)) ** 2)), float(
                0.2 * np.sum(centred**2)
            )

        hp = {"num_components": "1", "feature_dim": "3", "mini_batch_size": "100"}
        return Case(name, hp, X[:240], None, X[240:], None, reconstruction)
    if name == "knn":
        X, y = _blobs()
        hp = {"feature_dim": "2", "k": "5", "predictor_type": "classifier", "sample_size": "200"}
        return Case(name, hp, X[:240], y[:240], X[240:], y[240:], _error_rate, ("test",))
    if name == "randomcutforest":
        rng = _rng()
        X = rng.normal(size=(300, 3))
        outliers = rng.normal(size=(10, 3)) * 0.3 + 6.0
        X_test = np.vstack([rng.normal(size=(90, 3)), outliers])
        y_test = np.r_[np.zeros(90), np.ones(10)]

        def separation(out: np.ndarray, y: np.ndarray | None) -> tuple[float, float]:
            assert y is not None
            # Lower is better: outliers must score well above the inliers.
            return float(out[y == 0].mean()), float(out[y == 1].mean())

        hp = {"feature_dim": "3", "num_trees": "50", "num_samples_per_tree": "64"}
        return Case(name, hp, X, None, X_test, y_test, separation, ("test",))
    if name == "factorization-machines":
        rng = _rng()
        X = rng.normal(size=(500, 4))
        y = (X[:, 0] + X[:, 1] + 2 * X[:, 0] * X[:, 1] > 0).astype(np.float64)
        hp = {
            "feature_dim": "4", "num_factors": "4", "predictor_type": "binary_classifier",
            "epochs": "20", "mini_batch_size": "50", "linear_lr": "0.05", "factors_lr": "0.05",
        }  # fmt: skip
        return Case(name, hp, X[:400], y[:400], X[400:], y[400:], _error_rate, ("test",))
    raise KeyError(name)


def encode(content_type: str, X: np.ndarray, y: np.ndarray | None) -> bytes:
    """``X`` (and ``y`` first) in ``content_type``."""
    if content_type == CSV:
        rows = X if y is None else np.column_stack([y, X])
        return "".join(",".join(repr(float(v)) for v in row) + "\n" for row in rows).encode()
    if content_type == LIBSVM:
        assert y is not None
        return write_libsvm(X, y)
    if content_type == PARQUET:
        return write_parquet(X, y)
    if content_type == RECORDIO_PROTOBUF:
        out = io.BytesIO()
        write_numpy_to_dense_tensor(out, X, y)
        return out.getvalue()
    raise KeyError(content_type)


SUFFIX = {CSV: "csv", LIBSVM: "libsvm", PARQUET: "parquet", RECORDIO_PROTOBUF: "pbr"}


def write_job(
    root: Path,
    hyperparameters: dict[str, str],
    channels: dict[str, tuple[np.ndarray, np.ndarray | None]],
    *,
    content_type: str = CSV,
    config: dict[str, dict[str, str]] | None = None,
) -> Path:
    """Lay out a SageMaker-style job directory under ``root`` and return ``root``."""
    (root / "input" / "config").mkdir(parents=True)
    for channel, (X, y) in channels.items():
        directory = root / "input" / "data" / channel
        directory.mkdir(parents=True)
        (directory / f"part-0.{SUFFIX[content_type]}").write_bytes(encode(content_type, X, y))
    (root / "input" / "config" / "hyperparameters.json").write_text(json.dumps(hyperparameters))
    data_config = config if config is not None else {
        channel: {"ContentType": content_type, "TrainingInputMode": "File"} for channel in channels
    }  # fmt: skip
    (root / "input" / "config" / "inputdataconfig.json").write_text(json.dumps(data_config))
    return root


@dataclass
class Trained:
    """A case's model fitted once, with what it logged."""

    case: Case
    model: Algorithm
    log: str
    final_metrics: dict[str, float]


class TrainedCache:
    """Fits each algorithm's case on first use (fitting is the slow part of the suite)."""

    def __init__(self) -> None:
        self._models: dict[str, Trained] = {}

    def get(self, name: str) -> Trained:
        if name not in self._models:
            case = make_case(name)
            model = algorithm_class(name).from_hyperparameters(case.hyperparameters)
            stream = io.StringIO()
            log = MetricLog(stream)
            validation = None
            if "validation" in model.extra_channels and case.y_test is not None:
                validation = Dataset(case.X_test, case.y_test)
            fitted = model.fit(case.X, case.y, validation=validation, log=log)
            assert fitted is model
            for channel in ("test", "validation"):
                if channel in model.extra_channels:
                    report_scores(log, model.score(case.X_test, case.y_test, channel=channel))
            self._models[name] = Trained(case, model, stream.getvalue(), dict(log.final_metrics))
        return self._models[name]


@pytest.fixture(scope="session")
def trained() -> TrainedCache:
    """Each algorithm fitted on its case, once per session."""
    return TrainedCache()


@pytest.fixture(scope="session")
def cases() -> Callable[[str], Case]:
    """``cases(name)`` → the :class:`Case` of an algorithm."""
    return make_case


@pytest.fixture(scope="session")
def encoder() -> Callable[[str, np.ndarray, np.ndarray | None], bytes]:
    """``encoder(content_type, X, y)`` → file bytes."""
    return encode


@pytest.fixture
def job_factory(tmp_path: Path) -> Callable[..., Path]:
    """``job_factory(hyperparameters, channels, content_type=..., config=...)`` → job root."""
    counter = iter(range(1000))

    def make(
        hyperparameters: dict[str, str],
        channels: dict[str, tuple[np.ndarray, np.ndarray | None]],
        **kwargs: object,
    ) -> Path:
        return write_job(tmp_path / f"job{next(counter)}", hyperparameters, channels, **kwargs)  # type: ignore[arg-type]

    return make
