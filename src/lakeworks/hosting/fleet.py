"""A fleet: the model server processes serving one endpoint config of one endpoint.

Each variant of the config gets its instance count of model servers, started through the
backend's service API (:class:`~lakeworks.backends.base.ServiceBackend`; locally a process in a
session of its own that outlives the server). An instance is *ready* once its address is known
and it answers ``/ping``; only ready instances take traffic. The fleet

* starts instances and waits for them (:meth:`Fleet.start`, :meth:`Fleet.scale`), failing with
  the model server's own last words when one exits or does not answer in time;
* checks them (:meth:`Fleet.check`, called by the endpoints' monitor) and restarts any that
  died; its in-flight requests already failed fast on the broken connection;
* adopts the instances a previous server process left running (:meth:`Fleet.adopt`);
* stops them (:meth:`Fleet.stop`).

Whenever its set of ready instances changes, it calls ``on_change`` so the endpoint's routes are
republished. Two fleets of one endpoint may run side by side (an update starts the new one beside
the old); each works only on its own instances.
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lakeworks.backends.base import (
    Handle,
    LaunchSpec,
    ServiceBackend,
    SpareServiceBackend,
    SpareSpec,
)
from lakeworks.hosting.model_server import HIDDEN_FOR_XGBOOST
from lakeworks.hosting.router import Target, VariantPool

__all__ = [
    "SPARE_POOL",
    "Fleet",
    "FleetFailed",
    "Instance",
    "VariantPlan",
    "model_server_spares",
]

log = logging.getLogger("lakeworks.hosting")

_PING_TIMEOUT = 2.0
_REASON_LIMIT = 900


#: The backend's pool of spare model servers (see :func:`model_server_spares`).
SPARE_POOL = "model-server"
#: The model server command before its ``worker.json``. -P: nothing in the instance directory
#: shadows the server's own modules.
_MODEL_SERVER = (sys.executable, "-P", "-m", "lakeworks.hosting.model_server")
#: What a spare model server imports while it waits: what loading a model would import.
_PRELOAD = (
    "numpy",
    "scipy.sparse",
    "xgboost",
    "lakeworks.hosting.handlers.builtin",
    "lakeworks.hosting.handlers.script",
)


def _base_env() -> dict[str, str]:
    """The environment every model server starts with (nothing of the server's but PATH)."""
    return {
        "PATH": os.environ.get("PATH", os.defpath),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "OMP_NUM_THREADS": "1",
    }


def model_server_spares(directory: Path) -> SpareSpec:
    """The spare model servers a backend may keep: warm interpreters for cold starts.

    A spare has imported the model server, numpy, XGBoost and the handlers, without
    scikit-learn as an XGBoost-only model server does; assigned an instance it gets the
    instance's own environment and loads its ``worker.json`` (a model server for any other
    model re-executes itself first, see :func:`lakeworks.hosting.model_server.main`).
    """
    return SpareSpec(
        pool=SPARE_POOL,
        directory=directory,
        interpreter=_MODEL_SERVER[:2],
        module=_MODEL_SERVER[3],
        preload=_PRELOAD,
        env=_base_env(),
        hide=(HIDDEN_FOR_XGBOOST,),
    )


class FleetFailed(Exception):
    """Instances could not be started; the message is the endpoint's FailureReason."""


@dataclass(frozen=True)
class VariantPlan:
    """What one variant of a fleet runs (stored with the fleet, so a restart can rerun it).

    Attributes:
        variant_name: The variant.
        model_name: The model it serves.
        instance_count: How many model servers.
        worker_spec: Path of the ``worker.json`` every instance of the variant serves.
        container: Hostname of the model's first container (for error messages).
        environment: The containers' environment, merged in order (what the processes get).
        shadow: Whether it is a shadow variant.
        startup_timeout: Seconds an instance may take to answer ``/ping``.
        multi_model: ``{"prefix", "root", "trusted"}`` for a multi-model variant.
    """

    variant_name: str
    model_name: str
    instance_count: int
    worker_spec: str
    container: str = "primary"
    environment: dict[str, str] = field(default_factory=dict)
    shadow: bool = False
    startup_timeout: float = 120.0
    multi_model: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """As stored with the fleet."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> VariantPlan:
        """From :meth:`to_json`."""
        return cls(**data)


@dataclass
class Instance:
    """One model server of the fleet (its process may be restarted; its id stays)."""

    instance_id: str
    variant: str
    ordinal: int
    directory: Path
    handle: Handle | None = None
    target: Target | None = None
    restarts: int = 0
    started: float = 0.0


def _ping(host: str, port: int) -> bool:
    connection = http.client.HTTPConnection(host, port, timeout=_PING_TIMEOUT)
    try:
        connection.request("GET", "/ping")
        return connection.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


class Fleet:
    """The instances of one fleet (see the module docstring).

    Args:
        fleet_id: The fleet's id (unique; part of each instance id).
        endpoint: The endpoint it serves.
        root: The fleet's directory (instances live in ``root/instances/<variant>-<n>``).
        plans: Variant name → plan.
        backend: Runs the model servers.
        on_change: Called (from any thread) when ready instances change.
        persist: Called with an instance whose handle changed, to record it.
        retire: Called with a target that stopped serving (its connections can close).
    """

    def __init__(
        self,
        fleet_id: str,
        endpoint: str,
        root: Path,
        plans: dict[str, VariantPlan],
        backend: ServiceBackend,
        *,
        on_change: Callable[[Fleet], None],
        persist: Callable[[Instance], None],
        retire: Callable[[Target], None],
    ) -> None:
        self.fleet_id = fleet_id
        self.endpoint = endpoint
        self.root = root
        self.plans = plans
        self.backend = backend
        self.on_change = on_change
        self.persist = persist
        self.retire = retire
        self.stagers: dict[str, Any] = {}
        self.instances: dict[str, list[Instance]] = {name: [] for name in plans}
        self._lock = threading.RLock()
        #: Instances being started or restarted right now: the monitor leaves them alone.
        self._busy: set[str] = set()
        self.stopped = False

    # -- instances -------------------------------------------------------------------------

    def _new_instance(self, variant: str, ordinal: int) -> Instance:
        instance_id = f"{self.fleet_id}-{variant}-{ordinal}"
        directory = self.root / "instances" / f"{variant}-{ordinal}"
        return Instance(instance_id, variant, ordinal, directory)

    def _launch_spec(self, instance: Instance) -> LaunchSpec:
        plan = self.plans[instance.variant]
        instance.directory.mkdir(parents=True, exist_ok=True)
        env = {
            **_base_env(),
            "HOME": str(instance.directory),
            "SAGEMAKER_ENDPOINT_NAME": self.endpoint,
            "SAGEMAKER_VARIANT_NAME": instance.variant,
            **plan.environment,
        }
        return LaunchSpec(
            job_name=instance.instance_id,
            job_dir=instance.directory,
            argv=[*_MODEL_SERVER, plan.worker_spec],
            cwd=instance.directory,
            env=env,
        )

    def _launch(self, instance: Instance, spare: bool = False) -> None:
        if instance.handle is not None and self.backend.poll(instance.handle).state == "running":
            # Never leave a process behind without a handle that reaches it.
            self.backend.stop(instance.handle, 0.0)
        if self.stopped:
            raise FleetFailed("The endpoint's instances were stopped")
        spec = self._launch_spec(instance)
        if spare and isinstance(self.backend, SpareServiceBackend):
            instance.handle = self.backend.start_service_from_spare(spec, SPARE_POOL)
        else:
            instance.handle = self.backend.start_service(spec)
        if self.stopped:  # stopped while this one started: it must not outlive the fleet
            self.backend.stop(instance.handle, 0.0)
        instance.started = time.monotonic()
        self.persist(instance)

    def _reason(self, instance: Instance, what: str) -> str:
        """Why an instance failed, ending with the model server's last words."""
        tail = ""
        if instance.handle is not None:
            size = self.backend.read_logs(instance.handle, 0, 0).size
            chunk = self.backend.read_logs(instance.handle, max(0, size - 8192), 8192)
            lines = [ln.strip() for ln in chunk.data.decode("utf-8", "replace").splitlines()]
            lines = [ln for ln in lines if ln and not ln.startswith("[lakeworks]")]
            chosen = [ln for ln in lines if ln.startswith(("ClientError:", "Cannot load"))]
            tail = (chosen or lines or [""])[-1]
        reason = f"The model server of variant {instance.variant} {what}"
        if tail:
            reason += f": {tail.removeprefix('ClientError: ')}"
        return reason[:_REASON_LIMIT]

    def _wait_ready(self, instances: list[Instance]) -> None:
        """Wait until every instance answers /ping.

        Raises:
            FleetFailed: One exited or did not answer within its variant's startup timeout.
        """
        waiting = list(instances)
        delay = 0.02
        while waiting:
            if self.stopped:
                raise FleetFailed("The endpoint was deleted while its instances started")
            for instance in list(waiting):
                assert instance.handle is not None
                state = self.backend.poll(instance.handle)
                if state.state != "running":
                    what = (
                        f"exited with code {state.exit_code} while loading the model"
                        if state.state == "exited"
                        else f"was lost while loading the model ({state.detail})"
                    )
                    raise FleetFailed(self._reason(instance, what))
                address = self.backend.service_address(instance.handle)
                if address is not None and _ping(*address):
                    instance.target = Target(instance.instance_id, *address)
                    waiting.remove(instance)
                    continue
                timeout = self.plans[instance.variant].startup_timeout
                if time.monotonic() - instance.started > timeout:
                    raise FleetFailed(
                        self._reason(instance, f"did not answer /ping within {timeout:.0f} s")
                    )
            if waiting:
                time.sleep(delay)
                delay = min(delay * 1.5, 0.05)  # a cold start waits on this poll

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Start every variant's instances and wait until all are ready.

        Raises:
            FleetFailed: With the reason; instances already started are stopped.
        """
        started: list[Instance] = []
        try:
            with self._lock:
                for name, plan in self.plans.items():
                    for ordinal in range(plan.instance_count):
                        instance = self._new_instance(name, ordinal)
                        self.instances[name].append(instance)
                        self._busy.add(instance.instance_id)
                        self._launch(instance)
                        started.append(instance)
            self._wait_ready(started)
        except FleetFailed:
            self.stop(grace=0.0)
            raise
        except OSError as exc:
            self.stop(grace=0.0)
            raise FleetFailed(f"Cannot start a model server: {exc}") from None
        finally:
            with self._lock:
                self._busy.difference_update(i.instance_id for i in started)
        self.on_change(self)

    def adopt(self, records: list[tuple[str, int, Handle | None, int]]) -> list[Instance]:
        """Take over instances a previous server started: ``(variant, ordinal, handle, restarts)``.

        Live ones are ready again at once; the others are returned for :meth:`restart`.
        """
        dead: list[Instance] = []
        with self._lock:
            for variant, ordinal, handle, restarts in records:
                if variant not in self.plans:
                    continue
                instance = self._new_instance(variant, ordinal)
                instance.handle = handle
                instance.restarts = restarts
                self.instances[variant].append(instance)
                address = None
                alive = handle is not None and self.backend.adopt(handle)
                if alive and handle is not None and self.backend.poll(handle).state == "running":
                    address = self.backend.service_address(handle)
                if address is not None and _ping(*address):
                    instance.target = Target(instance.instance_id, *address)
                else:
                    if handle is not None:
                        self.backend.stop(handle, 0.0)
                    dead.append(instance)
        self.on_change(self)
        return dead

    def restart(self, instance: Instance) -> None:
        """Start a dead instance again and wait for it (called on a worker thread).

        Raises:
            FleetFailed: It could not be started (the monitor tries again later).
        """
        with self._lock:
            if instance.instance_id in self._busy or self.stopped:
                return
            self._busy.add(instance.instance_id)
        try:
            instance.restarts += 1
            self._launch(instance)
            self._wait_ready([instance])
            log.info("restarted %s (restart %d)", instance.instance_id, instance.restarts)
            self.on_change(self)
        finally:
            with self._lock:
                self._busy.discard(instance.instance_id)

    def check(self) -> list[Instance]:
        """Find instances whose process ended; take them out of service and return them.

        The caller restarts them (:meth:`restart`) off its own thread.
        """
        dead: list[Instance] = []
        with self._lock:
            for instance in (i for group in self.instances.values() for i in group):
                if instance.instance_id in self._busy or instance.handle is None:
                    continue
                if instance.target is None:
                    dead.append(instance)  # a restart that failed earlier
                    continue
                state = self.backend.poll(instance.handle)
                if state.state != "running":
                    log.warning(
                        "model server %s ended (%s %s); restarting it",
                        instance.instance_id,
                        state.state,
                        state.exit_code if state.exit_code is not None else state.detail,
                    )
                    self._take_out(instance)
                    dead.append(instance)
        if dead:
            self.on_change(self)
        return dead

    def _take_out(self, instance: Instance) -> None:
        if instance.target is not None:
            instance.target.dead = True
            self.retire(instance.target)
            instance.target = None

    def scale(self, variant: str, count: int, *, spare: bool = False) -> None:
        """Run ``count`` instances of ``variant``: start the missing, stop the surplus.

        Args:
            variant: The variant.
            count: Instances it should run.
            spare: Start new instances on the backend's spare model servers where it keeps
                any (a serverless cold start); otherwise, and on other backends, afresh.

        Raises:
            FleetFailed: A new instance could not be started (those started are stopped).
        """
        with self._lock:
            group = self.instances[variant]
            surplus = group[count:]
            del group[count:]
            for instance in surplus:
                self._take_out(instance)
                if instance.handle is not None:
                    self.backend.stop(instance.handle, 1.0)
            used = {i.ordinal for i in group}
            ordinals = (n for n in range(10_000) if n not in used)
            added = [self._new_instance(variant, next(ordinals)) for _ in range(count - len(group))]
            group.extend(added)
            self._busy.update(i.instance_id for i in added)
            for instance in added:
                self._launch(instance, spare)
        if surplus:
            self.on_change(self)
        try:
            self._wait_ready(added)
        except FleetFailed:
            with self._lock:
                for instance in added:
                    group.remove(instance)
                    if instance.handle is not None:
                        self.backend.stop(instance.handle, 0.0)
            raise
        finally:
            with self._lock:
                self._busy.difference_update(i.instance_id for i in added)
        self.on_change(self)

    def stop(self, grace: float = 2.0) -> None:
        """Stop every instance (SIGTERM, SIGKILL after ``grace``) and wait briefly for them."""
        with self._lock:
            self.stopped = True
            instances = [i for group in self.instances.values() for i in group]
            for instance in instances:
                self._take_out(instance)
                if instance.handle is not None:
                    with contextlib.suppress(OSError):
                        self.backend.stop(instance.handle, grace)
        deadline = time.monotonic() + grace + 2.0
        for instance in instances:
            while instance.handle is not None and time.monotonic() < deadline:
                if self.backend.poll(instance.handle).state != "running":
                    break
                time.sleep(0.02)
        self.on_change(self)

    # -- routing ---------------------------------------------------------------------------

    def pools(self) -> dict[str, VariantPool]:
        """Variant → its ready instances, for the endpoint's route table."""
        with self._lock:
            return {
                name: VariantPool(
                    variant_name=name,
                    fleet_id=self.fleet_id,
                    targets=tuple(
                        i.target
                        for i in self.instances[name]
                        if i.target is not None and not i.target.dead
                    ),
                    container=plan.container,
                    multi_model=self.stagers.get(name),
                )
                for name, plan in self.plans.items()
            }

    def ready_counts(self) -> dict[str, int]:
        """Variant → ready instances."""
        return {name: len(pool.targets) for name, pool in self.pools().items()}
