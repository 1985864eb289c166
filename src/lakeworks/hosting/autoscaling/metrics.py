"""The metrics a scaling policy can follow, and their points from sampled counters.

Lakeworks keeps cumulative counters and latency histograms per endpoint variant
(:mod:`lakeworks.hosting.metrics`). The controller takes a :class:`Snapshot` of a variant every
interval; the point of a metric between two snapshots is, as CloudWatch has SageMaker's metrics
over a one-minute period:

* ``InvocationsPerInstance`` (what ``SageMakerVariantInvocationsPerInstance`` follows):
  invocations per minute divided by the instances serving;
* ``Invocations``, ``Invocation4XXErrors``, ``Invocation5XXErrors``: per minute (``Sum``);
* ``ModelLatency``, ``OverheadLatency``: the average in microseconds (``Average``) of the
  invocations in between; no invocations, no point (CloudWatch has no datapoint either);
* for asynchronous endpoints, gauges of the request queue at the later snapshot
  (``Average``): ``ApproximateBacklogSize`` (requests queued or in progress),
  ``ApproximateBacklogSizePerInstance`` (divided by the instances serving; at zero instances, the
  whole backlog) and ``HasBacklogWithoutCapacity`` (1 when requests wait and no instance
  serves, else 0) — what scales an async variant to zero and back.

Everything here is pure; :func:`metric_of` checks a policy's metric against what exists.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from lakeworks.core.errors import ValidationError
from lakeworks.hosting.metrics import BACKLOG_GAUGES, Series, backlog_gauge
from lakeworks.schemas.autoscaling import CustomizedMetricSpecification

__all__ = [
    "COUNTERS",
    "GAUGES",
    "LATENCIES",
    "PREDEFINED",
    "MetricRef",
    "Snapshot",
    "metric_of",
    "point",
    "snapshot",
]

#: Counter metrics (per minute, statistic ``Sum``) → the :class:`Series` attribute they count.
COUNTERS = {
    "InvocationsPerInstance": "invocations",
    "Invocations": "invocations",
    "Invocation4XXErrors": "errors_4xx",
    "Invocation5XXErrors": "errors_5xx",
}
#: Latency metrics (statistic ``Average``, µs) → the :class:`Series` histogram.
LATENCIES = {"ModelLatency": "model_latency", "OverheadLatency": "overhead_latency"}
#: Gauges of an async endpoint's queue (statistic ``Average``), read at the later snapshot.
GAUGES = BACKLOG_GAUGES
#: Predefined metric types → the metric they follow.
PREDEFINED = {"SageMakerVariantInvocationsPerInstance": "InvocationsPerInstance"}
_NAMESPACES = ("AWS/SageMaker", "Lakeworks")


@dataclass(frozen=True)
class MetricRef:
    """A metric of one variant a policy follows."""

    name: str

    @property
    def per_instance(self) -> bool:
        """Whether the value is divided by the instances serving."""
        return self.name == "InvocationsPerInstance"


@dataclass(frozen=True)
class Snapshot:
    """A variant's cumulative counters at one time."""

    time: datetime
    counts: dict[str, int]
    latency_sums: dict[str, float]
    latency_counts: dict[str, int]
    instances: int
    #: Async requests queued or in progress.
    backlog: int = 0


def snapshot(series: Iterable[Series], instances: int, now: datetime, backlog: int = 0) -> Snapshot:
    """Sum a variant's series (one per target model) into one snapshot."""
    rows = list(series)
    counts = {a: sum(int(getattr(s, a)) for s in rows) for a in set(COUNTERS.values())}
    sums = {a: sum(getattr(s, a).total for s in rows) for a in LATENCIES.values()}
    latency_counts = {a: sum(getattr(s, a).count for s in rows) for a in LATENCIES.values()}
    return Snapshot(now, counts, sums, latency_counts, instances, backlog)


def point(metric: MetricRef, before: Snapshot, after: Snapshot) -> float | None:
    """The metric's value between two snapshots; None when there is none (no time passed, a
    counter went back because the endpoint was recreated, or no invocation for a latency)."""
    seconds = (after.time - before.time).total_seconds()
    if seconds <= 0:
        return None
    if metric.name in GAUGES:
        return backlog_gauge(metric.name, after.backlog, after.instances)
    if metric.name in LATENCIES:
        attribute = LATENCIES[metric.name]
        count = after.latency_counts[attribute] - before.latency_counts[attribute]
        if count <= 0:
            return None
        return (after.latency_sums[attribute] - before.latency_sums[attribute]) / count
    attribute = COUNTERS[metric.name]
    delta = after.counts[attribute] - before.counts[attribute]
    if delta < 0:
        return None
    per_minute = delta * 60.0 / seconds
    if metric.per_instance:
        return per_minute / max(after.instances, 1)
    return per_minute


def _customized(spec: CustomizedMetricSpecification, endpoint: str, variant: str) -> MetricRef:
    if spec.metrics:
        raise ValidationError(
            "CustomizedMetricSpecification.Metrics (metric math) is not supported by Lakeworks; "
            "give MetricName, Namespace, Dimensions and Statistic"
        )
    name = spec.metric_name
    known = sorted([*COUNTERS, *LATENCIES, *GAUGES])
    if name not in known:
        raise ValidationError(
            f"Unknown metric {name!r} for a SageMaker variant; Lakeworks has: {', '.join(known)}"
        )
    if spec.namespace is not None and spec.namespace not in _NAMESPACES:
        raise ValidationError(
            f"Unknown metric namespace {spec.namespace!r}; use {' or '.join(_NAMESPACES)}"
        )
    allowed = "Sum" if name in COUNTERS else "Average"
    if spec.statistic is not None and spec.statistic != allowed:
        raise ValidationError(
            f"Statistic {spec.statistic} is not available for {name}; Lakeworks has {allowed}"
        )
    expected = {"EndpointName": endpoint, "VariantName": variant}
    for dimension in spec.dimensions or []:
        if expected.get(dimension.name, dimension.value) != dimension.value:
            raise ValidationError(
                f"Dimension {dimension.name}={dimension.value!r} does not match the scalable "
                f"target (EndpointName={endpoint!r}, VariantName={variant!r})"
            )
        if dimension.name not in expected:
            raise ValidationError(
                f"Unknown dimension {dimension.name!r}; SageMaker variant metrics have "
                "EndpointName and VariantName"
            )
    return MetricRef(name)


def metric_of(
    predefined: str | None,
    customized: CustomizedMetricSpecification | None,
    endpoint: str,
    variant: str,
) -> MetricRef:
    """The metric a policy follows (InvocationsPerInstance when neither is given).

    Raises:
        ValidationError: Both given, an unknown predefined type or metric, a statistic Lakeworks
            does not keep, or dimensions naming another variant.
    """
    if predefined is not None and customized is not None:
        raise ValidationError(
            "Give PredefinedMetricSpecification or CustomizedMetricSpecification, not both"
        )
    if customized is not None:
        return _customized(customized, endpoint, variant)
    if predefined is None:
        return MetricRef("InvocationsPerInstance")
    if predefined not in PREDEFINED:
        raise ValidationError(
            f"PredefinedMetricType {predefined!r} does not apply to a SageMaker variant; "
            f"allowed: {', '.join(PREDEFINED)}"
        )
    return MetricRef(PREDEFINED[predefined])
