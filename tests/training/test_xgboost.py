"""XGBoost: same model as the library's own ``xgboost.train``, objectives, metrics, artifacts."""

from __future__ import annotations

import io
import pickle
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb

from lakeworks.core.errors import ValidationError
from lakeworks.training import entrypoint
from lakeworks.training.algorithms import load_model
from lakeworks.training.algorithms.xgboost import XGBoost
from lakeworks.training.formats import LIBSVM, Dataset
from lakeworks.training.metrics import MetricLog


def _data(n: int = 300, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    return X, X[:, 0] * 3 - X[:, 1] + np.sin(X[:, 2]) + rng.normal(scale=0.1, size=n)


def _load_native(path: Path) -> xgb.Booster:
    booster = xgb.Booster()
    with warnings.catch_warnings():
        # XGBoost notes that a file without extension is read by guessing its format.
        warnings.simplefilter("ignore", UserWarning)
        booster.load_model(str(path))
    return booster


def test_a_job_trains_the_model_xgboost_train_trains(
    job_factory: Callable[..., Path],
) -> None:
    X, y = _data()
    hyperparameters = {
        "num_round": "15",
        "max_depth": "4",
        "eta": "0.2",
        "subsample": "0.8",
        "colsample_bytree": "0.7",
        "seed": "7",
        "objective": "reg:squarederror",
    }
    root = job_factory(hyperparameters, {"train": (X, y)})
    done = subprocess.run(
        [sys.executable, "-m", "lakeworks.training.entrypoint", "xgboost", "--root", str(root)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    job_model = _load_native(root / "model" / "xgboost-model")
    direct = xgb.train(
        {"max_depth": 4, "eta": 0.2, "subsample": 0.8, "colsample_bytree": 0.7, "seed": 7,
         "objective": "reg:squarederror"},
        xgb.DMatrix(X, label=y),
        num_boost_round=15,
    )  # fmt: skip
    test = xgb.DMatrix(_data(50, seed=9)[0])
    np.testing.assert_array_equal(job_model.predict(test), direct.predict(test))
    assert "[14]#011train-rmse:" in done.stdout
    assert "#metric train:rmse=" in done.stdout


def test_libsvm_input_is_sparse_with_missing_entries(job_factory: Callable[..., Path]) -> None:
    X, y = _data(200)
    X[X < -1.0] = np.nan  # absent from the libsvm file: missing for XGBoost
    root = job_factory({"num_round": "5"}, {"train": (X, y)}, content_type=LIBSVM)
    entrypoint.run("xgboost", entrypoint.JobDirs.resolve({}, root, root), MetricLog(io.StringIO()))
    model = load_model(root / "model")
    direct = xgb.train({}, xgb.DMatrix(X, label=y, missing=np.nan), num_boost_round=5)
    np.testing.assert_array_equal(model.predict(X), direct.predict(xgb.DMatrix(X)))


def test_multiclass_softprob_needs_num_class() -> None:
    X, y = _data()
    labels = np.digitize(y, np.quantile(y, [0.33, 0.66])).astype(np.float64)
    with pytest.raises(ValidationError, match="'num_class' is required when objective"):
        XGBoost.from_hyperparameters({"num_round": "3", "objective": "multi:softprob"})
    model = XGBoost.from_hyperparameters(
        {"num_round": "10", "objective": "multi:softprob", "num_class": "3", "max_depth": "3"}
    )
    stream = io.StringIO()
    model.fit(
        X[:250], labels[:250], validation=Dataset(X[250:], labels[250:]), log=MetricLog(stream)
    )
    probabilities = model.predict(X[250:])
    assert probabilities.shape == (50, 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert np.mean(probabilities.argmax(axis=1) == labels[250:]) > 0.6
    assert "#metric validation:mlogloss=" in stream.getvalue()
    assert len(model.predict_records(X[:1])[0]["score"]) == 3


def test_early_stopping_keeps_the_best_iteration_and_extra_metrics(tmp_path: Path) -> None:
    X, y = _data(400)
    labels = (y > 0).astype(np.float64)
    model = XGBoost.from_hyperparameters(
        {
            "num_round": "200",
            "objective": "binary:logistic",
            "eval_metric": "auc,logloss",
            "early_stopping_rounds": "5",
            "eta": "0.5",
            "_tuning_objective_metric": "validation:f1",
        }
    )
    stream = io.StringIO()
    model.fit(
        X[:300], labels[:300], validation=Dataset(X[300:], labels[300:]), log=MetricLog(stream)
    )
    log = stream.getvalue()
    assert "#011validation-auc:" in log
    assert "#011validation-f1:" in log
    rounds = log.count("#011train-auc:")
    assert rounds < 200, "early stopping ended training"
    assert model.booster_.num_boosted_rounds() == rounds - 5
    model.save(tmp_path)
    assert _load_native(tmp_path / "xgboost-model").num_boosted_rounds() == rounds - 5


def test_parameters_passed_on_are_those_that_differ_from_the_defaults() -> None:
    model = XGBoost.from_hyperparameters(
        {
            "num_round": "3",
            "eta": "0.3",  # the default: not passed
            "tree_method": "gpu_hist",
            "monotone_constraints": "(1,0,-1)",
            "interaction_constraints": "[[0, 1], [2]]",
            "lambda": "2",
            "objective": "reg:linear",
            "sketch_eps": "0.1",  # removed from XGBoost: accepted, not passed
        }
    )
    assert model.lambda_ == 2.0
    assert model.xgboost_params() == {
        "objective": "reg:squarederror",
        "tree_method": "hist",
        "monotone_constraints": "(1,0,-1)",
        "interaction_constraints": "[[0,1],[2]]",
        "lambda": 2.0,
    }


@pytest.mark.parametrize(
    ("hyperparameters", "message"),
    [
        ({"num_round": "3", "eval_metric": "rmse,bogus"}, "Invalid eval_metric 'bogus'"),
        ({"num_round": "3", "eval_metric": "auc"}, "applies only to binary: and rank:"),
        ({"num_round": "3", "eval_metric": "error@abc"}, "Invalid eval_metric 'error@abc'"),
        ({"num_round": "3", "_tuning_objective_metric": "test:rmse"}, "_tuning_objective_metric"),
        ({"num_round": "0"}, "an integer in [1, inf)"),
        ({"num_round": "3", "subsample": "0"}, "a number in (0, 1]"),
        ({"num_round": "3", "objective": "reg:nonsense"}, "one of 'binary:hinge'"),
    ],
)
def test_invalid_xgboost_hyperparameters(hyperparameters: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        XGBoost.from_hyperparameters(hyperparameters)
    assert message in caught.value.message


def test_bad_labels_are_the_users_error() -> None:
    X, y = _data(50)
    model = XGBoost.from_hyperparameters({"num_round": "2", "objective": "binary:logistic"})
    with pytest.raises(ValidationError, match="XGBoost rejected the data"):
        model.fit(X, y * 10, log=MetricLog(io.StringIO()))


def test_csv_weights_column(job_factory: Callable[..., Path]) -> None:
    X, y = _data(200)
    weights = np.linspace(0.1, 2.0, 200)
    # The CSV writer puts the label first; the weights go in the column after it.
    root = job_factory(
        {"num_round": "4", "csv_weights": "1"}, {"train": (np.column_stack([weights, X]), y)}
    )
    entrypoint.run("xgboost", entrypoint.JobDirs.resolve({}, root, root), MetricLog(io.StringIO()))
    direct = xgb.train({}, xgb.DMatrix(X, label=y, weight=weights), num_boost_round=4)
    np.testing.assert_array_equal(
        load_model(root / "model").predict(X), direct.predict(xgb.DMatrix(X))
    )


def test_a_bare_sagemaker_artifact_loads_and_a_pickled_one_is_refused(tmp_path: Path) -> None:
    X, y = _data(100)
    booster = xgb.train({}, xgb.DMatrix(X, label=y), num_boost_round=3)
    native = tmp_path / "native"
    native.mkdir()
    (native / "xgboost-model").write_bytes(bytes(booster.save_raw("json")))
    loaded = load_model(native)
    np.testing.assert_array_equal(loaded.predict(X), booster.predict(xgb.DMatrix(X)))
    pickled = tmp_path / "pickled"
    pickled.mkdir()
    (pickled / "xgboost-model").write_bytes(pickle.dumps({"not": "loaded"}))
    with pytest.raises(ValidationError, match="pickled model; Lakeworks never unpickles"):
        load_model(pickled)
