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

The bookkeeping (views, route tables, starting and adopting fleets) is
:class:`~lakeworks.hosting.fleet_keeper.FleetKeeper`; the deployment work builds on its
:meth:`~lakeworks.hosting.fleet_keeper.FleetKeeper.start_fleet` (a second fleet beside the first)
and :class:`~lakeworks.hosting.router.VariantRoute` pool shares to shift traffic.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from lakeworks.backends.base import ServiceBackend
from lakeworks.core.settings import Settings
from lakeworks.db import Database
from lakeworks.hosting import store
from lakeworks.hosting.alarms import AlarmEvaluator
from lakeworks.hosting.deployments import TrafficShift, blue_green_policy, rollback_alarms
from lakeworks.hosting.fleet import Fleet, FleetFailed
from lakeworks.hosting.fleet_keeper import REASON_LIMIT, FleetKeeper, ObjectWriter
from lakeworks.hosting.rollout import (
    Rollout,
    finish_rollback,
    forget_progress,
    progress,
    retire_later,
    save_progress,
)
from lakeworks.hosting.runtime import Runtime
from lakeworks.hosting.store import DeploymentRecord, EndpointRecord
from lakeworks.hosting.variants import VariantState, serving
from lakeworks.schemas.hosting import EndpointConfigCreate

__all__ = ["EndpointEngine", "ObjectWriter"]

log = logging.getLogger("lakeworks.hosting")

#: Seconds between attempts to restart an instance that keeps failing (times its restarts).
_RESTART_BACKOFF = 2.0


class EndpointEngine(FleetKeeper):
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
        super().__init__(settings, db, lake, backend, runtime, clock, alarms)
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
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
        policy = blue_green_policy(record.deployment_config)
        saved = progress(self, endpoint) if policy is not None and old_fleet else None
        if saved is not None and (
            saved.config_name != target or saved.phase not in ("Creating", "Baking")
        ):
            saved = None  # left by an earlier update
        started = saved.started if saved is not None else self.clock()
        if policy is not None and old_fleet is not None and saved is None:
            save_progress(
                self,
                endpoint,
                config_name=target,
                phase="Creating",
                started=started,
                old_fleet=old_fleet,
                new_fleet=None,
                step=0,
                fraction=0.0,
                step_started=None,
                retire_at=None,
                reason=None,
            )
        view = self.views[endpoint]
        resumed = (
            view.fleets.get(saved.new_fleet or "")
            if saved is not None and saved.phase == "Baking"
            else None
        )
        try:
            if config_record is None:
                raise FleetFailed(f"Endpoint config {target!r} no longer exists")
            fleet = resumed or self.start_fleet(endpoint, target, new_states)
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
                failure_reason=f"Update to endpoint config {target} failed: {exc}"[:REASON_LIMIT],
            )
            forget_progress(self, endpoint)
            return
        if self._abandoned(endpoint, "Updating", fleet):
            return
        if policy is not None and old_fleet is not None:
            alarms = rollback_alarms(record.deployment_config)
            rollout = Rollout(self, endpoint, fleet, states, new_states, policy, alarms, started)
            first = saved.step if resumed is not None and saved is not None else 0
            began = saved.step_started if resumed is not None and saved is not None else None
            if not rollout.run(target, first_step=first, step_started=began):
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
            if policy is not None:
                retire_at = self.clock() + timedelta(seconds=wait)
                save_progress(self, endpoint, phase="Retiring", retire_at=retire_at)
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
                self.adopt_fleet(endpoint, fleet_id, restart=False)
            self.discard_fleet(endpoint, fleet_id)
        with self.db.session() as session:
            found = session.get(EndpointRecord, endpoint)
            if found is not None:
                session.delete(found)
        forget_progress(self, endpoint)
        shutil.rmtree(self.root / endpoint, ignore_errors=True)
        self.views.pop(endpoint, None)
        self.runtime.remove(endpoint)
        self.runtime.metrics.forget(endpoint)
        log.info("endpoint %s deleted", endpoint)

    # -- recovery and monitoring ---------------------------------------------------------------

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
            saved = progress(self, record.name)
            green = self._green(record, saved)
            retiring = saved.old_fleet if saved is not None and saved.phase == "Retiring" else None
            for fleet_id in fleet_ids:
                if serving_now and fleet_id == record.active_fleet:
                    self.adopt_fleet(record.name, fleet_id, restart=True)
                elif green is not None and fleet_id == green.fleet_id:
                    counts = {s.variant_name: s.desired_instance_count for s in green.states}
                    self.adopt_fleet(record.name, fleet_id, restart=True, counts=counts)
                elif fleet_id == retiring and fleet_id != record.active_fleet:
                    self.adopt_fleet(record.name, fleet_id, restart=False)
                else:
                    self.adopt_fleet(record.name, fleet_id, restart=False)
                    self.discard_fleet(record.name, fleet_id)
            view = self.views[record.name]
            if green is not None and green.fleet_id in view.fleets:
                view.shift = green
            self._publish(record.name)
            self._resume(record, saved)

    def _green(self, record: EndpointRecord, saved: DeploymentRecord | None) -> TrafficShift | None:
        """The traffic shift of a deployment that was baking when the server stopped."""
        if saved is None or saved.phase != "Baking" or saved.new_fleet is None:
            return None
        if record.status != "Updating" or record.pending_config != saved.config_name:
            return None
        states = tuple(VariantState.from_json(s) for s in record.pending_variants or [])
        what = f"step {saved.step + 1}: {saved.fraction:.0%} of traffic on the new fleet"
        return TrafficShift(saved.new_fleet, states, saved.fraction, "Baking", what)

    def _resume(self, record: EndpointRecord, saved: DeploymentRecord | None) -> None:
        """Run again the operation ``record`` was in when the server stopped."""
        name = record.name
        if record.status == "Creating":
            self.submit("create", name)
        elif record.status == "Updating":
            self.submit("update" if record.pending_config else "capacities", name)
        elif record.status == "Deleting":
            self.submit("delete", name)
        elif record.status == "RollingBack":  # traffic is on the old fleet already
            old_states = [VariantState.from_json(s) for s in record.variants]
            reason = saved.reason if saved is not None and saved.reason else "rolled back"
            finish_rollback(self, name, old_states, reason)
            forget_progress(self, name)
        elif saved is not None and saved.phase == "Retiring" and saved.old_fleet:
            wait = (saved.retire_at - self.clock()).total_seconds() if saved.retire_at else 0.0
            retire_later(self, name, saved.old_fleet, max(0.0, wait))
        elif saved is not None:
            forget_progress(self, name)  # an update that no longer runs

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
