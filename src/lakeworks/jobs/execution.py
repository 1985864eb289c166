"""The two long steps of a job, run on worker threads: launching it and finishing it.

Launch (a claimed job, Starting): lay out the job directory, create the job's own short-lived
credentials, stage code and channels from the lake (Downloading), then start the command on the
backend (Training) and record its handle. Finish (its process ended or was lost): decide the
outcome, upload results (Uploading), archive the log, record the final state and revoke the
credentials.

Each step moves the job with compare-and-set updates that also require this supervisor to own
the job; when one fails, somebody else (a stop request, another supervisor) changed the job and
this step gives way.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from lakeworks.backends.base import Backend, Handle, LaunchSpec, PollResult
from lakeworks.core.context import RequestContext
from lakeworks.core.errors import LakeworksError
from lakeworks.core.settings import Settings
from lakeworks.db import Database
from lakeworks.iam.service import IamService, JobCredentials
from lakeworks.jobs import staging
from lakeworks.jobs.kinds import JobKind, Launch
from lakeworks.jobs.layout import (
    JobPaths,
    command,
    create_layout,
    failure_reason,
    training_environment,
)
from lakeworks.jobs.store import JobRecord, advance, update_job
from lakeworks.schemas.jobs import JobCreate

__all__ = ["Executor", "job_principal"]

log = logging.getLogger("lakeworks.jobs")

_FINAL_STATUS = {
    "Completed": "Completed",
    "Failed": "Failed",
    "Stopped": "Stopped",
    "MaxRuntimeExceeded": "Failed",
}
_MAX_READ = 64 * 1024
_LOG_CHUNK = 1024 * 1024


def job_principal(name: str) -> str:
    """The principal a job's own credentials belong to."""
    return f"job/{name}"


def _context_of(record: JobRecord) -> RequestContext:
    return RequestContext(principal=record.principal, scopes=frozenset(record.scopes))


