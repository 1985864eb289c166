"""Operations on batch transform jobs; the REST API, the SDK and the SageMaker front door call
these.

A transform job is a job of the jobs domain (job_type ``transform``: shared lifecycle,
concurrency limit, crash recovery, stop semantics and logs) plus a transform record holding the
request as SageMaker shapes it. :class:`~lakeworks.hosting.batch.kind.TransformRuntime` stages
the model and inputs and uploads the ``.out`` objects; :mod:`lakeworks.hosting.batch.runner`
does the transforming inside the job.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime
from typing import Unpack

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from lakeworks.core.clock import utcnow
from lakeworks.core.context import RequestContext
from lakeworks.core.errors import AlreadyExists, NotFound, ResourceInUse, ValidationError
from lakeworks.core.names import arn, validate_tags
from lakeworks.core.settings import Settings
from lakeworks.db import Database
from lakeworks.hosting.batch import store
from lakeworks.hosting.batch.kind import TransformRuntime
from lakeworks.hosting.batch.records import FORMATS, compile_path
from lakeworks.hosting.store import HostedModelRecord
from lakeworks.jobs.service import JobFilters, JobService
from lakeworks.lake.service import LakeService
from lakeworks.schemas.common import Page
from lakeworks.schemas.jobs import (
    JobCreate,
    JobInfo,
    JobLogs,
    ResourceConfig,
    StoppingCondition,
)
from lakeworks.schemas.transform import TransformJobCreate, TransformJobInfo, TransformJobSummary

__all__ = ["TransformService"]

#: SageMaker's limit on MaxConcurrentTransforms × MaxPayloadInMB.
MAX_IN_FLIGHT_MB = 100
MAX_CONCURRENCY = 64
_RUNTIME = 2 * 86400


def check_request(request: TransformJobCreate) -> None:
    """Check what the schema cannot: filters, join, payload and concurrency limits.

    Raises:
        ValidationError: Naming the field, what is wrong and what is allowed.
    """
    resolved = TransformRuntime.resolved(request)
    concurrency, payload = resolved["max_concurrent_transforms"], resolved["max_payload_in_mb"]
    workers = concurrency * request.transform_resources.instance_count
    if workers > MAX_CONCURRENCY:
        raise ValidationError(
            f"MaxConcurrentTransforms ({concurrency}) x InstanceCount "
            f"({request.transform_resources.instance_count}) = {workers} workers; Lakeworks runs "
            f"at most {MAX_CONCURRENCY} for one job",
            details={"field": "MaxConcurrentTransforms"},
        )
    if concurrency * payload > MAX_IN_FLIGHT_MB:
        raise ValidationError(
            f"MaxConcurrentTransforms ({concurrency}) x MaxPayloadInMB ({payload}) must not "
            f"exceed {MAX_IN_FLIGHT_MB} MB",
            details={"field": "MaxPayloadInMB"},
        )
    processing = request.data_processing
    if processing is None:
        return
    for expression in (processing.input_filter, processing.output_filter):
        if expression:
            compile_path(expression)  # raises with the allowed forms
    needs_format = bool(processing.input_filter and processing.input_filter.strip() != "$") or (
        processing.join_source == "Input"
    )
    content_type = (request.transform_input.content_type or "").split(";")[0].strip().lower()
    if needs_format and content_type not in FORMATS:
        raise ValidationError(
            "InputFilter and JoinSource Input need TransformInput.ContentType text/csv, "
            f"application/json or application/jsonlines; got {content_type or 'none'!r}",
            details={"field": "TransformInput.ContentType"},
        )
    if needs_format and request.transform_input.split_type not in ("Line", "None"):
        raise ValidationError(
            "InputFilter and JoinSource Input need TransformInput.SplitType Line or None, "
            f"got {request.transform_input.split_type!r}",
            details={"field": "TransformInput.SplitType"},
        )


class TransformService:
    """Create, describe, list and stop batch transform jobs; read their logs.

    Args:
        settings: The settings tree.
        db: The metadata database.
        lake: Inputs, outputs and model artifacts.
        jobs: Runs the transform jobs (job_type ``transform``).
        clock: Current UTC time.
    """

    def __init__(
        self,
        settings: Settings,
        db: Database,
        lake: LakeService,
        jobs: JobService,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.db = db
        self.lake = lake
        self.jobs = jobs
        self.clock = clock
        self.runtime = TransformRuntime(db, lake, jobs)
        jobs.register_kind("transform", self.runtime)

    def _arn(self, kind: str, name: str) -> str:
        return arn(
            "sagemaker",
            f"{kind}/{name.lower()}",
            account_id=self.settings.aws.account_id,
            region=self.settings.aws.region,
        )

    def create_transform_job(
        self, ctx: RequestContext, request: TransformJobCreate
    ) -> TransformJobInfo:
        """Check the request, record it and submit its job (it starts when a slot is free).

        Raises:
            AccessDenied: The caller lacks the write scope.
            ValidationError: Unknown model, a bad filter, limits exceeded, or an output bucket
                that does not exist.
            AlreadyExists: A job of that name exists.
        """
        ctx.require("write")
        check_request(request)
        validate_tags({t.key: t.value for t in request.tags})
        with self.db.session() as session:
            if session.get(HostedModelRecord, request.model_name) is None:
                raise ValidationError(
                    f'Could not find model "{self._arn("model", request.model_name)}".',
                    details={"field": "ModelName"},
                )
        bucket = request.transform_output.s3_output_path[5:].split("/", 1)[0]
        try:
            self.lake.describe_bucket(ctx, bucket)
        except NotFound:
            raise ValidationError(
                f"TransformOutput.S3OutputPath: the bucket {bucket!r} does not exist",
                details={"field": "TransformOutput.S3OutputPath"},
            ) from None
        name = request.transform_job_name
        job = JobCreate(
            job_name=name,
            job_type="transform",
            entry_point="transform",
            environment=request.environment,
            resource_config=ResourceConfig(instance_type=request.transform_resources.instance_type),
            stopping_condition=StoppingCondition(max_runtime_in_seconds=_RUNTIME),
            tags={t.key: t.value for t in request.tags},
        )
        record = store.TransformJobRecord(
            name=name,
            arn=self._arn("transform-job", name),
            request=request.model_dump(mode="json", exclude_none=True),
            outputs=[],
            records=None,
            upload_failure=None,
            finished=False,
            creation_time=self.clock(),
        )
        taken = AlreadyExists(
            f"A job named {name!r} already exists; job names are unique and never reused"
        )
        try:
            with self.db.session() as session:
                if store.get_transform(session, name) is not None:
                    raise taken
                session.add(record)
        except IntegrityError:
            raise taken from None
        try:
            self.jobs.create_job(ctx, job)
        except Exception:
            with self.db.session() as session:
                session.execute(
                    delete(store.TransformJobRecord).where(store.TransformJobRecord.name == name)
                )
            raise
        return self.describe_transform_job(ctx, name)

    def _record(self, name: str) -> store.TransformJobRecord:
        with self.db.session() as session:
            record = store.get_transform(session, name)
        if record is None:
            raise NotFound(
                f"Could not find requested job with name {name}", aws_code="ResourceNotFound"
            )
        return record

    def describe_transform_job(self, ctx: RequestContext, name: str) -> TransformJobInfo:
        """Everything about transform job ``name``.

        Raises:
            NotFound: No such transform job (ResourceNotFound).
        """
        ctx.require("read")
        record = self._record(name)
        return self._info(record, self.jobs.describe_job(ctx, name))

    def list_transform_jobs(
        self,
        ctx: RequestContext,
        **filters: Unpack[JobFilters],
    ) -> Page[TransformJobSummary]:
        """List transform jobs, newest first unless sorted otherwise.

        Raises:
            ValidationError: ``max_results`` outside 1..100, or a token from another listing.
        """
        page = self.jobs.list_jobs(ctx, job_type="transform", **filters)
        with self.db.session() as session:
            known = store.get_transforms(session, [j.job_name for j in page.items])
        items: list[TransformJobSummary] = []
        for summary in page.items:
            record = known.get(summary.job_name)
            if record is not None:
                info = self._info(record, self.jobs.describe_job(ctx, summary.job_name))
                items.append(TransformJobSummary.model_validate(info.model_dump()))
        return Page(items=items, next_token=page.next_token)

    def stop_transform_job(self, ctx: RequestContext, name: str) -> TransformJobInfo:
        """Stop a transform job (SIGTERM to its workers, SIGKILL after the grace period).

        Stopping a job that has ended changes nothing, as on SageMaker.

        Raises:
            NotFound: No such transform job.
        """
        ctx.require("write")
        self._record(name)
        with contextlib.suppress(ResourceInUse):  # an ended job stays as it ended
            self.jobs.stop_job(ctx, name)
        return self.describe_transform_job(ctx, name)

    def read_transform_job_logs(
        self, ctx: RequestContext, name: str, *, offset: int = 0, limit: int = 65536
    ) -> JobLogs:
        """A slice of the job's combined stdout/stderr (see ``JobService.read_job_logs``).

        Raises:
            NotFound: No such transform job.
        """
        ctx.require("read")
        self._record(name)
        return self.jobs.read_job_logs(ctx, name, offset=offset, limit=limit)

    @staticmethod
    def _info(record: store.TransformJobRecord, job: JobInfo) -> TransformJobInfo:
        status: str = job.status
        reason = job.failure_reason
        if status == "Completed" and record.upload_failure:
            status, reason = "Failed", record.upload_failure
        request = TransformJobCreate.model_validate(record.request)
        ended = status not in ("InProgress", "Stopping")
        return TransformJobInfo(
            **request.model_dump(exclude={"transform_job_name", "tags"}),
            transform_job_name=record.name,
            transform_job_arn=record.arn,
            creation_time=record.creation_time,
            transform_start_time=job.start_time,
            transform_end_time=job.end_time if ended else None,
            last_modified_time=job.last_modified_time,
            transform_job_status=status,
            failure_reason=reason,
            outputs=list(record.outputs),
            records=record.records,
        )
