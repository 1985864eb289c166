"""Variant state: desired/current weights and counts, UpdateEndpointWeightsAndCapacities."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lakeworks.core.errors import ValidationError
from lakeworks.hosting.variants import apply_desired, initial_states, serving, summaries
from lakeworks.schemas.hosting import DesiredWeightAndCapacity, EndpointConfigCreate

NOW = datetime(2024, 5, 1, tzinfo=UTC)


def _config() -> EndpointConfigCreate:
    return EndpointConfigCreate.model_validate(
        {
            "EndpointConfigName": "cfg",
            "ProductionVariants": [
                {"VariantName": "a", "ModelName": "m", "InitialInstanceCount": 2,
                 "InstanceType": "ml.m5.large", "InitialVariantWeight": 3},
                {"VariantName": "b", "ModelName": "m", "InitialInstanceCount": 1,
                 "InstanceType": "ml.m5.large"},
            ],
        }
    )  # fmt: skip


def test_new_endpoint_desires_the_config_and_serves_nothing_yet() -> None:
    states = initial_states(_config(), {"m": ["xgboost"]}, NOW)
    assert [(s.desired_weight, s.desired_instance_count) for s in states] == [(3.0, 2), (1.0, 1)]
    assert [(s.current_weight, s.current_instance_count) for s in states] == [(0.0, 0), (0.0, 0)]
    production, shadows = summaries(serving(states))
    assert [(p.current_weight, p.current_instance_count) for p in production] == [
        (3.0, 2),
        (1.0, 1),
    ]
    assert shadows == []
    assert production[0].deployed_images[0].specified_image == "xgboost"


def test_desired_weights_and_counts_change_only_the_named_variants() -> None:
    states = serving(initial_states(_config(), {}, NOW))
    updated = apply_desired(
        states,
        [DesiredWeightAndCapacity(variant_name="b", desired_weight=0.5, desired_instance_count=3)],
    )
    assert (updated[1].desired_weight, updated[1].desired_instance_count) == (0.5, 3)
    assert (updated[1].current_weight, updated[1].current_instance_count) == (1.0, 1)
    assert updated[0] == states[0]


@pytest.mark.parametrize(
    ("update", "message"),
    [
        ({"variant_name": "zzz", "desired_weight": 1.0}, "not present in the endpoint"),
        ({"variant_name": "a"}, "DesiredWeight and/or DesiredInstanceCount"),
        ({"variant_name": "a", "desired_instance_count": 0}, "must be 1-32"),
        ({"variant_name": "a", "desired_instance_count": 99}, "must be 1-32"),
    ],
)
def test_bad_updates_are_refused(update: dict[str, object], message: str) -> None:
    states = serving(initial_states(_config(), {}, NOW))
    with pytest.raises(ValidationError, match=message):
        apply_desired(states, [DesiredWeightAndCapacity.model_validate(update)])


def test_all_production_weights_zero_is_refused() -> None:
    states = serving(initial_states(_config(), {}, NOW))
    zero = [DesiredWeightAndCapacity(variant_name=n, desired_weight=0.0) for n in ("a", "b")]
    with pytest.raises(ValidationError, match="weight above 0"):
        apply_desired(states, zero)


def test_repeated_variant_is_refused() -> None:
    states = serving(initial_states(_config(), {}, NOW))
    twice = [DesiredWeightAndCapacity(variant_name="a", desired_weight=1.0)] * 2
    with pytest.raises(ValidationError, match="listed twice"):
        apply_desired(states, twice)
