"""Threshold alarms over endpoint metrics, evaluated in process as CloudWatch evaluates them.

An alarm (:class:`~lakeworks.schemas.hosting_deployments.MetricAlarmPut`) watches one metric of
an endpoint (or one variant of it) in periods of ``Period`` seconds. The metrics registry keeps
running totals (:mod:`.metrics`), so a period's datapoint is the difference of two
:class:`Snapshot`\\ s taken at its ends (:func:`datapoint`). Counters are per-invocation samples
of 0 or 1, as SageMaker publishes them: ``Sum`` is the count, ``Average`` the rate.
Latencies are in microseconds; ``Minimum``/``Maximum``/``pNN`` come from the histogram buckets.
A period without invocations has no datapoint (missing data).

:func:`evaluate` decides the state from the last ``EvaluationPeriods`` datapoints: ``ALARM`` when
at least ``DatapointsToAlarm`` of them breach, with ``TreatMissingData`` saying what a missing
one counts as. Both are pure functions, tested alone; :class:`AlarmEvaluator` applies them to
live metrics on a timer.

The queue gauges of an async endpoint (``ApproximateBacklogSize``,
``ApproximateBacklogSizePerInstance``, ``HasBacklogWithoutCapacity``) are not running totals: a
period's datapoint is the gauge read when the period closes (:data:`GaugeReader`). After every
closed period the evaluator reports the alarm, its state and its latest datapoint
(``on_period``), which is what runs the alarm's actions.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from lakeworks.hosting.metrics import (
    BACKLOG_GAUGES,
    BUCKETS_US,
    Histogram,
    MetricsRegistry,
    Series,
    backlog_gauge,
)
from lakeworks.schemas.hosting_deployments import MetricAlarmPut

__all__ = [
    "AlarmEvaluator",
    "AlarmState",
    "GaugeReader",
    "Snapshot",
    "datapoint",
    "evaluate",
    "snapshot",
]

log = logging.getLogger("lakeworks.hosting")

#: ``(backlog, instances)`` of an endpoint (of one variant when the name is given).
GaugeReader = Callable[[str, str | None], tuple[int, int]]
#: Told ``(alarm, StateValue, latest datapoint)`` after each period an alarm closes.
PeriodListener = Callable[[MetricAlarmPut, str, float | None], None]

_COUNTERS = {
    "Invocations": "invocations",
    "Invocation4XXErrors": "errors_4xx",
    "Invocation5XXErrors": "errors_5xx",
    "InvocationModelErrors": "model_errors",
}
_COMPARE: dict[str, tuple[Callable[[float, float], bool], str]] = {
    "GreaterThanOrEqualToThreshold": (lambda v, t: v >= t, "greater than or equal to"),
    "GreaterThanThreshold": (lambda v, t: v > t, "greater than"),
    "LessThanThreshold": (lambda v, t: v < t, "less than"),
    "LessThanOrEqualToThreshold": (lambda v, t: v <= t, "less than or equal to"),
}


@dataclass(frozen=True)
class Snapshot:
    """Running totals of the series an alarm watches, summed, at one moment."""

    invocations: int = 0
    errors_4xx: int = 0
    errors_5xx: int = 0
    model_errors: int = 0
    model_latency: tuple[int, ...] = (0,) * (len(BUCKETS_US) + 1)
    model_latency_sum: float = 0.0
    overhead_latency: tuple[int, ...] = (0,) * (len(BUCKETS_US) + 1)
    overhead_latency_sum: float = 0.0


def snapshot(series: Iterable[Series]) -> Snapshot:
    """The sum of ``series`` now (several variants or target models add up)."""
    totals = {name: 0 for name in _COUNTERS.values()}
    model = [0] * (len(BUCKETS_US) + 1)
    overhead = [0] * (len(BUCKETS_US) + 1)
    model_sum = overhead_sum = 0.0
    for s in series:
        for name in totals:
            totals[name] += getattr(s, name)
        model = [a + b for a, b in zip(model, s.model_latency.counts, strict=True)]
        overhead = [a + b for a, b in zip(overhead, s.overhead_latency.counts, strict=True)]
        model_sum += s.model_latency.total
        overhead_sum += s.overhead_latency.total
    return Snapshot(
        model_latency=tuple(model),
        model_latency_sum=model_sum,
        overhead_latency=tuple(overhead),
        overhead_latency_sum=overhead_sum,
        **totals,
    )


def _histogram(counts: Iterable[int], total: float) -> Histogram:
    histogram = Histogram()
    histogram.counts = list(counts)
    histogram.count = sum(histogram.counts)
    histogram.total = total
    return histogram


def _latency_statistic(histogram: Histogram, statistic: str) -> float | None:
    if not histogram.count:
        return None
    nonempty = [i for i, c in enumerate(histogram.counts) if c]
    bounds = (0.0, *BUCKETS_US)
    if statistic == "SampleCount":
        return float(histogram.count)
    if statistic == "Sum":
        return histogram.total
    if statistic == "Average":
        return histogram.total / histogram.count
    if statistic == "Minimum":
        return float(bounds[nonempty[0]])
    if statistic == "Maximum":  # the upper bound of the highest bucket used (an estimate)
        top = nonempty[-1]
        return float(BUCKETS_US[top]) if top < len(BUCKETS_US) else float(BUCKETS_US[-1])
    return histogram.quantile(float(statistic[1:]) / 100)


def datapoint(alarm: MetricAlarmPut, before: Snapshot, after: Snapshot) -> float | None:
    """The alarm's statistic over the period between two snapshots (None: no data).

    Args:
        alarm: The alarm (its MetricName and Statistic or ExtendedStatistic).
        before: Totals at the start of the period.
        after: Totals at its end.
    """
    statistic = alarm.statistic or alarm.extended_statistic or "Average"
    samples = after.invocations - before.invocations
    if alarm.metric_name in _COUNTERS:
        if samples <= 0:
            return None
        name = _COUNTERS[alarm.metric_name]
        hits = int(getattr(after, name) - getattr(before, name))
        if statistic == "Sum":
            return float(hits)
        if statistic == "SampleCount":
            return float(samples)
        if statistic == "Maximum":
            return 1.0 if hits else 0.0
        if statistic == "Minimum":
            return 1.0 if hits == samples else 0.0
        return hits / samples  # Average (and percentiles of 0/1 samples, approximately)
    prefix = "model_latency" if alarm.metric_name == "ModelLatency" else "overhead_latency"
    counts = [a - b for a, b in zip(getattr(after, prefix), getattr(before, prefix), strict=True)]
    total = float(getattr(after, f"{prefix}_sum") - getattr(before, f"{prefix}_sum"))
    return _latency_statistic(_histogram(counts, total), statistic)


def evaluate(alarm: MetricAlarmPut, datapoints: list[float | None]) -> tuple[str, str] | None:
    """The alarm's state from its latest datapoints (oldest first; None for a missing one).

    Returns:
        ``(StateValue, StateReason)``, or None to keep the current state (``ignore`` with no
        data).
    """
    recent = datapoints[-alarm.evaluation_periods :]
    window: list[float | None] = [None] * (alarm.evaluation_periods - len(recent))
    window += recent
    needed = alarm.datapoints_to_alarm or alarm.evaluation_periods
    compare, words = _COMPARE[alarm.comparison_operator]
    treat = alarm.treat_missing_data
    present = [v for v in window if v is not None]
    missing = len(window) - len(present)
    if not present and treat in ("missing", "ignore"):
        if treat == "ignore":
            return None
        return "INSUFFICIENT_DATA", (
            f"Insufficient Data: no datapoints in the last {len(window)} period(s) of "
            f"{alarm.period} s"
        )
    breaching = sum(1 for v in present if compare(v, alarm.threshold))
    if treat == "breaching":
        breaching += missing
    shown = ", ".join("missing" if v is None else f"{v:g}" for v in window)
    if breaching >= needed:
        return "ALARM", (
            f"Threshold Crossed: {breaching} out of the last {len(window)} datapoints [{shown}] "
            f"were {words} the threshold ({alarm.threshold:g})"
        )
    return "OK", (
        f"Threshold Crossed: {breaching} out of the last {len(window)} datapoints [{shown}] "
        f"were {words} the threshold ({alarm.threshold:g}); {needed} needed for ALARM"
    )


@dataclass
class AlarmState:
    """An alarm's current state and the datapoints behind it."""

    alarm: MetricAlarmPut
    value: str = "INSUFFICIENT_DATA"
    reason: str = "Unchecked: Initial alarm creation"
    history: deque[float | None] = field(default_factory=lambda: deque(maxlen=100))
    last: Snapshot | None = None
    started: float = 0.0
    closed: int = 0


