"""The endpoint engine: moves endpoints through their lifecycle with fleets of model servers.

The service records a request (``Creating``, ``Updating``, ``Deleting``) and hands the endpoint to
this engine, which does the slow part on a worker thread, one operation per endpoint at a time:

* **create**: stage the models (:mod:`.artifacts`), start a fleet (:mod:`.fleet`), publish the
  routes, ``InService`` — or ``Failed`` with the reason, leaving nothing behind;
* **update** (all at once): start a fleet for the new config beside the old one, which keeps
  serving; once every new instance answers, swap the routes, stop the old fleet, ``InService``.
  If the new fleet fails, the old one stays and the endpoint is ``InService`` with the reason;
* **capacities**: start or stop instances for new desired counts; new weights apply at once;
* **delete**: stop the fleets, forget the endpoint.

A monitor thread checks every instance each ``hosting.health_interval_seconds`` and restarts the
ones that died. On start the engine adopts what an earlier server process left: instances still
running serve again at once, dead ones are restarted, and interrupted operations run again.
Endpoints ``InService`` before a restart are ``InService`` after it. On a clean shutdown the
instances are stopped (a crash leaves them running, to be adopted).

The deployment work builds on :meth:`EndpointEngine.start_fleet` (a second fleet beside the
first) and :class:`~lakeworks.hosting.router.VariantRoute` pool shares to shift traffic.
"""

from __future__ import annotations

import contextlib
import io
import logging
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
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
from lakeworks.hosting.artifacts import ArtifactSource, MultiModelStager, prepare_model
from lakeworks.hosting.capture import CapturePolicy
from lakeworks.hosting.deployments import TrafficShift, blue_green_policy, rollback_alarms
from lakeworks.hosting.endpoint_configs import all_variants
from lakeworks.hosting.fleet import Fleet, FleetFailed, Instance, VariantPlan
from lakeworks.hosting.models import containers_of, is_trusted
from lakeworks.hosting.rollout import Rollout, retire_later
from lakeworks.hosting.router import RouteTable, Target, VariantRoute
from lakeworks.hosting.runtime import Runtime
from lakeworks.hosting.store import EndpointRecord, FleetRecord, InstanceRecord
from lakeworks.hosting.variants import VariantState, serving
from lakeworks.hosting.worker_spec import WorkerSpec
from lakeworks.schemas.hosting import DataCaptureConfig, EndpointConfigCreate, ModelCreate

__all__ = ["EndpointEngine", "ObjectWriter"]

log = logging.getLogger("lakeworks.hosting")

_REASON_LIMIT = 1024
#: Seconds between attempts to restart an instance that keeps failing (times its restarts).
_RESTART_BACKOFF = 2.0


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
class _View:
    """What the request path and the monitor need of one endpoint, mirrored from its row."""

    status: str
    states: list[VariantState]
    capture: CapturePolicy | None
    active_fleet: str | None
    ctx: RequestContext
    fleets: dict[str, Fleet] = field(default_factory=dict)
    #: A blue/green deployment moving traffic to another fleet (:mod:`.rollout`).
    shift: TrafficShift | None = None


