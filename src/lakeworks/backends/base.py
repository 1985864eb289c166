"""The Backend protocol: where a job's process runs, and the little every backend shares.

A backend runs one prepared job: the job service lays out the working directory (SageMaker's
container layout), stages inputs and builds the command and environment; the backend only starts
the command, reports whether it still runs, stops it, and serves its combined output. Job state
lives in the database, so a backend keeps nothing a restart could lose: :meth:`Backend.submit`
returns a JSON-serialisable *handle* that the service stores with the job, and a fresh backend in
a restarted server picks the job up again from that handle (:meth:`Backend.adopt`).

The protocol is deliberately small so that one conformance suite
(``tests/backends/test_conformance.py``) checks every implementation: local processes
(:mod:`lakeworks.backends.local`), Ray (extra) and the in-memory fake in
:mod:`lakeworks.testing.fake_backend`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

__all__ = [
    "SERVICE_ADDRESS_ENV",
    "Backend",
    "Handle",
    "LaunchSpec",
    "LogChunk",
    "PollResult",
    "ServiceBackend",
    "SpareServiceBackend",
    "SpareSpec",
]

#: What a backend needs to find its job again, even from another server process: plain JSON.
Handle = dict[str, Any]

#: Names the file a service process writes its address to: ``{"host": ..., "port": ...}``.
SERVICE_ADDRESS_ENV = "LAKEWORKS_SERVICE_ADDRESS_FILE"


@dataclass(frozen=True)
class LaunchSpec:
    """One prepared job, ready to start.

    Attributes:
        job_name: The job's name (unique; backends may use it in their own bookkeeping).
        job_dir: The job's working directory, already laid out; a backend may keep its own
            files in a subdirectory it documents.
        argv: The command, ``argv[0]`` an executable path. Never run through a shell.
        cwd: Working directory of the command (inside ``job_dir``).
        env: The complete environment of the command. Backends add nothing from their own
            environment: it is built from scratch so no server secret leaks into a job.
    """

    job_name: str
    job_dir: Path
    argv: list[str]
    cwd: Path
    env: dict[str, str] = field(repr=False)


@dataclass(frozen=True)
class PollResult:
    """What a job's process is doing now.

    Attributes:
        state: ``running``; ``exited`` with an exit code; or ``lost``: the process is gone and
            left no exit status (killed together with its wrapper, machine rebooted …).
        exit_code: The exit status when ``exited``; negative ``-N`` means killed by signal N.
        detail: Why the job is ``lost``, for the failure reason.
    """

    state: Literal["running", "exited", "lost"]
    exit_code: int | None = None
    detail: str = ""

    @classmethod
    def running(cls) -> PollResult:
        """The process still runs."""
        return cls("running")

    @classmethod
    def exited(cls, exit_code: int) -> PollResult:
        """The process ended with ``exit_code``."""
        return cls("exited", exit_code)

    @classmethod
    def lost(cls, detail: str) -> PollResult:
        """The process is gone without an exit status."""
        return cls("lost", None, detail)


@dataclass(frozen=True)
class LogChunk:
    """A slice of a job's combined stdout and stderr.

    Attributes:
        data: The bytes from the requested offset (possibly empty).
        next_offset: Where the next read continues.
        size: Bytes of output known so far.
    """

    data: bytes
    next_offset: int
    size: int


@runtime_checkable
class Backend(Protocol):
    """Runs prepared jobs. Every method may be called from any thread.

    Implementations take the settings tree as their only constructor argument (see
    :func:`lakeworks.core.plugins.load_backend_class`).
    """

    #: Registered name (``local``, ``ray``, ``fake``); stored with each job.
    name: str

    def submit(self, spec: LaunchSpec) -> Handle:
        """Start the job's command and return its handle.

        Raises:
            OSError: The command could not be started at all (the job fails with the reason).
        """
        ...

    def poll(self, handle: Handle) -> PollResult:
        """Report whether the job still runs, ended (with its code) or was lost.

        Also reaps what the backend started, so no zombie accumulates, and enforces the
        escalation of :meth:`stop` once its grace period is over.
        """
        ...

    def stop(self, handle: Handle, grace_seconds: float) -> None:
        """Ask the job to stop: SIGTERM (or the backend's equivalent) now, SIGKILL after
        ``grace_seconds`` unless it ended by then. Returns at once; :meth:`poll` reports the end.
        Calling it again (after a restart, say) is harmless.
        """
        ...

    def adopt(self, handle: Handle) -> bool:
        """Take over a job started by an earlier server process (after a restart).

        Returns:
            Whether the backend can still account for the job: it runs, or left its exit
            status. ``False`` means it is lost; :meth:`poll` then says so too.
        """
        ...

    def read_logs(self, handle: Handle, offset: int, limit: int) -> LogChunk:
        """Read up to ``limit`` bytes of the job's combined output from byte ``offset``.

        Works while the job runs (output so far) and after it ended.
        """
        ...

    def close(self) -> None:
        """Release what the backend holds in this server process. Jobs keep running."""
        ...


@runtime_checkable
class ServiceBackend(Backend, Protocol):
    """A backend that also runs long-lived services: endpoint instances (model servers).

    A service is started like a job (same :class:`LaunchSpec`, same handle, polled, stopped and
    adopted with the same methods) but is meant to run until stopped, and it listens: once
    ready it writes its address to the file the backend names in ``$LAKEWORKS_SERVICE_ADDRESS_FILE``
    (:data:`SERVICE_ADDRESS_ENV`), and :meth:`service_address` reads it back.
    """

    def start_service(self, spec: LaunchSpec) -> Handle:
        """Start a service process (a stale address from an earlier start is cleared first).

        Raises:
            OSError: The command could not be started at all.
        """
        ...

    def service_address(self, handle: Handle) -> tuple[str, int] | None:
        """``(host, port)`` once the service listens; None before (or when it never will)."""
        ...


@dataclass(frozen=True)
class SpareSpec:
    """A pool of pre-started interpreters for services run as ``<interpreter> -m <module> ...``.

    Attributes:
        pool: The pool's name (what :meth:`SpareServiceBackend.start_service_from_spare` takes).
        directory: Where the spares keep their working directories.
        interpreter: The command before ``-m``, e.g. ``[sys.executable, "-P"]``.
        module: The module a spare runs once assigned (as ``python -m`` would).
        preload: Modules a spare imports before it waits (missing ones are skipped).
        hide: Modules hidden (as missing) while the spare preloads, as the service itself hides
            them on its fast path; a service that needs them must start afresh (re-exec).
        env: A spare's environment while it waits: nothing of the server's. An assignment
            replaces it with the service's own; a launch that sets an interpreter-start variable
            (``PYTHON*``, ``OMP_*``, ``LD_*`` …) differently gets a plain process instead.
    """

    pool: str
    directory: Path
    interpreter: tuple[str, ...]
    module: str
    preload: tuple[str, ...]
    env: dict[str, str] = field(repr=False)
    hide: tuple[str, ...] = ()


@runtime_checkable
class SpareServiceBackend(ServiceBackend, Protocol):
    """A service backend that keeps spare processes which already imported a service's modules.

    A spare is a child of the server (it ends when the server does) that waits to be assigned
    one service; assigned, it becomes that service for good and a replacement starts in the
    background. Only the local backend can do this; the others start every service afresh.
    """

    def keep_spares(self, spec: SpareSpec, count: int) -> None:
        """Keep ``count`` spares of pool ``spec.pool`` (0 ends them); dead ones are replaced."""
        ...

    def start_service_from_spare(self, spec: LaunchSpec, pool: str) -> Handle:
        """Start a service on a spare of ``pool``, or afresh when none is ready or fits.

        Raises:
            OSError: The command could not be started at all.
        """
        ...
