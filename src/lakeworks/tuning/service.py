"""Operations on hyperparameter tuning jobs; the REST API and the SageMaker front door call
these. The trials run as training jobs, driven by :class:`~lakeworks.tuning.controller.
TuningController` in a background thread of the server.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy.exc import IntegrityError

from lakeworks.core.clock import utcnow
from lakeworks.core.context import RequestContext
from lakeworks.core.errors import AlreadyExists, NotFound, ValidationError
from lakeworks.core.names import validate_tags
from lakeworks.core.settings import Settings
from lakeworks.db import Database
from lakeworks.schemas.common import Page
from lakeworks.schemas.tuning import (
    FinalObjectiveMetric,
    HyperParameterTrainingJobSummary,
    ObjectiveStatusCounters,
    TrainingJobStatusCounters,
    TuningJobCreate,
    TuningJobInfo,
    TuningJobStatus,
    TuningJobSummary,
)
from lakeworks.training.service import TrainingService
from lakeworks.tuning import store
from lakeworks.tuning.controller import TuningController, loss_of, objective_of
from lakeworks.tuning.definition import check_definition, definition_of
from lakeworks.tuning.ranges import MAX_GRID, SearchSpace
from lakeworks.tuning.strategies import Observation

__all__ = ["TrialSortBy", "TuningService"]

SortBy = Literal["Name", "CreationTime", "Status"]
SortOrder = Literal["Ascending", "Descending"]
TrialSortBy = Literal["Name", "CreationTime", "Status", "FinalObjectiveMetricValue"]


class TuningService:
    """Create, describe, list and stop tuning jobs; list their trials.

    Args:
        settings: The settings tree.
        db: The metadata database.
        training: Runs the trials.
        clock: Current UTC time.
    """

    def __init__(
        self,
        settings: Settings,
        db: Database,
        training: TrainingService,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.db = db
        self.training = training
        self.clock = clock
        self.controller = TuningController(
            db, training, clock, settings.jobs.poll_interval_seconds, self._priors
        )

    def start(self) -> None:
        """Start the controller thread (it resumes what an earlier server left running)."""
        self.controller.start()

    def close(self) -> None:
        """Stop the controller thread."""
        self.controller.close()

    # -- operations ---------------------------------------------------------------------------

    def create_tuning_job(self, ctx: RequestContext, request: TuningJobCreate) -> TuningJobInfo:
        """Check and record a tuning job; the controller starts its first trials at once.

        Raises:
            ValidationError: A bad range, strategy setting, objective or definition.
            AlreadyExists: A tuning job of that name exists.
        """
        ctx.require("write")
        config = request.hyper_parameter_tuning_job_config
        if request.autotune:
            raise ValidationError("Autotune is not supported; give the ranges and the strategy")
        definition = definition_of(request)
        ranges = config.parameter_ranges or definition.hyper_parameter_ranges
        space = SearchSpace.from_ranges(ranges)
        metric, _ = objective_of(request)
        check_definition(definition, space, metric)
        limits = config.resource_limits
        if config.strategy == "Grid":
            if not space.is_categorical():
                raise ValidationError(
                    "Grid search needs categorical ranges only; not categorical: "
                    + ", ".join(n for n in space.names if n not in _categorical(space)),
                    details={"field": "ParameterRanges"},
                )
            if space.grid_size() > MAX_GRID:
                raise ValidationError(
                    f"The grid has {space.grid_size()} points; at most {MAX_GRID}"
                )
        elif limits.max_number_of_training_jobs is None:
            raise ValidationError(
                "ResourceLimits.MaxNumberOfTrainingJobs is required for the "
                f"{config.strategy} strategy (only Grid search counts its own jobs)"
            )
        if config.strategy == "Hyperband":
            if config.training_job_early_stopping_type == "Auto":
                raise ValidationError(
                    "Hyperband stops trials itself; TrainingJobEarlyStoppingType must be Off"
                )
        elif config.strategy_config and config.strategy_config.hyperband_strategy_config:
            raise ValidationError("HyperbandStrategyConfig applies only to the Hyperband strategy")
        if request.warm_start_config is not None:
            self._check_parents(request)
        validate_tags({t.key: t.value for t in request.tags})
        bucket = definition.output_data_config.s3_output_path[5:].split("/", 1)[0]
        try:
            self.training.lake.describe_bucket(ctx, bucket)
        except NotFound:
            raise ValidationError(
                f"OutputDataConfig.S3OutputPath: the bucket {bucket!r} does not exist"
            ) from None
        name = request.hyper_parameter_tuning_job_name
        now = self.clock()
        seed = config.random_seed
        if seed is None:
            seed = int(hashlib.sha256(name.encode()).hexdigest()[:8], 16)
        record = store.TuningJobRecord(
            name=name,
            arn=self.training.tuning_job_arn(name),
            request=request.model_dump(mode="json", exclude_none=True),
            strategy=config.strategy,
            status="InProgress",
            seed=seed,
            principal=ctx.principal,
            scopes=sorted(ctx.scopes),
            creation_time=now,
            last_modified_time=now,
        )
        taken = AlreadyExists(f"Hyperparameter tuning job {name!r} already exists")
        try:
            with self.db.session() as session:
                if store.get_tuning(session, name) is not None:
                    raise taken
                session.add(record)
        except IntegrityError:
            raise taken from None
        self.controller.wake()
        return self.describe_tuning_job(ctx, name)

    def _check_parents(self, request: TuningJobCreate) -> None:
        assert request.warm_start_config is not None
        mine = definition_of(request)
        for parent in request.warm_start_config.parent_hyper_parameter_tuning_jobs:
            record = self._record(parent.hyper_parameter_tuning_job_name)
            if record.status in store.ACTIVE:
                raise ValidationError(
                    f"Warm start parent {record.name!r} is {record.status}; parents must have "
                    "ended (Completed, Stopped or Failed)"
                )
            parent_request = TuningJobCreate.model_validate(record.request)
            parent_metric, parent_type = objective_of(parent_request)
            if (parent_metric, parent_type) != objective_of(request):
                raise ValidationError(
                    f"Warm start parent {record.name!r} optimises {parent_type} {parent_metric!r}; "
                    "the objective must be the same"
                )
            if request.warm_start_config.warm_start_type == "IdenticalDataAndAlgorithm":
                theirs = definition_of(parent_request)
                same_image = (
                    theirs.algorithm_specification.training_image
                    == mine.algorithm_specification.training_image
                    and theirs.algorithm_specification.algorithm_name
                    == mine.algorithm_specification.algorithm_name
                )
                same_data = [c.model_dump() for c in theirs.input_data_config] == [
                    c.model_dump() for c in mine.input_data_config
                ]
                if not (same_image and same_data):
                    raise ValidationError(
                        f"Warm start type IdenticalDataAndAlgorithm: parent {record.name!r} uses "
                        "another training image or other input data; use TransferLearning"
                    )
                if theirs.static_hyperparameters != mine.static_hyperparameters:
                    raise ValidationError(
                        f"Warm start type IdenticalDataAndAlgorithm: parent {record.name!r} has "
                        "other static hyperparameters; use TransferLearning"
                    )

    def _priors(self, request: TuningJobCreate, metric: str) -> list[Observation]:
        """The warm-start parents' trials that reported the objective, inside this space."""
        if request.warm_start_config is None:
            return []
        definition = definition_of(request)
        config = request.hyper_parameter_tuning_job_config
        space = SearchSpace.from_ranges(
            config.parameter_ranges or definition.hyper_parameter_ranges
        )
        _, direction = objective_of(request)
        priors: list[Observation] = []
        with self.db.session() as session:
            for parent in request.warm_start_config.parent_hyper_parameter_tuning_jobs:
                for trial in store.trials_of(session, parent.hyper_parameter_tuning_job_name):
                    params = space.parse_strings(trial.params)
                    if trial.objective_status != "Succeeded" or params is None:
                        continue
                    priors.append(
                        Observation(params, "complete", loss_of(trial.objective_value, direction))
                    )
        return priors

    def tags_of(self, ctx: RequestContext, resource_arn: str) -> list[dict[str, str]]:
        """The tags of the tuning job with ARN ``resource_arn`` (``[{"Key", "Value"}]``).

        Raises:
            NotFound: No tuning job has that ARN.
        """
        ctx.require("read")
        with self.db.session() as session:
            record = store.get_by_arn(session, resource_arn)
        if record is None:
            raise NotFound(
                f"No hyperparameter tuning job has the ARN {resource_arn!r}",
                aws_code="ResourceNotFound",
            )
        return [{"Key": t["key"], "Value": t["value"]} for t in record.request.get("tags", [])]

    def _record(self, name: str) -> store.TuningJobRecord:
        with self.db.session() as session:
            record = store.get_tuning(session, name)
        if record is None:
            raise NotFound(
                f"Hyperparameter tuning job {name!r} does not exist", aws_code="ResourceNotFound"
            )
        return record

    def describe_tuning_job(self, ctx: RequestContext, name: str) -> TuningJobInfo:
        """Everything about tuning job ``name``: counters, best trial, state.

        Raises:
            NotFound: No such tuning job (ResourceNotFound).
        """
        ctx.require("read")
        record = self._record(name)
        request = TuningJobCreate.model_validate(record.request)
        with self.db.session() as session:
            trials = list(store.trials_of(session, name))
        metric, direction = objective_of(request)
        summaries = [self._trial_summary(record, t, metric, direction) for t in trials]
        best = _best(summaries, direction)
        overall = best
        if request.warm_start_config is not None:
            parents = []
            with self.db.session() as session:
                for parent in request.warm_start_config.parent_hyper_parameter_tuning_jobs:
                    parent_record = store.get_tuning(
                        session, parent.hyper_parameter_tuning_job_name
                    )
                    if parent_record is None:
                        continue
                    parents += [
                        self._trial_summary(parent_record, t, metric, direction)
                        for t in store.trials_of(session, parent_record.name)
                    ]
            overall = _best([*summaries, *parents], direction)
        end = record.end_time or self.clock()
        details = None
        if record.completion_reason:
            details = {
                "NumberOfTrainingJobsObjectiveNotImproving": 0,
                "Reason": record.completion_reason,
            }
        return TuningJobInfo(
            hyper_parameter_tuning_job_name=record.name,
            hyper_parameter_tuning_job_arn=record.arn,
            hyper_parameter_tuning_job_config=request.hyper_parameter_tuning_job_config,
            training_job_definition=request.training_job_definition,
            training_job_definitions=request.training_job_definitions,
            hyper_parameter_tuning_job_status=record.status,
            creation_time=record.creation_time,
            hyper_parameter_tuning_end_time=record.end_time,
            last_modified_time=record.last_modified_time,
            training_job_status_counters=_status_counters(trials),
            objective_status_counters=_objective_counters(trials),
            best_training_job=best,
            overall_best_training_job=overall if request.warm_start_config else None,
            warm_start_config=request.warm_start_config,
            failure_reason=record.failure_reason,
            tuning_job_completion_details=details,
            consumed_resources={
                "RuntimeInSeconds": int((end - record.creation_time).total_seconds())
            },
        )

    def list_tuning_jobs(
        self,
        ctx: RequestContext,
        *,
        status_equals: TuningJobStatus | None = None,
        name_contains: str | None = None,
        creation_time_after: datetime | None = None,
        creation_time_before: datetime | None = None,
        sort_by: SortBy = "CreationTime",
        sort_order: SortOrder = "Descending",
        max_results: int = 10,
        next_token: str | None = None,
    ) -> Page[TuningJobSummary]:
        """List tuning jobs, newest first unless sorted otherwise.

        Raises:
            ValidationError: ``max_results`` outside 1..100 or a foreign token.
        """
        ctx.require("read")
        if not 1 <= max_results <= 100:
            raise ValidationError(f"MaxResults must be 1-100, got {max_results}")
        after, before = _utc(creation_time_after), _utc(creation_time_before)
        fingerprint = repr((status_equals, name_contains, after, before, sort_by, sort_order))
        offset = _decode(next_token, fingerprint) if next_token else 0
        with self.db.session() as session:
            rows = store.query_tunings(
                session,
                status_equals=status_equals,
                name_contains=name_contains,
                created_after=after,
                created_before=before,
                sort_by=sort_by,
                descending=sort_order == "Descending",
                offset=offset,
                limit=max_results,
            )
            trials = {r.name: list(store.trials_of(session, r.name)) for r in rows[:max_results]}
        items = []
        for record in rows[:max_results]:
            request = TuningJobCreate.model_validate(record.request)
            items.append(
                TuningJobSummary(
                    hyper_parameter_tuning_job_name=record.name,
                    hyper_parameter_tuning_job_arn=record.arn,
                    hyper_parameter_tuning_job_status=record.status,
                    strategy=record.strategy,
                    creation_time=record.creation_time,
                    hyper_parameter_tuning_end_time=record.end_time,
                    last_modified_time=record.last_modified_time,
                    training_job_status_counters=_status_counters(trials[record.name]),
                    objective_status_counters=_objective_counters(trials[record.name]),
                    resource_limits=request.hyper_parameter_tuning_job_config.resource_limits,
                )
            )
        token = _encode(offset + max_results, fingerprint) if len(rows) > max_results else None
        return Page(items=items, next_token=token)

    def stop_tuning_job(self, ctx: RequestContext, name: str) -> TuningJobInfo:
        """Stop a tuning job: its running trials are stopped and it ends Stopped.

        Raises:
            NotFound: No such tuning job.
            ValidationError: It has ended already.
        """
        ctx.require("write")
        record = self._record(name)
        if record.status == "InProgress":
            store.update_tuning(
                self.db,
                name,
                expect="InProgress",
                status="Stopping",
                last_modified_time=self.clock(),
            )
        elif record.status != "Stopping":
            raise ValidationError(
                f"Hyperparameter tuning job {name!r} is {record.status}; only InProgress jobs "
                "can be stopped"
            )
        self.controller.wake()
        return self.describe_tuning_job(ctx, name)

    def list_training_jobs_for_tuning_job(
        self,
        ctx: RequestContext,
        name: str,
        *,
        status_equals: str | None = None,
        sort_by: TrialSortBy = "Name",
        sort_order: SortOrder = "Ascending",
        max_results: int = 10,
        next_token: str | None = None,
    ) -> Page[HyperParameterTrainingJobSummary]:
        """The trials of tuning job ``name``.

        Raises:
            NotFound: No such tuning job.
            ValidationError: Bad paging.
        """
        ctx.require("read")
        record = self._record(name)
        if not 1 <= max_results <= 100:
            raise ValidationError(f"MaxResults must be 1-100, got {max_results}")
        request = TuningJobCreate.model_validate(record.request)
        metric, direction = objective_of(request)
        with self.db.session() as session:
            trials = list(store.trials_of(session, name))
        summaries = [self._trial_summary(record, t, metric, direction) for t in trials]
        if status_equals is not None:
            summaries = [s for s in summaries if s.training_job_status == status_equals]
        summaries = _sort_trials(summaries, sort_by, sort_order == "Descending")
        fingerprint = repr((name, status_equals, sort_by, sort_order))
        offset = _decode(next_token, fingerprint) if next_token else 0
        page = summaries[offset : offset + max_results]
        more = offset + max_results < len(summaries)
        return Page(
            items=page, next_token=_encode(offset + max_results, fingerprint) if more else None
        )

    def _trial_summary(
        self, record: store.TuningJobRecord, trial: store.TrialRecord, metric: str, direction: str
    ) -> HyperParameterTrainingJobSummary:
        objective = None
        if trial.objective_value is not None:
            objective = FinalObjectiveMetric(
                type=direction,
                metric_name=metric,
                value=trial.objective_value,
            )
        definition = definition_of(TuningJobCreate.model_validate(record.request))
        return HyperParameterTrainingJobSummary(
            training_job_definition_name=definition.definition_name,
            training_job_name=trial.training_job_name,
            training_job_arn=self.training.training_job_arn(trial.training_job_name),
            tuning_job_name=record.name,
            creation_time=trial.creation_time,
            training_start_time=trial.start_time,
            training_end_time=trial.end_time,
            training_job_status=trial.status,
            tuned_hyperparameters=dict(trial.params),
            failure_reason=trial.failure_reason,
            final_hyper_parameter_tuning_job_objective_metric=objective,
            objective_status=trial.objective_status,
        )