class AlarmEvaluator:
    """Evaluates every alarm on live metrics, each once per its period (a daemon thread).

    Args:
        metrics: The endpoints' metrics.
        on_change: Called with ``(name, StateValue, StateReason)`` when a state changes.
        on_period: Called after every period an alarm closes (see :data:`PeriodListener`).
        tick: Seconds between checks for periods that ended.
        clock: A monotonic clock.
    """

    def __init__(
        self,
        metrics: MetricsRegistry,
        on_change: Callable[[str, str, str], None],
        *,
        on_period: PeriodListener | None = None,
        tick: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.metrics = metrics
        self.on_change = on_change
        self.on_period = on_period
        #: Reads the queue gauges; without one, gauge alarms have no data.
        self.gauges: GaugeReader | None = None
        self.tick = tick
        self.clock = clock
        self.states: dict[str, AlarmState] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def put(
        self, alarm: MetricAlarmPut, value: str | None = None, reason: str | None = None
    ) -> None:
        """Watch ``alarm`` (a changed definition starts again from no data)."""
        state = AlarmState(alarm, started=self.clock())
        if value is not None and reason is not None:
            state.value, state.reason = value, reason
        state.last = snapshot(self._series(alarm))
        with self._lock:
            self.states[alarm.alarm_name] = state

    def remove(self, name: str) -> None:
        """Stop watching an alarm."""
        with self._lock:
            self.states.pop(name, None)

    def state(self, name: str) -> tuple[str, str] | None:
        """``(StateValue, StateReason)`` of an alarm; None when there is no such alarm."""
        with self._lock:
            found = self.states.get(name)
            return (found.value, found.reason) if found else None

    def _series(self, alarm: MetricAlarmPut) -> list[Series]:
        endpoint = alarm.dimension("EndpointName")
        variant = alarm.dimension("VariantName")
        return [
            s
            for s in self.metrics.of_endpoint(endpoint or "")
            if variant is None or s.variant == variant
        ]

    def check(self) -> None:
        """Close every period that ended since the last check and update states."""
        now = self.clock()
        with self._lock:
            states = list(self.states.values())
        for state in states:
            periods = int((now - state.started) // state.alarm.period) - state.closed
            if periods <= 0:
                continue
            state.closed += periods
            state.history.extend([None] * (periods - 1))  # periods the thread slept through
            state.history.append(self._datapoint(state))
            decided = evaluate(state.alarm, list(state.history))
            if decided is not None and decided[0] != state.value:
                state.value, state.reason = decided
                log.info("alarm %s is %s: %s", state.alarm.alarm_name, *decided)
                try:
                    self.on_change(state.alarm.alarm_name, *decided)
                except Exception:
                    log.exception("cannot record the state of alarm %s", state.alarm.alarm_name)
            elif decided is not None:
                state.reason = decided[1]
            if self.on_period is not None:
                window = list(state.history)[-state.alarm.evaluation_periods :]
                latest = next((v for v in reversed(window) if v is not None), None)
                try:
                    self.on_period(state.alarm, state.value, latest)
                except Exception:
                    log.exception("cannot run the actions of alarm %s", state.alarm.alarm_name)

    def _datapoint(self, state: AlarmState) -> float | None:
        alarm = state.alarm
        if alarm.metric_name in BACKLOG_GAUGES:
            if self.gauges is None:
                return None
            backlog, instances = self.gauges(
                alarm.dimension("EndpointName") or "", alarm.dimension("VariantName")
            )
            return backlog_gauge(alarm.metric_name, backlog, instances)
        current = snapshot(self._series(alarm))
        before = state.last or current
        state.last = current
        return datapoint(alarm, before, current)

    def _run(self) -> None:
        while not self._stop.wait(self.tick):
            self.check()

    def start(self) -> None:
        """Start the evaluation thread."""
        self._thread = threading.Thread(target=self._run, name="lakeworks-alarms", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the evaluation thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
