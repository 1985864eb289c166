"""A fleet's plan: stage every variant's model and write the worker spec its instances run.

:func:`plan_fleet` is the first step of starting a fleet
(:meth:`~lakeworks.hosting.fleet_keeper.FleetKeeper.start_fleet`): it checks and unpacks each
variant's artifacts into the fleet's directory (:mod:`.artifacts`), writes ``worker.json``
(:mod:`.worker_spec`) and returns one :class:`~lakeworks.hosting.fleet.VariantPlan` per variant,
which is stored with the fleet so that a restarted server can adopt it.
"""

from __future__ import annotations

from pathlib import Path

from lakeworks.core.context import RequestContext
from lakeworks.core.settings import Settings
from lakeworks.hosting.artifacts import ArtifactSource, prepare_model
from lakeworks.hosting.endpoint_configs import all_variants
from lakeworks.hosting.fleet import FleetFailed, VariantPlan
from lakeworks.hosting.models import containers_of, is_trusted
from lakeworks.hosting.store import HostedModelRecord
from lakeworks.hosting.variants import VariantState
from lakeworks.hosting.worker_spec import WorkerSpec
from lakeworks.schemas.hosting import EndpointConfigCreate, ModelCreate

__all__ = ["plan_fleet"]


def plan_fleet(
    settings: Settings,
    lake: ArtifactSource,
    ctx: RequestContext,
    endpoint: str,
    root: Path,
    config: EndpointConfigCreate,
    states: list[VariantState],
    models: dict[str, HostedModelRecord | None],
) -> dict[str, VariantPlan]:
    """Stage every variant's model under ``root`` and write its worker.json; the fleet's plan.

    Args:
        settings: The settings tree (``hosting.*``).
        lake: Where the artifacts come from.
        ctx: Whose rights the artifacts are read with (the endpoint's creator).
        endpoint: The endpoint's name.
        root: The fleet's directory.
        config: The endpoint config the fleet serves.
        states: The variants' states (their desired instance counts).
        models: Model name → its record (None: it was deleted meanwhile).

    Raises:
        FleetFailed: A model no longer exists.
        LakeworksError: An artifact the checks refuse.
    """
    counts = {s.variant_name: s.desired_instance_count for s in states}
    shadows = {v.variant_name for v in config.shadow_production_variants or []}
    plans: dict[str, VariantPlan] = {}
    for variant in all_variants(config):
        record = models.get(variant.model_name)
        if record is None:
            raise FleetFailed(f"Model {variant.model_name!r} no longer exists")
        model = ModelCreate(**record.spec)
        directory = root / "models" / variant.variant_name
        containers = prepare_model(lake, ctx, model, directory)
        mode = (
            model.inference_execution_config.mode if model.inference_execution_config else "Serial"
        )
        worker = WorkerSpec(
            endpoint=endpoint,
            variant=variant.variant_name,
            containers=tuple(containers),
            execution_mode=mode,
            cache_bytes=settings.hosting.multi_model_cache_bytes,
        )
        worker.write(directory / "worker.json")
        environment: dict[str, str] = {}
        for container in containers:
            environment.update(container.environment)
        first = containers_of(model)[0]
        multi = None
        if containers[0].multi_model:
            multi = {
                "prefix": first.model_data_url,
                "root": containers[0].model_dir,
                "trusted": is_trusted(model, first),
            }
        timeout = variant.container_startup_health_check_timeout_in_seconds
        plans[variant.variant_name] = VariantPlan(
            variant_name=variant.variant_name,
            model_name=variant.model_name,
            instance_count=counts.get(variant.variant_name, 1),
            worker_spec=str(directory / "worker.json"),
            container=containers[0].hostname,
            environment=environment,
            shadow=variant.variant_name in shadows,
            startup_timeout=float(timeout or settings.hosting.startup_timeout_seconds),
            multi_model=multi,
        )
    return plans
