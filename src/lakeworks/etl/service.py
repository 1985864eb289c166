"""Operations on Glue-style ETL jobs and their runs; the Glue front door calls these.

Only Python-shell jobs run (``Command.Name`` ``pythonshell``); a Spark (``glueetl``) or
streaming job is refused at creation. A run is a job of job_type ``etl`` (see
:mod:`lakeworks.etl.kind`) with its own short-lived credentials. A watcher thread copies each
ended job's outcome onto its run (SUCCEEDED, FAILED with the traceback's tail, STOPPED,
TIMEOUT), starts a retry while ``MaxRetries`` allows, and tells the listeners (conditional
triggers) that a run ended.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import select

from lakeworks.core.clock import utcnow
from lakeworks.core.context import RequestContext
from lakeworks.core.errors import (
    AlreadyExists,
    LakeworksError,
    NotFound,
    ThrottlingException,
    ValidationError,
)
from lakeworks.core.settings import Settings
from lakeworks.db import Database
from lakeworks.etl import store
from lakeworks.etl.kind import EtlKind
from lakeworks.jobs.service import JobService
from lakeworks.lake.service import LakeService
from lakeworks.schemas.etl import EtlJobCreate, EtlJobInfo, EtlRunInfo
from lakeworks.schemas.jobs import JobCreate, JobLogs, StoppingCondition

__all__ = ["ACTIVE_STATES", "EtlService", "RunListener"]

#: How long a STARTING run may lack its job record before it counts as lost.
_SUBMIT_GRACE = timedelta(seconds=60)

log = logging.getLogger("lakeworks.etl")

ACTIVE_STATES = ("STARTING", "RUNNING", "STOPPING")
#: Called with (job name, run id, final state) when a run ended.
RunListener = Callable[[str, str, str], None]
_MAX_ERROR = 4000


def _invalid(message: str) -> ValidationError:
    return ValidationError(message, aws_code="InvalidInputException")


def _no_job(name: str) -> NotFound:
    return NotFound(f"Job {name} not found", aws_code="EntityNotFoundException")


def parse_job(params: dict[str, Any]) -> EtlJobCreate:
    """Check a CreateJob request (Glue field names).

    Raises:
        ValidationError: A field is wrong, or the job is not a Python-shell job.
    """
    try:
        spec = EtlJobCreate.model_validate(params)
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise _invalid(f"{where}: {first['msg']}") from None
    if spec.command.name != "pythonshell":
        raise _invalid(
            f"Command.Name {spec.command.name!r} is not supported: Lakeworks runs Python-shell "
            "jobs only (Command.Name 'pythonshell'); Spark ('glueetl') and streaming jobs are "
            "not supported"
        )
    return spec


class EtlService:
    """Glue jobs and job runs.

    Args:
        settings: The settings tree (home).
        db: The metadata database.
        lake: Scripts and wheels.
        jobs: Runs each attempt as a job.
        poll_interval: Seconds between looks at running runs.
    """

    def __init__(
        self,
        settings: Settings,
        db: Database,
        lake: LakeService,
        jobs: JobService,
        *,
        poll_interval: float = 0.25,
    ) -> None:
        self.settings = settings
        self.db = db
        self.jobs = jobs
        self.kind = EtlKind(db, lake, settings.home / "etl" / "modules")
        jobs.register_kind("etl", self.kind)
        self.listeners: list[RunListener] = []
        self.poll_interval = poll_interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start watching runs (including those an earlier process left running)."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="lakeworks-etl", daemon=True)
            self._thread.start()

    def close(self) -> None:
        """Stop watching runs."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    # -- jobs ----------------------------------------------------------------------------------

    def create_job(self, ctx: RequestContext, spec: EtlJobCreate) -> str:
        """Create a job; its name.

        Raises:
            AlreadyExists: ``AlreadyExistsException``.
        """
        ctx.require("write")
        now = utcnow()
        with self.db.session() as session:
            if session.get(store.EtlJobRecord, spec.name) is not None:
                raise AlreadyExists(
                    f"Job {spec.name} already exists", aws_code="AlreadyExistsException"
                )
            session.add(
                store.EtlJobRecord(
                    name=spec.name,
                    definition=spec.model_dump(mode="json"),
                    principal=ctx.principal,
                    scopes=sorted(ctx.scopes),
                    creation_time=now,
                    last_modified=now,
                )
            )
        return spec.name

    def job_exists(self, name: str) -> bool:
        """Whether job ``name`` exists (for triggers)."""
        with self.db.session() as session:
            return session.get(store.EtlJobRecord, name) is not None

    def get_job(self, ctx: RequestContext, name: str) -> EtlJobInfo:
        """A job.

        Raises:
            NotFound: ``EntityNotFoundException``.
        """
        ctx.require("read")
        with self.db.session() as session:
            row = session.get(store.EtlJobRecord, name)
            if row is None:
                raise _no_job(name)
            return _job_info(row)

    def get_jobs(self, ctx: RequestContext) -> list[EtlJobInfo]:
        """Every job, by name."""
        ctx.require("read")
        with self.db.session() as session:
            rows = session.scalars(select(store.EtlJobRecord).order_by(store.EtlJobRecord.name))
            return [_job_info(row) for row in rows]

    def update_job(self, ctx: RequestContext, spec: EtlJobCreate) -> str:
        """Replace a job's definition (Glue's UpdateJob replaces it as a whole).

        Raises:
            NotFound: ``EntityNotFoundException``.
        """
        ctx.require("write")
        with self.db.session() as session:
            row = session.get(store.EtlJobRecord, spec.name)
            if row is None:
                raise _no_job(spec.name)
            row.definition = spec.model_dump(mode="json")
            row.last_modified = utcnow()
        return spec.name

    def delete_job(self, ctx: RequestContext, name: str) -> str:
        """Delete a job (its run history goes too); deleting a missing job is not an error."""
        ctx.require("write")
        with self.db.session() as session:
            row = session.get(store.EtlJobRecord, name)
            if row is not None:
                session.delete(row)
        return name

    # -- runs ----------------------------------------------------------------------------------

    def start_job_run(
        self,
        ctx: RequestContext,
        name: str,
        arguments: dict[str, str] | None = None,
        *,
        trigger_name: str | None = None,
        previous: store.EtlRunRecord | None = None,
    ) -> str:
        """Start a run with ``arguments`` merged over the job's DefaultArguments; its id.

        Raises:
            NotFound: No such job.
            ThrottlingException: ``ConcurrentRunsExceededException`` past MaxConcurrentRuns.
        """
        ctx.require("write")
        with self._lock:
            with self.db.session() as session:
                row = session.get(store.EtlJobRecord, name)
                if row is None:
                    raise _no_job(name)
                spec = EtlJobCreate.model_validate(row.definition)
                active = session.scalars(
                    select(store.EtlRunRecord).where(
                        store.EtlRunRecord.etl_job == name,
                        store.EtlRunRecord.state.in_(ACTIVE_STATES),
                    )
                ).all()
                limit = spec.execution_property.max_concurrent_runs
                if len(active) >= limit:
                    raise ThrottlingException(
                        f"Concurrent runs exceeded for {name}: MaxConcurrentRuns is {limit}",
                        aws_code="ConcurrentRunsExceededException",
                    )
            merged = {**spec.default_arguments, **(arguments or {})}
            merged.update(spec.non_overridable_arguments)
            run_id = "jr_" + uuid.uuid4().hex + uuid.uuid4().hex[:32]
            job_name = "etl-" + run_id[3:35]
            now = utcnow()
            with self.db.session() as session:
                session.add(
                    store.EtlRunRecord(
                        run_id=run_id,
                        etl_job=name,
                        job_name=job_name,
                        state="STARTING",
                        arguments=merged,
                        attempt=0 if previous is None else previous.attempt + 1,
                        previous_run_id=None if previous is None else previous.run_id,
                        trigger_name=trigger_name,
                        error_message=None,
                        started_on=now,
                        completed_on=None,
                        timeout=spec.timeout,
                        max_capacity=spec.max_capacity or 0.0625,
                    )
                )
        job = JobCreate(
            job_name=job_name,
            job_type="etl",
            entry_point="script.py",
            stopping_condition=StoppingCondition(max_runtime_in_seconds=spec.timeout * 60),
            tags={"glue:job": name[:200], "glue:run": run_id},
        )
        try:
            self.jobs.create_job(ctx, job)
        except LakeworksError as exc:
            self._settle(run_id, "FAILED", exc.message)
        return run_id

    def get_job_run(self, ctx: RequestContext, name: str, run_id: str) -> EtlRunInfo:
        """One run.

        Raises:
            NotFound: ``EntityNotFoundException``.
        """
        ctx.require("read")
        self._sync()
        with self.db.session() as session:
            run = session.get(store.EtlRunRecord, run_id)
            if run is None or run.etl_job != name:
                raise NotFound(
                    f"Job run {run_id} of job {name} not found",
                    aws_code="EntityNotFoundException",
                )
            return _run_info(run)

    def get_job_runs(self, ctx: RequestContext, name: str, limit: int = 100) -> list[EtlRunInfo]:
        """A job's runs, newest first.

        Raises:
            NotFound: No such job.
        """
        ctx.require("read")
        if not self.job_exists(name):
            raise _no_job(name)
        self._sync()
        with self.db.session() as session:
            runs = session.scalars(
                select(store.EtlRunRecord)
                .where(store.EtlRunRecord.etl_job == name)
                .order_by(store.EtlRunRecord.started_on.desc())
                .limit(max(1, min(limit, 200)))
            )
            return [_run_info(run) for run in runs]

    def read_run_logs(
        self, ctx: RequestContext, name: str, run_id: str, *, offset: int = 0, limit: int = 65536
    ) -> JobLogs:
        """A slice of a run's output (the script's stdout and stderr) from byte ``offset``.

        Raises:
            NotFound: No such run of job ``name``, or its output is gone.
        """
        ctx.require("read")
        with self.db.session() as session:
            run = session.get(store.EtlRunRecord, run_id)
            if run is None or run.etl_job != name:
                raise NotFound(
                    f"Job run {run_id} of job {name} not found",
                    aws_code="EntityNotFoundException",
                )
            job_name = run.job_name
        return self.jobs.read_job_logs(ctx, job_name, offset=offset, limit=limit)

    def batch_stop_job_run(
        self, ctx: RequestContext, name: str, run_ids: list[str]
    ) -> tuple[list[str], list[tuple[str, str]]]:
        """Stop runs; (stopped ids, [(id, error)]) as BatchStopJobRun reports them."""
        ctx.require("write")
        stopped: list[str] = []
        errors: list[tuple[str, str]] = []
        for run_id in run_ids:
            with self.db.session() as session:
                run = session.get(store.EtlRunRecord, run_id)
                found = run is not None and run.etl_job == name
                active = found and run is not None and run.state in ACTIVE_STATES
                job_name = run.job_name if run is not None else ""
                if active and run is not None:
                    run.state = "STOPPING"
            if not found:
                errors.append((run_id, "Job run not found"))
            elif not active:
                errors.append((run_id, "Job run is not running"))
            else:
                try:
                    self.jobs.stop_job(ctx, job_name)
                except LakeworksError as exc:
                    errors.append((run_id, exc.message))
                    continue
                stopped.append(run_id)
        return stopped, errors

    # -- watching ------------------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stop.wait(self.poll_interval):
            try:
                self._sync()
            except Exception:  # keep watching past a database hiccup
                log.exception("watching ETL runs failed")

    def _sync(self) -> None:
        """Copy ended jobs' outcomes onto their runs; retry and tell listeners."""
        system = RequestContext.system()
        with self.db.session() as session:
            runs = session.scalars(
                select(store.EtlRunRecord).where(store.EtlRunRecord.state.in_(ACTIVE_STATES))
            ).all()
            pending = [(r.run_id, r.job_name, r.state, r.started_on) for r in runs]
        for run_id, job_name, state, started_on in pending:
            try:
                info = self.jobs.describe_job(system, job_name)
            except NotFound:
                # start_job_run records the run before it submits the job; a run that is still
                # STARTING may simply not have its job yet.
                if state == "STARTING" and utcnow() - started_on < _SUBMIT_GRACE:
                    continue
                self._settle(run_id, "ERROR", "The run's job record is missing")
                continue
            if info.status == "InProgress" or info.status == "Stopping":
                if state == "STARTING" and info.secondary_status == "Training":
                    self._set_running(run_id)
                continue
            if info.status == "Completed":
                self._settle(run_id, "SUCCEEDED", None)
            elif info.status == "Stopped":
                self._settle(run_id, "STOPPED", None)
            elif info.secondary_status == "MaxRuntimeExceeded":
                self._settle(run_id, "TIMEOUT", info.failure_reason)
            else:
                self._settle(run_id, "FAILED", info.failure_reason or "The job failed")

    def _set_running(self, run_id: str) -> None:
        with self.db.session() as session:
            run = session.get(store.EtlRunRecord, run_id)
            if run is not None and run.state == "STARTING":
                run.state = "RUNNING"

    def _settle(self, run_id: str, state: str, error: str | None) -> None:
        with self._lock, self.db.session() as session:
            run = session.get(store.EtlRunRecord, run_id)
            if run is None or run.state not in ACTIVE_STATES:
                return
            run.state = state
            run.error_message = error[-_MAX_ERROR:] if error else None
            run.completed_on = utcnow()
            name, attempt, arguments = run.etl_job, run.attempt, dict(run.arguments)
            job = session.get(store.EtlJobRecord, name)
            retries = (
                EtlJobCreate.model_validate(job.definition).max_retries if job is not None else 0
            )
            owner = (job.principal, list(job.scopes)) if job is not None else None
            snapshot = store.EtlRunRecord(run_id=run_id, attempt=attempt)
        if state in ("FAILED", "TIMEOUT") and attempt < retries and owner is not None:
            ctx = RequestContext(principal=owner[0], scopes=frozenset(owner[1]))
            try:
                self.start_job_run(ctx, name, arguments, previous=snapshot)
            except LakeworksError as exc:
                log.warning("retrying ETL job %s failed: %s", name, exc.message)
        for listener in list(self.listeners):
            try:
                listener(name, run_id, state)
            except Exception:
                log.exception("an ETL run listener failed")


def _job_info(row: store.EtlJobRecord) -> EtlJobInfo:
    return EtlJobInfo.model_validate(
        {**row.definition, "created_on": row.creation_time, "last_modified_on": row.last_modified}
    )


def _run_info(run: store.EtlRunRecord) -> EtlRunInfo:
    end = run.completed_on or utcnow()
    return EtlRunInfo(
        id=run.run_id,
        attempt=run.attempt,
        previous_run_id=run.previous_run_id,
        trigger_name=run.trigger_name,
        job_name=run.etl_job,
        started_on=run.started_on,
        last_modified_on=run.completed_on or run.started_on,
        completed_on=run.completed_on,
        job_run_state=run.state,
        arguments={k: str(v) for k, v in run.arguments.items()},
        error_message=run.error_message,
        execution_time=int((end - run.started_on).total_seconds()),
        timeout=run.timeout,
        max_capacity=run.max_capacity,
    )
