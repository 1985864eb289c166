"""Blue/green deployments: the traffic schedule and the blended routes (pure; tested alone).

``UpdateEndpoint`` with a ``BlueGreenUpdatePolicy`` starts the new (green) fleet beside the old
(blue) one, which keeps serving. Once green is healthy, traffic moves to it in the steps
:func:`traffic_steps` gives — everything at once, a canary slice then the rest, or linear steps
— each followed by a bake of ``WaitIntervalInSeconds`` during which the rollback alarms are
watched (:mod:`.rollout` runs this). While traffic is split, :func:`blend` builds the endpoint's
routes: each variant of either config gets its share of the traffic, and a variant both configs
have is served by both fleets' pools, each with its share (:class:`~.router.VariantRoute`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lakeworks.core.errors import ValidationError
from lakeworks.hosting.router import VariantPool, VariantRoute
from lakeworks.hosting.variants import VariantState
from lakeworks.schemas.hosting_deployments import (
    BlueGreenUpdatePolicy,
    CapacitySize,
    DeploymentConfig,
    PendingDeploymentSummary,
    PendingProductionVariantSummary,
    VariantStatus,
)

__all__ = [
    "Step",
    "TrafficShift",
    "blend",
    "blue_green_policy",
    "check_deployment",
    "pending_summary",
    "remaining_bake",
    "rollback_alarms",
    "traffic_steps",
]


@dataclass(frozen=True)
class Step:
    """Send ``fraction`` of the traffic to the new fleet, then bake ``bake_seconds``."""

    fraction: float
    bake_seconds: float


def blue_green_policy(config: dict[str, Any] | None) -> BlueGreenUpdatePolicy | None:
    """The blue/green policy of a stored DeploymentConfig (None: update all at once)."""
    if not config:
        return None
    return DeploymentConfig.model_validate(config).blue_green_update_policy


def _fraction(size: CapacitySize, instances: int) -> float:
    if size.type == "CAPACITY_PERCENT":
        return size.value / 100
    return size.value / instances


def check_deployment(config: DeploymentConfig, instances: int, alarms: set[str]) -> None:
    """Refuse a DeploymentConfig that cannot run against a fleet of ``instances`` instances.

    Args:
        config: The DeploymentConfig.
        instances: Instances of the new config's production variants, all together.
        alarms: Names of the alarms that exist.

    Raises:
        ValidationError: A canary over 50 % of the fleet, a linear step outside 10–50 %, an
            auto-rollback alarm that does not exist.
    """
    policy = config.blue_green_update_policy
    rollback = config.auto_rollback_configuration
    if rollback is not None and rollback.alarms:
        unknown = sorted({a.alarm_name for a in rollback.alarms} - alarms)
        if unknown:
            raise ValidationError(
                f"AutoRollbackConfiguration names alarms that do not exist: {', '.join(unknown)};"
                " create them first with PutMetricAlarm"
            )
    if policy is None:
        if rollback is not None:
            raise ValidationError("AutoRollbackConfiguration needs a BlueGreenUpdatePolicy")
        return
    routing = policy.traffic_routing_configuration
    for what, size, low in (
        ("CanarySize", routing.canary_size, 0.0),
        ("LinearStepSize", routing.linear_step_size, 0.1),
    ):
        if size is None:
            continue
        fraction = _fraction(size, max(instances, 1))
        if not low <= fraction <= 0.5:
            unit = "%" if size.type == "CAPACITY_PERCENT" else " instance(s)"
            allowed = "at most 50%" if low == 0 else "10-50%"
            raise ValidationError(
                f"{what} {size.value}{unit} is {fraction:.0%} of the new fleet's {instances} "
                f"instance(s); it must be {allowed} of the fleet"
            )


def traffic_steps(policy: BlueGreenUpdatePolicy, instances: int) -> list[Step]:
    """The traffic schedule of a deployment: the new fleet's share after each step.

    Args:
        policy: The blue/green policy.
        instances: Instances of the new config's production variants, all together.

    Returns:
        Steps in order; the last always sends all traffic (fraction 1.0).
    """
    routing = policy.traffic_routing_configuration
    wait = float(routing.wait_interval_in_seconds)
    if routing.type == "CANARY" and routing.canary_size is not None:
        canary = min(_fraction(routing.canary_size, max(instances, 1)), 1.0)
        return [Step(canary, wait), Step(1.0, wait)] if canary < 1.0 else [Step(1.0, wait)]
    if routing.type == "LINEAR" and routing.linear_step_size is not None:
        step = min(_fraction(routing.linear_step_size, max(instances, 1)), 1.0)
        count = math.ceil(round(1.0 / step, 9))
        return [Step(min(1.0, step * (n + 1)), wait) for n in range(count)]
    return [Step(1.0, wait)]


def remaining_bake(step: Step, step_started: datetime | None, now: datetime) -> float:
    """Seconds of ``step``'s bake still to wait at ``now`` (a resumed deployment's first wait).

    Args:
        step: The step baking when the server stopped.
        step_started: When its bake began (None: it had not begun; the whole bake is left).
        now: The current time.
    """
    if step_started is None:
        return step.bake_seconds
    return max(0.0, step.bake_seconds - (now - step_started).total_seconds())


def _normalised(routes: tuple[VariantRoute, ...]) -> dict[str, float]:
    total = sum(max(0.0, r.weight) for r in routes)
    if total <= 0:
        return {r.name: 1.0 / len(routes) for r in routes} if routes else {}
    return {r.name: max(0.0, r.weight) / total for r in routes}


def blend(
    blue: tuple[VariantRoute, ...], green: tuple[VariantRoute, ...], fraction: float
) -> tuple[VariantRoute, ...]:
    """The routes while ``fraction`` of the traffic goes to the new fleet.

    Each side's weights are normalised, then scaled by its share; a variant on both sides gets
    the sum, served by both sides' pools in proportion. Variants keep blue's order, then green's
    new ones.
    """
    old, new = _normalised(blue), _normalised(green)
    by_name_blue = {r.name: r for r in blue}
    by_name_green = {r.name: r for r in green}
    names = [r.name for r in blue] + [r.name for r in green if r.name not in by_name_blue]
    routes: list[VariantRoute] = []
    for name in names:
        blue_part = (1.0 - fraction) * old.get(name, 0.0)
        green_part = fraction * new.get(name, 0.0)
        weight = blue_part + green_part
        pools: list[tuple[VariantPool, float]] = []
        for route, part in (
            (by_name_blue.get(name), blue_part),
            (by_name_green.get(name), green_part),
        ):
            if route is None:
                continue
            share = part / weight if weight > 0 else 0.0
            pools.extend((pool, share) for pool, _ in route.pools)
        routes.append(VariantRoute(name, weight, tuple(pools)))
    return tuple(routes)


@dataclass(frozen=True)
class TrafficShift:
    """A deployment in progress, as the endpoint's routes need it.

    Attributes:
        fleet_id: The new fleet.
        states: The new config's variants.
        fraction: The share of traffic the new fleet gets now.
        phase: ``Creating``, ``ActivatingTraffic`` or ``Baking`` (DescribeEndpoint shows it).
        message: What the phase is doing.
    """

    fleet_id: str
    states: tuple[VariantState, ...]
    fraction: float = 0.0
    phase: str = "Creating"
    message: str = ""

    def routes(
        self, blue: tuple[VariantRoute, ...], pools: dict[str, VariantPool]
    ) -> tuple[VariantRoute, ...]:
        """Blend ``blue`` with the new fleet's ``pools`` at the current fraction."""
        green = tuple(
            VariantRoute(
                s.variant_name,
                s.desired_weight,
                ((pools[s.variant_name], 1.0),) if s.variant_name in pools else (),
            )
            for s in self.states
            if not s.shadow
        )
        return blend(blue, green, self.fraction)


