"""Runs a blue/green deployment of an endpoint: shift traffic step by step, bake, roll back.

Called by :class:`~lakeworks.hosting.endpoints.EndpointEngine` once the new (green) fleet is
healthy, under the endpoint's operation lock. For each step of :func:`.deployments.traffic_steps`
it publishes blended routes (:class:`.deployments.TrafficShift`) and bakes, checking every few
milliseconds that

* no ``AutoRollbackConfiguration`` alarm is in ``ALARM``,
* ``MaximumExecutionTimeoutInSeconds`` has not passed since the update began,
* the endpoint was not deleted and the server is not shutting down.

An alarm or the timeout rolls back: the endpoint is ``RollingBack`` while all traffic returns to
the old (blue) fleet and the new one drains and stops, then ``InService`` on the old config
with the reason in ``FailureReason``. When every step baked, the engine makes green the active
fleet and retires blue after ``TerminationWaitInSeconds`` (:func:`retire_later`).

The progress is durable (:class:`~lakeworks.hosting.store.DeploymentRecord`, written by
:func:`save_progress` at each step): the phase, the step baking and when its bake began, the
traffic split, both fleets and the old fleet's retirement time. A server that crashed mid-update
adopts both fleets, restores the split and resumes the bake where it was
(:meth:`Rollout.run` with ``first_step``); the execution timeout counts from the update's start,
so one that passed while the server was down rolls back at once.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from lakeworks.hosting.deployments import TrafficShift, remaining_bake, traffic_steps
from lakeworks.hosting.fleet import Fleet
from lakeworks.hosting.store import DeploymentRecord
from lakeworks.hosting.variants import VariantState
from lakeworks.schemas.hosting_deployments import BlueGreenUpdatePolicy

if TYPE_CHECKING:
    from lakeworks.hosting.endpoints import EndpointEngine

__all__ = [
    "Rollout",
    "drain",
    "finish_rollback",
    "forget_progress",
    "progress",
    "retire_later",
    "save_progress",
]

log = logging.getLogger("lakeworks.hosting")

_POLL = 0.02
_REASON_LIMIT = 1024


def progress(engine: EndpointEngine, endpoint: str) -> DeploymentRecord | None:
    """The persisted deployment of ``endpoint`` (None: no blue/green update is in progress)."""
    with engine.db.session() as session:
        return session.get(DeploymentRecord, endpoint)


def save_progress(engine: EndpointEngine, endpoint: str, **values: Any) -> None:
    """Create or update the persisted deployment of ``endpoint`` with ``values``."""
    with engine.db.session() as session:
        record = session.get(DeploymentRecord, endpoint)
        if record is None:
            record = DeploymentRecord(endpoint_name=endpoint, step=0, fraction=0.0)
            session.add(record)
        for name, value in values.items():
            setattr(record, name, value)


def forget_progress(
    engine: EndpointEngine, endpoint: str, *, phase: str | None = None, old_fleet: str = ""
) -> None:
    """Delete the persisted deployment (only one in ``phase`` retiring ``old_fleet``, if given)."""
    with engine.db.session() as session:
        record = session.get(DeploymentRecord, endpoint)
        if record is None or (phase is not None and record.phase != phase):
            return
        if old_fleet and record.old_fleet != old_fleet:
            return
        session.delete(record)


def drain(fleet: Fleet, timeout: float) -> None:
    """Wait (at most ``timeout`` s) until no request is in flight on ``fleet``'s instances.

    Called once the routes no longer lead to the fleet, so requests already sent to it finish
    before it stops: an update under load fails no request.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        targets = [i.target for group in fleet.instances.values() for i in group if i.target]
        if all(t.outstanding == 0 for t in targets):
            return
        time.sleep(_POLL)


def retire_later(engine: EndpointEngine, endpoint: str, fleet_id: str, wait: float) -> None:
    """Drain and stop an old fleet after ``wait`` seconds, off the endpoint's lock."""

    def retire() -> None:
        view = engine.views.get(endpoint)
        fleet = view.fleets.get(fleet_id) if view else None
        if fleet is not None:
            drain(fleet, engine.settings.hosting.invocation_timeout_seconds)
        if view is not None and view.active_fleet == fleet_id:
            return  # it serves again (a later update rolled back to it)
        engine.discard_fleet(endpoint, fleet_id)
        forget_progress(engine, endpoint, phase="Retiring", old_fleet=fleet_id)
        log.info("endpoint %s: old fleet %s stopped", endpoint, fleet_id)

    if wait <= 0:
        retire()
        return
    timer = threading.Timer(wait, retire)
    timer.name = f"lakeworks-retire-{fleet_id}"
    timer.daemon = True
    timer.start()


