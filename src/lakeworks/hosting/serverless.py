"""Serverless variants: zero instances when idle, a cold start on demand, ``MaxConcurrency``.

A variant with a ``ServerlessConfig`` starts like any other (one instance, so a model that
cannot load fails the endpoint at once), but it does not keep its instances: after
``hosting.serverless_idle_seconds`` without an invocation a reaper stops them, down to none (or
one when ``ProvisionedConcurrency`` is set: provisioned capacity stays warm). The next
invocation *cold-starts* an instance and waits for it; concurrent invocations wait for the same
start, and the wait is bounded by the variant's startup timeout (then a 503, never a hang).

Each serverless variant has a :class:`ServerlessGate` that counts the invocations in flight
(waiting for a cold start included). One more than ``MaxConcurrency`` is refused at once with
``ThrottlingException`` (HTTP 429), as SageMaker does. Scaling up and down is serialised per
variant (one *transition* at a time), and the reaper only scales down a variant with nothing in
flight, so an invocation never lands on an instance that is being stopped.

A cold start takes one of the backend's spare model servers when it keeps any (the local
backend: a process that already imported numpy, XGBoost and the handlers, so only the model is
loaded; see :mod:`lakeworks.backends.local_spares`). The reaper keeps
``hosting.serverless_spare_processes`` spares while any serverless variant exists, none otherwise.

Cold starts are reported three ways: the invocation that waited gets the time in the
``X-Lakeworks-Cold-Start-Ms`` response header, and ``/metrics`` carries
``lakeworks_serverless_cold_start_seconds`` (count and sum) with the throttle count and the
invocations in flight.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from lakeworks.backends.base import SpareServiceBackend
from lakeworks.core.errors import ThrottlingException
from lakeworks.hosting.endpoints import EndpointEngine
from lakeworks.hosting.errors import ServiceUnavailable
from lakeworks.hosting.fleet import Fleet, FleetFailed, model_server_spares
from lakeworks.hosting.runtime import Runtime

__all__ = ["COLD_START_HEADER", "ServerlessGate", "ServerlessManager"]

log = logging.getLogger("lakeworks.hosting")

#: The response header that carries the cold start an invocation waited for (milliseconds).
COLD_START_HEADER = "X-Lakeworks-Cold-Start-Ms"
#: Cold-start times kept per variant for the percentiles.
_KEPT = 1000


class ServerlessGate:
    """The admission state of one serverless variant (see the module docstring).

    Args:
        endpoint: The endpoint.
        variant: The variant.
        config: Its ``ServerlessConfig`` as stored (snake_case keys).
    """

    def __init__(self, endpoint: str, variant: str, config: dict[str, Any]) -> None:
        self.endpoint = endpoint
        self.variant = variant
        self.config = config
        self.max_concurrency = int(config["max_concurrency"])
        #: Instances kept warm when idle: provisioned concurrency keeps one.
        self.floor = 1 if config.get("provisioned_concurrency") else 0
        self.in_flight = 0
        self.throttled = 0
        self.last_used = time.monotonic()
        self.transition: Future[float | None] | None = None
        self.cold_starts: deque[float] = deque(maxlen=_KEPT)
        self.cold_start_count = 0
        self.cold_start_total_ms = 0.0
        self.lock = threading.Lock()

    def admit(self) -> None:
        """Count one more invocation in flight.

        Raises:
            ThrottlingException: ``MaxConcurrency`` invocations are in flight already.
        """
        with self.lock:
            if self.in_flight >= self.max_concurrency:
                self.throttled += 1
                raise ThrottlingException(
                    f"Variant {self.variant} of endpoint {self.endpoint} is serving its "
                    f"MaxConcurrency of {self.max_concurrency} concurrent invocations; retry "
                    "later or raise MaxConcurrency in the endpoint config",
                    aws_code="ThrottlingException",
                )
            self.in_flight += 1
            self.last_used = time.monotonic()

    def leave(self) -> None:
        """One invocation finished."""
        with self.lock:
            self.in_flight -= 1
            self.last_used = time.monotonic()

    def busy(self) -> bool:
        """Whether a scale up or down is running."""
        return self.transition is not None and not self.transition.done()

    def record_cold_start(self, ms: float) -> None:
        """Note one cold start's duration."""
        with self.lock:
            self.cold_starts.append(ms)
            self.cold_start_count += 1
            self.cold_start_total_ms += ms

    def cold_start_p50_ms(self) -> float | None:
        """The median of the recent cold starts (None before the first)."""
        with self.lock:
            return statistics.median(self.cold_starts) if self.cold_starts else None


