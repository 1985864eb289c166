"""Production variants of a live endpoint: desired and current weights and instance counts.

A :class:`VariantState` is what ``DescribeEndpoint`` shows per variant. *Desired* values are
what was asked for (the config's initial values, then ``UpdateEndpointWeightsAndCapacities``,
later autoscaling); *current* values are what serves now. Operations move desired values at
once and current values when the instances are there. Pure functions, tested alone.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from lakeworks.core.errors import ValidationError
from lakeworks.schemas.hosting import (
    DeployedImage,
    DesiredWeightAndCapacity,
    EndpointConfigCreate,
    ProductionVariant,
    ProductionVariantServerlessConfig,
    ProductionVariantSummary,
)

__all__ = [
    "MAX_INSTANCES_PER_VARIANT",
    "VariantState",
    "apply_desired",
    "initial_states",
    "summaries",
]

#: Instances one variant may ask for on this machine (each is a process).
MAX_INSTANCES_PER_VARIANT = 32


@dataclass(frozen=True)
class VariantState:
    """One variant of a live endpoint (stored as JSON in the endpoint's row)."""

    variant_name: str
    model_name: str
    shadow: bool = False
    instance_type: str | None = None
    serverless_config: dict[str, Any] | None = None
    current_weight: float = 0.0
    desired_weight: float = 1.0
    current_instance_count: int = 0
    desired_instance_count: int = 1
    images: list[str] = field(default_factory=list)
    resolution_time: str | None = None

    def to_json(self) -> dict[str, Any]:
        """As stored."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> VariantState:
        """From what :meth:`to_json` stored."""
        return cls(**data)


def _state(
    variant: ProductionVariant, shadow: bool, images: list[str], now: datetime
) -> VariantState:
    serverless = variant.serverless_config
    count = variant.initial_instance_count or (
        serverless.provisioned_concurrency or 1 if serverless else 1
    )
    return VariantState(
        variant_name=variant.variant_name,
        model_name=variant.model_name,
        shadow=shadow,
        instance_type=variant.instance_type,
        serverless_config=serverless.model_dump() if serverless else None,
        current_weight=0.0,
        desired_weight=variant.initial_variant_weight,
        current_instance_count=0,
        desired_instance_count=count,
        images=images,
        resolution_time=now.isoformat(),
    )


def initial_states(
    config: EndpointConfigCreate, images: dict[str, list[str]], now: datetime
) -> list[VariantState]:
    """The variants of a new endpoint (nothing serving yet), production variants first.

    Args:
        config: The endpoint config.
        images: Model name → the images of its containers.
        now: When the images were resolved.
    """
    states = [
        _state(v, False, images.get(v.model_name, []), now) for v in config.production_variants
    ]
    states += [
        _state(v, True, images.get(v.model_name, []), now)
        for v in config.shadow_production_variants or []
    ]
    return states


def serving(states: list[VariantState]) -> list[VariantState]:
    """The states once the desired values are in place (after a deployment or a scaling)."""
    return [
        replace(s, current_weight=s.desired_weight, current_instance_count=s.desired_instance_count)
        for s in states
    ]


def apply_desired(
    states: list[VariantState], updates: list[DesiredWeightAndCapacity], *, minimum: int = 1
) -> list[VariantState]:
    """Set desired weights and instance counts (``UpdateEndpointWeightsAndCapacities``).

    ``minimum`` is the lowest instance count allowed: 0 for an asynchronous endpoint (it scales
    to zero while its queue is empty), else 1.

    Raises:
        ValidationError: An unknown or repeated variant, an entry that changes nothing, an
            instance count out of range, or production weights that would all be zero.
    """
    by_name = {s.variant_name: s for s in states}
    seen: set[str] = set()
    for update in updates:
        name = update.variant_name
        if name not in by_name:
            known = ", ".join(sorted(by_name))
            raise ValidationError(
                f"The variant name {name!r} is not present in the endpoint; variants: {known}"
            )
        if name in seen:
            raise ValidationError(f"Variant {name!r} is listed twice")
        seen.add(name)
        if update.desired_weight is None and update.desired_instance_count is None:
            raise ValidationError(
                f"Variant {name!r}: give DesiredWeight and/or DesiredInstanceCount"
            )
        count = update.desired_instance_count
        if count is not None and not minimum <= count <= MAX_INSTANCES_PER_VARIANT:
            raise ValidationError(
                f"Variant {name!r}: DesiredInstanceCount must be "
                f"{minimum}-{MAX_INSTANCES_PER_VARIANT}, got {count}"
                + ("" if minimum == 0 else " (0 only for asynchronous endpoints)")
            )
        if count is not None and by_name[name].serverless_config is not None:
            raise ValidationError(
                f"Variant {name!r} is serverless; its capacity is MaxConcurrency, not instances"
            )
        state = by_name[name]
        by_name[name] = replace(
            state,
            desired_weight=state.desired_weight
            if update.desired_weight is None
            else update.desired_weight,
            desired_instance_count=state.desired_instance_count if count is None else count,
        )
    updated = [by_name[s.variant_name] for s in states]
    if not any(s.desired_weight > 0 for s in updated if not s.shadow):
        raise ValidationError(
            "At least one production variant needs a weight above 0 (TargetVariant still "
            "reaches a variant of weight 0)"
        )
    return updated


def summaries(
    states: list[VariantState],
) -> tuple[list[ProductionVariantSummary], list[ProductionVariantSummary]]:
    """``(ProductionVariants, ShadowProductionVariants)`` as DescribeEndpoint shows them."""
    production: list[ProductionVariantSummary] = []
    shadows: list[ProductionVariantSummary] = []
    for state in states:
        resolved = datetime.fromisoformat(state.resolution_time) if state.resolution_time else None
        serverless = (
            ProductionVariantServerlessConfig(**state.serverless_config)
            if state.serverless_config
            else None
        )
        summary = ProductionVariantSummary(
            variant_name=state.variant_name,
            deployed_images=[
                DeployedImage(specified_image=i, resolved_image=i, resolution_time=resolved)
                for i in state.images
            ],
            current_weight=state.current_weight,
            desired_weight=state.desired_weight,
            current_instance_count=None if serverless else state.current_instance_count,
            desired_instance_count=None if serverless else state.desired_instance_count,
            current_serverless_config=serverless,
            desired_serverless_config=serverless,
        )
        (shadows if state.shadow else production).append(summary)
    return production, shadows
