"""Operations on training jobs; the REST API, the SDK and the SageMaker front door call these.

A training job is a job of the jobs domain (job_type ``training``, so it shares its lifecycle,
concurrency limit, crash recovery and stop semantics) plus a training record: the request as
SageMaker shapes it, what it runs (a built-in algorithm or a framework script), its metric
definitions and its run record. :class:`~lakeworks.training.runtime.TrainingRuntime` prepares
and finishes the jobs; a monitor thread here ingests the logs of running ones every
``jobs.poll_interval_seconds`` (events for CloudWatch Logs, metric points for the learning
curve and for tuning's early stopping) and keeps their checkpoints uploaded.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Callable
from datetime import datetime
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
from lakeworks.schemas.common import Page
from lakeworks.schemas.jobs import JobInfo
from lakeworks.schemas.training import (
    FinalMetric,
    InputLineage,
    LearningCurvePoint,
    MetricSeries,
    ModelArtifacts,
    ObjectLineage,
    SecondaryStatusTransition,
    TrainingJobCreate,
    TrainingJobInfo,
    TrainingJobMetrics,
    TrainingJobSummary,
)
from lakeworks.training import logs, store
from lakeworks.training.environments import EnvironmentCache
from lakeworks.training.plan import plan_training_job
from lakeworks.training.runtime import TrainingRuntime
from lakeworks.training.tracking import learning_curve_html, learning_curve_svg

__all__ = ["TrainingService"]

log = logging.getLogger("lakeworks.training")

#: Seconds between checkpoint uploads of a running job.
CHECKPOINT_INTERVAL = 5.0


class TrainingService:
    """Create, describe, list and stop training jobs; their logs, metrics and lineage.

    Args:
        settings: The settings tree.
        db: The metadata database.
        lake: Inputs, checkpoints, artifacts.
        jobs: Runs the training jobs (job_type ``training``).
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
        cache = EnvironmentCache(settings.home / "training" / "environments", os.environ)
        self.runtime = TrainingRuntime(db, lake, jobs, cache, clock)
        jobs.register_kind("training", self.runtime)
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None
        self._synced: dict[str, float] = {}

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Start the monitor thread (log ingestion and checkpoint uploads)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._monitor, name="lakeworks-training-monitor", daemon=True
            )
            self._thread.start()

    def close(self) -> None:
        """Stop the monitor thread."""
        self._closing.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _monitor(self) -> None:
        while not self._closing.is_set():
            try:
                self.watch_once()
            except Exception:
                log.exception("training monitor pass failed; retrying")
            self._closing.wait(self.settings.jobs.poll_interval_seconds)

    def watch_once(self) -> None:
        """One monitor pass over every running training job."""
        now = time.monotonic()
        for name in self.jobs.active_job_names("training"):
            if self._closing.is_set():
                return
            due = now - self._synced.get(name, 0.0) >= CHECKPOINT_INTERVAL
            if due:
                self._synced[name] = now
            try:
                self.runtime.watch(name, checkpoints=due)
            except Exception:
                log.exception("watching training job %s failed", name)

    # -- operations ---------------------------------------------------------------------------

    def create_training_job(
        self,
        ctx: RequestContext,
        request: TrainingJobCreate,
        *,
        tuning_job_name: str | None = None,
    ) -> TrainingJobInfo:
        """Check the request, record it and submit its job (it starts when a slot is free).

        Raises:
            AccessDenied: The caller lacks the write scope.
            ValidationError: Anything wrong with the request (see :mod:`.plan`).
            AlreadyExists: A job of that name exists (ResourceInUse).
        """
        ctx.require("write")
        plan = plan_training_job(request)
        self._require_bucket(
            ctx, request.output_data_config.s3_output_path, "OutputDataConfig.S3OutputPath"
        )
        if request.checkpoint_config is not None:
            self._require_bucket(ctx, request.checkpoint_config.s3_uri, "CheckpointConfig.S3Uri")
        name = request.training_job_name
        record = store.TrainingJobRecord(
            name=name,
            arn=self.training_job_arn(name),
            request=request.model_dump(mode="json", exclude_none=True),
            mode=plan.mode,
            algorithm=plan.algorithm,
            framework=plan.framework,
            tuning_job_name=tuning_job_name,
            metric_definitions=plan.metric_definitions,
            final_metrics=[],
            inputs=[],
            model_artifact=None,
            log_offset=0,
            log_events=0,
            finished=False,
            creation_time=self.clock(),
        )
        taken = AlreadyExists(
            f"Training job {name!r} already exists; training job names are unique and never reused"
        )
        try:
            with self.db.session() as session:
                if store.get_training(session, name) is not None:
                    raise taken
                session.add(record)
        except IntegrityError:
            raise taken from None
        try:
            self.jobs.create_job(ctx, plan.job)
        except AlreadyExists:
            self._forget(name)
            raise taken from None
        except Exception:
            self._forget(name)
            raise
        return self.describe_training_job(ctx, name)

    def _require_bucket(self, ctx: RequestContext, uri: str, field: str) -> None:
        bucket = uri[5:].split("/", 1)[0]
        try:
            self.lake.describe_bucket(ctx, bucket)
        except NotFound:
            raise ValidationError(
                f"{field}: the bucket {bucket!r} does not exist", details={"field": field}
            ) from None

    def _forget(self, name: str) -> None:
        with self.db.session() as session:
            session.execute(
                delete(store.TrainingJobRecord).where(store.TrainingJobRecord.name == name)
            )

    def _record(self, name: str) -> store.TrainingJobRecord:
        with self.db.session() as session:
            record = store.get_training(session, name)
        if record is None:
            raise NotFound(f"Training job {name!r} does not exist", aws_code="ResourceNotFound")
        return record

    def describe_training_job(self, ctx: RequestContext, name: str) -> TrainingJobInfo:
        """Everything about training job ``name``.

        Raises:
            NotFound: No such training job (ResourceNotFound).
        """
        ctx.require("read")
        record = self._record(name)
        return self._info(record, self.jobs.describe_job(ctx, name))

    def list_training_jobs(
        self,
        ctx: RequestContext,
        **filters: Unpack[JobFilters],
    ) -> Page[TrainingJobSummary]:
        """List training jobs, newest first unless sorted otherwise.

        Raises:
            ValidationError: ``max_results`` outside 1..100, or a token from another listing.
        """
        page = self.jobs.list_jobs(ctx, job_type="training", **filters)
        with self.db.session() as session:
            known = store.get_trainings(session, [j.job_name for j in page.items])
        items = [
            TrainingJobSummary(
                training_job_name=j.job_name,
                training_job_arn=known[j.job_name].arn,
                creation_time=j.creation_time,
                training_end_time=j.end_time,
                last_modified_time=j.last_modified_time,
                training_job_status=j.status,
                secondary_status=j.secondary_status,
            )
            for j in page.items
            if j.job_name in known
        ]
        return Page(items=items, next_token=page.next_token)

    def stop_training_job(self, ctx: RequestContext, name: str) -> TrainingJobInfo:
        """Stop a training job (SIGTERM, then SIGKILL after ``jobs.stop_grace_seconds``).

        Raises:
            NotFound: No such training job.
            ValidationError: It has ended already.
        """
        ctx.require("write")
        self._record(name)
        try:
            self.jobs.stop_job(ctx, name)
        except ResourceInUse as exc:
            raise ValidationError(exc.message) from None
        return self.describe_training_job(ctx, name)

    def tags_of(self, ctx: RequestContext, resource_arn: str) -> list[dict[str, str]]:
        """The tags of the training job with ARN ``resource_arn`` (``[{"Key", "Value"}]``).

        Raises:
            NotFound: No training job has that ARN.
        """
        ctx.require("read")
        with self.db.session() as session:
            record = store.get_by_arn(session, resource_arn)
        if record is None:
            raise NotFound(
                f"No training job has the ARN {resource_arn!r}", aws_code="ResourceNotFound"
            )
        return [{"Key": t["key"], "Value": t["value"]} for t in record.request.get("tags", [])]

    # -- run tracking -------------------------------------------------------------------------

    def metric_series(
        self, ctx: RequestContext, name: str, metric_name: str | None = None
    ) -> dict[str, list[tuple[int, float]]]:
        """``metric → [(step, value)]`` recorded so far for job ``name``."""
        ctx.require("read")
        series: dict[str, list[tuple[int, float]]] = {}
        with self.db.session() as session:
            for point in store.metric_points(session, name, metric_name):
                series.setdefault(point.metric_name, []).append((point.step, point.value))
        return series

    def get_training_job_metrics(self, ctx: RequestContext, name: str) -> TrainingJobMetrics:
        """The run record: hyperparameters, metric series, final metrics, inputs, artifact.

        Raises:
            NotFound: No such training job.
        """
        ctx.require("read")
        record = self._record(name)
        info = self.jobs.describe_job(ctx, name)
        series: dict[str, list[LearningCurvePoint]] = {}
        with self.db.session() as session:
            for point in store.metric_points(session, name):
                series.setdefault(point.metric_name, []).append(
                    LearningCurvePoint(
                        step=point.step, value=point.value, timestamp=point.timestamp
                    )
                )
        return TrainingJobMetrics(
            training_job_name=name,
            training_job_status=info.status,
            hyperparameters=dict(record.request.get("hyperparameters", {})),
            metric_definitions=list(record.metric_definitions),
            metrics=[MetricSeries(metric_name=k, points=v) for k, v in sorted(series.items())],
            final_metric_data_list=_finals(record),
            inputs=[InputLineage.model_validate(i) for i in record.inputs],
            model_artifact=(
                ObjectLineage.model_validate(record.model_artifact)
                if record.model_artifact
                else None
            ),
        )

    def learning_curve(self, ctx: RequestContext, name: str, *, html: bool = False) -> str:
        """Job ``name``'s metric series drawn as a self-contained SVG (or HTML page).

        Raises:
            NotFound: No such training job.
        """
        ctx.require("read")
        self._record(name)
        series = self.metric_series(ctx, name)
        title = f"Learning curve of {name}"
        return (
            learning_curve_html(series, title=title)
            if html
            else learning_curve_svg(series, title=title)
        )

    # -- logs (CloudWatch Logs) ---------------------------------------------------------------

    def describe_log_groups(self, ctx: RequestContext, prefix: str | None) -> list[dict[str, Any]]:
        """DescribeLogGroups: the training jobs' group if it matches ``prefix``."""
        ctx.require("read")
        return logs.describe_log_groups(self.db, prefix)

    def describe_log_streams(
        self, ctx: RequestContext, group: str, **options: Any
    ) -> dict[str, Any]:
        """DescribeLogStreams (see :func:`lakeworks.training.logs.describe_log_streams`)."""
        ctx.require("read")
        prefix = f"arn:aws:logs:{self.settings.aws.region}:{self.settings.aws.account_id}"
        return logs.describe_log_streams(self.db, group, arn_prefix=prefix, **options)

    def get_log_events(
        self, ctx: RequestContext, group: str, stream: str, **options: Any
    ) -> dict[str, Any]:
        """GetLogEvents (see :func:`lakeworks.training.logs.get_log_events`)."""
        ctx.require("read")
        return logs.get_log_events(self.db, group, stream, **options)

    def filter_log_events(self, ctx: RequestContext, group: str, **options: Any) -> dict[str, Any]:
        """FilterLogEvents (see :func:`lakeworks.training.logs.filter_log_events`)."""
        ctx.require("read")
        return logs.filter_log_events(self.db, group, **options)

    # -- helpers ------------------------------------------------------------------------------

    def training_job_arn(self, name: str) -> str:
        """The ARN of training job ``name``."""
        return arn(
            "sagemaker",
            f"training-job/{name.lower()}",
            account_id=self.settings.aws.account_id,
            region=self.settings.aws.region,
        )

    def tuning_job_arn(self, name: str) -> str:
        """The ARN of hyperparameter tuning job ``name``."""
        return arn(
            "sagemaker",
            f"hyper-parameter-tuning-job/{name.lower()}",
            account_id=self.settings.aws.account_id,
            region=self.settings.aws.region,
        )

    def _info(self, record: store.TrainingJobRecord, job: JobInfo) -> TrainingJobInfo:
        request = TrainingJobCreate.model_validate(record.request)
        ended = job.status not in ("InProgress", "Stopping")
        seconds: int | None = None
        if ended and job.start_time is not None and job.end_time is not None:
            seconds = max(0, math.ceil((job.end_time - job.start_time).total_seconds()))
        passthrough = {
            key: getattr(request, key)
            for key in (
                "vpc_config",
                "debug_hook_config",
                "debug_rule_configurations",
                "tensorboard_output_config",
                "experiment_config",
                "profiler_config",
                "profiler_rule_configurations",
                "retry_strategy",
                "remote_debug_config",
                "infra_check_config",
                "mlflow_config",
                "model_package_config",
            )
        }
        return TrainingJobInfo(
            training_job_name=record.name,
            training_job_arn=record.arn,
            tuning_job_arn=(
                self.tuning_job_arn(record.tuning_job_name) if record.tuning_job_name else None
            ),
            model_artifacts=(
                ModelArtifacts(s3_model_artifacts=job.model_artifacts)
                if job.model_artifacts
                else None
            ),
            training_job_status=job.status,
            secondary_status=job.secondary_status,
            failure_reason=job.failure_reason,
            hyperparameters=request.hyperparameters,
            algorithm_specification=request.algorithm_specification,
            role_arn=request.role_arn,
            input_data_config=request.input_data_config,
            output_data_config=request.output_data_config,
            resource_config=request.resource_config,
            stopping_condition=request.stopping_condition,
            creation_time=job.creation_time,
            training_start_time=job.start_time,
            training_end_time=job.end_time if ended else None,
            last_modified_time=job.last_modified_time,
            secondary_status_transitions=[
                SecondaryStatusTransition(
                    status=t.status,
                    start_time=t.start_time,
                    end_time=t.end_time,
                    status_message=t.status_message,
                )
                for t in job.secondary_status_transitions
            ],
            final_metric_data_list=_finals(record),
            enable_network_isolation=bool(request.enable_network_isolation),
            enable_inter_container_traffic_encryption=bool(
                request.enable_inter_container_traffic_encryption
            ),
            enable_managed_spot_training=bool(request.enable_managed_spot_training),
            checkpoint_config=request.checkpoint_config,
            training_time_in_seconds=seconds,
            billable_time_in_seconds=seconds,
            environment=request.environment,
            **passthrough,
        )


def _finals(record: store.TrainingJobRecord) -> list[FinalMetric]:
    return [
        FinalMetric(
            metric_name=m["MetricName"], value=float(m["Value"]), timestamp=m.get("Timestamp")
        )
        for m in record.final_metrics
    ]
