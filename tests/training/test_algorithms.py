"""What each algorithm does beyond the shared contract (conformance covers the rest)."""

from __future__ import annotations

import io
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest
import scipy.sparse as sp

from lakeworks.core.errors import ValidationError
from lakeworks.training.algorithms import algorithm_class
from lakeworks.training.algorithms.evaluation import choose_threshold, roc_auc
from lakeworks.training.formats import Dataset
from lakeworks.training.metrics import MetricLog


def _quiet() -> MetricLog:
    return MetricLog(io.StringIO())


def _build(name: str, **hyperparameters: str) -> object:
    return algorithm_class(name).from_hyperparameters(hyperparameters)


def _linear_data(n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    X = rng.normal(size=(n, 6)) * [1, 10, 0.1, 1, 1, 1] + [0, 5, 0, 0, 0, 0]
    return X, X @ np.array([1.0, -0.2, 5.0, 0.0, 2.0, 0.0]) + 3


# -- Linear Learner -----------------------------------------------------------------------------


def test_linear_learner_regression_recovers_the_weights() -> None:
    X, y = _linear_data()
    model = algorithm_class("linear-learner").from_hyperparameters(
        {"predictor_type": "regressor", "mini_batch_size": "40", "epochs": "15",
         "learning_rate": "0.05"}
    )  # fmt: skip
    model.fit(X, y, log=_quiet())
    np.testing.assert_allclose(model.weights_[:, 0], [1.0, -0.2, 5.0, 0.0, 2.0, 0.0], atol=0.1)
    assert model.predict_records(X[:1])[0].keys() == {"score"}


def test_linear_learner_binary_threshold_follows_the_selection_criterion() -> None:
    X, y = _linear_data(600)
    rng = np.random.default_rng(2)
    labels = ((y + rng.normal(scale=3.0, size=len(y))) > np.median(y)).astype(np.float64)
    validation = Dataset(X[400:], labels[400:])
    model = algorithm_class("linear-learner").from_hyperparameters(
        {
            "predictor_type": "binary_classifier",
            "mini_batch_size": "50",
            "epochs": "5",
            "binary_classifier_model_selection_criteria": "precision_at_target_recall",
            "target_recall": "0.95",
        }
    )
    model.fit(X[:400], labels[:400], validation=validation, log=_quiet())
    recall = model.score(X[400:], labels[400:], channel="validation")["validation:recall"]
    assert recall >= 0.95
    record = model.predict_records(X[:1])[0]
    assert set(record) == {"score", "predicted_label"}
    assert 0 <= record["score"] <= 1


def test_linear_learner_checks_labels_losses_and_classes() -> None:
    X, y = _linear_data(50)
    binary = algorithm_class("linear-learner").from_hyperparameters(
        {"predictor_type": "binary_classifier"}
    )
    with pytest.raises(ValidationError, match=r"row 1: label .* needs labels 0 or 1"):
        binary.fit(X, y, log=_quiet())
    with pytest.raises(ValidationError, match="'loss' with predictor_type 'regressor'"):
        _build("linear-learner", predictor_type="regressor", loss="logistic")
    with pytest.raises(ValidationError, match="'num_classes' is required"):
        _build("linear-learner", predictor_type="multiclass_classifier")
    with pytest.raises(ValidationError, match="feature_dim is 4 but the training data has 6"):
        _build("linear-learner", predictor_type="regressor", feature_dim="4").fit(  # type: ignore[attr-defined]
            X, y, log=_quiet()
        )


@pytest.mark.parametrize("loss", ["absolute_loss", "huber_loss", "quantile_loss",
                                  "eps_insensitive_squared_loss"])  # fmt: skip
def test_linear_learner_regression_losses_learn(loss: str) -> None:
    X, y = _linear_data()
    model = algorithm_class("linear-learner").from_hyperparameters(
        {"predictor_type": "regressor", "loss": loss, "mini_batch_size": "40", "epochs": "10",
         "learning_rate": "0.05"}
    )  # fmt: skip
    model.fit(X[:300], y[:300], log=_quiet())
    assert model.score(X[300:], y[300:], channel="test")["test:mse"] < 0.2 * np.var(y)


def test_linear_learner_multiclass_scores_every_class() -> None:
    X, y = _linear_data(500)
    labels = np.digitize(y, np.quantile(y, [0.25, 0.5, 0.75])).astype(np.float64)
    model = algorithm_class("linear-learner").from_hyperparameters(
        {"predictor_type": "multiclass_classifier", "num_classes": "4", "mini_batch_size": "50",
         "epochs": "10", "balance_multiclass_weights": "true"}
    )  # fmt: skip
    model.fit(X[:400], labels[:400], log=_quiet())
    metrics = model.score(X[400:], labels[400:], channel="test")
    assert metrics["test:multiclass_accuracy"] > 0.7
    assert metrics["test:multiclass_top_k_accuracy"] >= metrics["test:multiclass_accuracy"]
    record = model.predict_records(X[:1])[0]
    assert len(record["score"]) == 4
    assert record["predicted_label"] in range(4)


def test_threshold_choice_and_auc() -> None:
    y = np.array([0, 0, 1, 1, 0, 1.0])
    score = np.array([0.1, 0.4, 0.35, 0.8, 0.2, 0.9])
    assert roc_auc(y, score) == pytest.approx(8 / 9)
    # Cutting at 0.8 or at 0.35 both get 5 of 6 right; the higher cut comes first.
    assert choose_threshold(y, score, criterion="accuracy") == pytest.approx(0.8)
    assert choose_threshold(y, score, criterion="loss_function", default=0.5) == 0.5
    assert choose_threshold(
        y, score, criterion="recall_at_target_precision", target_precision=1.0
    ) == pytest.approx(0.8)


# -- k-means, PCA, k-NN, RCF --------------------------------------------------------------------


def test_kmeans_finds_the_clusters() -> None:
    rng = np.random.default_rng(5)
    centers = np.array([[0.0, 0.0], [8.0, 0.0], [0.0, 8.0]])
    X = np.vstack([c + rng.normal(scale=0.4, size=(150, 2)) for c in centers])[rng.permutation(450)]
    model = algorithm_class("kmeans").from_hyperparameters(
        {"k": "3", "feature_dim": "2", "mini_batch_size": "64", "epochs": "3",
         "init_method": "kmeans++", "eval_metrics": '["msd", "ssd"]'}
    )  # fmt: skip
    model.fit(X, log=_quiet())
    found = model.centroids_[np.argsort(model.centroids_ @ [1.0, 10.0])]
    np.testing.assert_allclose(found, centers, atol=0.3)
    metrics = model.score(X, None, channel="test")
    assert set(metrics) == {"test:msd", "test:ssd"}
    assert metrics["test:ssd"] == pytest.approx(metrics["test:msd"] * 450)
    record = model.predict_records(X[:1])[0]
    assert set(record) == {"closest_cluster", "distance_to_cluster"}
    with pytest.raises(ValidationError, match="k=500 is more than the 450 training rows"):
        _build("kmeans", k="500", feature_dim="2").fit(X, log=_quiet())  # type: ignore[attr-defined]


@pytest.mark.parametrize("mode", ["regular", "randomized"])
def test_pca_matches_the_singular_value_decomposition(mode: str) -> None:
    rng = np.random.default_rng(8)
    X = rng.normal(size=(300, 5)) @ rng.normal(size=(5, 5))
    model = algorithm_class("pca").from_hyperparameters(
        {"num_components": "2", "feature_dim": "5", "mini_batch_size": "64", "algorithm_mode": mode}
    )
    model.fit(X, log=_quiet())
    _u, singular, vt = np.linalg.svd(X - X.mean(axis=0), full_matrices=False)
    for found, expected in zip(model.components_, vt[:2], strict=True):
        assert abs(float(found @ expected)) == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(model.singular_values_, singular[:2], rtol=1e-6)
    assert len(model.predict_records(X[:1])[0]["projection"]) == 2
    with pytest.raises(ValidationError, match="num_components=6 is more than the 5 features"):
        _build("pca", num_components="6", feature_dim="5", mini_batch_size="10").fit(  # type: ignore[attr-defined]
            X, log=_quiet()
        )


def test_knn_regressor_metrics_and_dimension_reduction() -> None:
    rng = np.random.default_rng(4)
    X = rng.uniform(-1, 1, size=(400, 8))
    y = X[:, 0] * 2 + X[:, 1]
    for metric in ("L2", "COSINE", "INNER_PRODUCT"):
        model = algorithm_class("knn").from_hyperparameters(
            {"feature_dim": "8", "k": "5", "predictor_type": "regressor", "sample_size": "300",
             "index_metric": metric}
        )  # fmt: skip
        model.fit(X[:300], y[:300], log=_quiet())
        assert model.points_.shape[0] == 300
        mse = model.score(X[300:], y[300:], channel="test")["test:mse"]
        if metric != "INNER_PRODUCT":  # an inner product is no distance; it only has to run
            assert mse < 0.5 * np.var(y), metric
    # Dimension reduction keeps well separated classes apart (Johnson–Lindenstrauss).
    centers = rng.normal(scale=3.0, size=(3, 40))
    labels = rng.integers(0, 3, size=300).astype(np.float64)
    points = centers[labels.astype(int)] + rng.normal(size=(300, 40))
    for kind in ("sign", "fjlt"):
        model = algorithm_class("knn").from_hyperparameters(
            {"feature_dim": "40", "k": "3", "predictor_type": "classifier", "sample_size": "200",
             "dimension_reduction_type": kind, "dimension_reduction_target": "10"}
        )  # fmt: skip
        model.fit(points[:200], labels[:200], log=_quiet())
        assert model.points_.shape == (200, 10)
        assert model.score(points[200:], labels[200:], channel="test")["test:accuracy"] > 0.9
    with pytest.raises(ValidationError, match="'dimension_reduction_target' is required"):
        _build("knn", feature_dim="8", k="1", predictor_type="classifier", sample_size="5",
               dimension_reduction_type="fjlt")  # fmt: skip
    with pytest.raises(ValidationError, match=r"not supported with index_type faiss.IVFPQ"):
        _build("knn", feature_dim="8", k="1", predictor_type="classifier", sample_size="5",
               index_type="faiss.IVFPQ", index_metric="COSINE")  # fmt: skip


def test_rcf_scores_anomalies_above_normal_points() -> None:
    rng = np.random.default_rng(6)
    X = rng.normal(size=(500, 2))
    model = algorithm_class("randomcutforest").from_hyperparameters(
        {"feature_dim": "2", "num_trees": "50", "num_samples_per_tree": "128"}
    )
    model.fit(X, log=_quiet())
    normal = model.predict(rng.normal(size=(100, 2)))
    anomalies = model.predict(np.array([[6.0, 6.0], [-7.0, 0.0], [0.0, 9.0]]))
    assert anomalies.min() > normal.max()
    assert 0.3 < float(np.median(normal)) < 2.0, "normal points score near 1, as AWS's RCF"
    labels = np.r_[np.zeros(100), np.ones(3)]
    metrics = model.score(
        np.vstack([rng.normal(size=(100, 2)), [[6.0, 6.0], [-7.0, 0.0], [0.0, 9.0]]]),
        labels,
        channel="test",
    )
    assert metrics["test:recall"] == 1.0
    assert metrics["test:f1"] > 0.5
    with pytest.raises(ValidationError, match=r"an integer in \[50, 1000\]"):
        _build("randomcutforest", feature_dim="2", num_trees="10")


# -- factorization machines, LightGBM, MLP ------------------------------------------------------


def test_factorization_machines_learn_from_sparse_one_hot_interactions() -> None:
    rng = np.random.default_rng(9)
    users, items = rng.integers(0, 20, size=2000), rng.integers(0, 20, size=2000)
    taste = rng.normal(size=(20, 2))
    kind = rng.normal(size=(20, 2))
    y = (np.sum(taste[users] * kind[items], axis=1) > 0).astype(np.float64)
    rows = np.repeat(np.arange(2000), 2)
    X = sp.csr_matrix((np.ones(4000), (rows, np.c_[users, 20 + items].ravel())), shape=(2000, 40))
    model = algorithm_class("factorization-machines").from_hyperparameters(
        {"feature_dim": "40", "num_factors": "4", "predictor_type": "binary_classifier",
         "epochs": "30", "mini_batch_size": "100", "factors_lr": "0.05", "linear_lr": "0.05",
         "factors_init_sigma": "0.1"}
    )  # fmt: skip
    model.fit(X[:1600], y[:1600], log=_quiet())
    metrics = model.score(X[1600:], y[1600:], channel="test")
    assert metrics["test:binary_classification_accuracy"] > 0.8
    assert set(model.predict_records(X[:1])[0]) == {"score", "predicted_label"}


def test_lightgbm_detects_the_task_and_saves_a_text_model(tmp_path: Path) -> None:
    rng = np.random.default_rng(12)
    X = rng.normal(size=(400, 4))
    classes = np.digitize(X[:, 0] + X[:, 1], [-0.5, 0.5]).astype(np.float64)
    model = algorithm_class("lightgbm").from_hyperparameters(
        {"num_boost_round": "20", "verbosity": "-1", "num_leaves": "8"}
    )
    stream = io.StringIO()
    model.fit(X[:300], classes[:300], validation=Dataset(X[300:], classes[300:]),
              log=MetricLog(stream))  # fmt: skip
    assert model.task_ == "multiclass"
    assert model.num_class_ == 3
    assert "#011validation's multi_logloss:" in stream.getvalue()
    assert np.mean(model.predict(X[300:]) == classes[300:]) > 0.8
    record = model.predict_records(X[:1])[0]
    assert len(record["probabilities"]) == 3
    model.save(tmp_path)
    native = lgb.Booster(model_file=str(tmp_path / "lightgbm-model.txt"))
    np.testing.assert_allclose(native.predict(X), model.booster_.predict(X), rtol=1e-12)
    with pytest.raises(ValidationError, match="is_unbalance='True' cannot be combined"):
        _build("lightgbm", is_unbalance="True", scale_pos_weight="2")


def test_lightgbm_metric_decides_regression_for_integer_labels() -> None:
    rng = np.random.default_rng(13)
    X = rng.normal(size=(200, 3))
    counts = np.round(np.exp(X[:, 0])).astype(np.float64)
    model = algorithm_class("lightgbm").from_hyperparameters(
        {"num_boost_round": "5", "verbosity": "-1", "metric": "l1"}
    )
    model.fit(X, counts, log=_quiet())
    assert model.task_ == "regression"


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_mlp_binary_classifier_learns_a_nonlinear_boundary(activation: str) -> None:
    rng = np.random.default_rng(14)
    X = rng.uniform(-1, 1, size=(600, 2))
    y = (np.hypot(X[:, 0], X[:, 1]) < 0.7).astype(np.float64)
    model = algorithm_class("mlp").from_hyperparameters(
        {"predictor_type": "binary_classifier", "hidden_layers": "16,16", "epochs": "40",
         "activation": activation, "learning_rate": "0.01", "optimizer": "adam"}
    )  # fmt: skip
    model.fit(X[:500], y[:500], validation=Dataset(X[500:], y[500:]), log=_quiet())
    accuracy = model.score(X[500:], y[500:], channel="test")["test:binary_classification_accuracy"]
    assert accuracy > 0.85


def test_mlp_checks_its_hyperparameters() -> None:
    with pytest.raises(ValidationError, match="'num_classes' is required"):
        _build("mlp", predictor_type="multiclass_classifier")
    with pytest.raises(ValidationError, match="expected widths from 1 to 65536"):
        _build("mlp", predictor_type="regressor", hidden_layers="16,0")
    with pytest.raises(ValidationError, match="one of 'relu', 'tanh', 'sigmoid'"):
        _build("mlp", predictor_type="regressor", activation="gelu")
