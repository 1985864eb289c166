"""Alarm actions → step adjustments as pure functions, and the evaluator running actions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from lakeworks.hosting.alarms import AlarmEvaluator
from lakeworks.hosting.autoscaling.decision import (
    Capacity,
    LastScaling,
    Step,
    StepPolicy,
    alarm_step,
)
from lakeworks.hosting.metrics import MetricsRegistry
from lakeworks.schemas.hosting_deployments import MetricAlarmPut

NOW = datetime(2026, 1, 1, tzinfo=UTC)
#: Steps relative to the alarm's threshold: [0, 50) adds one, [50, ∞) adds three, below removes one.
STEPS = StepPolicy(
    steps=(Step(-1, None, 0.0), Step(1, 0.0, 50.0), Step(3, 50.0, None)),
    threshold=999.0,  # the policy's native threshold: an alarm's replaces it
    cooldown=60.0,
)


def _at(current: int, minimum: int = 0, maximum: int = 10) -> Capacity:
    return Capacity(current, minimum, maximum)


def test_the_breach_is_the_value_minus_the_alarm_threshold() -> None:
    small = alarm_step(STEPS, 100.0, 120.0, _at(2), LastScaling(), NOW)
    assert (small.desired, small.direction) == (3, "out")
    assert "metric 120 vs threshold 100" in small.reason
    large = alarm_step(STEPS, 100.0, 160.0, _at(2), LastScaling(), NOW)
    assert (large.desired, large.direction) == (5, "out")
    # Exactly at the threshold: the step whose inclusive lower bound is 0.
    at = alarm_step(STEPS, 100.0, 100.0, _at(2), LastScaling(), NOW)
    assert at.desired == 3
    below = alarm_step(STEPS, 100.0, 40.0, _at(2), LastScaling(), NOW)
    assert (below.desired, below.direction) == (1, "in")


def test_has_backlog_without_capacity_scales_out_of_zero() -> None:
    policy = StepPolicy(steps=(Step(1, 0.0, None),), cooldown=1.0)
    decision = alarm_step(policy, 1.0, 1.0, _at(0, 0, 2), LastScaling(), NOW)
    assert (decision.desired, decision.direction) == (1, "out")


def test_no_step_holds_and_the_range_clamps() -> None:
    policy = StepPolicy(steps=(Step(2, 10.0, None),), cooldown=1.0)
    held = alarm_step(policy, 1.0, 5.0, _at(1, 1, 4), LastScaling(), NOW)
    assert (held.desired, held.direction) == (1, "none")
    assert "no step adjustment applies" in held.reason
    clamped = alarm_step(policy, 1.0, 50.0, _at(3, 1, 4), LastScaling(), NOW)
    assert clamped.desired == 4
    assert "clamped to 4" in clamped.reason


def test_the_policy_cooldown_holds_a_second_scaling() -> None:
    recent = LastScaling(scale_out=NOW - timedelta(seconds=10))
    held = alarm_step(STEPS, 100.0, 120.0, _at(2), recent, NOW)
    assert (held.desired, held.direction) == (2, "none")
    assert "cooldown in effect" in held.reason
    later = alarm_step(STEPS, 100.0, 120.0, _at(2), recent, NOW + timedelta(seconds=60))
    assert later.desired == 3


def test_percent_and_exact_adjustments_use_the_alarm_value() -> None:
    percent = StepPolicy(
        steps=(Step(50, 0.0, None),),
        adjustment_type="PercentChangeInCapacity",
        min_adjustment_magnitude=2,
    )
    assert alarm_step(percent, 0.0, 3.0, _at(2), LastScaling(), NOW).desired == 4
    exact = StepPolicy(steps=(Step(6, 0.0, None),), adjustment_type="ExactCapacity")
    assert alarm_step(exact, 0.0, 3.0, _at(2), LastScaling(), NOW).desired == 6


def _backlog_alarm(**changes: Any) -> MetricAlarmPut:
    spec: dict[str, Any] = {
        "AlarmName": "backlog",
        "Namespace": "AWS/SageMaker",
        "MetricName": "HasBacklogWithoutCapacity",
        "Statistic": "Average",
        "Dimensions": [{"Name": "EndpointName", "Value": "ep"}],
        "Period": 1,
        "EvaluationPeriods": 1,
        "Threshold": 1,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "AlarmActions": ["arn:aws:autoscaling:us-east-1:000000000000:scalingPolicy:x"],
    }
    spec.update(changes)
    return MetricAlarmPut.model_validate(spec)


def test_a_gauge_alarm_reports_each_period_with_its_datapoint() -> None:
    now = [0.0]
    queue = {"ep": (3, 0)}
    periods: list[tuple[str, str, float | None]] = []
    evaluator = AlarmEvaluator(
        MetricsRegistry(),
        lambda *_: None,
        on_period=lambda alarm, state, value: periods.append((alarm.alarm_name, state, value)),
        clock=lambda: now[0],
    )
    evaluator.gauges = lambda endpoint, variant: queue[endpoint]
    evaluator.put(_backlog_alarm())
    evaluator.put(_backlog_alarm(AlarmName="per-instance",
                                 MetricName="ApproximateBacklogSizePerInstance"))  # fmt: skip
    now[0] = 1.0
    evaluator.check()
    assert sorted(periods) == [("backlog", "ALARM", 1.0), ("per-instance", "ALARM", 3.0)]
    queue["ep"] = (4, 2)  # instances came up: no backlog without capacity
    now[0] = 2.0
    periods.clear()
    evaluator.check()
    assert sorted(periods) == [("backlog", "OK", 0.0), ("per-instance", "ALARM", 2.0)]


def test_a_gauge_alarm_without_a_reader_has_no_data() -> None:
    now = [0.0]
    evaluator = AlarmEvaluator(MetricsRegistry(), lambda *_: None, clock=lambda: now[0])
    evaluator.put(_backlog_alarm())
    now[0] = 1.0
    evaluator.check()
    assert evaluator.state("backlog") == (
        "INSUFFICIENT_DATA",
        "Insufficient Data: no datapoints in the last 1 period(s) of 1 s",
    )
