"""Tuning strategies as pure functions of the history: what to try next, what to stop.

A strategy sees every trial so far (and, on a warm start, the parents' trials first) as
:class:`Observation`\\ s: the values tried, the *loss* (the objective oriented so that lower is
better; ``None`` while running or when the objective never appeared) and the curve of
intermediate objective values (one per step: epoch, boosting round). It keeps no state of its
own, so a tuning job resumes after a server restart by replaying its trials from the database;
randomness is seeded by the job's seed and the trial's number.

``Random``
    Independent draws from the ranges (with their scaling).
``Bayesian``
    Random proposals first (ten, or a third of a small budget), then Optuna's TPE sampler over
    the completed trials (running ones count as the worst seen, the constant-liar trick, so
    parallel proposals spread out).
``Grid``
    Every combination of the categorical ranges, in order, once.
``Hyperband``
    Random draws, and asynchronous successive halving on the intermediate values: at rungs
    ``min_resource * 3**k`` a trial continues only while it is in the best third of the trials
    that reached that rung.

With ``TrainingJobEarlyStoppingType: Auto`` the other strategies stop a trial whose best value
so far is worse than the median of the completed trials' best values at the same step.
"""

from __future__ import annotations

import math
import statistics
import warnings
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from lakeworks.tuning.ranges import (
    CategoricalRange,
    ContinuousRange,
    IntegerRange,
    SearchSpace,
)

__all__ = [
    "BayesianStrategy",
    "GridStrategy",
    "HyperbandStrategy",
    "Observation",
    "RandomStrategy",
    "Strategy",
    "make_strategy",
    "median_stop",
]

State = Literal["running", "complete", "failed"]


@dataclass(frozen=True)
class Observation:
    """One trial as a strategy sees it."""

    params: dict[str, Any]
    state: State
    loss: float | None = None
    curve: tuple[float, ...] = field(default_factory=tuple)


def _best_so_far(curve: Sequence[float], steps: int) -> float:
    return min(curve[:steps])


def median_stop(trial: Observation, history: Sequence[Observation], *, min_steps: int = 3) -> bool:
    """The median stopping rule: stop ``trial`` if its best value up to its latest step is worse
    than the median of the completed trials' best values up to the same step (at least three
    completed trials with that many steps, and at least ``min_steps`` steps)."""
    steps = len(trial.curve)
    if steps < min_steps:
        return False
    peers = [
        _best_so_far(o.curve, steps)
        for o in history
        if o is not trial and o.state == "complete" and len(o.curve) >= steps
    ]
    if len(peers) < 3:
        return False
    return _best_so_far(trial.curve, steps) > statistics.median(peers)


class Strategy(ABC):
    """Proposes hyperparameter values; may stop running trials early.

    Args:
        space: The ranges.
        seed: Seeds every random choice (with the trial's number).
    """

    def __init__(self, space: SearchSpace, seed: int, *, early_stopping: bool = False) -> None:
        self.space = space
        self.seed = seed
        self.early_stopping = early_stopping

    @abstractmethod
    def propose(self, history: Sequence[Observation], count: int) -> list[dict[str, Any]]:
        """Up to ``count`` new value sets (fewer when the strategy has nothing left)."""

    def capacity(self) -> int | None:
        """The most trials this strategy can propose (None: no limit of its own)."""
        return None

    def should_stop(self, trial: Observation, history: Sequence[Observation]) -> bool:
        """Whether the running ``trial`` should be stopped now."""
        return self.early_stopping and median_stop(trial, history)

    def _rng(self, number: int) -> np.random.Generator:
        return np.random.default_rng([abs(self.seed), number])

    def _sample(self, number: int) -> dict[str, Any]:
        rng = self._rng(number)
        point: dict[str, float] = {}
        choices: dict[str, int] = {}
        for r in self.space.ranges:
            if isinstance(r, CategoricalRange):
                choices[r.name] = int(rng.integers(len(r.values)))
            else:
                point[r.name] = float(rng.random())
        return self.space.from_unit(point, choices)


class RandomStrategy(Strategy):
    """Independent random draws."""

    def propose(self, history: Sequence[Observation], count: int) -> list[dict[str, Any]]:
        return [self._sample(len(history) + i) for i in range(count)]


class GridStrategy(Strategy):
    """Every combination of the categorical values, once each."""

    def capacity(self) -> int | None:
        return self.space.grid_size()

    def propose(self, history: Sequence[Observation], count: int) -> list[dict[str, Any]]:
        tried = [o.params for o in history]
        proposals: list[dict[str, Any]] = []
        for combo in self.space.grid():
            if len(proposals) == count:
                break
            if combo not in tried:
                proposals.append(combo)
        return proposals


