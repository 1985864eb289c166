"""The autoscaling decision alone: target tracking, step scaling, cooldowns, clamps, combining."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lakeworks.hosting.autoscaling.decision import (
    Capacity,
    Decision,
    LastScaling,
    MetricPoint,
    Step,
    StepPolicy,
    TargetTrackingPolicy,
    aggregate,
    combine,
    decide,
    percent_change,
)
from lakeworks.hosting.autoscaling.metrics import MetricRef, point, snapshot

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
NEVER = LastScaling()


def series(*values: float) -> list[MetricPoint]:
    return [
        MetricPoint(NOW - timedelta(seconds=10 * (len(values) - i)), v)
        for i, v in enumerate(values)
    ]


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


TRACK = TargetTrackingPolicy(target_value=100, scale_out_cooldown=60, scale_in_cooldown=120)


def test_target_tracking_scales_out_in_proportion_to_the_metric() -> None:
    decision = decide(TRACK, series(250, 250, 250), Capacity(2, 1, 10), NEVER, NOW)
    assert decision == Decision(5, "out", 250, decision.reason)
    assert "scale out to 5" in decision.reason


def test_target_tracking_averages_the_window() -> None:
    # mean 150 → ceil(2 × 1.5) = 3
    assert decide(TRACK, series(100, 200), Capacity(2, 1, 10), NEVER, NOW).desired == 3


def test_target_tracking_scales_in_below_ninety_percent_only() -> None:
    assert decide(TRACK, series(95), Capacity(4, 1, 10), NEVER, NOW).direction == "none"
    decision = decide(TRACK, series(40), Capacity(4, 1, 10), NEVER, NOW)
    assert (decision.desired, decision.direction) == (2, "in")


def test_idle_falls_to_the_minimum() -> None:
    decision = decide(TRACK, series(0, 0), Capacity(4, 2, 10), NEVER, NOW)
    assert (decision.desired, decision.direction) == (2, "in")
    assert "clamped to 2" in decision.reason


def test_at_the_target_holds() -> None:
    assert decide(TRACK, series(100), Capacity(3, 1, 10), NEVER, NOW).direction == "none"


def test_maximum_clamps_a_scale_out() -> None:
    decision = decide(TRACK, series(1000), Capacity(2, 1, 4), NEVER, NOW)
    assert (decision.desired, decision.direction) == (4, "out")
    assert "max 4" in decision.reason


def test_at_the_maximum_nothing_happens() -> None:
    assert decide(TRACK, series(1000), Capacity(4, 1, 4), NEVER, NOW).direction == "none"


def test_no_data_holds_but_brings_capacity_into_range() -> None:
    assert decide(TRACK, [], Capacity(3, 1, 10), NEVER, NOW).direction == "none"
    below = decide(TRACK, [], Capacity(1, 2, 10), NEVER, NOW)
    assert (below.desired, below.direction) == (2, "out")
    above = decide(TRACK, [], Capacity(8, 1, 5), NEVER, NOW)
    assert (above.desired, above.direction) == (5, "in")


def test_scale_out_cooldown_holds_a_second_scale_out() -> None:
    cooling = LastScaling(scale_out=ago(30))
    decision = decide(TRACK, series(300), Capacity(2, 1, 10), cooling, NOW)
    assert decision.direction == "none"
    assert "cooldown" in decision.reason
    done = LastScaling(scale_out=ago(61))
    assert decide(TRACK, series(300), Capacity(2, 1, 10), done, NOW).desired == 6


def test_scale_in_cooldown_holds_scale_in_but_not_scale_out() -> None:
    cooling = LastScaling(scale_in=ago(60))
    assert decide(TRACK, series(10), Capacity(4, 1, 10), cooling, NOW).direction == "none"
    assert decide(TRACK, series(300), Capacity(2, 1, 10), cooling, NOW).direction == "out"
    assert (
        decide(TRACK, series(10), Capacity(4, 1, 10), LastScaling(scale_in=ago(121)), NOW).desired
        == 1
    )


def test_no_scale_in_during_a_scale_out_cooldown() -> None:
    cooling = LastScaling(scale_out=ago(30))
    assert decide(TRACK, series(10), Capacity(4, 1, 10), cooling, NOW).direction == "none"


def test_disable_scale_in() -> None:
    policy = TargetTrackingPolicy(target_value=100, disable_scale_in=True)
    decision = decide(policy, series(0), Capacity(4, 1, 10), NEVER, NOW)
    assert decision.direction == "none"
    assert "disabled" in decision.reason
    assert decide(policy, series(500), Capacity(1, 1, 10), NEVER, NOW).desired == 5


STEPS = (
    Step(adjustment=-1, upper=0),
    Step(adjustment=1, lower=0, upper=50),
    Step(adjustment=3, lower=50),
)


def test_step_scaling_picks_the_interval_of_the_breach() -> None:
    policy = StepPolicy(steps=STEPS, threshold=100, cooldown=60)
    assert decide(policy, series(120), Capacity(2, 1, 10), NEVER, NOW).desired == 3
    assert decide(policy, series(180), Capacity(2, 1, 10), NEVER, NOW).desired == 5
    assert decide(policy, series(60), Capacity(2, 1, 10), NEVER, NOW).desired == 1


def test_step_bounds_inclusive_above_and_exclusive_below_the_threshold() -> None:
    policy = StepPolicy(steps=STEPS, threshold=100)
    # exactly 50 above → the [50, ∞) step; exactly at the threshold → the [0, 50) step
    assert decide(policy, series(150), Capacity(2, 1, 10), NEVER, NOW).desired == 5
    assert decide(policy, series(100), Capacity(2, 1, 10), NEVER, NOW).desired == 3
    below_only = StepPolicy(steps=(Step(adjustment=-1, lower=-10, upper=0),), threshold=100)
    assert decide(below_only, series(90), Capacity(3, 1, 10), NEVER, NOW).direction == "none"
    assert decide(below_only, series(95), Capacity(3, 1, 10), NEVER, NOW).desired == 2


def test_step_without_a_matching_interval_holds() -> None:
    policy = StepPolicy(steps=(Step(adjustment=2, lower=0),), threshold=100)
    decision = decide(policy, series(50), Capacity(2, 1, 10), NEVER, NOW)
    assert decision.direction == "none"
    assert "no step" in decision.reason


def test_step_aggregation() -> None:
    points = series(0, 0, 200)
    average = StepPolicy(steps=(Step(adjustment=2, lower=0),), threshold=100)
    maximum = StepPolicy(steps=average.steps, threshold=100, aggregation="Maximum")
    assert decide(average, points, Capacity(1, 1, 10), NEVER, NOW).direction == "none"
    assert decide(maximum, points, Capacity(1, 1, 10), NEVER, NOW).desired == 3
    assert aggregate(points, "Minimum") == 0


def test_step_exact_and_percent_adjustments() -> None:
    exact = StepPolicy(steps=(Step(adjustment=7, lower=0),), adjustment_type="ExactCapacity")
    assert decide(exact, series(5), Capacity(2, 1, 5), NEVER, NOW).desired == 5  # clamped
    percent = StepPolicy(
        steps=(Step(adjustment=50, lower=0),), adjustment_type="PercentChangeInCapacity"
    )
    assert decide(percent, series(5), Capacity(4, 1, 10), NEVER, NOW).desired == 6


@pytest.mark.parametrize(
    ("current", "percent", "magnitude", "change"),
    [
        (4, 50, None, 2),
        (1, 10, None, 1),
        (3, -10, None, -1),
        (5, -50, None, -2),
        (10, 10, 3, 3),
        (5, 0, 2, 0),
    ],
)
def test_percent_change_rounds_as_aws(
    current: int, percent: int, magnitude: int | None, change: int
) -> None:
    assert percent_change(current, percent, magnitude) == change


def test_step_cooldown_per_direction() -> None:
    policy = StepPolicy(steps=STEPS, threshold=100, cooldown=60)
    recent_out = LastScaling(scale_out=ago(10))
    assert decide(policy, series(120), Capacity(2, 1, 10), recent_out, NOW).direction == "none"
    assert decide(policy, series(60), Capacity(2, 1, 10), recent_out, NOW).direction == "in"


def test_combine_scales_out_if_any_and_in_only_if_all() -> None:
    capacity = Capacity(4, 1, 10)
    out = Decision(6, "out", 1, "a")
    more = Decision(8, "out", 1, "b")
    hold = Decision(4, "none", 1, "c")
    down = Decision(2, "in", 1, "d")
    less = Decision(3, "in", 1, "e")
    assert combine([out, more, down], capacity) is more
    assert combine([hold, down], capacity) is hold
    assert combine([down, less], capacity) is less
    assert combine([], capacity).direction == "none"
    assert combine([], Capacity(1, 2, 3)).desired == 2


# -- async scale to zero ---------------------------------------------------------------------


def _backlog_points(backlog: int, instances: int, metric: str) -> list[MetricPoint]:
    before = snapshot([], instances, NOW - timedelta(seconds=1), backlog)
    after = snapshot([], instances, NOW, backlog)
    value = point(MetricRef(metric), before, after)
    assert value is not None
    return [MetricPoint(NOW, value)]


def test_backlog_gauges() -> None:
    assert _backlog_points(6, 3, "ApproximateBacklogSizePerInstance")[0].value == 2.0
    assert _backlog_points(6, 0, "ApproximateBacklogSizePerInstance")[0].value == 6.0
    assert _backlog_points(6, 3, "ApproximateBacklogSize")[0].value == 6.0
    assert _backlog_points(6, 0, "HasBacklogWithoutCapacity")[0].value == 1.0
    assert _backlog_points(6, 1, "HasBacklogWithoutCapacity")[0].value == 0.0
    assert _backlog_points(0, 0, "HasBacklogWithoutCapacity")[0].value == 0.0


def test_empty_queue_scales_in_to_zero_after_the_cooldown() -> None:
    policy = TargetTrackingPolicy(target_value=5.0, scale_in_cooldown=60, scale_out_cooldown=60)
    points = _backlog_points(0, 2, "ApproximateBacklogSizePerInstance")
    capacity = Capacity(2, 0, 4)
    recent = LastScaling(scale_out=NOW - timedelta(seconds=30))
    assert decide(policy, points, capacity, recent, NOW).direction == "none"
    decision = decide(policy, points, capacity, LastScaling(), NOW)
    assert (decision.direction, decision.desired) == ("in", 0)


def test_a_backlog_at_zero_scales_out() -> None:
    policy = TargetTrackingPolicy(target_value=5.0, scale_in_cooldown=60, scale_out_cooldown=60)
    one = decide(policy, _backlog_points(1, 0, "ApproximateBacklogSizePerInstance"),
                 Capacity(0, 0, 4), LastScaling(), NOW)  # fmt: skip
    assert (one.direction, one.desired) == ("out", 1)
    many = decide(policy, _backlog_points(12, 0, "ApproximateBacklogSizePerInstance"),
                  Capacity(0, 0, 4), LastScaling(), NOW)  # fmt: skip
    assert (many.direction, many.desired) == ("out", 3)
    idle = decide(policy, _backlog_points(0, 0, "ApproximateBacklogSizePerInstance"),
                  Capacity(0, 0, 4), LastScaling(), NOW)  # fmt: skip
    assert idle.direction == "none"


def test_step_policy_on_has_backlog_without_capacity() -> None:
    # AWS's recipe: alarm HasBacklogWithoutCapacity >= 1, one step [0, ∞) adding an instance.
    policy = StepPolicy(steps=(Step(1, lower=0.0),), threshold=1.0, cooldown=60)
    waiting = _backlog_points(3, 0, "HasBacklogWithoutCapacity")
    decision = decide(policy, waiting, Capacity(0, 0, 4), LastScaling(), NOW)
    assert (decision.direction, decision.desired) == ("out", 1)
    served = _backlog_points(3, 1, "HasBacklogWithoutCapacity")
    assert decide(policy, served, Capacity(1, 0, 4), LastScaling(), NOW).direction == "none"
