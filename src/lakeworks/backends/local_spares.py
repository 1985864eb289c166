"""Spare processes of the local backend: services started on an interpreter that is already warm.

A *spare* is a job wrapper (:mod:`lakeworks.jobs.runner`) running :mod:`lakeworks.backends.spare`:
an interpreter that imported a service's modules and waits on a pipe from the server for one
assignment. :meth:`SparePools.start` hands a matching service launch to a spare (a ready one
first; its arguments, working directory and complete environment go down the pipe) instead of
starting two fresh interpreters, and a replacement spare starts in the background. The handle
is an ordinary local handle (the wrapper's pid, the spare's own directory), so polling,
stopping, logs and adoption after a restart work as for any service.

Invariants:

* A spare's environment is built from scratch (:attr:`SpareSpec.env`), never the server's; an
  assignment replaces all of it with the service's own. A launch that sets an interpreter-start
  variable (``PYTHON*``, ``OMP_*``, ``LD_*``, ``LANG`` …) differently from the spare's already
  took effect at import time, so it gets a plain process.
* A spare serves one assignment; it is taken out of the pool before it is assigned.
* Unassigned spares die with the server: their pipe's only writer is the server, so its end
  (even a ``kill -9``) is the spare's end of input. :meth:`SparePools.close` ends them at once.
* A spare that dies is replaced, with a growing delay when spares keep dying young.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from lakeworks.backends.base import SERVICE_ADDRESS_ENV, Handle, LaunchSpec, SpareSpec

__all__ = ["SparePools", "Spawner"]

log = logging.getLogger("lakeworks.backends")

#: Environment variables that act when an interpreter (or a native library it imports) starts.
_STARTUP_PREFIXES = ("PYTHON", "LD_", "OMP_", "MKL_", "OPENBLAS_", "KMP_", "GOMP_", "MALLOC")
_STARTUP_NAMES = ("LANG", "LC_ALL", "LC_CTYPE")
#: How often the pools are checked (dead spares replaced).
_CHECK_SECONDS = 0.2
#: After a spare is taken, its replacement waits this long, leaving the cores to the cold start.
_REPLACE_DELAY = 0.2
#: A spare that dies sooner than this after its start counts towards the back-off.
_YOUNG_SECONDS = 10.0
_MAX_BACKOFF = 30.0


class Spawner(Protocol):
    """What the pools need of the local backend."""

    def spawn(self, spec: LaunchSpec, stdin: int) -> tuple[subprocess.Popen[bytes], Handle]:
        """Start a job wrapper reading ``stdin``."""
        ...

    def adopt_process(self, process: subprocess.Popen[bytes]) -> None:
        """Reap a wrapper like a submitted job's."""
        ...

    def service_address_file(self, job_dir: Path) -> Path:
        """The file a service in ``job_dir`` writes its address to."""
        ...


def _startup(name: str) -> bool:
    return name.startswith(_STARTUP_PREFIXES) or name in _STARTUP_NAMES


def fits(spec: SpareSpec, launch: LaunchSpec) -> list[str] | None:
    """The module arguments when ``launch`` can run on a spare of ``spec``, else None."""
    head = [*spec.interpreter, "-m", spec.module]
    if launch.argv[: len(head)] != head:
        return None
    for name in {*spec.env, *launch.env}:
        if _startup(name) and spec.env.get(name) != launch.env.get(name):
            return None
    return launch.argv[len(head) :]


@dataclass
class _Spare:
    process: subprocess.Popen[bytes]
    handle: Handle
    directory: Path
    started: float

    @property
    def ready(self) -> bool:
        return (self.directory / "ready").exists()


class _Pool:
    def __init__(self, spec: SpareSpec) -> None:
        self.spec = spec
        self.count = 0
        self.spares: list[_Spare] = []
        self.not_before = 0.0  # no new spare before this (monotonic): replacement delay, back-off
        self.young_deaths = 0