class ServerlessManager:
    """Gates, cold starts and the idle reaper of every serverless variant.

    Args:
        engine: Owns the fleets (the manager scales the active fleet's variant).
        runtime: Its route tables tell whether a variant has a ready instance.
        idle_seconds: Idle time after which a variant's instances stop.
        startup_timeout: Default bound on a cold start (a variant's own timeout wins if longer).
    """

    def __init__(
        self,
        engine: EndpointEngine,
        runtime: Runtime,
        idle_seconds: float,
        startup_timeout: float,
    ) -> None:
        self.engine = engine
        self.runtime = runtime
        self.idle_seconds = idle_seconds
        self.startup_timeout = startup_timeout
        self.gates: dict[tuple[str, str], ServerlessGate] = {}
        self._guard = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="lakeworks-sls")
        self._stop = threading.Event()
        self._reaper: threading.Thread | None = None
        self._spares = -1  # spares last asked of the backend (-1: not yet)

    # -- the request path --------------------------------------------------------------------

    def gate(self, endpoint: str, variant: str) -> ServerlessGate | None:
        """The gate of a serverless variant; None for a variant with instances."""
        view = self.engine.views.get(endpoint)
        if view is None:
            return None
        for state in view.states:
            if state.variant_name == variant:
                config = state.serverless_config
                break
        else:
            return None
        if not config:
            return None
        key = (endpoint, variant)
        gate = self.gates.get(key)
        if gate is None or gate.config != config:
            with self._guard:
                gate = self.gates.get(key)
                if gate is None or gate.config != config:
                    gate = self.gates[key] = ServerlessGate(endpoint, variant, config)
        return gate

    async def enter(self, gate: ServerlessGate) -> float | None:
        """Admit one invocation and make sure an instance serves it.

        Returns:
            The cold start it waited for in milliseconds, or None when it found one warm.

        Raises:
            ThrottlingException: Over ``MaxConcurrency``.
            ServiceUnavailable: No instance could be started in time (the reason says why).
        """
        gate.admit()
        try:
            return await self._warm(gate)
        except BaseException:
            gate.leave()
            raise

    def _ready(self, gate: ServerlessGate) -> int:
        table = self.runtime.tables.get(gate.endpoint)
        route = table.variant(gate.variant) if table is not None else None
        return route.instance_count if route is not None else 0

    async def _warm(self, gate: ServerlessGate) -> float | None:
        waited: float | None = None
        bound = self._bound(gate)
        deadline = time.monotonic() + bound
        while True:
            transition = gate.transition if gate.busy() else None
            if transition is None:
                if self._ready(gate) > 0:
                    return waited
                transition = self._begin(gate, self._scale_up)
            remaining = deadline - time.monotonic()
            try:
                async with asyncio.timeout(max(0.0, remaining)):
                    result = await asyncio.shield(asyncio.wrap_future(transition))
            except TimeoutError:
                raise ServiceUnavailable(
                    f"Serverless variant {gate.variant} of endpoint {gate.endpoint} did not "
                    f"start an instance within {bound:.0f} s; try again shortly"
                ) from None
            except FleetFailed as exc:
                raise ServiceUnavailable(
                    f"Serverless variant {gate.variant} of endpoint {gate.endpoint} could not "
                    f"start an instance: {exc}"
                ) from None
            if result is not None:
                waited = result
            elif self._ready(gate) == 0:
                await asyncio.sleep(0.02)  # an instance being restarted: wait, do not spin

    def _bound(self, gate: ServerlessGate) -> float:
        fleet = self._fleet(gate)
        plan = fleet.plans.get(gate.variant) if fleet is not None else None
        timeout = plan.startup_timeout if plan is not None else self.startup_timeout
        return max(timeout, self.startup_timeout) + 5.0

    def _begin(self, gate: ServerlessGate, work: Any) -> Future[float | None]:
        with gate.lock:
            if gate.transition is None or gate.transition.done():
                gate.transition = self._executor.submit(work, gate)
            return gate.transition

    # -- scaling (worker threads) -------------------------------------------------------------

    def _fleet(self, gate: ServerlessGate) -> Fleet | None:
        view = self.engine.views.get(gate.endpoint)
        if view is None:
            return None
        return view.fleets.get(view.active_fleet or "")

    def _scale_up(self, gate: ServerlessGate) -> float | None:
        fleet = self._fleet(gate)
        if fleet is None or fleet.stopped:
            raise FleetFailed(f"endpoint {gate.endpoint} has no active fleet (is it InService?)")
        if fleet.instances.get(gate.variant):
            return None  # an instance exists (being restarted by the monitor): just wait
        started = time.perf_counter()
        fleet.scale(gate.variant, 1, spare=True)
        ms = (time.perf_counter() - started) * 1000.0
        gate.record_cold_start(ms)
        log.info("serverless %s/%s cold-started in %.0f ms", gate.endpoint, gate.variant, ms)
        return ms

    def _scale_down(self, gate: ServerlessGate) -> float | None:
        fleet = self._fleet(gate)
        if fleet is not None and not fleet.stopped:
            fleet.scale(gate.variant, gate.floor)
            log.info("serverless %s/%s idle: %d instances", gate.endpoint, gate.variant, gate.floor)
        return None

    def reap(self) -> None:
        """Scale idle serverless variants down and size the spares (the reaper thread calls it).

        Public for tests.
        """
        for view_name, view in list(self.engine.views.items()):
            for state in view.states:
                if state.serverless_config:
                    self.gate(view_name, state.variant_name)
        for key, gate in list(self.gates.items()):
            if gate.endpoint not in self.engine.views:
                self.gates.pop(key, None)
        self._keep_spares(
            self.engine.settings.hosting.serverless_spare_processes * bool(self.gates)
        )
        now = time.monotonic()
        for gate in list(self.gates.values()):
            fleet = self._fleet(gate)
            if fleet is None or len(fleet.instances.get(gate.variant, [])) <= gate.floor:
                continue
            with gate.lock:
                idle = gate.in_flight == 0 and now - gate.last_used >= self.idle_seconds
                if idle and not gate.busy():
                    gate.transition = self._executor.submit(self._scale_down, gate)

    def _keep_spares(self, count: int) -> None:
        backend = self.engine.backend
        if count != self._spares and isinstance(backend, SpareServiceBackend):
            backend.keep_spares(model_server_spares(self.engine.root.parent / "spares"), count)
            self._spares = count

    def _run(self) -> None:
        interval = min(1.0, self.idle_seconds / 4)
        while not self._stop.wait(interval):
            try:
                self.reap()
            except Exception:
                log.exception("serverless reaper failed")

    def start(self) -> None:
        """Start the idle reaper."""
        self._reaper = threading.Thread(target=self._run, name="lakeworks-sls-reaper", daemon=True)
        self._reaper.start()

    def close(self) -> None:
        """Stop the reaper and any scaling still queued."""
        self._stop.set()
        if self._reaper is not None:
            self._reaper.join(timeout=5)
        self._executor.shutdown(wait=False, cancel_futures=True)
        if self._spares > 0:
            self._keep_spares(0)

    # -- metrics ------------------------------------------------------------------------------

    def prometheus(self) -> str:
        """Cold starts, throttles and invocations in flight in the Prometheus text format."""
        gates = sorted(self.gates.values(), key=lambda g: (g.endpoint, g.variant))
        if not gates:
            return ""
        out: list[str] = []
        metric = "lakeworks_serverless_cold_start_seconds"
        out += [f"# HELP {metric} Time to start an instance on demand.", f"# TYPE {metric} summary"]
        for g in gates:
            out.append(f"{metric}_sum{_labels(g)} {g.cold_start_total_ms / 1000.0:.6f}")
            out.append(f"{metric}_count{_labels(g)} {g.cold_start_count}")
        for name, text, kind, attribute in (
            ("throttles_total", "Invocations refused over MaxConcurrency", "counter", "throttled"),
            (
                "in_flight",
                "Invocations in flight (cold-start waits included)",
                "gauge",
                "in_flight",
            ),
        ):
            metric = f"lakeworks_serverless_{name}"
            out += [f"# HELP {metric} {text}.", f"# TYPE {metric} {kind}"]
            out += [f"{metric}{_labels(g)} {getattr(g, attribute)}" for g in gates]
        return "\n".join(out) + "\n"


def _labels(gate: ServerlessGate) -> str:
    def quote(value: str) -> str:
        return value.replace("\\", "\\\\").replace('"', '\\"')

    return f'{{endpoint="{quote(gate.endpoint)}",variant="{quote(gate.variant)}"}}'