def rollback_alarms(config: dict[str, Any] | None) -> list[str]:
    """The AutoRollbackConfiguration alarm names of a stored DeploymentConfig."""
    if not config:
        return []
    rollback = DeploymentConfig.model_validate(config).auto_rollback_configuration
    return [a.alarm_name for a in (rollback.alarms or [])] if rollback else []


def pending_summary(
    config_name: str,
    states: list[VariantState],
    shift: TrafficShift | None,
    ready: dict[str, int],
    started: datetime,
) -> PendingDeploymentSummary:
    """DescribeEndpoint's PendingDeploymentSummary of an update in progress.

    Args:
        config_name: The config the update moves to.
        states: Its variants.
        shift: The traffic shift (None while the new fleet starts).
        ready: Variant → ready instances of the new fleet.
        started: When the update began.
    """
    phase = shift.phase if shift else "Creating"
    message = shift.message if shift else "starting the new fleet beside the old one"
    fraction = shift.fraction if shift else 0.0
    return PendingDeploymentSummary(
        endpoint_config_name=config_name,
        start_time=started,
        production_variants=[
            PendingProductionVariantSummary(
                variant_name=s.variant_name,
                current_weight=s.desired_weight * fraction,
                desired_weight=s.desired_weight,
                current_instance_count=ready.get(s.variant_name, 0),
                desired_instance_count=s.desired_instance_count,
                instance_type=s.instance_type,
                variant_status=[VariantStatus(status=phase, status_message=message)],
            )
            for s in states
            if not s.shadow
        ],
    )
