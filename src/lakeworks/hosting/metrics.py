"""Invocation metrics per endpoint, variant and (multi-model) target model.

As CloudWatch has them for SageMaker endpoints: ``Invocations``, ``Invocation4XXErrors``,
``Invocation5XXErrors``, ``ModelError`` counts, and ``ModelLatency`` / ``OverheadLatency`` in
microseconds. *Model latency* is the time the model server took as seen from the router (the
hop included); *overhead* is the rest of the request's time in the server (routing, capture,
formatting). Latencies are histograms with fixed buckets, so recording is a few integer
additions on the request path (the event loop; no lock) and percentiles are estimated from the
buckets.

:func:`prometheus_text` renders everything (plus instance counts) in the Prometheus text format
served at ``/metrics``.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from lakeworks.schemas.hosting import LatencySummary, VariantMetrics

__all__ = [
    "BACKLOG_GAUGES",
    "BUCKETS_US",
    "Histogram",
    "MetricsRegistry",
    "Series",
    "backlog_gauge",
    "prometheus_text",
]

#: Gauges of an async endpoint's request queue (namespace ``AWS/SageMaker``, ``Average``).
BACKLOG_GAUGES = (
    "ApproximateBacklogSize",
    "ApproximateBacklogSizePerInstance",
    "HasBacklogWithoutCapacity",
)

#: Upper bounds of the latency buckets in microseconds (then +Inf).
BUCKETS_US: tuple[float, ...] = (
    50, 100, 200, 300, 500, 750, 1_000, 1_500, 2_000, 3_000, 5_000, 7_500, 10_000, 25_000,
    50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000, 60_000_000,
)  # fmt: skip


def backlog_gauge(name: str, backlog: int, instances: int) -> float:
    """A queue gauge from the requests queued or in progress and the instances serving.

    ``ApproximateBacklogSizePerInstance`` at zero instances is the whole backlog;
    ``HasBacklogWithoutCapacity`` is 1 when requests wait and no instance serves, else 0.
    """
    if name == "HasBacklogWithoutCapacity":
        return 1.0 if backlog > 0 and instances == 0 else 0.0
    if name == "ApproximateBacklogSizePerInstance":
        return backlog / max(instances, 1)
    return float(backlog)


class Histogram:
    """A latency histogram over :data:`BUCKETS_US`."""

    __slots__ = ("count", "counts", "total")

    def __init__(self) -> None:
        self.counts = [0] * (len(BUCKETS_US) + 1)
        self.count = 0
        self.total = 0.0

    def observe(self, microseconds: float) -> None:
        """Record one value."""
        self.counts[bisect.bisect_left(BUCKETS_US, microseconds)] += 1
        self.count += 1
        self.total += microseconds

    def quantile(self, q: float) -> float | None:
        """Estimate the ``q`` quantile by interpolating inside its bucket; None when empty."""
        if not self.count:
            return None
        rank = q * self.count
        seen = 0
        for index, count in enumerate(self.counts):
            if count and seen + count >= rank:
                low = BUCKETS_US[index - 1] if index > 0 else 0.0
                high = BUCKETS_US[index] if index < len(BUCKETS_US) else low * 2
                return low + (high - low) * max(0.0, rank - seen) / count
            seen += count
        return BUCKETS_US[-1]

    def summary(self) -> LatencySummary:
        """Count, sum, average and estimated p50/p99."""
        return LatencySummary(
            count=self.count,
            sum_us=self.total,
            average_us=self.total / self.count if self.count else None,
            p50_us=self.quantile(0.5),
            p99_us=self.quantile(0.99),
        )


@dataclass
class Series:
    """The counters of one endpoint, variant and target model."""

    endpoint: str
    variant: str
    model: str = ""
    invocations: int = 0
    errors_4xx: int = 0
    errors_5xx: int = 0
    model_errors: int = 0
    model_latency: Histogram = field(default_factory=Histogram)
    overhead_latency: Histogram = field(default_factory=Histogram)

    def record(self, status: int, model_us: float | None, overhead_us: float) -> None:
        """Record one invocation that ended with HTTP ``status``."""
        self.invocations += 1
        if 400 <= status < 500:
            self.errors_4xx += 1
        elif status >= 500:
            self.errors_5xx += 1
        if model_us is not None:
            self.model_latency.observe(model_us)
        self.overhead_latency.observe(overhead_us)

    def to_schema(self, instance_count: int | None) -> VariantMetrics:
        """As the native API shows it."""
        return VariantMetrics(
            variant_name=self.variant,
            target_model=self.model or None,
            invocations=self.invocations,
            invocation_4xx_errors=self.errors_4xx,
            invocation_5xx_errors=self.errors_5xx,
            model_errors=self.model_errors,
            model_latency=self.model_latency.summary(),
            overhead_latency=self.overhead_latency.summary(),
            instance_count=instance_count,
        )


class MetricsRegistry:
    """Every series, created on first use."""

    def __init__(self) -> None:
        self._series: dict[tuple[str, str, str], Series] = {}

    def series(self, endpoint: str, variant: str, model: str = "") -> Series:
        """The series of ``(endpoint, variant, model)``."""
        key = (endpoint, variant, model)
        found = self._series.get(key)
        if found is None:
            found = self._series[key] = Series(endpoint, variant, model)
        return found

    def of_endpoint(self, endpoint: str) -> list[Series]:
        """The series of one endpoint, by variant and model."""
        return sorted(
            (s for s in list(self._series.values()) if s.endpoint == endpoint),
            key=lambda s: (s.variant, s.model),
        )

    def forget(self, endpoint: str) -> None:
        """Drop an endpoint's series (it was deleted)."""
        for key in [k for k in self._series if k[0] == endpoint]:
            self._series.pop(key, None)

    def all(self) -> list[Series]:
        """Every series, sorted."""
        return sorted(list(self._series.values()), key=lambda s: (s.endpoint, s.variant, s.model))


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(series: Series, extra: str = "") -> str:
    parts = [f'endpoint="{_label(series.endpoint)}"', f'variant="{_label(series.variant)}"']
    if series.model:
        parts.append(f'model="{_label(series.model)}"')
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}"


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf"
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def prometheus_text(
    series: Iterable[Series], instances: Iterable[tuple[str, str, int]] = ()
) -> str:
    """Render metrics in the Prometheus text exposition format (version 0.0.4).

    Args:
        series: The invocation series.
        instances: ``(endpoint, variant, current instance count)`` triples.
    """
    rows = list(series)
    out: list[str] = []
    counters = (
        ("invocations", "Invocations of the endpoint variant", "invocations"),
        ("invocation_4xx_errors", "Invocations answered 4xx", "errors_4xx"),
        ("invocation_5xx_errors", "Invocations answered 5xx", "errors_5xx"),
        ("model_errors", "Invocations the model answered with an error", "model_errors"),
    )
    for name, text, attribute in counters:
        metric = f"lakeworks_endpoint_{name}_total"
        out += [f"# HELP {metric} {text}.", f"# TYPE {metric} counter"]
        out += [f"{metric}{_labels(s)} {getattr(s, attribute)}" for s in rows]
    for name, text, attribute in (
        ("model_latency_microseconds", "Time the model server took", "model_latency"),
        ("overhead_latency_microseconds", "Time the server added", "overhead_latency"),
    ):
        metric = f"lakeworks_endpoint_{name}"
        out += [f"# HELP {metric} {text}.", f"# TYPE {metric} histogram"]
        for s in rows:
            histogram: Histogram = getattr(s, attribute)
            cumulative = 0
            for bound, count in zip((*BUCKETS_US, math.inf), histogram.counts, strict=True):
                cumulative += count
                le = 'le="' + _number(bound) + '"'
                out.append(f"{metric}_bucket{_labels(s, le)} {cumulative}")
            out.append(f"{metric}_sum{_labels(s)} {_number(histogram.total)}")
            out.append(f"{metric}_count{_labels(s)} {histogram.count}")
    metric = "lakeworks_endpoint_instances"
    out += [
        f"# HELP {metric} Model server instances serving the variant.",
        f"# TYPE {metric} gauge",
    ]
    for endpoint, variant, count in instances:
        out.append(f'{metric}{{endpoint="{_label(endpoint)}",variant="{_label(variant)}"}} {count}')
    return "\n".join(out) + "\n"