class Rollout:
    """One deployment from the blue fleet to ``fleet`` (see the module docstring).

    Args:
        engine: The endpoint engine (records, views, routes, alarms).
        endpoint: The endpoint.
        fleet: The new fleet, healthy and not yet routed.
        old_states: The variants serving now (restored on rollback).
        new_states: The new config's variants.
        policy: The blue/green policy.
        alarms: Names of the alarms that roll the deployment back.
        started: When the update began (for the execution timeout; survives a restart).
    """

    def __init__(
        self,
        engine: EndpointEngine,
        endpoint: str,
        fleet: Fleet,
        old_states: list[VariantState],
        new_states: list[VariantState],
        policy: BlueGreenUpdatePolicy,
        alarms: list[str],
        started: datetime,
    ) -> None:
        self.engine = engine
        self.endpoint = endpoint
        self.fleet = fleet
        self.old_states = old_states
        self.new_states = new_states
        self.policy = policy
        self.alarms = alarms
        self.started = started
        self.config = ""

    def _shift(self, shift: TrafficShift | None, *, publish: bool = True) -> None:
        view = self.engine.views.get(self.endpoint)
        if view is not None:
            view.shift = shift
            if publish:
                self.engine._publish(self.endpoint)

    def _trouble(self) -> tuple[str, str] | None:
        """``(kind, reason)`` when the deployment must stop: rollback, abandoned or shutdown."""
        if self.engine._stop.is_set():
            return "shutdown", ""
        if self.fleet.stopped or self.endpoint not in self.engine.views:
            return "abandoned", ""  # the endpoint is being deleted (EndpointEngine.abort)
        limit = self.policy.maximum_execution_timeout_in_seconds
        elapsed = (self.engine.clock() - self.started).total_seconds()
        if limit is not None and elapsed > limit:
            return "rollback", f"the deployment did not finish within {limit} s"
        for name in self.alarms:
            state = self.engine.alarms.state(name) if self.engine.alarms else None
            if state is not None and state[0] == "ALARM":
                return "rollback", f"alarm {name} is in ALARM ({state[1]})"
        return None

    def run(
        self, config_name: str, *, first_step: int = 0, step_started: datetime | None = None
    ) -> bool:
        """Shift and bake every step, from ``first_step`` on.

        Args:
            config_name: The config the update moves to.
            first_step: The step to start with (0-based; a resumed deployment's saved step).
            step_started: When that step's bake began before a restart (None: it begins now).

        Returns:
            True when all traffic is on the new fleet and it baked; False when the deployment
            rolled back or stopped (the rollout did the bookkeeping).
        """
        self.config = config_name
        instances = sum(s.desired_instance_count for s in self.new_states if not s.shadow)
        states = tuple(self.new_states)
        steps = traffic_steps(self.policy, instances)
        for index in range(min(first_step, len(steps) - 1), len(steps)):
            step = steps[index]
            what = f"step {index + 1}: {step.fraction:.0%} of traffic on the new fleet"
            self._shift(TrafficShift(self.fleet.fleet_id, states, step.fraction, "Baking", what))
            began = step_started if index == first_step and step_started else self.engine.clock()
            save_progress(
                self.engine,
                self.endpoint,
                phase="Baking",
                new_fleet=self.fleet.fleet_id,
                step=index,
                fraction=step.fraction,
                step_started=began,
            )
            bake = remaining_bake(step, began, self.engine.clock())
            log.info("endpoint %s: %s, baking %g s", self.endpoint, what, bake)
            deadline = time.monotonic() + bake
            while True:
                trouble = self._trouble()
                if trouble is not None:
                    return self._stop(*trouble)
                if time.monotonic() >= deadline:
                    break
                time.sleep(_POLL)
        return True

    def _stop(self, kind: str, reason: str) -> bool:
        if kind == "shutdown":
            return False  # the update resumes when the server starts (see the module docstring)
        engine = self.engine
        message = f"Rolled back the update to endpoint config {self.config}: {reason}"
        if kind == "rollback":
            save_progress(engine, self.endpoint, phase="RollingBack", reason=message)
            engine._save(self.endpoint, only_if="Updating", status="RollingBack")
        self._shift(None, publish=kind == "rollback")  # a deleted endpoint has no routes
        drain(self.fleet, engine.settings.hosting.invocation_timeout_seconds)
        engine.discard_fleet(self.endpoint, self.fleet.fleet_id, self.fleet)
        if kind == "rollback":
            log.warning("endpoint %s: %s", self.endpoint, message)
            finish_rollback(engine, self.endpoint, self.old_states, message)
        forget_progress(engine, self.endpoint)
        return False


def finish_rollback(
    engine: EndpointEngine, endpoint: str, old_states: list[VariantState], message: str
) -> None:
    """A RollingBack endpoint is InService on its old config again, with ``message`` as reason."""
    engine._save(
        endpoint,
        only_if="RollingBack",
        status="InService",
        pending_config=None,
        pending_variants=None,
        variants=[s.to_json() for s in old_states],
        failure_reason=message[:_REASON_LIMIT],
    )