def _read_own_file(path: Path, limit: int = _MAX_READ) -> str | None:
    """Read a file the job wrote, refusing symbolic links and anything but a regular file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return file.read(limit).decode("utf-8", "replace")


class Executor:
    """Launches and finishes jobs on behalf of one supervisor (``owner``)."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        iam: IamService,
        lake: staging.Lake,
        backend: Backend,
        owner: str,
        clock: Callable[[], datetime],
        kinds: dict[str, JobKind] | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.iam = iam
        self.lake = lake
        self.backend = backend
        self.owner = owner
        self.clock = clock
        self.jobs_dir = settings.home / "jobs"
        #: Registered job kinds by job_type (shared with the JobService, which fills it).
        self.kinds: dict[str, JobKind] = kinds if kinds is not None else {}

    def paths(self, name: str) -> JobPaths:
        """The layout of job ``name``."""
        return JobPaths(self.jobs_dir / name)

    # -- launch -------------------------------------------------------------------------------

    def launch(self, seen: JobRecord) -> None:
        """Take a job this supervisor claimed (Starting) to Training, or end it with a reason."""
        name = seen.name
        spec = JobCreate.model_validate(seen.spec)
        paths = self.paths(name)
        ctx = _context_of(seen)
        step = "Preparing the job directory"
        try:
            if paths.root.exists():  # left over from an attempt cut short by a restart
                shutil.rmtree(paths.root)
            create_layout(paths, spec)
            step = "Creating job credentials"
            ttl = spec.stopping_condition.max_runtime_in_seconds
            creds = self.iam.create_job_credentials(
                principal=job_principal(name),
                ttl_seconds=ttl + self.settings.auth.job_credential_ttl_seconds,
            )
            if self._move(name, "Starting", "Downloading", "Downloading input data") is None:
                self._end_unlaunched(name)
                return
            kind = self.kinds.get(spec.job_type)
            launch: Launch | None = None
            if kind is not None:
                step = "Preparing the job"
                launch = kind.prepare(ctx, name, spec, paths)
            else:
                step = f"Downloading code from {spec.code_uri}"
                assert spec.code_uri is not None  # checked on create
                staging.stage_code(self.lake, ctx, spec.code_uri, paths, spec.entry_point)
                for channel in spec.input_data_config:
                    step = f"Downloading channel {channel.channel_name!r} from {channel.s3_uri}"
                    staging.stage_channel(self.lake, ctx, channel, paths)
            step = "Starting the job process"
            deadline = self.clock() + timedelta(seconds=ttl)
            moved = self._move(
                name, "Downloading", "Training", "Training in progress", deadline=deadline
            )
            if moved is None:
                self._end_unlaunched(name)
                return
            handle = self.backend.submit(
                LaunchSpec(
                    job_name=name,
                    job_dir=paths.root,
                    argv=launch.argv if launch else command(sys.executable, spec),
                    cwd=launch.cwd if launch else paths.code_dir,
                    env=self.environment(
                        name, spec, paths, creds, extra=launch.env if launch else None
                    ),
                )
            )
            self._record_handle(name, handle)
        except LakeworksError as exc:
            if step == "Preparing the job":  # a kind's messages say what it was doing
                self.fail_unlaunched(name, f"ClientError: {exc.message}")
            else:
                self.fail_unlaunched(name, f"ClientError: {step} failed: {exc.message}")
        except OSError as exc:
            self.fail_unlaunched(name, f"{step} failed: {exc}")
        except Exception as exc:
            log.exception("launching job %s failed", name)
            self.fail_unlaunched(name, f"InternalServerError: {step} failed ({type(exc).__name__})")

    def environment(
        self,
        name: str,
        spec: JobCreate,
        paths: JobPaths,
        creds: JobCredentials,
        *,
        extra: dict[str, str] | None = None,
    ) -> dict[str, str]:
        """The job's complete environment, built from scratch.

        Nothing of the server's own environment is copied but ``PATH``: no database URL, no
        master key, no storage secret, no ``LAKEWORKS_*`` server setting. ``extra`` (from a job
        kind) goes on top of the script-mode variables, under the job's credentials.
        """
        region = self.settings.aws.region
        env = {
            "PATH": os.environ.get("PATH", os.defpath),
            "HOME": str(paths.root),
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            "AWS_DEFAULT_REGION": region,
            "AWS_REGION": region,
        }
        env.update(spec.environment)
        env.update(training_environment(name, spec, paths, num_cpus=os.cpu_count() or 1))
        env.update(extra or {})
        env.update(
            {
                "AWS_ACCESS_KEY_ID": creds.access_key_id,
                "AWS_SECRET_ACCESS_KEY": creds.secret_access_key,
                "AWS_ENDPOINT_URL": self.settings.public_url,
                "LAKEWORKS_URL": self.settings.public_url,
                "LAKEWORKS_TOKEN": creds.token,
            }
        )
        return env

    def _move(
        self, name: str, expected: str, secondary: str, message: str, **values: Any
    ) -> JobRecord | None:
        def change(r: JobRecord) -> dict[str, Any] | None:
            if r.status != "InProgress" or r.secondary_status != expected or r.owner != self.owner:
                return None
            return {**advance(r, secondary, self.clock(), message=message), **values}

        return update_job(self.db, name, change, self.clock)

    def _record_handle(self, name: str, handle: Handle) -> None:
        def change(r: JobRecord) -> dict[str, Any] | None:
            if r.owner != self.owner or r.handle is not None:
                return None
            return {"handle": handle, "backend": self.backend.name}

        if update_job(self.db, name, change, self.clock) is None:  # pragma: no cover - defensive
            log.error("job %s was taken over while starting; stopping its process", name)
            self.backend.stop(handle, self.settings.jobs.stop_grace_seconds)

    def _end_unlaunched(self, name: str) -> None:
        """A stop arrived before the process started: the job ends Stopped."""
        self.fail_unlaunched(name, None)

    def fail_unlaunched(self, name: str, reason: str | None) -> None:
        """End a job that has no process: Failed with ``reason``, or Stopped if stopping."""

        def change(r: JobRecord) -> dict[str, Any] | None:
            if r.owner != self.owner or r.status not in ("InProgress", "Stopping"):
                return None
            now = self.clock()
            if r.status == "Stopping" or reason is None:
                return advance(r, "Stopped", now, status="Stopped", message="Job stopped")
            return {
                **advance(r, "Failed", now, status="Failed", message=reason[:200]),
                "failure_reason": reason,
            }

        self.iam.revoke_principal(job_principal(name))
        update_job(self.db, name, change, self.clock)

    # -- finish -------------------------------------------------------------------------------

    def finish(self, seen: JobRecord, result: PollResult) -> None:
        """Record how a job whose process ended (or was lost) came out, and upload its results."""
        # The process is gone: its credentials go before anyone can see the job as ended.
        self.iam.revoke_principal(job_principal(seen.name))
        try:
            self._finish(seen, result)
        except Exception as exc:
            log.exception("finishing job %s failed", seen.name)
            self._settle(
                seen.name,
                "Failed",
                failure_reason=f"InternalServerError: finishing the job failed "
                f"({type(exc).__name__}); see the server log",
            )

    def _outcome(self, seen: JobRecord, result: PollResult) -> tuple[str, str | None]:
        spec = JobCreate.model_validate(seen.spec)
        if seen.status == "Stopping" and seen.stop_cause == "max_runtime":
            limit = spec.stopping_condition.max_runtime_in_seconds
            return "MaxRuntimeExceeded", (
                f"MaxRuntimeExceeded: the job ran longer than MaxRuntimeInSeconds ({limit}) and "
                "was stopped"
            )
        if seen.status == "Stopping":
            return "Stopped", None
        if result.state == "exited" and result.exit_code == 0:
            return "Completed", None
        if result.state == "lost":
            return "Failed", (
                f"InternalServerError: the job's process disappeared without an exit status "
                f"(the server or machine may have gone down meanwhile): {result.detail}"
            )
        assert result.exit_code is not None
        paths = self.paths(seen.name)
        return "Failed", failure_reason(
            result.exit_code, _read_own_file(paths.failure_file), self._log_tail(seen.handle)
        )

    def _finish(self, seen: JobRecord, result: PollResult) -> None:
        name = seen.name
        spec = JobCreate.model_validate(seen.spec)
        outcome, reason = self._outcome(seen, result)
        values: dict[str, Any] = {"exit_code": result.exit_code}
        current = seen
        if outcome != "Failed" and spec.output_path and seen.secondary_status != "Uploading":
            moved = self._advance_from(
                seen, "Uploading", "Uploading generated training model", exit_code=result.exit_code
            )
            if moved is None:
                return  # stopped, taken over or finished meanwhile: the next tick decides
            current = moved
        if outcome != "Failed" and spec.output_path:
            job_uri = staging.join_uri(spec.output_path, name)
            try:
                results = staging.upload_results(
                    self.lake,
                    _context_of(seen),
                    self.paths(name),
                    job_uri,
                    include_model=outcome == "Completed",
                )
                values.update(
                    model_artifacts=results.model_artifacts, output_data=results.output_data
                )
            except (LakeworksError, OSError) as exc:
                message = exc.message if isinstance(exc, LakeworksError) else str(exc)
                outcome, reason = "Failed", f"ClientError: Uploading the results failed: {message}"
        kind = self.kinds.get(spec.job_type)
        if kind is not None:
            try:
                kind.finish(name, spec, self.paths(name), outcome)
            except Exception:
                log.exception("job %s: finishing its %s records failed", name, spec.job_type)
        values["log_uri"] = self._archive_log(current)
        self._settle(name, outcome, failure_reason=reason, expect=current, **values)

    def _advance_from(
        self, seen: JobRecord, secondary: str, message: str, **values: Any
    ) -> JobRecord | None:
        def change(r: JobRecord) -> dict[str, Any] | None:
            if (
                r.owner != self.owner
                or r.status != seen.status
                or r.secondary_status != seen.secondary_status
            ):
                return None
            return {**advance(r, secondary, self.clock(), message=message), **values}

        return update_job(self.db, seen.name, change, self.clock)

    def _settle(
        self,
        name: str,
        outcome: str,
        *,
        failure_reason: str | None,
        expect: JobRecord | None = None,
        **values: Any,
    ) -> None:
        def change(r: JobRecord) -> dict[str, Any] | None:
            if r.owner != self.owner or r.status not in ("InProgress", "Stopping"):
                return None
            if expect is not None and (
                r.status != expect.status or r.secondary_status != expect.secondary_status
            ):
                return None
            message = (failure_reason or "")[:200] or {
                "Completed": "Training job completed",
                "Stopped": "Job stopped",
            }.get(outcome, "")
            moved = advance(
                r, outcome, self.clock(), status=_FINAL_STATUS[outcome], message=message
            )
            return {**moved, "failure_reason": failure_reason, **values}

        update_job(self.db, name, change, self.clock)

    # -- logs ---------------------------------------------------------------------------------

    def _log_tail(self, handle: Handle | None, size: int = 4096) -> str:
        if handle is None:
            return ""
        total = self.backend.read_logs(handle, 0, 0).size
        chunk = self.backend.read_logs(handle, max(0, total - size), size)
        return chunk.data.decode("utf-8", "replace")

    def _archive_log(self, record: JobRecord) -> str | None:
        """Copy the job's log to ``<output_path>/<job>/logs/output.log``; None if not kept."""
        spec = JobCreate.model_validate(record.spec)
        if not spec.output_path or record.handle is None:
            return None
        scratch = self.paths(record.name).root / "transfer"
        scratch.mkdir(parents=True, exist_ok=True)
        copy = scratch / "output.log"
        uri = staging.join_uri(spec.output_path, record.name, "logs", "output.log")
        try:
            with copy.open("wb") as out:
                offset = 0
                while True:
                    chunk = self.backend.read_logs(record.handle, offset, _LOG_CHUNK)
                    if not chunk.data:
                        break
                    out.write(chunk.data)
                    offset = chunk.next_offset
            staging.upload_file(self.lake, _context_of(record), copy, uri, "text/plain")
        except (LakeworksError, OSError) as exc:
            log.warning("archiving the log of job %s failed: %s", record.name, exc)
            return None
        finally:
            copy.unlink(missing_ok=True)
        return uri