class EndpointEngine:
    """Runs endpoint operations and watches instances. See the module docstring.

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
        self.views: dict[str, _View] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="lakeworks-hosting")
        self._stop = threading.Event()
        self._monitor: threading.Thread | None = None

    # -- scheduling ----------------------------------------------------------------------------

    def _lock(self, endpoint: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(endpoint, threading.Lock())

    def submit(self, operation: str, endpoint: str) -> None:
        """Run ``operation`` (create, update, capacities, delete) for ``endpoint`` in the
        background, after any operation already running for it."""
        work = {
            "create": self._create,
            "update": self._update,
            "capacities": self._capacities,
            "delete": self._delete,
        }[operation]

        def run() -> None:
            with self._lock(endpoint):
                try:
                    work(endpoint)
                except Exception:
                    log.exception("endpoint %s: %s failed unexpectedly", endpoint, operation)
                    self._fail(endpoint, f"Internal error during {operation}; see the server log")

        self._pool.submit(run)

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
        self._save(
            endpoint, only_if=only_if, status="Failed", failure_reason=reason[:_REASON_LIMIT]
        )

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
            view = self.views[record.name] = _View(
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

    def _plan(
        self, endpoint: str, fleet_id: str, config: EndpointConfigCreate, states: list[VariantState]
    ) -> dict[str, VariantPlan]:
        """Stage every variant's model and write its worker.json; the fleet's plan."""
        view = self.views[endpoint]
        counts = {s.variant_name: s.desired_instance_count for s in states}
        root = self.root / endpoint / fleet_id
        plans: dict[str, VariantPlan] = {}
        with self.db.session() as session:
            models = {
                v.model_name: session.get(store.HostedModelRecord, v.model_name)
                for v in all_variants(config)
            }
        shadows = {v.variant_name for v in config.shadow_production_variants or []}
        for variant in all_variants(config):
            record = models[variant.model_name]
            if record is None:
                raise FleetFailed(f"Model {variant.model_name!r} no longer exists")
            model = ModelCreate(**record.spec)
            directory = root / "models" / variant.variant_name
            containers = prepare_model(self.lake, view.ctx, model, directory)
            mode = (
                model.inference_execution_config.mode
                if model.inference_execution_config
                else "Serial"
            )
            worker = WorkerSpec(
                endpoint=endpoint,
                variant=variant.variant_name,
                containers=tuple(containers),
                execution_mode=mode,
                cache_bytes=self.settings.hosting.multi_model_cache_bytes,
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
                startup_timeout=float(timeout or self.settings.hosting.startup_timeout_seconds),
                multi_model=multi,
            )
        return plans

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
            plans = self._plan(endpoint, fleet_id, config, states)
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

    # -- operations ----------------------------------------------------------------------------

    def _create(self, endpoint: str) -> None:
        record = self._record(endpoint)
        if record is None or record.status != "Creating":
            return
        self._refresh(record)
        states = [VariantState.from_json(s) for s in record.variants]
        try:
            fleet = self.start_fleet(endpoint, record.config_name, states)
        except FleetFailed as exc:
            self._fail(endpoint, str(exc), only_if="Creating")
            return
        if self._abandoned(endpoint, "Creating", fleet):
            return
        self._save(
            endpoint,
            status="InService",
            failure_reason=None,
            active_fleet=fleet.fleet_id,
            variants=[s.to_json() for s in serving(states)],
        )
        log.info("endpoint %s is InService (fleet %s)", endpoint, fleet.fleet_id)

    def _update(self, endpoint: str) -> None:
        started = time.monotonic()
        record = self._record(endpoint)
        if record is None or record.status != "Updating" or record.pending_config is None:
            return
        self._refresh(record)
        target = record.pending_config
        with self.db.session() as session:
            config_record = session.get(store.EndpointConfigRecord, target)
        old_fleet = record.active_fleet
        states = [VariantState.from_json(s) for s in record.variants]
        new_states = [VariantState.from_json(s) for s in record.pending_variants or []]
        try:
            if config_record is None:
                raise FleetFailed(f"Endpoint config {target!r} no longer exists")
            fleet = self.start_fleet(endpoint, target, new_states)
        except FleetFailed as exc:
            if self._stop.is_set():
                return  # shutting down: the update runs again when the server starts
            self._save(
                endpoint,
                only_if="Updating",
                status="InService",
                pending_config=None,
                pending_variants=None,
                variants=[s.to_json() for s in states],
                failure_reason=f"Update to endpoint config {target} failed: {exc}"[:_REASON_LIMIT],
            )
            return
        if self._abandoned(endpoint, "Updating", fleet):
            return
        policy = blue_green_policy(record.deployment_config)
        if policy is not None and old_fleet is not None:
            alarms = rollback_alarms(record.deployment_config)
            rollout = Rollout(self, endpoint, fleet, states, new_states, policy, alarms, started)
            if not rollout.run(target):
                return
        assert config_record is not None
        config = EndpointConfigCreate(**config_record.spec)
        self._save(
            endpoint,
            status="InService",
            failure_reason=None,
            config_name=target,
            pending_config=None,
            pending_variants=None,
            active_fleet=fleet.fleet_id,
            variants=[s.to_json() for s in serving(new_states)],
            data_capture=config.data_capture_config.model_dump()
            if config.data_capture_config
            else None,
            async_inference=config.async_inference_config.model_dump()
            if config.async_inference_config
            else None,
        )
        if endpoint in self.views:
            self.views[endpoint].shift = None
            self._publish(endpoint)
        if old_fleet is not None:
            wait = policy.termination_wait_in_seconds if policy else 0
            retire_later(self, endpoint, old_fleet, wait)
        log.info("endpoint %s moved to config %s (fleet %s)", endpoint, target, fleet.fleet_id)

    def _capacities(self, endpoint: str) -> None:
        record = self._record(endpoint)
        if record is None or record.status != "Updating" or record.pending_config is not None:
            return
        self._refresh(record)
        view = self.views[endpoint]
        fleet = view.fleets.get(record.active_fleet or "")
        states = [VariantState.from_json(s) for s in record.variants]
        failure = None
        for state in states:
            if fleet is None or state.desired_instance_count == state.current_instance_count:
                continue
            try:
                fleet.scale(state.variant_name, state.desired_instance_count)
            except FleetFailed as exc:
                failure = f"Scaling variant {state.variant_name} failed: {exc}"
                states = [
                    replace(s, desired_instance_count=s.current_instance_count)
                    if s.variant_name == state.variant_name
                    else s
                    for s in states
                ]
        self._save(
            endpoint,
            only_if="Updating",
            status="InService",
            failure_reason=failure,
            variants=[s.to_json() for s in serving(states)],
        )

    def abort(self, endpoint: str) -> None:
        """Stop waiting for fleets that are still starting (the endpoint is being deleted)."""
        view = self.views.get(endpoint)
        if view is None:
            return
        for fleet_id, fleet in list(view.fleets.items()):
            if fleet_id != view.active_fleet:
                fleet.stopped = True

    def _abandoned(self, endpoint: str, status: str, fleet: Fleet) -> bool:
        """Whether the endpoint left ``status`` meanwhile (deleted); then drop the new fleet."""
        record = self._record(endpoint)
        if record is not None and record.status == status:
            return False
        self.discard_fleet(endpoint, fleet.fleet_id, fleet)
        return True

    def _delete(self, endpoint: str) -> None:
        record = self._record(endpoint)
        if record is None:
            return
        self._refresh(record)
        self.runtime.remove(endpoint)
        view = self.views.get(endpoint)
        with self.db.session() as session:
            fleet_ids = [f.id for f in store.fleets_of(session, endpoint)]
        for fleet_id in fleet_ids:
            if view is None or fleet_id not in view.fleets:
                self._adopt_fleet(endpoint, fleet_id, restart=False)
            self.discard_fleet(endpoint, fleet_id)
        with self.db.session() as session:
            found = session.get(EndpointRecord, endpoint)
            if found is not None:
                session.delete(found)
        shutil.rmtree(self.root / endpoint, ignore_errors=True)
        self.views.pop(endpoint, None)
        self.runtime.remove(endpoint)
        self.runtime.metrics.forget(endpoint)
        log.info("endpoint %s deleted", endpoint)

    # -- recovery and monitoring ---------------------------------------------------------------

    def _adopt_fleet(self, endpoint: str, fleet_id: str, *, restart: bool) -> Fleet | None:
        """Rebuild a fleet from its records and take over its instances."""
        with self.db.session() as session:
            record = session.get(FleetRecord, fleet_id)
            instances = list(store.instances_of(session, fleet_id))
        if record is None or self.backend is None:
            return None
        plans = {n: VariantPlan.from_json(p) for n, p in record.plan.items()}
        fleet = self._fleet(endpoint, fleet_id, plans)
        dead = fleet.adopt([(i.variant_name, i.ordinal, i.handle, i.restarts) for i in instances])
        if restart:
            for name, plan in plans.items():  # instances never recorded (a crash mid-start)
                missing = plan.instance_count - len(fleet.instances[name])
                if missing > 0:
                    with contextlib.suppress(FleetFailed):
                        fleet.scale(name, plan.instance_count)
            for instance in dead:
                self._pool.submit(self._restart, fleet, instance)
        return fleet

    def recover(self) -> None:
        """Take over what an earlier server process left (see the module docstring)."""
        with self.db.session() as session:
            records = list(store.list_records(session, EndpointRecord, EndpointRecord.name))
        for record in records:
            self._refresh(record)
            with self.db.session() as session:
                fleet_ids = [f.id for f in store.fleets_of(session, record.name)]
            serving_now = record.status in (
                "InService",
                "Updating",
                "SystemUpdating",
                "RollingBack",
            )
            for fleet_id in fleet_ids:
                if serving_now and fleet_id == record.active_fleet:
                    self._adopt_fleet(record.name, fleet_id, restart=True)
                else:
                    self._adopt_fleet(record.name, fleet_id, restart=False)
                    self.discard_fleet(record.name, fleet_id)
            self._publish(record.name)
            if record.status == "Creating":
                self.submit("create", record.name)
            elif record.status == "Updating":
                self.submit("update" if record.pending_config else "capacities", record.name)
            elif record.status == "Deleting":
                self.submit("delete", record.name)
            elif record.status == "RollingBack":  # traffic is on the old fleet already
                self._save(
                    record.name, status="InService", pending_config=None, pending_variants=None
                )

    def _restart(self, fleet: Fleet, instance: Instance) -> None:
        try:
            fleet.restart(instance)
        except FleetFailed as exc:
            log.warning("cannot restart %s: %s", instance.instance_id, exc)
        except OSError as exc:
            log.warning("cannot restart %s: %s", instance.instance_id, exc)

    def _check(self) -> None:
        for view in list(self.views.values()):
            fleet = view.fleets.get(view.active_fleet or "")
            if fleet is None or fleet.stopped:
                continue
            for instance in fleet.check():
                wait = _RESTART_BACKOFF * min(instance.restarts, 15)
                if time.monotonic() - instance.started >= wait:
                    self._pool.submit(self._restart, fleet, instance)

    def _run_monitor(self) -> None:
        while not self._stop.wait(self.settings.hosting.health_interval_seconds):
            try:
                self._check()
            except Exception:
                log.exception("endpoint monitor check failed")

    def start(self) -> None:
        """Recover, then start the monitor thread."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.recover()
        self._monitor = threading.Thread(
            target=self._run_monitor, name="lakeworks-endpoints", daemon=True
        )
        self._monitor.start()

    def close(self) -> None:
        """Stop the monitor and every instance (the endpoints' records stay as they are)."""
        self._stop.set()
        if self._monitor is not None:
            self._monitor.join(timeout=10)
        self._pool.shutdown(wait=False, cancel_futures=True)
        fleets = [f for view in self.views.values() for f in view.fleets.values()]
        for fleet in fleets:
            with contextlib.suppress(Exception):
                fleet.stop(grace=1.0)

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