class SparePools:
    """The spare pools of one local backend (see the module docstring).

    Args:
        spawner: Starts the wrappers (the local backend).
    """

    def __init__(self, spawner: Spawner) -> None:
        self.spawner = spawner
        self.pools: dict[str, _Pool] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None

    def keep(self, spec: SpareSpec, count: int) -> None:
        """Keep ``count`` spares of ``spec.pool`` (see :meth:`SpareServiceBackend.keep_spares`)."""
        with self._lock:
            if self._closed:
                return
            pool = self.pools.get(spec.pool)
            if pool is None:
                pool = self.pools[spec.pool] = _Pool(spec)
                _sweep(spec.directory)
            surplus = []
            if pool.spec != spec:  # warmed for another spec: start over
                pool.spec = spec
                surplus, pool.spares = pool.spares, []
            pool.count = count
            surplus += pool.spares[count:]
            del pool.spares[count:]
            if self._thread is None and count > 0:
                self._thread = threading.Thread(
                    target=self._run, name="lakeworks-spares", daemon=True
                )
                self._thread.start()
        for spare in surplus:
            _end(spare)
        self._wake.set()

    def start(self, launch: LaunchSpec, pool_name: str) -> Handle | None:
        """Run ``launch`` on a live spare of ``pool_name`` (a ready one first); None: none fits."""
        with self._lock:
            pool = self.pools.get(pool_name)
            args = fits(pool.spec, launch) if pool is not None else None
            if pool is None or args is None:
                return None
            while True:
                # A ready one; else the oldest, still importing: ahead of a fresh start anyway.
                spare = next((s for s in pool.spares if s.ready), None)
                spare = spare or next((s for s in pool.spares if s.process.poll() is None), None)
                if spare is None:
                    return None
                pool.spares.remove(spare)  # taken before it is assigned: it serves one launch
                pool.not_before = max(pool.not_before, time.monotonic() + _REPLACE_DELAY)
                if self._assign(spare, launch, args):
                    break
        self._wake.set()
        self.spawner.adopt_process(spare.process)
        return spare.handle

    def _assign(self, spare: _Spare, launch: LaunchSpec, args: list[str]) -> bool:
        launch.cwd.mkdir(parents=True, exist_ok=True)
        address = self.spawner.service_address_file(spare.directory)
        address.unlink(missing_ok=True)
        # The service's environment, naming the spare's own address file (its handle's).
        env = {**launch.env, SERVICE_ADDRESS_ENV: str(address)}
        task = {"args": args, "cwd": str(launch.cwd), "env": env}
        pipe = spare.process.stdin
        assert pipe is not None
        try:
            pipe.write(json.dumps(task).encode() + b"\n")
            pipe.close()
        except OSError:  # it died since the last check
            _end(spare)
            return False
        return True

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(_CHECK_SECONDS)
            self._wake.clear()
            try:
                self.check()
            except Exception:
                log.exception("checking the spare processes failed")

    def check(self) -> None:
        """Replace dead spares and start missing ones (the pools' thread calls it)."""
        now = time.monotonic()
        with self._lock:
            if self._closed:
                return
            for pool in self.pools.values():
                for spare in [s for s in pool.spares if s.process.poll() is not None]:
                    pool.spares.remove(spare)
                    _end(spare)
                    young = now - spare.started < _YOUNG_SECONDS
                    pool.young_deaths = pool.young_deaths + 1 if young else 0
                    delay = min(_MAX_BACKOFF, 0.5 * 2**pool.young_deaths) if young else 0.0
                    pool.not_before = max(pool.not_before, now + delay)
                    log.warning(
                        "spare %s of pool %s ended with %s; replacing it",
                        spare.handle["pid"],
                        pool.spec.pool,
                        spare.process.returncode,
                    )
                while len(pool.spares) < pool.count and now >= pool.not_before:
                    pool.spares.append(self._spawn(pool.spec))

    def _spawn(self, spec: SpareSpec) -> _Spare:
        directory = spec.directory / f"{spec.pool}-{uuid.uuid4().hex[:12]}"
        directory.mkdir(parents=True)
        ready = directory / "ready"
        launch = LaunchSpec(
            job_name=directory.name,
            job_dir=directory,
            argv=[
                *spec.interpreter,
                "-m",
                "lakeworks.backends.spare",
                str(ready),
                ",".join(spec.hide) or "-",
                spec.module,
                *spec.preload,
            ],
            cwd=directory,
            env={**spec.env, "HOME": str(directory)},
        )
        process, handle = self.spawner.spawn(launch, subprocess.PIPE)
        return _Spare(process, handle, directory, time.monotonic())

    def close(self) -> None:
        """End every unassigned spare and wait for it."""
        with self._lock:
            self._closed = True
            spares = [s for pool in self.pools.values() for s in pool.spares]
            for pool in self.pools.values():
                pool.spares.clear()
        self._wake.set()
        for spare in spares:
            _end(spare)
        if self._thread is not None:
            self._thread.join(timeout=5)


def _end(spare: _Spare) -> None:
    """End an unassigned spare (end of input) and reap it; SIGKILL if it does not go."""
    if spare.process.stdin is not None:
        with contextlib.suppress(OSError):
            spare.process.stdin.close()
    try:
        spare.process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        spare.process.kill()
        spare.process.wait()
    shutil.rmtree(spare.directory, ignore_errors=True)


def _sweep(directory: Path) -> None:
    """Remove the directories of spares an earlier server left that have ended."""
    if not directory.is_dir():
        return
    for child in directory.iterdir():
        if (child / "runner" / "exit.json").exists():
            shutil.rmtree(child, ignore_errors=True)
