"""Operations on jobs; every adapter (REST, SDK, the AWS front door) calls these.

A job is submitted Pending, runs through Starting → Downloading → Training → Uploading and ends
Completed, Failed (its exit code and the cause in ``failure_reason``), Stopped or — past its
MaxRuntimeInSeconds — Failed with secondary status MaxRuntimeExceeded. The
:class:`~lakeworks.jobs.supervisor.Supervisor` does the moving; this module records requests
and answers questions.

Where results go: with ``output_path``, ``<output_path>/<job>/output/model.tar.gz``,
``.../output/output.tar.gz`` with ``.../output/data/``, and the log at
``<output_path>/<job>/logs/output.log``. Without ``output_path`` nothing is uploaded: results
and log stay in ``<home>/jobs/<job>/`` and the log is readable through :meth:`read_job_logs`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal, TypedDict

from sqlalchemy.exc import IntegrityError

from lakeworks.backends.base import Backend, LogChunk
from lakeworks.core.clock import utcnow
from lakeworks.core.context import RequestContext
from lakeworks.core.errors import AlreadyExists, NotFound, ResourceInUse, ValidationError
from lakeworks.core.names import arn, validate_tags
from lakeworks.core.settings import Settings
from lakeworks.db import Database
from lakeworks.iam.service import IamService
from lakeworks.jobs import staging
from lakeworks.jobs.kinds import JobKind
from lakeworks.jobs.layout import JobPaths, check_spec
from lakeworks.jobs.store import (
    JobRecord,
    advance,
    get_job,
    list_active,
    query_jobs,
    update_job,
)
from lakeworks.jobs.supervisor import Supervisor
from lakeworks.schemas.common import Page
from lakeworks.schemas.jobs import (
    JobCreate,
    JobInfo,
    JobLogs,
    JobStatus,
    JobSummary,
    SecondaryStatusTransition,
)

__all__ = ["JobService", "SortBy", "SortOrder"]

SortBy = Literal["Name", "CreationTime", "Status"]
SortOrder = Literal["Ascending", "Descending"]


class JobFilters(TypedDict, total=False):
    """The filters, order and page of :meth:`JobService.list_jobs`, for domains that list the
    jobs of one kind (training, processing, transform) through it: ``**filters``."""

    status_equals: JobStatus | None
    name_contains: str | None
    creation_time_after: datetime | None
    creation_time_before: datetime | None
    sort_by: SortBy
    sort_order: SortOrder
    max_results: int
    next_token: str | None


MAX_LOG_READ = 1024 * 1024


class JobService:
    """Submit, describe, list and stop jobs; read their logs.

    Args:
        settings: The settings tree.
        db: The metadata database.
        iam: Issues each job short-lived credentials of its own.
        lake: Stages inputs and receives results.
        backend: Runs the job processes (:mod:`lakeworks.backends`).
        clock: Current UTC time (tests pin it).
    """

    def __init__(
        self,
        settings: Settings,
        db: Database,
        iam: IamService,
        lake: staging.Lake,
        backend: Backend,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.db = db
        self.backend = backend
        self.clock = clock
        self.kinds: dict[str, JobKind] = {}
        self.supervisor = Supervisor(settings, db, iam, lake, backend, clock, self.kinds)

    def register_kind(self, job_type: str, kind: JobKind) -> None:
        """Let ``kind`` prepare and finish the jobs of ``job_type`` (see :mod:`.kinds`).

        Register before :meth:`start`, so no job of that type is launched without it.
        """
        self.kinds[job_type] = kind

    def job_paths(self, name: str) -> JobPaths:
        """The layout of job ``name``'s directory on this server (it may not exist)."""
        return self.supervisor.executor.paths(name)

    def active_job_names(self, job_type: str | None = None) -> list[str]:
        """Names of the jobs not yet ended (of ``job_type`` if given), oldest first."""
        return [r.name for r in list_active(self.db) if job_type is None or r.job_type == job_type]

    def job_owner(self, name: str) -> tuple[str, list[str]] | None:
        """The principal that submitted job ``name`` and its scopes then (None: no such job).

        Domains acting for a job (uploading its checkpoints, say) act as this principal.
        """
        with self.db.session() as session:
            record = get_job(session, name)
        return None if record is None else (record.principal, list(record.scopes))

    def job_start_time(self, name: str) -> datetime | None:
        """When job ``name`` left Pending (None while pending or when there is no such job)."""
        with self.db.session() as session:
            record = get_job(session, name)
        return None if record is None else record.start_time

    def read_log_chunk(self, name: str, offset: int, limit: int) -> tuple[LogChunk, bool]:
        """Raw bytes of job ``name``'s log from ``offset``, and whether the job has ended.

        For domains that index logs themselves (no scope check: callers check theirs).

        Raises:
            NotFound: No such job.
        """
        record = self._get(name)
        ended = record.status not in ("InProgress", "Stopping")
        if record.handle is None or record.backend != self.backend.name:
            return LogChunk(b"", offset, 0), ended
        return self.backend.read_logs(record.handle, offset, limit), ended

    def start(self) -> None:
        """Start the supervisor (recovers what an earlier server process left running)."""
        self.supervisor.start()

    def close(self) -> None:
        """Stop the supervisor; running job processes keep running and are adopted later."""
        self.supervisor.close()
        self.backend.close()

    # -- operations ---------------------------------------------------------------------------

    def create_job(self, ctx: RequestContext, spec: JobCreate) -> JobInfo:
        """Submit a job; it waits as Pending until a slot is free.

        Raises:
            AccessDenied: The caller lacks the write scope.
            ValidationError: Something in ``spec`` the schema cannot check is wrong.
            AlreadyExists: A job of that name exists (names are never reused).
        """
        ctx.require("write")
        kind = self.kinds.get(spec.job_type)
        check_spec(spec, require_code=kind is None)
        if kind is not None:
            kind.check(spec)
        validate_tags(spec.tags)
        now = self.clock()
        record = JobRecord(
            name=spec.job_name,
            arn=self._arn(spec.job_name),
            job_type=spec.job_type,
            spec=spec.model_dump(mode="json"),
            status="InProgress",
            secondary_status="Pending",
            transitions=[],
            principal=ctx.principal,
            scopes=sorted(ctx.scopes),
            creation_time=now,
            last_modified_time=now,
            version=0,
        )
        record.transitions = advance(
            record, "Pending", now, message="Waiting for a free slot (jobs.max_concurrent)"
        )["transitions"]
        try:
            with self.db.session() as session:
                if get_job(session, spec.job_name) is not None:
                    raise AlreadyExists(f"Job {spec.job_name!r} already exists")
                session.add(record)
        except IntegrityError:
            raise AlreadyExists(f"Job {spec.job_name!r} already exists") from None
        self.supervisor.wake()
        return self._info(record)

    def describe_job(self, ctx: RequestContext, name: str) -> JobInfo:
        """Everything about job ``name``.

        Raises:
            NotFound: No such job.
        """
        ctx.require("read")
        return self._info(self._get(name))

    def list_jobs(
        self,
        ctx: RequestContext,
        *,
        status_equals: JobStatus | None = None,
        name_contains: str | None = None,
        creation_time_after: datetime | None = None,
        creation_time_before: datetime | None = None,
        sort_by: SortBy = "CreationTime",
        sort_order: SortOrder = "Descending",
        max_results: int = 10,
        next_token: str | None = None,
        job_type: str | None = None,
    ) -> Page[JobSummary]:
        """List jobs, newest first by default (as SageMaker does); ``job_type`` filters.

        Raises:
            ValidationError: ``max_results`` outside 1..100, or a ``next_token`` that this
                listing did not hand out.
        """
        ctx.require("read")
        if not 1 <= max_results <= 100:
            raise ValidationError(f"max_results must be 1-100, got {max_results}")
        after, before = _utc(creation_time_after), _utc(creation_time_before)
        descending = sort_order == "Descending"
        # A token is only valid for the listing that handed it out.
        fingerprint = hashlib.sha256(
            repr(
                (status_equals, name_contains, after, before, sort_by, descending, job_type)
            ).encode()
        ).hexdigest()[:16]
        offset = _decode_token(next_token, fingerprint) if next_token else 0
        with self.db.session() as session:
            rows = query_jobs(
                session,
                status_equals=status_equals,
                name_contains=name_contains,
                created_after=after,
                created_before=before,
                sort_by=sort_by,
                descending=descending,
                offset=offset,
                limit=max_results,
                job_type=job_type,
            )
        more = len(rows) > max_results
        items = [self._summary(r) for r in rows[:max_results]]
        token = _encode_token(offset + max_results, fingerprint) if more else None
        return Page(items=items, next_token=token)

    def stop_job(self, ctx: RequestContext, name: str) -> JobInfo:
        """Ask a job to stop: SIGTERM now, SIGKILL after ``jobs.stop_grace_seconds``.

        A Pending job ends Stopped at once; a running one goes Stopping, then Stopped. Stopping
        a job that is already stopping, or already uploading its results, changes nothing.

        Raises:
            NotFound: No such job.
            ResourceInUse: The job has ended already.
        """
        ctx.require("write")

        def change(r: JobRecord) -> dict[str, Any] | None:
            if r.status not in ("InProgress", "Stopping"):
                raise ResourceInUse(
                    f"Job {name!r} is {r.status}; only InProgress jobs can be stopped"
                )
            if r.status == "Stopping" or r.secondary_status == "Uploading":
                return None
            now = self.clock()
            if r.secondary_status == "Pending":
                return advance(r, "Stopped", now, status="Stopped", message="Stopped while pending")
            moved = advance(r, "Stopping", now, status="Stopping", message="Stop requested")
            return {**moved, "stop_cause": "user"}

        self._get(name)
        update_job(self.db, name, change, self.clock)
        self.supervisor.wake()
        return self._info(self._get(name))

    def read_job_logs(
        self, ctx: RequestContext, name: str, *, offset: int = 0, limit: int = 65536
    ) -> JobLogs:
        """A slice of the job's combined stdout/stderr from byte ``offset``.

        Readable while the job runs; ``complete`` says no more output will come. A slice never
        ends inside a UTF-8 character unless the log itself does.

        Raises:
            NotFound: No such job.
            ValidationError: Negative offset, or a limit outside 1..1 MiB.
        """
        ctx.require("read")
        if offset < 0:
            raise ValidationError(f"offset must be >= 0, got {offset}")
        if not 1 <= limit <= MAX_LOG_READ:
            raise ValidationError(f"limit must be 1-{MAX_LOG_READ}, got {limit}")
        record = self._get(name)
        ended = record.status not in ("InProgress", "Stopping")
        if record.handle is None or record.backend != self.backend.name:
            return JobLogs(
                job_name=name, offset=offset, next_offset=offset, data="", complete=ended
            )
        chunk = self.backend.read_logs(record.handle, offset, limit)
        data = chunk.data
        at_end = chunk.next_offset >= chunk.size
        if not (ended and at_end):
            data = _whole_characters(data)
        next_offset = min(offset, chunk.size) + len(data)
        return JobLogs(
            job_name=name,
            offset=offset,
            next_offset=next_offset,
            data=data.decode("utf-8", "replace"),
            complete=ended and next_offset >= chunk.size,
        )

    # -- helpers ------------------------------------------------------------------------------

    def _arn(self, name: str) -> str:
        return arn(
            "sagemaker",
            f"training-job/{name.lower()}",
            account_id=self.settings.aws.account_id,
            region=self.settings.aws.region,
        )

    def _get(self, name: str) -> JobRecord:
        with self.db.session() as session:
            record = get_job(session, name)
        if record is None:
            raise NotFound(f"Job {name!r} does not exist", aws_code="ResourceNotFound")
        return record

    @staticmethod
    def _summary(record: JobRecord) -> JobSummary:
        return JobSummary(
            job_name=record.name,
            job_arn=record.arn,
            job_type=record.job_type,
            status=record.status,
            secondary_status=record.secondary_status,
            creation_time=record.creation_time,
            last_modified_time=record.last_modified_time,
            end_time=record.end_time,
        )

    def _info(self, record: JobRecord) -> JobInfo:
        return JobInfo(
            **self._summary(record).model_dump(),
            spec=JobCreate.model_validate(record.spec),
            failure_reason=record.failure_reason,
            exit_code=record.exit_code,
            start_time=record.start_time,
            secondary_status_transitions=[
                SecondaryStatusTransition.model_validate(t) for t in record.transitions
            ],
            model_artifacts=record.model_artifacts,
            output_data=record.output_data,
            log_uri=record.log_uri,
        )


def _utc(value: datetime | None) -> datetime | None:
    """Naive datetimes in filters are taken as UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _whole_characters(data: bytes) -> bytes:
    """Drop an incomplete UTF-8 sequence at the end of ``data`` (the next read starts there)."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte < 0x80:
            return data
        if byte >= 0xC0:  # a lead byte: complete only if its sequence fits
            need = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return data if back >= need else data[:-back]
    return data


def _encode_token(offset: int, fingerprint: str) -> str:
    raw = json.dumps({"o": offset, "f": fingerprint}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str, fingerprint: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        offset = data["o"]
        same = data["f"] == fingerprint
    except (binascii.Error, ValueError, KeyError, TypeError):
        same, offset = False, None
    if not same or not isinstance(offset, int) or offset < 0:
        raise ValidationError(
            "Invalid next_token: pass back the token of the previous page, with the same filters"
        )
    return offset
