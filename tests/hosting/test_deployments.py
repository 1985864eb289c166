"""The blue/green traffic schedule, the blended routes and deployment checks, alone."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from lakeworks.core.errors import ValidationError
from lakeworks.hosting.deployments import (
    Step,
    TrafficShift,
    blend,
    blue_green_policy,
    check_deployment,
    pending_summary,
    rollback_alarms,
    traffic_steps,
)
from lakeworks.hosting.router import Target, VariantPool, VariantRoute, choose_pool
from lakeworks.hosting.variants import VariantState
from lakeworks.schemas.hosting_deployments import BlueGreenUpdatePolicy, DeploymentConfig


def _policy(routing: dict[str, Any], **extra: Any) -> BlueGreenUpdatePolicy:
    return BlueGreenUpdatePolicy.model_validate({"TrafficRoutingConfiguration": routing, **extra})


def test_all_at_once_is_one_step_with_its_bake() -> None:
    policy = _policy({"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 7})
    assert traffic_steps(policy, 3) == [Step(1.0, 7.0)]


def test_canary_by_percent_and_by_instances() -> None:
    percent = _policy(
        {"Type": "CANARY", "WaitIntervalInSeconds": 2,
         "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 25}}
    )  # fmt: skip
    assert traffic_steps(percent, 1) == [Step(0.25, 2.0), Step(1.0, 2.0)]
    instances = _policy(
        {"Type": "CANARY", "WaitIntervalInSeconds": 0,
         "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1}}
    )  # fmt: skip
    assert traffic_steps(instances, 4) == [Step(0.25, 0.0), Step(1.0, 0.0)]


def test_linear_steps_end_with_all_traffic() -> None:
    policy = _policy(
        {"Type": "LINEAR", "WaitIntervalInSeconds": 1,
         "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 30}}
    )  # fmt: skip
    steps = traffic_steps(policy, 10)
    assert [s.fraction for s in steps] == pytest.approx([0.3, 0.6, 0.9, 1.0])
    assert all(s.bake_seconds == 1.0 for s in steps)
    even = _policy(
        {"Type": "LINEAR", "WaitIntervalInSeconds": 1,
         "LinearStepSize": {"Type": "INSTANCE_COUNT", "Value": 2}}
    )  # fmt: skip
    assert [s.fraction for s in traffic_steps(even, 4)] == pytest.approx([0.5, 1.0])


def test_routing_config_needs_the_size_of_its_type() -> None:
    with pytest.raises(ValueError, match="CANARY needs CanarySize"):
        _policy({"Type": "CANARY", "WaitIntervalInSeconds": 1})
    with pytest.raises(ValueError, match="LinearStepSize is only for Type LINEAR"):
        _policy(
            {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 1,
             "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 10}}
        )  # fmt: skip
    with pytest.raises(ValueError, match="RollingUpdatePolicy is not supported"):
        DeploymentConfig.model_validate({"RollingUpdatePolicy": {"WaitIntervalInSeconds": 1}})


def test_check_deployment_refuses_sizes_out_of_range_and_unknown_alarms() -> None:
    def config(routing: dict[str, Any], alarms: list[str] | None = None) -> DeploymentConfig:
        data: dict[str, Any] = {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": routing}}
        if alarms:
            data["AutoRollbackConfiguration"] = {"Alarms": [{"AlarmName": a} for a in alarms]}
        return DeploymentConfig.model_validate(data)

    big = config({"Type": "CANARY", "WaitIntervalInSeconds": 1,
                  "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 2}})  # fmt: skip
    with pytest.raises(ValidationError, match=r"CanarySize 2 instance.* is 67% .* at most 50%"):
        check_deployment(big, 3, set())
    check_deployment(big, 4, set())
    small = config({"Type": "LINEAR", "WaitIntervalInSeconds": 1,
                    "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 5}})  # fmt: skip
    with pytest.raises(ValidationError, match=r"LinearStepSize 5% .* 10-50%"):
        check_deployment(small, 1, set())
    alarmed = config({"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 1}, ["a", "b"])
    with pytest.raises(ValidationError, match="do not exist: b; create them first"):
        check_deployment(alarmed, 1, {"a"})
    check_deployment(alarmed, 1, {"a", "b"})
    assert rollback_alarms(alarmed.model_dump(mode="json")) == ["a", "b"]
    assert blue_green_policy(None) is None


def _pool(fleet: str, variant: str) -> VariantPool:
    return VariantPool(variant, fleet, (Target(f"{fleet}-{variant}", "127.0.0.1", 1),))


def test_blend_splits_a_shared_variant_between_fleets() -> None:
    blue = (VariantRoute("AllTraffic", 1.0, ((_pool("blue", "AllTraffic"), 1.0),)),)
    green = (VariantRoute("AllTraffic", 3.0, ((_pool("green", "AllTraffic"), 1.0),)),)
    (route,) = blend(blue, green, 0.25)
    assert route.weight == pytest.approx(1.0)
    shares = {pool.fleet_id: share for pool, share in route.pools}
    assert shares == pytest.approx({"blue": 0.75, "green": 0.25})
    assert choose_pool(route, 0.74).fleet_id == "blue"  # type: ignore[union-attr]
    assert choose_pool(route, 0.76).fleet_id == "green"  # type: ignore[union-attr]
    (done,) = blend(blue, green, 1.0)
    assert choose_pool(done, 0.0).fleet_id == "green"  # type: ignore[union-attr]


def test_blend_with_new_variants_weighs_each_side() -> None:
    blue = (
        VariantRoute("A", 1.0, ((_pool("blue", "A"), 1.0),)),
        VariantRoute("B", 1.0, ((_pool("blue", "B"), 1.0),)),
    )
    green = (VariantRoute("C", 2.0, ((_pool("green", "C"), 1.0),)),)
    routes = {r.name: r for r in blend(blue, green, 0.5)}
    assert [r.name for r in blend(blue, green, 0.5)] == ["A", "B", "C"]
    assert {n: r.weight for n, r in routes.items()} == pytest.approx(
        {"A": 0.25, "B": 0.25, "C": 0.5}
    )
    assert routes["A"].pools[0][1] == 1.0


def test_shift_routes_and_pending_summary() -> None:
    states = (VariantState("AllTraffic", "m2", desired_weight=1.0, desired_instance_count=2),)
    shift = TrafficShift("green", states, 0.5, "Baking", "step 1")
    blue = (VariantRoute("AllTraffic", 1.0, ((_pool("blue", "AllTraffic"), 1.0),)),)
    (route,) = shift.routes(blue, {"AllTraffic": _pool("green", "AllTraffic")})
    assert {p.fleet_id: s for p, s in route.pools} == pytest.approx({"blue": 0.5, "green": 0.5})
    started = datetime(2026, 1, 1, tzinfo=UTC)
    summary = pending_summary("cfg-2", list(states), shift, {"AllTraffic": 2}, started)
    variant = summary.production_variants[0]
    assert (variant.current_weight, variant.current_instance_count) == (0.5, 2)
    assert variant.variant_status[0].status == "Baking"
    creating = pending_summary("cfg-2", list(states), None, {}, started)
    assert creating.production_variants[0].variant_status[0].status == "Creating"
