"""Endpoint views, their route tables and the fleets of model servers behind them.

:class:`FleetKeeper` is the bookkeeping half of the endpoint engine
(:class:`~lakeworks.hosting.endpoints.EndpointEngine` runs the operations on it): it mirrors each
endpoint's row in an :class:`EndpointView`, saves status changes and republishes the endpoint's
routes to the :class:`~lakeworks.hosting.runtime.Runtime` whenever a row or a fleet changes. It
starts fleets (plan, record, start, wait; :meth:`FleetKeeper.start_fleet`), discards them, and
rebuilds them from their records after a restart (:meth:`FleetKeeper.adopt_fleet`).
"""

from __future__ import annotations

import contextlib
import io
import logging
import shutil
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from lakeworks.backends.base import ServiceBackend
from lakeworks.core.context import RequestContext
from lakeworks.core.errors import LakeworksError
from lakeworks.core.settings import Settings
from lakeworks.db import Database
from lakeworks.hosting import store
from lakeworks.hosting.alarms import AlarmEvaluator
from lakeworks.hosting.artifacts import ArtifactSource, MultiModelStager
from lakeworks.hosting.capture import CapturePolicy
from lakeworks.hosting.deployments import TrafficShift
from lakeworks.hosting.endpoint_configs import all_variants
from lakeworks.hosting.fleet import Fleet, FleetFailed, Instance, VariantPlan
from lakeworks.hosting.fleet_plans import plan_fleet
from lakeworks.hosting.router import RouteTable, Target, VariantRoute
from lakeworks.hosting.runtime import Runtime
from lakeworks.hosting.store import EndpointRecord, FleetRecord, InstanceRecord
from lakeworks.hosting.variants import VariantState
from lakeworks.schemas.hosting import DataCaptureConfig, EndpointConfigCreate

__all__ = ["EndpointView", "FleetKeeper", "ObjectWriter"]

log = logging.getLogger("lakeworks.hosting")

REASON_LIMIT = 1024


class ObjectWriter(ArtifactSource, Protocol):
    """What hosting needs of the lake: downloads (artifacts), uploads (data capture), heads."""

    def head_object(self, ctx: RequestContext, bucket: str, key: str) -> Any:
        """An object's metadata (raises NotFound)."""
        ...

    def put_object(
        self, ctx: RequestContext, bucket: str, key: str, body: Any, *, content_type: str | None
    ) -> Any:
        """Store an object."""
        ...


@dataclass
class EndpointView:
    """What the request path and the monitor need of one endpoint, mirrored from its row."""

    status: str
    states: list[VariantState]
    capture: CapturePolicy | None
    active_fleet: str | None
    ctx: RequestContext
    fleets: dict[str, Fleet] = field(default_factory=dict)
    #: A blue/green deployment moving traffic to another fleet (:mod:`.rollout`).
    shift: TrafficShift | None = None


