"""Tuning strategies as pure functions of the history (no server, no jobs)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from typing import Any

import pytest

from lakeworks.schemas.tuning import ParameterRanges
from lakeworks.tuning.ranges import SearchSpace
from lakeworks.tuning.strategies import (
    BayesianStrategy,
    GridStrategy,
    HyperbandStrategy,
    Observation,
    RandomStrategy,
    Strategy,
    make_strategy,
    median_stop,
)

SPACE = SearchSpace.from_ranges(
    ParameterRanges.model_validate(
        {
            "ContinuousParameterRanges": [
                {"Name": "x", "MinValue": "-4", "MaxValue": "4", "ScalingType": "Linear"},
                {"Name": "lr", "MinValue": "0.0001", "MaxValue": "1"},
            ],
            "IntegerParameterRanges": [{"Name": "depth", "MinValue": "1", "MaxValue": "10"}],
            "CategoricalParameterRanges": [{"Name": "kind", "Values": ["a", "b", "c"]}],
        }
    )
)


def loss(p: dict[str, Any]) -> float:
    return (
        (p["x"] - 1.5) ** 2
        + (math.log10(p["lr"]) + 2) ** 2
        + 0.2 * abs(p["depth"] - 6)
        + (0.0 if p["kind"] == "b" else 1.0)
    )


def run(strategy: Strategy, trials: int, batch: int = 2) -> list[Observation]:
    history: list[Observation] = []
    while len(history) < trials:
        for params in strategy.propose(history, min(batch, trials - len(history))):
            history.append(Observation(params, "complete", loss(params)))
    return history


def test_proposals_lie_inside_the_space_and_are_reproducible() -> None:
    for make in (RandomStrategy, BayesianStrategy):
        first = run(make(SPACE, 11), 12)
        again = run(make(SPACE, 11), 12)
        assert [o.params for o in first] == [o.params for o in again]
        for observation in first:
            assert SPACE.parse_strings(SPACE.as_strings(observation.params)) is not None
        other = run(make(SPACE, 12), 12)
        assert [o.params for o in other] != [o.params for o in first]


def test_random_proposals_differ_from_trial_to_trial() -> None:
    history = run(RandomStrategy(SPACE, 3), 10)
    assert len({round(o.params["x"], 9) for o in history}) == 10


def test_bayesian_beats_random_on_the_same_budget() -> None:
    bayes, rand = [], []
    for seed in range(7):
        bayes.append(min(o.loss or 0 for o in run(BayesianStrategy(SPACE, seed), 25)))
        rand.append(min(o.loss or 0 for o in run(RandomStrategy(SPACE, seed), 25)))
    assert statistics.median(bayes) < statistics.median(rand)


def test_bayesian_counts_running_trials_so_parallel_proposals_spread() -> None:
    strategy = BayesianStrategy(SPACE, 0, startup=3)
    history = run(strategy, 8)
    running = [Observation(p, "running") for p in strategy.propose(history, 1)]
    proposals = strategy.propose(history + running, 3)
    assert len(proposals) == 3
    keys = {tuple(sorted(p.items())) for p in proposals} | {
        tuple(sorted(r.params.items())) for r in running
    }
    assert len(keys) == 4


def test_bayesian_ignores_failed_trials_and_values_outside_the_space() -> None:
    strategy = BayesianStrategy(SPACE, 1, startup=3)
    history = run(strategy, 6)
    history.append(Observation({"x": 100.0, "lr": 0.1, "depth": 3, "kind": "a"}, "complete", 0.0))
    history.append(Observation(history[0].params, "failed"))
    assert len(strategy.propose(history, 2)) == 2


def test_grid_tries_each_combination_once_then_stops() -> None:
    grid_space = SearchSpace.from_ranges(
        ParameterRanges.model_validate(
            {
                "CategoricalParameterRanges": [
                    {"Name": "a", "Values": ["1", "2"]},
                    {"Name": "b", "Values": ["x", "y"]},
                ]
            }
        )
    )
    strategy = GridStrategy(grid_space, 0)
    assert strategy.capacity() == 4
    history: list[Observation] = []
    for _ in range(5):
        for params in strategy.propose(history, 3):
            history.append(Observation(params, "complete", 0.0))
    assert len(history) == 4
    assert strategy.propose(history, 1) == []


def curve(*values: float) -> tuple[float, ...]:
    return tuple(values)


def test_hyperband_stops_trials_outside_the_best_third_at_a_rung() -> None:
    strategy = HyperbandStrategy(SPACE, 0, min_resource=1, max_resource=27)
    assert strategy.rungs(10) == [1, 3, 9]
    peers = [Observation({}, "running", curve=curve(v, v, v)) for v in (1.0, 2.0, 3.0, 4.0, 5.0)]
    good = Observation({}, "running", curve=curve(0.5, 0.4, 0.3))
    bad = Observation({}, "running", curve=curve(9.0, 9.0, 9.0))
    history = [*peers, good, bad]
    assert not strategy.should_stop(good, history)
    assert strategy.should_stop(bad, history)
    # Too few trials at the rung: nobody is stopped yet.
    assert not strategy.should_stop(bad, [good, bad])
    # At or past max_resource a trial is never stopped.
    full = HyperbandStrategy(SPACE, 0, min_resource=1, max_resource=3)
    assert full.rungs(5) == [1]


def test_median_rule_stops_a_trial_worse_than_the_completed_median() -> None:
    done = [Observation({}, "complete", v, curve(v + 1, v, v)) for v in (1.0, 2.0, 3.0)]
    weak = Observation({}, "running", None, curve(5.0, 4.0, 3.5))
    strong = Observation({}, "running", None, curve(2.0, 1.5, 1.0))
    assert median_stop(weak, [*done, weak])
    assert not median_stop(strong, [*done, strong])
    assert not median_stop(Observation({}, "running", None, curve(9.0, 9.0)), done)
    random = RandomStrategy(SPACE, 0, early_stopping=True)
    assert random.should_stop(weak, [*done, weak])
    assert not RandomStrategy(SPACE, 0).should_stop(weak, [*done, weak])


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("Random", RandomStrategy),
        ("Bayesian", BayesianStrategy),
        ("Grid", GridStrategy),
        ("Hyperband", HyperbandStrategy),
    ],
)
def test_make_strategy(name: str, kind: Callable[..., Strategy]) -> None:
    assert isinstance(make_strategy(name, SPACE, 1), kind)  # type: ignore[arg-type]


def test_a_small_budget_explores_a_third_at_random() -> None:
    small = make_strategy("Bayesian", SPACE, 1, budget=9)
    assert isinstance(small, BayesianStrategy)
    assert small.startup == 3
    assert make_strategy("Bayesian", SPACE, 1, budget=300).startup == 10  # type: ignore[attr-defined]
