"""Image URIs (any region, any tag) and names resolve to built-in algorithms."""

from __future__ import annotations

import pytest

from lakeworks.core.errors import ValidationError
from lakeworks.training.algorithms import ALGORITHMS
from lakeworks.training.images import (
    ALGORITHM_NAMES,
    find_algorithm,
    parse_image_uri,
    resolve_algorithm,
)


@pytest.mark.parametrize(
    ("uri", "algorithm"),
    [
        ("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1", "xgboost"),
        ("246618743249.dkr.ecr.us-west-2.amazonaws.com/sagemaker-xgboost:1.0-1-cpu-py3", "xgboost"),
        ("451049120500.dkr.ecr.cn-north-1.amazonaws.com.cn/sagemaker-xgboost:1.5-1", "xgboost"),
        ("811284229777.dkr.ecr.us-east-1.amazonaws.com/xgboost:1", "xgboost"),
        ("382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1", "linear-learner"),
        ("174872318107.dkr.ecr.us-west-2.amazonaws.com/kmeans:1", "kmeans"),
        ("664544806723.dkr.ecr.eu-central-1.amazonaws.com/pca:latest", "pca"),
        ("382416733822.dkr.ecr.us-east-1.amazonaws.com/knn:1", "knn"),
        ("382416733822.dkr.ecr.us-east-1.amazonaws.com/randomcutforest:1", "randomcutforest"),
        (
            "382416733822.dkr.ecr.us-east-1.amazonaws.com/factorization-machines:1",
            "factorization-machines",
        ),
        ("123456789012.dkr.ecr.ap-south-1.amazonaws.com/lightgbm:4", "lightgbm"),
        ("localhost:5000/lakeworks/mlp:1", "mlp"),
        ("registry.example.com/sagemaker-xgboost@sha256:" + "a" * 64, "xgboost"),
        ("linear-learner", "linear-learner"),
        ("lightgbm-classification-model", "lightgbm"),
        ("XGBoost", "xgboost"),
    ],
)
def test_resolution_ignores_account_region_and_tag(uri: str, algorithm: str) -> None:
    assert resolve_algorithm(uri).algorithm == algorithm


def test_every_name_resolves_to_a_registered_algorithm() -> None:
    assert set(ALGORITHM_NAMES) == set(ALGORITHMS)
    for name in ALGORITHM_NAMES:
        assert resolve_algorithm(name).algorithm == name


def test_uri_parts() -> None:
    assert parse_image_uri(
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
    ) == (
        "683313688378.dkr.ecr.us-east-1.amazonaws.com",
        "sagemaker-xgboost",
        "1.7-1",
    )
    assert parse_image_uri("kmeans") == (None, "kmeans", None)
    assert parse_image_uri("team/kmeans:2") == (None, "team/kmeans", "2")


def test_unknown_image_lists_the_supported_algorithms() -> None:
    uri = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.1-cpu-py310"
    assert find_algorithm(uri) is None
    with pytest.raises(ValidationError) as caught:
        resolve_algorithm(uri)
    assert "repository 'pytorch-training'" in caught.value.message
    assert ", ".join(ALGORITHM_NAMES) in caught.value.message
    assert caught.value.details["allowed"] == list(ALGORITHM_NAMES)
    with pytest.raises(ValidationError, match="not an image URI or algorithm name"):
        resolve_algorithm("bad uri with spaces")
