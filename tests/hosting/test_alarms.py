"""Alarm datapoints and evaluation as pure functions of metric series, and the evaluator."""

from __future__ import annotations

from typing import Any

import pytest

from lakeworks.hosting.alarms import AlarmEvaluator, datapoint, evaluate, snapshot
from lakeworks.hosting.metrics import MetricsRegistry
from lakeworks.schemas.hosting_deployments import MetricAlarmPut


def _alarm(**changes: Any) -> MetricAlarmPut:
    spec: dict[str, Any] = {
        "AlarmName": "errors",
        "Namespace": "AWS/SageMaker",
        "MetricName": "Invocation5XXErrors",
        "Statistic": "Average",
        "Dimensions": [
            {"Name": "EndpointName", "Value": "ep"},
            {"Name": "VariantName", "Value": "AllTraffic"},
        ],
        "Period": 1,
        "EvaluationPeriods": 3,
        "DatapointsToAlarm": 2,
        "Threshold": 0.1,
        "ComparisonOperator": "GreaterThanThreshold",
    }
    spec.update(changes)
    return MetricAlarmPut.model_validate(spec)


def test_error_rate_and_counts_between_snapshots() -> None:
    metrics = MetricsRegistry()
    series = metrics.series("ep", "AllTraffic")
    before = snapshot([series])
    for status in (200, 200, 500, 200):
        series.record(status, 1_000.0, 50.0)
    after = snapshot([series])
    assert datapoint(_alarm(), before, after) == pytest.approx(0.25)
    assert datapoint(_alarm(Statistic="Sum"), before, after) == 1.0
    assert datapoint(_alarm(MetricName="Invocations", Statistic="Sum"), before, after) == 4.0
    assert datapoint(_alarm(), after, after) is None  # no invocations: missing data


def test_latency_statistics_come_from_the_period_only() -> None:
    metrics = MetricsRegistry()
    series = metrics.series("ep", "AllTraffic")
    series.record(200, 100_000.0, 10.0)  # before the period: not counted
    before = snapshot([series])
    series.record(200, 2_000.0, 10.0)
    series.record(200, 4_000.0, 10.0)
    after = snapshot([series])
    latency = _alarm(MetricName="ModelLatency", Statistic="Average")
    assert datapoint(latency, before, after) == pytest.approx(3_000.0)
    assert datapoint(_alarm(MetricName="ModelLatency", Statistic="Maximum"), before, after) == 5_000
    p99 = datapoint(
        _alarm(MetricName="ModelLatency", Statistic=None, ExtendedStatistic="p99"), before, after
    )
    assert p99 is not None
    assert 3_000 <= p99 <= 5_000


def test_m_out_of_n_and_missing_data() -> None:
    alarm = _alarm()
    assert evaluate(alarm, [0.0, 0.5, 0.6])[0] == "ALARM"
    state, reason = evaluate(alarm, [0.5, 0.0, 0.0])  # type: ignore[misc]
    assert state == "OK"
    assert "1 out of the last 3 datapoints" in reason
    assert evaluate(alarm, [0.5, 0.6, 0.0, 0.0])[0] == "OK"  # type: ignore[index]
    assert evaluate(alarm, [None, None])[0] == "INSUFFICIENT_DATA"  # type: ignore[index]
    assert evaluate(alarm, [None, 0.5, 0.5])[0] == "ALARM"  # type: ignore[index]
    breaching = _alarm(TreatMissingData="breaching")
    assert evaluate(breaching, [None, None, 0.0])[0] == "ALARM"  # type: ignore[index]
    assert evaluate(_alarm(TreatMissingData="notBreaching"), [None, None])[0] == "OK"  # type: ignore[index]
    assert evaluate(_alarm(TreatMissingData="ignore"), [None]) is None
    lower = _alarm(ComparisonOperator="LessThanThreshold", Threshold=5, MetricName="Invocations",
                   Statistic="Sum", EvaluationPeriods=1, DatapointsToAlarm=1)  # fmt: skip
    assert evaluate(lower, [3.0])[0] == "ALARM"  # type: ignore[index]


def test_alarm_definitions_refuse_what_lakeworks_cannot_watch() -> None:
    with pytest.raises(ValueError, match="MetricName 'CPUUtilization' is not a metric"):
        _alarm(MetricName="CPUUtilization")
    with pytest.raises(ValueError, match="exactly one of Statistic or ExtendedStatistic"):
        _alarm(ExtendedStatistic="p99")
    with pytest.raises(ValueError, match="Period must be 1, 5, 10, 20, 30"):
        _alarm(Period=7)
    with pytest.raises(ValueError, match="DatapointsToAlarm cannot be more"):
        _alarm(DatapointsToAlarm=4)
    with pytest.raises(ValueError, match="EndpointName once"):
        _alarm(Dimensions=[{"Name": "VariantName", "Value": "v"}])


def test_evaluator_closes_periods_on_its_clock() -> None:
    now = [0.0]
    changes: list[tuple[str, str]] = []
    metrics = MetricsRegistry()
    evaluator = AlarmEvaluator(
        metrics, lambda name, value, _: changes.append((name, value)), clock=lambda: now[0]
    )
    evaluator.put(_alarm(EvaluationPeriods=1, DatapointsToAlarm=1))
    series = metrics.series("ep", "AllTraffic")
    series.record(200, 10.0, 1.0)
    now[0] = 1.05
    evaluator.check()
    assert evaluator.state("errors")[0] == "OK"  # type: ignore[index]
    series.record(500, 10.0, 1.0)
    metrics.series("ep", "Other").record(200, 10.0, 1.0)  # another variant: not watched
    now[0] = 2.1
    evaluator.check()
    assert evaluator.state("errors")[0] == "ALARM"  # type: ignore[index]
    now[0] = 5.2  # three quiet periods: missing data
    evaluator.check()
    assert evaluator.state("errors")[0] == "INSUFFICIENT_DATA"  # type: ignore[index]
    assert changes == [("errors", "OK"), ("errors", "ALARM"), ("errors", "INSUFFICIENT_DATA")]
    evaluator.remove("errors")
    assert evaluator.state("errors") is None
