"""The autoscaling decision: metric series, policy, capacity and last scalings → desired capacity.

Pure functions, no I/O, no clock: the controller passes ``now`` and the points it sampled.

**Target tracking** (``TargetTrackingScaling``) keeps the metric near ``target_value``. The metric
is the average of the points in the window; the capacity that would bring it to the target is
``ceil(current × metric / target)`` (the metric is per instance, so it scales inversely with
capacity). It scales out when the metric is above the target, and in when it is below 90 % of it
(AWS's low alarm sits below the target too, so a fleet at its target does not flap), unless
``disable_scale_in``. An async variant may scale in to zero (``MinCapacity`` 0); at zero the
capacity that meets the target is ``ceil(metric / target)`` (a per-instance backlog counts the
whole backlog then), so a queued request brings an instance back even without the
``HasBacklogWithoutCapacity`` step policy AWS needs for that.

**Step scaling** (``StepScaling``) compares the aggregated metric (``Average``, ``Minimum`` or
``Maximum`` of the points) with an alarm threshold; the step whose interval holds
``metric − threshold`` gives the adjustment (``ChangeInCapacity``, ``PercentChangeInCapacity``
with ``MinAdjustmentMagnitude``, ``ExactCapacity``). Above the threshold a lower bound is
inclusive and an upper bound exclusive; below it the other way round, as AWS documents.

**Alarm actions.** A step policy named in a CloudWatch alarm's actions runs, as on AWS, with
the alarm's threshold and its latest datapoint (:func:`alarm_step`): the breach is
``value − threshold`` and the step bounds are relative to the alarm's threshold.

**Cooldowns.** No scale-out while the last scale-out's cooldown runs. No scale-in while the last
scale-in's cooldown runs, nor while the last scale-out's does (new instances get their cooldown to
take load before they are judged idle); a scale-out is never held back by a scale-in cooldown, as
on AWS. Step policies use their one ``Cooldown`` for both directions.

**Several policies** on one target combine as on AWS: it scales out if any policy wants more
(to the largest capacity wanted), and in only if every policy wants less (to the largest of
those).

The result is always clamped to ``[minimum, maximum]``; a capacity already outside the range is
brought into it even without data (as RegisterScalableTarget does on AWS).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

__all__ = [
    "SCALE_IN_RATIO",
    "Capacity",
    "Decision",
    "LastScaling",
    "MetricPoint",
    "Step",
    "StepPolicy",
    "TargetTrackingPolicy",
    "aggregate",
    "alarm_step",
    "combine",
    "decide",
    "percent_change",
]

#: Target tracking scales in only below this fraction of the target.
SCALE_IN_RATIO = 0.9

Direction = Literal["out", "in", "none"]


@dataclass(frozen=True)
class MetricPoint:
    """One sampled value of the policy's metric."""

    time: datetime
    value: float


@dataclass(frozen=True)
class Capacity:
    """The target's current desired capacity and its allowed range."""

    current: int
    minimum: int
    maximum: int

    def clamp(self, value: int) -> int:
        """``value`` inside ``[minimum, maximum]``."""
        return max(self.minimum, min(self.maximum, value))


@dataclass(frozen=True)
class LastScaling:
    """When the target last scaled out and in (None: never)."""

    scale_out: datetime | None = None
    scale_in: datetime | None = None


@dataclass(frozen=True)
class TargetTrackingPolicy:
    """A target tracking policy (cooldowns in seconds)."""

    target_value: float
    scale_out_cooldown: float = 300.0
    scale_in_cooldown: float = 300.0
    disable_scale_in: bool = False


@dataclass(frozen=True)
class Step:
    """One step adjustment: bounds relative to the threshold (None: unbounded)."""

    adjustment: int
    lower: float | None = None
    upper: float | None = None


@dataclass(frozen=True)
class StepPolicy:
    """A step scaling policy and the threshold of its alarm."""

    steps: tuple[Step, ...]
    threshold: float = 0.0
    adjustment_type: Literal["ChangeInCapacity", "PercentChangeInCapacity", "ExactCapacity"] = (
        "ChangeInCapacity"
    )
    min_adjustment_magnitude: int | None = None
    cooldown: float = 300.0
    aggregation: Literal["Average", "Minimum", "Maximum"] = "Average"


@dataclass(frozen=True)
class Decision:
    """What to do: the desired capacity, which way it moves, and why."""

    desired: int
    direction: Direction
    metric: float | None
    reason: str


def aggregate(points: Sequence[MetricPoint], how: str = "Average") -> float | None:
    """The points' ``Average``, ``Minimum`` or ``Maximum``; None without points."""
    if not points:
        return None
    values = [p.value for p in points]
    if how == "Minimum":
        return min(values)
    if how == "Maximum":
        return max(values)
    return sum(values) / len(values)


def _cooling(last: datetime | None, cooldown: float, now: datetime) -> bool:
    return last is not None and (now - last).total_seconds() < cooldown


def _result(capacity: Capacity, wanted: int, metric: float | None, reason: str) -> Decision:
    desired = capacity.clamp(wanted)
    if desired != wanted:
        reason += f"; clamped to {desired} (min {capacity.minimum}, max {capacity.maximum})"
    direction: Direction = (
        "out" if desired > capacity.current else "in" if desired < capacity.current else "none"
    )
    return Decision(desired, direction, metric, reason)


def _hold(capacity: Capacity, metric: float | None, reason: str) -> Decision:
    # Holding still respects the range: a capacity outside it is brought inside.
    return _result(capacity, capacity.current, metric, reason)