class HyperbandStrategy(Strategy):
    """Random draws with asynchronous successive halving (see the module docstring).

    Args:
        min_resource: Steps before the first rung (default 1).
        max_resource: Steps of a full training run; no trial is stopped at or past it.
        eta: The halving rate (a third continues).
    """

    def __init__(
        self,
        space: SearchSpace,
        seed: int,
        *,
        min_resource: int = 1,
        max_resource: int | None = None,
        eta: int = 3,
    ) -> None:
        super().__init__(space, seed)
        self.min_resource = max(1, min_resource)
        self.max_resource = max_resource
        self.eta = eta

    def propose(self, history: Sequence[Observation], count: int) -> list[dict[str, Any]]:
        return [self._sample(len(history) + i) for i in range(count)]

    def rungs(self, steps: int) -> list[int]:
        """The rungs at or below ``steps`` (below ``max_resource``)."""
        found = []
        rung = self.min_resource
        while rung <= steps and (self.max_resource is None or rung < self.max_resource):
            found.append(rung)
            rung *= self.eta
        return found

    def should_stop(self, trial: Observation, history: Sequence[Observation]) -> bool:
        rungs = self.rungs(len(trial.curve))
        if not rungs:
            return False
        rung = rungs[-1]
        values = [_best_so_far(o.curve, rung) for o in history if len(o.curve) >= rung]
        if len(values) < self.eta:
            return False
        keep = max(1, len(values) // self.eta)
        cutoff = sorted(values)[keep - 1]
        return _best_so_far(trial.curve, rung) > cutoff


class BayesianStrategy(Strategy):
    """Optuna's TPE sampler over the history (see the module docstring).

    Args:
        startup: Random proposals before the model is used (10 by default: on XGBoost's five
            usual hyperparameters fewer made the model chase early noise; see
            ``bench/bench_training.py``).
    """

    def __init__(
        self, space: SearchSpace, seed: int, *, early_stopping: bool = False, startup: int = 10
    ) -> None:
        super().__init__(space, seed, early_stopping=early_stopping)
        self.startup = startup

    def _distributions(self) -> dict[str, Any]:
        from optuna.distributions import (
            CategoricalDistribution,
            FloatDistribution,
            IntDistribution,
        )

        distributions: dict[str, Any] = {}
        for r in self.space.ranges:
            if isinstance(r, CategoricalRange):
                distributions[r.name] = CategoricalDistribution(list(r.values))
            elif isinstance(r, IntegerRange):
                distributions[r.name] = IntDistribution(
                    r.low, max(r.high, r.low), log=r.scaling == "Logarithmic"
                )
            elif r.scaling == "ReverseLogarithmic":
                # Optuna has no reverse-log scale: search t = log(1 - x) linearly.
                distributions[r.name] = FloatDistribution(math.log(1 - r.high), math.log(1 - r.low))
            else:
                distributions[r.name] = FloatDistribution(
                    r.low, max(r.high, r.low), log=r.scaling == "Logarithmic"
                )
        return distributions

    def _internal(self, params: dict[str, Any]) -> dict[str, Any]:
        out = dict(params)
        for r in self.space.ranges:
            if isinstance(r, ContinuousRange) and r.scaling == "ReverseLogarithmic":
                out[r.name] = math.log(1 - float(params[r.name]))
        return out

    def _external(self, params: dict[str, Any]) -> dict[str, Any]:
        out = dict(params)
        for r in self.space.ranges:
            if isinstance(r, ContinuousRange) and r.scaling == "ReverseLogarithmic":
                out[r.name] = min(r.high, max(r.low, 1 - math.exp(float(params[r.name]))))
        return out

    def propose(self, history: Sequence[Observation], count: int) -> list[dict[str, Any]]:
        import optuna

        finished = [o for o in history if o.state == "complete" and o.loss is not None]
        if len(finished) < self.startup:
            return [self._sample(len(history) + i) for i in range(count)]
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        distributions = self._distributions()
        worst = max(o.loss for o in finished if o.loss is not None)
        with warnings.catch_warnings():
            # multivariate and constant_liar are marked experimental by Optuna.
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            sampler = optuna.samplers.TPESampler(
                seed=(abs(self.seed) * 1_000_003 + len(history)) % 2**32,
                n_startup_trials=self.startup,
                multivariate=True,
                constant_liar=True,
            )
            study = optuna.create_study(direction="minimize", sampler=sampler)
            for observation in history:
                if observation.state == "failed" or not self._valid(observation.params):
                    continue
                value = observation.loss if observation.state == "complete" else worst
                if value is None:
                    continue
                study.add_trial(
                    optuna.trial.create_trial(
                        params=self._internal(observation.params),
                        distributions=distributions,
                        value=float(value),
                    )
                )
            proposals = []
            for _ in range(count):
                trial = study.ask(distributions)
                proposals.append(self._external(trial.params))
        return proposals

    def _valid(self, params: dict[str, Any]) -> bool:
        return all(r.name in params and r.contains(params[r.name]) for r in self.space.ranges)


def make_strategy(
    name: str,
    space: SearchSpace,
    seed: int,
    *,
    early_stopping: bool = False,
    min_resource: int | None = None,
    max_resource: int | None = None,
    budget: int | None = None,
) -> Strategy:
    """The strategy SageMaker's ``Strategy`` names (``budget``: MaxNumberOfTrainingJobs).

    Raises:
        ValueError: Unknown name (the schema allows only the four).
    """
    if name == "Random":
        return RandomStrategy(space, seed, early_stopping=early_stopping)
    if name == "Bayesian":
        # A third of a small budget explores at random before the model guides the rest.
        startup = 10 if budget is None else min(10, max(3, budget // 3))
        return BayesianStrategy(space, seed, early_stopping=early_stopping, startup=startup)
    if name == "Grid":
        return GridStrategy(space, seed, early_stopping=early_stopping)
    if name == "Hyperband":
        return HyperbandStrategy(
            space, seed, min_resource=min_resource or 1, max_resource=max_resource
        )
    raise ValueError(f"unknown strategy {name!r}")
