"""Job kinds: how a higher domain takes over preparing and finishing jobs of one ``job_type``.

A plain job runs a script from the lake. A domain above jobs (training, processing …) can
register a :class:`JobKind` for its ``job_type`` with
:meth:`lakeworks.jobs.service.JobService.register_kind`; the executor then

* asks :meth:`JobKind.check` whether a submitted spec is acceptable (instead of requiring a
  ``code_uri``);
* lets :meth:`JobKind.prepare` stage the inputs and choose the command while the job is
  Downloading (instead of staging ``code_uri`` and the channels itself);
* calls :meth:`JobKind.finish` once the process has ended, before the final state is recorded,
  so the kind's own records (metrics, checkpoints …) are complete when the job shows as ended.

The jobs domain never imports the kinds (they live above it); they are handed in at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from lakeworks.core.context import RequestContext
from lakeworks.jobs.layout import JobPaths
from lakeworks.schemas.jobs import JobCreate

__all__ = ["JobKind", "Launch"]


@dataclass(frozen=True)
class Launch:
    """The command a kind chose for one job.

    Attributes:
        argv: The command (``argv[0]`` an executable path); never run through a shell.
        cwd: Its working directory, inside the job directory.
        env: Variables added to the job's standard environment (they may replace ``SM_*``
            script-mode variables, never the job's credentials).
    """

    argv: list[str]
    cwd: Path
    env: dict[str, str] = field(default_factory=dict, repr=False)


class JobKind(Protocol):
    """Prepares and finishes the jobs of one ``job_type``. Called from worker threads."""

    def check(self, spec: JobCreate) -> None:
        """Refuse a spec this kind cannot run.

        Raises:
            ValidationError: Saying what is wrong.
        """
        ...

    def prepare(self, ctx: RequestContext, name: str, spec: JobCreate, paths: JobPaths) -> Launch:
        """Stage the job's inputs into its laid-out directory and return its command.

        Runs while the job is Downloading, acting as the submitting principal ``ctx``.

        Raises:
            LakeworksError: The job fails with ``ClientError: <message>``.
        """
        ...

    def finish(self, name: str, spec: JobCreate, paths: JobPaths, outcome: str) -> None:
        """Complete the kind's records of a job whose process ended (``outcome`` is Completed,
        Failed, Stopped or MaxRuntimeExceeded). May be called again for the same job if the
        final state could not be recorded the first time, so it must be idempotent.
        """
        ...
