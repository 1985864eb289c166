"""Operations on processing jobs; the REST API, the SDK and the SageMaker front door call these.

A processing job is a job of the jobs domain (job_type ``processing``: shared lifecycle,
concurrency limit, crash recovery, stop semantics and logs) plus a processing record: the
request as SageMaker shapes it and, for the recipe and profile jobs of
:mod:`lakeworks.processing.recipes`, the built-in runner's config.
:class:`~lakeworks.processing.kind.ProcessingRuntime` stages inputs and uploads outputs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any, Unpack

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from lakeworks.core.clock import utcnow
from lakeworks.core.context import RequestContext
from lakeworks.core.errors import AlreadyExists, NotFound, ResourceInUse, ValidationError
from lakeworks.core.names import arn
from lakeworks.core.settings import Settings
from lakeworks.db import Database
from lakeworks.jobs.service import JobFilters, JobService
from lakeworks.lake.service import LakeService
from lakeworks.processing import store
from lakeworks.processing.container import check_local_path, plan_command
from lakeworks.processing.kind import ProcessingRuntime
from lakeworks.schemas.common import Page
from lakeworks.schemas.jobs import (
    JobCreate,
    JobInfo,
    JobLogs,
    ResourceConfig,
    StoppingCondition,
)
from lakeworks.schemas.processing import (
    ProcessingJobCreate,
    ProcessingJobInfo,
    ProcessingJobSummary,
)

__all__ = ["ProcessingService"]

_DEFAULT_RUNTIME = 86400


def check_request(request: ProcessingJobCreate) -> ProcessingJobCreate:
    """Check what the schema cannot and fill default ``LocalPath`` values.

    Returns:
        The request with every S3 input's and output's ``LocalPath`` set.

    Raises:
        ValidationError: Naming the field, what is wrong and what is allowed.
    """
    data = request.model_dump(exclude_none=True)
    names: set[str] = set()
    locals_: set[str] = set()
    for index, item in enumerate(data.get("processing_inputs", [])):
        field = f"ProcessingInputs[{index}]"
        if item["input_name"] in names:
            raise ValidationError(f"{field}: InputName {item['input_name']!r} is used twice")
        names.add(item["input_name"])
        if "dataset_definition" in item:
            raise ValidationError(
                f"{field}: DatasetDefinition (Athena/Redshift) inputs are not supported by "
                "Lakeworks; run the query first and pass its S3 output as an S3Input",
                details={"field": f"{field}.DatasetDefinition"},
            )
        source = item.get("s3_input")
        if source is None:
            raise ValidationError(f"{field}: S3Input is required", details={"field": field})
        if source.get("s3_compression_type") == "Gzip" and source.get("s3_input_mode") != "Pipe":
            raise ValidationError(
                f"{field}: S3CompressionType Gzip can only be used with S3InputMode Pipe"
            )
        path = source.get("local_path") or f"/opt/ml/processing/input/{item['input_name']}"
        source["local_path"] = check_local_path(path, f"{field}.S3Input.LocalPath")
        if source["local_path"] in locals_:
            raise ValidationError(f"{field}: LocalPath {path!r} is used by another input")
        locals_.add(source["local_path"])
    outputs = data.get("processing_output_config", {}).get("outputs", [])
    names = set()
    for index, item in enumerate(outputs):
        field = f"ProcessingOutputConfig.Outputs[{index}]"
        if item["output_name"] in names:
            raise ValidationError(f"{field}: OutputName {item['output_name']!r} is used twice")
        names.add(item["output_name"])
        if "feature_store_output" in item:
            raise ValidationError(
                f"{field}: FeatureStoreOutput is not supported; write to an S3Output",
                details={"field": f"{field}.FeatureStoreOutput"},
            )
        target = item.get("s3_output")
        if target is None:
            raise ValidationError(f"{field}: S3Output is required", details={"field": field})
        path = target.get("local_path") or f"/opt/ml/processing/output/{item['output_name']}"
        target["local_path"] = check_local_path(path, f"{field}.S3Output.LocalPath")
    if data["processing_resources"]["cluster_config"]["instance_count"] != 1:
        raise ValidationError(
            "ProcessingResources.ClusterConfig.InstanceCount must be 1: the local backend runs "
            "a processing job as one process",
            details={"field": "ProcessingResources.ClusterConfig.InstanceCount"},
        )
    checked = ProcessingJobCreate.model_validate(data)
    plan_command(checked.app_specification, "python", Path("/"))
    return checked


class ProcessingService:
    """Create, describe, list and stop processing jobs; read their logs.

    Args:
        settings: The settings tree.
        db: The metadata database.
        lake: Inputs and outputs.
        jobs: Runs the processing jobs (job_type ``processing``).
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
        self.runtime = ProcessingRuntime(db, lake, jobs)
        jobs.register_kind("processing", self.runtime)

    def start(self) -> None:
        """Nothing runs in the background here (the jobs supervisor drives the jobs)."""

    def close(self) -> None:
        """Nothing to stop."""

    # -- operations ---------------------------------------------------------------------------

    def create_processing_job(
        self,
        ctx: RequestContext,
        request: ProcessingJobCreate,
        *,
        builtin: str | None = None,
        builtin_config: dict[str, Any] | None = None,
    ) -> ProcessingJobInfo:
        """Check the request, record it and submit its job (it starts when a slot is free).

        Args:
            ctx: The caller.
            request: CreateProcessingJob.
            builtin: The built-in runner of a recipe/profile job (set by the recipe service).
            builtin_config: That runner's config.

        Raises:
            AccessDenied: The caller lacks the write scope.
            ValidationError: Anything wrong with the request, or an output bucket that does
                not exist.
            AlreadyExists: A job of that name exists.
        """
        ctx.require("write")
        request = check_request(request)
        config = request.processing_output_config
        for output in config.outputs if config else []:
            assert output.s3_output is not None  # checked above
            bucket = output.s3_output.s3_uri[5:].split("/", 1)[0]
            try:
                self.lake.describe_bucket(ctx, bucket)
            except NotFound:
                raise ValidationError(
                    f"Output {output.output_name!r}: the bucket {bucket!r} does not exist",
                    details={"field": "ProcessingOutputConfig.Outputs.S3Output.S3Uri"},
                ) from None
        name = request.processing_job_name
        entry = request.app_specification.container_entrypoint or ["processing"]
        script = next((a for a in entry if a.endswith(".py")), None)
        limit = request.stopping_condition
        job = JobCreate(
            job_name=name,
            job_type="processing",
            entry_point=PurePosixPath(script).name if script else (builtin or "processing"),
            environment=request.environment,
            resource_config=ResourceConfig(
                instance_type=request.processing_resources.cluster_config.instance_type,
                volume_size_in_gb=request.processing_resources.cluster_config.volume_size_in_gb,
            ),
            stopping_condition=StoppingCondition(
                max_runtime_in_seconds=limit.max_runtime_in_seconds if limit else _DEFAULT_RUNTIME
            ),
            tags={t.key: t.value for t in request.tags},
        )
        record = store.ProcessingJobRecord(
            name=name,
            arn=self.processing_job_arn(name),
            request=request.model_dump(mode="json", exclude_none=True),
            builtin=builtin,
            builtin_config=builtin_config,
            outputs={},
            upload_failure=None,
            exit_message=None,
            finished=False,
            creation_time=self.clock(),
        )
        taken = AlreadyExists(
            f"A job named {name!r} already exists; job names are unique and never reused"
        )
        try:
            with self.db.session() as session:
                if store.get_processing(session, name) is not None:
                    raise taken
                session.add(record)
        except IntegrityError:
            raise taken from None
        try:
            self.jobs.create_job(ctx, job)
        except AlreadyExists:
            self._forget(name)
            raise taken from None
        except Exception:
            self._forget(name)
            raise
        return self.describe_processing_job(ctx, name)

    def _forget(self, name: str) -> None:
        with self.db.session() as session:
            session.execute(
                delete(store.ProcessingJobRecord).where(store.ProcessingJobRecord.name == name)
            )

    def _record(self, name: str) -> store.ProcessingJobRecord:
        with self.db.session() as session:
            record = store.get_processing(session, name)
        if record is None:
            raise NotFound(f"Processing job {name!r} does not exist", aws_code="ResourceNotFound")
        return record

    def describe_processing_job(self, ctx: RequestContext, name: str) -> ProcessingJobInfo:
        """Everything about processing job ``name``.

        Raises:
            NotFound: No such processing job (ResourceNotFound).
        """
        ctx.require("read")
        record = self._record(name)
        return self._info(record, self.jobs.describe_job(ctx, name))

    def list_processing_jobs(
        self,
        ctx: RequestContext,
        **filters: Unpack[JobFilters],
    ) -> Page[ProcessingJobSummary]:
        """List processing jobs, newest first unless sorted otherwise.

        Raises:
            ValidationError: ``max_results`` outside 1..100, or a token from another listing.
        """
        page = self.jobs.list_jobs(ctx, job_type="processing", **filters)
        with self.db.session() as session:
            known = store.get_processings(session, [j.job_name for j in page.items])
        items: list[ProcessingJobSummary] = []
        for summary in page.items:
            record = known.get(summary.job_name)
            if record is None:
                continue
            info = self._info(record, self.jobs.describe_job(ctx, summary.job_name))
            items.append(ProcessingJobSummary.model_validate(info.model_dump()))
        return Page(items=items, next_token=page.next_token)

    def stop_processing_job(self, ctx: RequestContext, name: str) -> ProcessingJobInfo:
        """Stop a processing job (SIGTERM, then SIGKILL after ``jobs.stop_grace_seconds``).

        Raises:
            NotFound: No such processing job.
            ValidationError: It has ended already.
        """
        ctx.require("write")
        self._record(name)
        try:
            self.jobs.stop_job(ctx, name)
        except ResourceInUse as exc:
            raise ValidationError(exc.message) from None
        return self.describe_processing_job(ctx, name)

    def read_processing_job_logs(
        self, ctx: RequestContext, name: str, *, offset: int = 0, limit: int = 65536
    ) -> JobLogs:
        """A slice of the job's combined stdout/stderr (see ``JobService.read_job_logs``).

        Raises:
            NotFound: No such processing job.
        """
        ctx.require("read")
        self._record(name)
        return self.jobs.read_job_logs(ctx, name, offset=offset, limit=limit)

    # -- helpers ------------------------------------------------------------------------------

    def processing_job_arn(self, name: str) -> str:
        """The ARN of processing job ``name``."""
        return arn(
            "sagemaker",
            f"processing-job/{name.lower()}",
            account_id=self.settings.aws.account_id,
            region=self.settings.aws.region,
        )

    @staticmethod
    def _info(record: store.ProcessingJobRecord, job: JobInfo) -> ProcessingJobInfo:
        status: str = job.status
        reason = job.failure_reason
        if status == "Completed" and record.upload_failure:
            status, reason = "Failed", record.upload_failure
        request = ProcessingJobCreate.model_validate(record.request)
        return ProcessingJobInfo(
            **request.model_dump(exclude={"processing_job_name", "tags"}),
            processing_job_name=record.name,
            processing_job_arn=record.arn,
            creation_time=record.creation_time,
            processing_start_time=job.start_time,
            processing_end_time=job.end_time if status != "InProgress" else None,
            last_modified_time=job.last_modified_time,
            processing_job_status=status,
            failure_reason=reason,
            exit_message=record.exit_message,
            secondary_status=job.secondary_status,
            builtin=record.builtin,
            outputs=dict(record.outputs),
        )
