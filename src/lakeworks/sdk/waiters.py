"""Waiting for something to finish, with a progress spinner where someone is watching.

The spinner (rich) shows in a terminal and in Jupyter; when output is not a terminal (a pipe, a
log file, CI) or ``progress=False``, waiting is silent.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Protocol

from lakeworks.schemas.jobs import JobInfo

__all__ = ["TERMINAL_JOB_STATUSES", "Progress", "poll_intervals", "wait_for_job"]

#: Job statuses after which nothing changes any more.
TERMINAL_JOB_STATUSES = frozenset({"Completed", "Failed", "Stopped"})


class Progress(Protocol):
    """Something that shows one line of progress."""

    def update(self, text: str) -> None:
        """Replace the shown line."""


class _Silent:
    def update(self, text: str) -> None:
        pass


class _Spinner:
    def __init__(self, status: object) -> None:
        self._status = status

    def update(self, text: str) -> None:
        self._status.update(text)  # type: ignore[attr-defined]


@contextlib.contextmanager
def _progress(enabled: bool, first: str) -> Iterator[Progress]:
    if not enabled:
        yield _Silent()
        return
    from rich.console import Console

    # stderr keeps stdout clean for what a command prints as its result.
    console = Console(stderr=True)
    if not (console.is_terminal or console.is_jupyter):
        yield _Silent()
        return
    with console.status(first) as status:
        yield _Spinner(status)


def poll_intervals(first: float = 0.1, most: float = 2.0, factor: float = 1.5) -> Iterator[float]:
    """Growing sleep times: quick answers for short jobs, few requests for long ones."""
    interval = first
    while True:
        yield interval
        interval = min(most, interval * factor)


def _describe(job: JobInfo, elapsed: float) -> str:
    secondary = f" / {job.secondary_status}" if job.secondary_status else ""
    return f"Job {job.job_name}: {job.status}{secondary} ({elapsed:.0f}s)"


def wait_for_job(
    describe: Callable[[], JobInfo],
    *,
    timeout: float | None = None,
    progress: bool = True,
    max_interval: float = 2.0,
) -> JobInfo:
    """Poll a job until it is Completed, Failed or Stopped.

    Args:
        describe: Fetches the job's current state.
        timeout: Seconds to wait at most; ``None`` waits as long as it takes.
        progress: Show a spinner with the status and secondary status (terminal/Jupyter only).
        max_interval: Longest pause between two polls.

    Returns:
        The job's final state (whatever its status: check ``.status`` and ``.failure_reason``).

    Raises:
        TimeoutError: The job had not ended after ``timeout`` seconds.
        LakeworksError: From ``describe`` (e.g. NotFound for an unknown job).
    """
    start = time.monotonic()
    job = describe()
    with _progress(progress, _describe(job, 0)) as shown:
        for interval in poll_intervals(most=max_interval):
            elapsed = time.monotonic() - start
            shown.update(_describe(job, elapsed))
            if job.status in TERMINAL_JOB_STATUSES:
                return job
            if timeout is not None and elapsed >= timeout:
                raise TimeoutError(
                    f"Job {job.job_name} is still {job.status} ({job.secondary_status}) "
                    f"after {timeout:g}s"
                )
            pause = interval if timeout is None else max(0.0, min(interval, timeout - elapsed))
            time.sleep(pause)
            job = describe()
    raise AssertionError("unreachable: poll_intervals never ends")  # pragma: no cover
