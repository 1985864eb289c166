"""The declarative hyperparameter spec: parsing strings the way SageMaker sends them."""

from __future__ import annotations

import pytest

from lakeworks.core.errors import ValidationError
from lakeworks.training.algorithms.hyperparameters import (
    AUTO,
    Boolean,
    Categorical,
    Float,
    HyperparameterSpec,
    Integer,
    IntegerTuple,
    NestedIntegerList,
    StringList,
    Text,
)

SPEC = HyperparameterSpec(
    "demo",
    (
        Integer("rounds", low=1),
        Integer("dim", AUTO, low=1, auto=True),
        Float("rate", 0.3, low=0, high=1, low_open=True),
        Float("weight", 1.0, low=0, low_open=True, auto=True, words=("balanced",)),
        Categorical("mode", "a", choices=("a", "b")),
        Boolean("flag", True),
        StringList("metrics", ("x",), choices=("x", "y", "z")),
        IntegerTuple("signs", None, choices=(-1, 0, 1)),
        NestedIntegerList("groups", None),
        Text("lambda", None),
    ),
)


def test_strings_parse_into_typed_values_keyed_by_python_names() -> None:
    kwargs = SPEC.parse(
        {
            "rounds": "10",
            "dim": "auto",
            "rate": "1e-1",
            "weight": "balanced",
            "mode": '"b"',  # framework-style JSON string
            "flag": "False",
            "metrics": '["y", "z"]',
            "signs": "(1,-1, 0)",
            "groups": "[[0, 1], [2]]",
            "lambda": "hello",
        }
    )
    assert kwargs == {
        "rounds": 10,
        "dim": "auto",
        "rate": 0.1,
        "weight": "balanced",
        "mode": "b",
        "flag": False,
        "metrics": ("y", "z"),
        "signs": (1, -1, 0),
        "groups": ((0, 1), (2,)),
        "lambda_": "hello",
    }


def test_typed_python_values_are_accepted_too() -> None:
    assert SPEC.parse({"rounds": 3, "rate": 1, "flag": True, "metrics": "x,y"}) == {
        "rounds": 3,
        "rate": 1.0,
        "flag": True,
        "metrics": ("x", "y"),
    }


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("rounds", "1.5", "an integer in [1, inf)"),
        ("rounds", "0", "an integer in [1, inf)"),
        ("rounds", "true", "an integer in [1, inf)"),
        ("rate", "0", "a number in (0, 1]"),
        ("rate", "nan", "a number in (0, 1]"),
        ("rate", "1.01", "a number in (0, 1]"),
        ("weight", "heavy", "'auto', 'balanced' or a number in (0, inf)"),
        ("mode", "c", "one of 'a', 'b'"),
        ("flag", "yes", "'true' or 'false'"),
        ("metrics", "x,w", "a list (JSON or comma-separated) of 'x', 'y', 'z'"),
        ("signs", "(2, 0)", "a tuple of -1, 0, 1, e.g. '(0, 1)'"),
        ("groups", "[[0, -1]]", "a nested list of feature indices"),
    ],
)
def test_bad_values_say_what_is_allowed(name: str, value: str, expected: str) -> None:
    with pytest.raises(ValidationError) as caught:
        SPEC.parse({"rounds": "1", name: value})
    assert caught.value.message.startswith(
        f"Invalid value {value!r} for hyperparameter {name!r} of algorithm 'demo': expected"
    )
    assert expected in caught.value.message
    assert caught.value.details["hyperparameter"] == name


def test_unknown_and_missing_names() -> None:
    with pytest.raises(ValidationError) as caught:
        SPEC.parse({"rounds": "1", "rouds": "2"})
    assert "Unknown hyperparameter 'rouds' for algorithm 'demo'; allowed: dim, flag" in (
        caught.value.message
    )
    with pytest.raises(ValidationError, match="Missing required hyperparameter 'rounds'"):
        SPEC.parse({"rate": "0.5"})


def test_check_validates_stored_values_and_fills_defaults() -> None:
    checked = SPEC.check({"rounds": 2, "lambda": None})
    assert checked["rate"] == 0.3
    assert checked["dim"] == AUTO
    assert checked["lambda"] is None
    with pytest.raises(ValidationError, match="'rate'"):
        SPEC.check({"rounds": 2, "rate": 5})
    with pytest.raises(ValidationError, match="Missing required hyperparameter 'rounds'"):
        SPEC.check({})


def test_spec_rejects_duplicate_names() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        HyperparameterSpec("x", (Integer("a"), Integer("a")))


def test_parsed_values_parse_again_to_themselves() -> None:
    # fit() re-checks stored values, so every kind must accept its own output.
    parsed = SPEC.parse(
        {
            "rounds": "4",
            "weight": "2.5",
            "metrics": "x,z",
            "signs": "(0, 1)",
            "groups": "[[1], [2, 3]]",
            "flag": "true",
        }
    )
    by_name = {param.name: parsed[param.attr] for param in SPEC.params if param.attr in parsed}
    assert SPEC.parse(by_name) == parsed
