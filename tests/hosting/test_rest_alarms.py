"""Alarms through the native REST API in process (put, list, describe, delete, bad input), and
the deployment timeout check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from lakeworks.hosting.rollout import Rollout
from lakeworks.schemas.hosting_deployments import BlueGreenUpdatePolicy
from lakeworks.testing import temporary_server

ALARM: dict[str, Any] = {
    "alarm_name": "latency",
    "namespace": "AWS/SageMaker",
    "metric_name": "ModelLatency",
    "extended_statistic": "p99",
    "dimensions": [{"name": "EndpointName", "value": "ep"}],
    "period": 5,
    "evaluation_periods": 2,
    "threshold": 50000,
    "comparison_operator": "GreaterThanThreshold",
}


def test_alarm_lifecycle_and_bad_input(tmp_path: Path) -> None:
    with temporary_server(tmp_path / "home") as server:
        api = server.client
        put = api.put("/api/v1/alarms/latency", json=ALARM)
        assert put.status_code == 200, put.text
        info = put.json()
        assert info["alarm_arn"] == "arn:aws:cloudwatch:us-east-1:000000000000:alarm:latency"
        assert info["state_value"] == "INSUFFICIENT_DATA"
        assert [a["alarm_name"] for a in api.get("/api/v1/alarms").json()] == ["latency"]
        assert api.get("/api/v1/alarms", params={"state": "ALARM"}).json() == []
        assert api.get("/api/v1/alarms/latency").json()["extended_statistic"] == "p99"

        bad = api.put("/api/v1/alarms/x", json={**ALARM, "alarm_name": "x", "period": 7})
        assert bad.status_code == 400
        assert "Period must be 1, 5, 10, 20, 30" in bad.text
        metric = api.put(
            "/api/v1/alarms/x", json={**ALARM, "alarm_name": "x", "metric_name": "CPU"}
        )
        assert metric.status_code == 400
        assert "use one of Invocations" in metric.text
        other = api.put("/api/v1/alarms/y", json=ALARM)
        assert other.status_code == 400
        assert "names alarm 'latency'" in other.text
        assert api.get("/api/v1/alarms/x").status_code == 404

        assert api.delete("/api/v1/alarms/latency").status_code == 204
        gone = api.delete("/api/v1/alarms/latency")
        assert gone.status_code == 404
        assert "No alarm named latency" in gone.text
        assert api.get("/api/v1/alarms").json() == []


def test_a_deployment_past_its_execution_timeout_rolls_back() -> None:
    policy = BlueGreenUpdatePolicy.model_validate(
        {
            "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0},
            "MaximumExecutionTimeoutInSeconds": 600,
        }
    )
    now = datetime.now(UTC)
    engine = SimpleNamespace(_stop=SimpleNamespace(is_set=lambda: False), views={"ep": None},
                             alarms=None, clock=lambda: now)  # fmt: skip
    fleet = SimpleNamespace(stopped=False)
    fresh = Rollout(engine, "ep", fleet, [], [], policy, [], now)  # type: ignore[arg-type]
    assert fresh._trouble() is None
    started = now - timedelta(seconds=601)  # the timeout counts from the update's start
    late = Rollout(engine, "ep", fleet, [], [], policy, [], started)  # type: ignore[arg-type]
    assert late._trouble() == ("rollback", "the deployment did not finish within 600 s")
    fleet.stopped = True
    assert late._trouble() == ("abandoned", "")