class FleetKeeper:
    """Endpoint views, route publishing and fleet bookkeeping. See the module docstring.

    Args:
        settings: The settings tree (``hosting.*``, ``home``).
        db: The metadata database.
        lake: Artifacts come from it; captures go to it.
        backend: Runs the model servers; None when the jobs backend cannot run services.
        runtime: Receives each endpoint's routes.
        clock: Current UTC time.
        alarms: Evaluates the alarms that roll deployments back.
    """

    def __init__(
        self,
        settings: Settings,
        db: Database,
        lake: ObjectWriter,
        backend: ServiceBackend | None,
        runtime: Runtime,
        clock: Callable[[], datetime],
        alarms: AlarmEvaluator | None = None,
    ) -> None:
        self.alarms = alarms
        self.settings = settings
        self.db = db
        self.lake = lake
        self.backend = backend
        self.runtime = runtime
        self.clock = clock
        self.root = settings.home / "hosting" / "endpoints"
        self.views: dict[str, EndpointView] = {}
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="lakeworks-hosting")
        #: Set on shutdown: operations stop and leave the rows as they are.
        self._stop = threading.Event()

    # -- records -------------------------------------------------------------------------------

    def _record(self, endpoint: str) -> EndpointRecord | None:
        with self.db.session() as session:
            return session.get(EndpointRecord, endpoint)

    def _save(
        self, endpoint: str, *, only_if: str | None = None, **values: Any
    ) -> EndpointRecord | None:
        """Update the endpoint's row and its view; republish its routes.

        Args:
            only_if: Change nothing unless the endpoint is still in this status (a delete may
                have overtaken the operation).
        """
        with self.db.session() as session:
            record = session.get(EndpointRecord, endpoint)
            if record is None or (only_if is not None and record.status != only_if):
                return None
            for name, value in values.items():
                setattr(record, name, value)
            record.last_modified_time = self.clock()
        self._refresh(record)
        return record

    def _fail(self, endpoint: str, reason: str, *, only_if: str | None = None) -> None:
        if self._stop.is_set():
            return  # shutting down: the operation runs again when the server starts
        self._save(endpoint, only_if=only_if, status="Failed", failure_reason=reason[:REASON_LIMIT])

    def _refresh(self, record: EndpointRecord) -> None:
        states = [VariantState.from_json(s) for s in record.variants]
        view = self.views.get(record.name)
        capture = (
            CapturePolicy.from_config(DataCaptureConfig(**record.data_capture))
            if record.data_capture
            else None
        )
        ctx = RequestContext(principal=record.principal, scopes=frozenset(record.scopes))
        if view is None:
            view = self.views[record.name] = EndpointView(
                record.status, states, capture, record.active_fleet, ctx
            )
        else:
            view.status, view.states, view.capture = record.status, states, capture
            view.active_fleet, view.ctx = record.active_fleet, ctx
        self._publish(record.name)

    def _publish(self, endpoint: str) -> None:
        """Build the endpoint's route table from its view and active fleet."""
        view = self.views.get(endpoint)
        if view is None:
            return
        fleet = view.fleets.get(view.active_fleet or "")
        pools = fleet.pools() if fleet is not None else {}

        def route(state: VariantState) -> VariantRoute:
            pool = pools.get(state.variant_name)
            return VariantRoute(
                state.variant_name, state.current_weight, ((pool, 1.0),) if pool else ()
            )

        variants = tuple(route(s) for s in view.states if not s.shadow)
        green = view.fleets.get(view.shift.fleet_id) if view.shift else None
        if view.shift is not None and green is not None:
            variants = view.shift.routes(variants, green.pools())
        self.runtime.publish(
            RouteTable(
                endpoint=endpoint,
                status=view.status,
                variants=variants,
                shadows=tuple(route(s) for s in view.states if s.shadow),
                capture=view.capture,
            )
        )

    # -- fleets --------------------------------------------------------------------------------

    def _persist(self, endpoint: str, fleet_id: str) -> Callable[[Instance], None]:
        def persist(instance: Instance) -> None:
            with self.db.session() as session:
                session.merge(
                    InstanceRecord(
                        id=instance.instance_id,
                        fleet_id=fleet_id,
                        endpoint_name=endpoint,
                        variant_name=instance.variant,
                        ordinal=instance.ordinal,
                        backend=self.backend.name if self.backend else None,
                        handle=instance.handle,
                        restarts=instance.restarts,
                        started_at=self.clock(),
                    )
                )

        return persist

    def _fleet(self, endpoint: str, fleet_id: str, plans: dict[str, VariantPlan]) -> Fleet:
        if self.backend is None:
            raise FleetFailed(
                f"The jobs backend {self.settings.jobs.backend!r} cannot run endpoint instances"
            )
        view = self.views[endpoint]
        fleet = Fleet(
            fleet_id,
            endpoint,
            self.root / endpoint / fleet_id,
            plans,
            self.backend,
            on_change=lambda _: self._publish(endpoint),
            persist=self._persist(endpoint, fleet_id),
            retire=self._retire,
        )
        for name, plan in plans.items():
            if plan.multi_model:
                fleet.stagers[name] = MultiModelStager(
                    self.lake,
                    view.ctx,
                    plan.multi_model["prefix"],
                    Path(plan.multi_model["root"]),
                    bool(plan.multi_model["trusted"]),
                )
        view.fleets[fleet_id] = fleet
        return fleet

    def _retire(self, target: Target) -> None:
        self.runtime.retire(target)

    def start_fleet(self, endpoint: str, config_name: str, states: list[VariantState]) -> Fleet:
        """Stage, start and wait for a new fleet serving ``config_name`` (not yet routed).

        Raises:
            FleetFailed: Staging or starting failed; nothing of the fleet is left behind.
        """
        fleet_id = f"{endpoint}-{uuid.uuid4().hex[:8]}"
        with self.db.session() as session:
            config_record = session.get(store.EndpointConfigRecord, config_name)
        if config_record is None:
            raise FleetFailed(f"Endpoint config {config_name!r} no longer exists")
        config = EndpointConfigCreate(**config_record.spec)
        fleet: Fleet | None = None
        try:
            with self.db.session() as session:
                models = {
                    v.model_name: session.get(store.HostedModelRecord, v.model_name)
                    for v in all_variants(config)
                }
            plans = plan_fleet(
                self.settings,
                self.lake,
                self.views[endpoint].ctx,
                endpoint,
                self.root / endpoint / fleet_id,
                config,
                states,
                models,
            )
            with self.db.session() as session:
                session.add(
                    FleetRecord(
                        id=fleet_id,
                        endpoint_name=endpoint,
                        config_name=config_name,
                        status="Starting",
                        plan={name: plan.to_json() for name, plan in plans.items()},
                        created_at=self.clock(),
                    )
                )
            fleet = self._fleet(endpoint, fleet_id, plans)
            fleet.start()
        except (LakeworksError, FleetFailed, OSError) as exc:
            self.discard_fleet(endpoint, fleet_id, fleet)
            reason = exc.message if isinstance(exc, LakeworksError) else str(exc)
            raise FleetFailed(reason) from None
        self._set_fleet_status(fleet_id, "Active")
        return fleet

    def discard_fleet(self, endpoint: str, fleet_id: str, fleet: Fleet | None = None) -> None:
        """Stop a fleet's instances and remove its files and records."""
        view = self.views.get(endpoint)
        fleet = fleet or (view.fleets.get(fleet_id) if view else None)
        if fleet is not None:
            fleet.stop(grace=1.0)
        if view is not None:
            view.fleets.pop(fleet_id, None)
        with self.db.session() as session:
            store.delete_fleet(session, fleet_id)
        shutil.rmtree(self.root / endpoint / fleet_id, ignore_errors=True)

    def _set_fleet_status(self, fleet_id: str, status: str) -> None:
        with self.db.session() as session:
            record = session.get(FleetRecord, fleet_id)
            if record is not None:
                record.status = status

    def adopt_fleet(
        self,
        endpoint: str,
        fleet_id: str,
        *,
        restart: bool,
        counts: dict[str, int] | None = None,
    ) -> Fleet | None:
        """Rebuild a fleet from its records and take over its instances.

        Args:
            restart: Restart dead instances and start missing ones.
            counts: Variant → instances wanted (default: the endpoint's serving counts).
        """
        with self.db.session() as session:
            record = session.get(FleetRecord, fleet_id)
            instances = list(store.instances_of(session, fleet_id))
        if record is None or self.backend is None:
            return None
        plans = {n: VariantPlan.from_json(p) for n, p in record.plan.items()}
        fleet = self._fleet(endpoint, fleet_id, plans)
        dead = fleet.adopt([(i.variant_name, i.ordinal, i.handle, i.restarts) for i in instances])
        if restart:
            # The count serving before the restart (autoscaling may have changed the plan's).
            view = self.views.get(endpoint)
            if counts is None:
                counts = (
                    {s.variant_name: s.current_instance_count for s in view.states} if view else {}
                )
            for name, plan in plans.items():  # instances never recorded (a crash mid-start)
                wanted = counts.get(name, plan.instance_count)
                if wanted > len(fleet.instances[name]):
                    with contextlib.suppress(FleetFailed):
                        fleet.scale(name, wanted)
            for instance in dead:
                self._pool.submit(self._restart, fleet, instance)
        return fleet

    def _restart(self, fleet: Fleet, instance: Instance) -> None:
        try:
            fleet.restart(instance)
        except (FleetFailed, OSError) as exc:
            log.warning("cannot restart %s: %s", instance.instance_id, exc)

    # -- lake writes for capture ---------------------------------------------------------------

    def put_capture(self, uri: str, data: bytes, endpoint: str) -> None:
        """Store one capture file on behalf of the endpoint's creator."""
        view = self.views.get(endpoint)
        ctx = view.ctx if view is not None else RequestContext.system()
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        self.lake.put_object(
            ctx, bucket, key, io.BytesIO(data), content_type="application/jsonlines"
        )

    def instance_counts(self) -> list[tuple[str, str, int]]:
        """``(endpoint, variant, ready instances)`` of every active fleet."""
        counts: list[tuple[str, str, int]] = []
        for endpoint, view in sorted(self.views.items()):
            fleet = view.fleets.get(view.active_fleet or "")
            ready = fleet.ready_counts() if fleet is not None else {}
            counts.extend(
                (endpoint, s.variant_name, ready.get(s.variant_name, 0)) for s in view.states
            )
        return counts