def _target_tracking(
    policy: TargetTrackingPolicy,
    metric: float,
    capacity: Capacity,
    last: LastScaling,
    now: datetime,
) -> Decision:
    target = policy.target_value
    current = capacity.current
    if current == 0:  # an async variant at zero: its per-instance metric is the whole backlog
        wanted = math.ceil(metric / target - 1e-9) if metric > 0 else 0
    else:
        wanted = math.ceil(current * metric / target - 1e-9) if target > 0 else capacity.maximum
    shown = f"metric {metric:.4g} vs target {target:.4g}"
    if (metric > target or current == 0) and wanted > current:
        if _cooling(last.scale_out, policy.scale_out_cooldown, now):
            return _hold(capacity, metric, f"{shown}: scale-out cooldown in effect")
        return _result(capacity, wanted, metric, f"{shown}: scale out to {wanted}")
    if metric < target * SCALE_IN_RATIO and wanted < current:
        if policy.disable_scale_in:
            return _hold(capacity, metric, f"{shown}: scale-in disabled")
        if _cooling(last.scale_in, policy.scale_in_cooldown, now) or _cooling(
            last.scale_out, policy.scale_out_cooldown, now
        ):
            return _hold(capacity, metric, f"{shown}: cooldown in effect")
        return _result(capacity, wanted, metric, f"{shown}: scale in to {wanted}")
    return _hold(capacity, metric, f"{shown}: within range")


def _contains(step: Step, delta: float) -> bool:
    # Above the threshold the lower bound is inclusive, below it the upper bound (AWS).
    lower, upper = step.lower, step.upper
    if delta >= 0:
        return (lower is None or delta >= lower) and (upper is None or delta < upper)
    return (lower is None or delta > lower) and (upper is None or delta <= upper)


def percent_change(current: int, percent: int, min_magnitude: int | None) -> int:
    """The instances a ``PercentChangeInCapacity`` adjustment adds (negative: removes).

    AWS rounds toward zero, except that a change between -1 and 1 becomes ±1; a magnitude below
    ``MinAdjustmentMagnitude`` is raised to it.
    """
    raw = current * percent / 100
    change = (1 if raw > 0 else -1) if 0 < abs(raw) < 1 else int(raw)
    if min_magnitude and change and abs(change) < min_magnitude:
        change = min_magnitude if change > 0 else -min_magnitude
    return change


def _step(
    policy: StepPolicy, metric: float, capacity: Capacity, last: LastScaling, now: datetime
) -> Decision:
    delta = metric - policy.threshold
    shown = f"metric {metric:.4g} vs threshold {policy.threshold:.4g}"
    step = next((s for s in policy.steps if _contains(s, delta)), None)
    if step is None:
        return _hold(capacity, metric, f"{shown}: no step adjustment applies")
    current = capacity.current
    if policy.adjustment_type == "ExactCapacity":
        wanted = step.adjustment
    elif policy.adjustment_type == "PercentChangeInCapacity":
        wanted = current + percent_change(current, step.adjustment, policy.min_adjustment_magnitude)
    else:
        wanted = current + step.adjustment
    direction = "out" if wanted > current else "in" if wanted < current else "none"
    cooling = _cooling(
        last.scale_out if direction == "out" else last.scale_in, policy.cooldown, now
    )
    if direction != "none" and cooling:
        return _hold(capacity, metric, f"{shown}: cooldown in effect")
    return _result(capacity, wanted, metric, f"{shown}: step {step.adjustment:+d} to {wanted}")


def decide(
    policy: TargetTrackingPolicy | StepPolicy,
    points: Sequence[MetricPoint],
    capacity: Capacity,
    last: LastScaling,
    now: datetime,
) -> Decision:
    """The capacity a policy wants now.

    Args:
        policy: The policy.
        points: The metric's points in the evaluation window (oldest first).
        capacity: The target's current desired capacity and range.
        last: When the target last scaled out and in.
        now: The current time.

    Returns:
        The decision; ``direction`` is ``none`` when the capacity stays.
    """
    how = policy.aggregation if isinstance(policy, StepPolicy) else "Average"
    metric = aggregate(points, how)
    if metric is None:
        return _hold(capacity, None, "no metric data")
    if isinstance(policy, StepPolicy):
        return _step(policy, metric, capacity, last, now)
    return _target_tracking(policy, metric, capacity, last, now)


def alarm_step(
    policy: StepPolicy,
    threshold: float,
    value: float,
    capacity: Capacity,
    last: LastScaling,
    now: datetime,
) -> Decision:
    """What a step policy does when an alarm (``threshold``, latest datapoint ``value``) runs it.

    The policy's own threshold is replaced by the alarm's: the step whose interval holds
    ``value − threshold`` gives the adjustment, within the policy's cooldown rules.
    """
    return _step(replace(policy, threshold=threshold), value, capacity, last, now)


def combine(decisions: Sequence[Decision], capacity: Capacity) -> Decision:
    """One decision from the decisions of a target's policies (see the module docstring)."""
    if not decisions:
        return _hold(capacity, None, "no scaling policy")
    outs = [d for d in decisions if d.direction == "out"]
    if outs:
        return max(outs, key=lambda d: d.desired)
    if all(d.direction == "in" for d in decisions):
        return max(decisions, key=lambda d: d.desired)
    holding = [d for d in decisions if d.direction == "none"]
    return holding[0] if holding else _hold(capacity, None, "policies disagree")
