"""Search spaces: SageMaker's ranges checked, scaled and formatted (no server)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from lakeworks.core.errors import ValidationError
from lakeworks.schemas.tuning import ParameterRanges
from lakeworks.tuning.ranges import (
    CategoricalRange,
    ContinuousRange,
    IntegerRange,
    SearchSpace,
    format_value,
)


def space(**ranges: Any) -> SearchSpace:
    return SearchSpace.from_ranges(ParameterRanges.model_validate(ranges))


def test_ranges_are_read_from_sagemakers_shapes() -> None:
    built = space(
        IntegerParameterRanges=[{"Name": "max_depth", "MinValue": "2", "MaxValue": "8"}],
        ContinuousParameterRanges=[
            {"Name": "eta", "MinValue": "0.01", "MaxValue": "0.5", "ScalingType": "Linear"},
            {"Name": "lambda", "MinValue": "0.001", "MaxValue": "10"},
        ],
        CategoricalParameterRanges=[{"Name": "booster", "Values": ["gbtree", "dart"]}],
    )
    assert built.names == ["max_depth", "eta", "lambda", "booster"]
    assert built.ranges[0] == IntegerRange("max_depth", 2, 8, "Linear")
    # Auto: four orders of magnitude and positive, so logarithmic.
    assert built.ranges[2] == ContinuousRange("lambda", 0.001, 10.0, "Logarithmic")
    assert built.ranges[3] == CategoricalRange("booster", ("gbtree", "dart"))
    assert not built.is_categorical()


@pytest.mark.parametrize(
    ("ranges", "message"),
    [
        ({"IntegerParameterRanges": [{"Name": "a", "MinValue": "x", "MaxValue": "2"}]}, "integer"),
        ({"IntegerParameterRanges": [{"Name": "a", "MinValue": "5", "MaxValue": "2"}]}, "greater"),
        (
            {
                "ContinuousParameterRanges": [
                    {"Name": "a", "MinValue": "0", "MaxValue": "1", "ScalingType": "Logarithmic"}
                ]
            },
            "MinValue > 0",
        ),
        (
            {
                "IntegerParameterRanges": [
                    {
                        "Name": "a",
                        "MinValue": "1",
                        "MaxValue": "9",
                        "ScalingType": "ReverseLogarithmic",
                    }
                ]
            },
            "continuous",
        ),
        (
            {
                "ContinuousParameterRanges": [
                    {
                        "Name": "a",
                        "MinValue": "0.5",
                        "MaxValue": "1.5",
                        "ScalingType": "ReverseLogarithmic",
                    }
                ]
            },
            "< 1",
        ),
        (
            {
                "IntegerParameterRanges": [{"Name": "a", "MinValue": "1", "MaxValue": "2"}],
                "CategoricalParameterRanges": [{"Name": "a", "Values": ["x"]}],
            },
            "more than one range",
        ),
        ({"CategoricalParameterRanges": [{"Name": "a", "Values": ["x", "x"]}]}, "repeats"),
        ({}, "at least one range"),
        ({"AutoParameters": [{"Name": "a", "ValueHint": "1"}]}, "Autotune"),
    ],
)
def test_bad_ranges_are_refused_with_the_reason(ranges: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        SearchSpace.from_ranges(ParameterRanges.model_validate(ranges))


def test_scalings_map_the_unit_interval_both_ways() -> None:
    log = ContinuousRange("lr", 1e-4, 1.0, "Logarithmic")
    assert log.from_unit(0.5) == pytest.approx(1e-2)
    assert log.to_unit(1e-3) == pytest.approx(0.25)
    reverse = ContinuousRange("m", 0.0, 0.999, "ReverseLogarithmic")
    assert reverse.from_unit(0.0) == pytest.approx(0.0)
    assert reverse.from_unit(1.0) == pytest.approx(0.999)
    # Dense near the top: half the unit interval covers 0.0 .. ~0.968.
    assert reverse.from_unit(0.5) == pytest.approx(1 - math.sqrt(0.001), rel=1e-6)
    assert reverse.to_unit(reverse.from_unit(0.3)) == pytest.approx(0.3)
    integers = IntegerRange("n", 1, 1000, "Logarithmic")
    assert integers.from_unit(0.0) == 1
    assert integers.from_unit(1.0) == 1000
    assert integers.from_unit(0.5) in (31, 32)


def test_values_are_formatted_as_training_jobs_receive_them() -> None:
    assert format_value(5) == "5"
    assert format_value(0.1) == "0.1"
    assert format_value(1e-7) == "1e-07"
    assert format_value("gbtree") == "gbtree"
    assert format_value(True) == "true"


def test_parse_strings_round_trips_and_rejects_outside_values() -> None:
    built = space(
        IntegerParameterRanges=[{"Name": "d", "MinValue": "1", "MaxValue": "4"}],
        CategoricalParameterRanges=[{"Name": "c", "Values": ["a", "b"]}],
    )
    assert built.parse_strings({"d": "3", "c": "b"}) == {"d": 3, "c": "b"}
    assert built.parse_strings({"d": "9", "c": "b"}) is None
    assert built.parse_strings({"d": "2"}) is None
    assert built.as_strings({"d": 3, "c": "b"}) == {"d": "3", "c": "b"}


def test_grid_enumerates_categorical_combinations() -> None:
    built = space(
        CategoricalParameterRanges=[
            {"Name": "a", "Values": ["1", "2"]},
            {"Name": "b", "Values": ["x", "y", "z"]},
        ]
    )
    assert built.is_categorical()
    assert built.grid_size() == 6
    grid = list(built.grid())
    assert grid[0] == {"a": "1", "b": "x"}
    assert grid[-1] == {"a": "2", "b": "z"}
    assert len({tuple(g.items()) for g in grid}) == 6