def _categorical(space: SearchSpace) -> set[str]:
    from lakeworks.tuning.ranges import CategoricalRange

    return {r.name for r in space.ranges if isinstance(r, CategoricalRange)}


def _best(
    summaries: Sequence[HyperParameterTrainingJobSummary], direction: str
) -> HyperParameterTrainingJobSummary | None:
    scored = [
        s for s in summaries if s.final_hyper_parameter_tuning_job_objective_metric is not None
    ]
    if not scored:
        return None

    def loss(s: HyperParameterTrainingJobSummary) -> float:
        metric = s.final_hyper_parameter_tuning_job_objective_metric
        assert metric is not None
        return loss_of(metric.value, direction) or 0.0

    return min(scored, key=loss)


def _status_counters(trials: Sequence[store.TrialRecord]) -> TrainingJobStatusCounters:
    return TrainingJobStatusCounters(
        completed=sum(t.status == "Completed" for t in trials),
        in_progress=sum(t.status in ("InProgress", "Stopping") for t in trials),
        non_retryable_error=sum(t.status == "Failed" for t in trials),
        stopped=sum(t.status == "Stopped" for t in trials),
    )


def _objective_counters(trials: Sequence[store.TrialRecord]) -> ObjectiveStatusCounters:
    return ObjectiveStatusCounters(
        succeeded=sum(t.objective_status == "Succeeded" for t in trials),
        pending=sum(t.objective_status == "Pending" for t in trials),
        failed=sum(t.objective_status == "Failed" for t in trials),
    )


