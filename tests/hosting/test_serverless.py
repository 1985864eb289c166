"""The serverless gate alone: MaxConcurrency admission, cold-start records, the metrics text."""

from __future__ import annotations

import pytest

from lakeworks.core.errors import ThrottlingException
from lakeworks.hosting.serverless import ServerlessGate


def _gate(**config: int) -> ServerlessGate:
    return ServerlessGate("ep", "AllTraffic", {"memory_size_in_mb": 2048, **config})


def test_admits_up_to_max_concurrency_then_throttles() -> None:
    gate = _gate(max_concurrency=2)
    gate.admit()
    gate.admit()
    with pytest.raises(ThrottlingException) as caught:
        gate.admit()
    assert caught.value.status == 429
    assert caught.value.aws_code == "ThrottlingException"
    assert "MaxConcurrency of 2" in caught.value.message
    assert (gate.in_flight, gate.throttled) == (2, 1)
    gate.leave()
    gate.admit()  # a slot is free again
    assert gate.in_flight == 2


def test_provisioned_concurrency_keeps_one_instance_warm() -> None:
    assert _gate(max_concurrency=1).floor == 0
    assert _gate(max_concurrency=1, provisioned_concurrency=1).floor == 1


def test_cold_starts_are_recorded_with_their_median() -> None:
    gate = _gate(max_concurrency=1)
    assert gate.cold_start_p50_ms() is None
    for ms in (300.0, 100.0, 200.0):
        gate.record_cold_start(ms)
    assert gate.cold_start_p50_ms() == 200.0
    assert (gate.cold_start_count, gate.cold_start_total_ms) == (3, 600.0)
    assert not gate.busy()
