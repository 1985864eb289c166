"""Invocation metrics: counters, latency histograms, the Prometheus text."""

from __future__ import annotations

from lakeworks.hosting.metrics import Histogram, MetricsRegistry, prometheus_text


def test_histogram_quantiles_come_from_the_buckets() -> None:
    histogram = Histogram()
    for value in [80.0] * 98 + [4_000.0, 9_000.0]:
        histogram.observe(value)
    summary = histogram.summary()
    assert summary.count == 100
    assert 50 <= (summary.p50_us or 0) <= 100
    assert 3_000 <= (summary.p99_us or 0) <= 5_000
    assert Histogram().quantile(0.5) is None


def test_series_count_statuses() -> None:
    registry = MetricsRegistry()
    series = registry.series("ep", "a")
    series.record(200, 100.0, 50.0)
    series.record(424, 100.0, 50.0)
    series.record(502, None, 10.0)
    assert (series.invocations, series.errors_4xx, series.errors_5xx) == (3, 1, 1)
    assert series.model_latency.count == 2
    assert series.overhead_latency.count == 3
    registry.series("ep", "a", "model-b.tar.gz").record(200, 1.0, 1.0)
    assert [s.model for s in registry.of_endpoint("ep")] == ["", "model-b.tar.gz"]
    registry.forget("ep")
    assert registry.all() == []


def test_prometheus_text() -> None:
    registry = MetricsRegistry()
    registry.series("ep", "a").record(200, 120.0, 30.0)
    registry.series("ep", "a", 'm"1').record(424, 120.0, 30.0)
    text = prometheus_text(registry.all(), [("ep", "a", 2)])
    lines = text.splitlines()
    assert "# TYPE lakeworks_endpoint_invocations_total counter" in lines
    assert 'lakeworks_endpoint_invocations_total{endpoint="ep",variant="a"} 1' in lines
    assert (
        'lakeworks_endpoint_invocation_4xx_errors_total{endpoint="ep",variant="a",model="m\\"1"} 1'
        in lines
    )
    assert (
        'lakeworks_endpoint_model_latency_microseconds_bucket{endpoint="ep",variant="a",le="200"} 1'
        in lines
    )
    assert (
        'lakeworks_endpoint_model_latency_microseconds_bucket{endpoint="ep",variant="a",le="100"} 0'
        in lines
    )
    bucket = "lakeworks_endpoint_model_latency_microseconds_bucket"
    assert f'{bucket}{{endpoint="ep",variant="a",le="+Inf"}} 1' in lines
    count = "lakeworks_endpoint_overhead_latency_microseconds_count"
    assert f'{count}{{endpoint="ep",variant="a"}} 1' in lines
    assert 'lakeworks_endpoint_instances{endpoint="ep",variant="a"} 2' in lines