def _sort_trials(
    summaries: list[HyperParameterTrainingJobSummary], sort_by: str, descending: bool
) -> list[HyperParameterTrainingJobSummary]:
    if sort_by == "FinalObjectiveMetricValue":
        scored = [s for s in summaries if s.final_hyper_parameter_tuning_job_objective_metric]
        rest = [s for s in summaries if not s.final_hyper_parameter_tuning_job_objective_metric]

        def value(s: HyperParameterTrainingJobSummary) -> float:
            metric = s.final_hyper_parameter_tuning_job_objective_metric
            assert metric is not None
            return metric.value

        return sorted(scored, key=value, reverse=descending) + rest
    keys = {
        "Name": lambda s: s.training_job_name,
        "CreationTime": lambda s: (s.creation_time, s.training_job_name),
        "Status": lambda s: (s.training_job_status, s.training_job_name),
    }
    return sorted(summaries, key=keys[sort_by], reverse=descending)


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _encode(offset: int, fingerprint: str) -> str:
    digest = hashlib.sha256(fingerprint.encode()).hexdigest()[:16]
    raw = json.dumps({"o": offset, "f": digest}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(token: str, fingerprint: str) -> int:
    digest = hashlib.sha256(fingerprint.encode()).hexdigest()[:16]
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        offset, same = data["o"], data["f"] == digest
    except (binascii.Error, ValueError, KeyError, TypeError):
        offset, same = None, False
    if not same or not isinstance(offset, int) or offset < 0:
        raise ValidationError(
            "Invalid NextToken: pass back the token of the previous page, with the same filters"
        )
    return offset
