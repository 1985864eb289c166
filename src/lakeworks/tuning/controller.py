"""The tuning controller: a background thread that drives every running tuning job.

Each pass, for each tuning job that is InProgress or Stopping:

1. **Refresh trials.** A trial whose training job ended records its status and objective: the
   objective metric's final value (``FinalMetricDataList``), or for a trial stopped early its
   last intermediate value. A trial whose training job never reported the objective gets
   ObjectiveStatus Failed and a FailureReason naming the metric and the metrics it did report.
2. **Early stopping.** With Hyperband, or ``TrainingJobEarlyStoppingType: Auto``, running
   trials are compared on their intermediate objective values (the metric's points parsed from
   the log) and weak ones are stopped.
3. **Stop or finish.** A Stopping job stops its running trials and ends Stopped once none runs.
   A job that launched all it may (``MaxNumberOfTrainingJobs``, or everything a Grid has) ends
   once its trials have: Completed if some trial reported the objective, else Failed with why.
   Reaching ``TargetObjectiveMetricValue``, ``BestObjectiveNotImproving`` or
   ``MaxRuntimeInSeconds`` stops launching and ends the job Completed.
4. **Launch** new trials while fewer than ``MaxParallelTrainingJobs`` run, with the values the
   strategy proposes given everything seen so far (warm-start parents included).

Everything lives in the database, so after a restart the next pass carries on where the last
one stopped; strategies are pure functions of the trials (:mod:`lakeworks.tuning.strategies`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import LakeworksError, NotFound, ValidationError
from lakeworks.db import Database
from lakeworks.schemas.tuning import TuningJobCreate
from lakeworks.training.service import TrainingService
from lakeworks.tuning import store
from lakeworks.tuning.definition import definition_of, trial_name, trial_request
from lakeworks.tuning.ranges import SearchSpace
from lakeworks.tuning.strategies import HyperbandStrategy, Observation, Strategy, make_strategy

__all__ = ["TuningController", "objective_of"]

log = logging.getLogger("lakeworks.tuning")

_SYSTEM = RequestContext.system()
_ENDED = ("Completed", "Failed", "Stopped")


def objective_of(request: TuningJobCreate) -> tuple[str, str]:
    """``(metric name, Minimize|Maximize)`` of a tuning job."""
    config = request.hyper_parameter_tuning_job_config
    objective = (
        config.hyper_parameter_tuning_job_objective or definition_of(request).tuning_objective
    )
    if objective is None:
        raise ValidationError(
            "HyperParameterTuningJobObjective is required: the metric to optimise and its Type",
            details={"field": "HyperParameterTuningJobConfig.HyperParameterTuningJobObjective"},
        )
    return objective.metric_name, objective.type


def loss_of(value: float | None, direction: str) -> float | None:
    """The objective oriented so that lower is better."""
    if value is None:
        return None
    return value if direction == "Minimize" else -value


@dataclass
class _Job:
    """One tuning job's request, space and strategy, as the controller needs them."""

    record: store.TuningJobRecord
    request: TuningJobCreate
    space: SearchSpace
    strategy: Strategy
    metric: str
    direction: str
    builtin: bool
    priors: list[Observation]


class TuningController:
    """Runs the tuning jobs' trials (see the module docstring).

    Args:
        db: The metadata database.
        training: Creates, watches and stops the trials' training jobs.
        clock: Current UTC time.
        interval: Seconds between passes.
        priors: Given a tuning job, the observations of its warm-start parents.
    """

    def __init__(
        self,
        db: Database,
        training: TrainingService,
        clock: Callable[[], datetime],
        interval: float,
        priors: Callable[[TuningJobCreate, str], list[Observation]],
    ) -> None:
        self.db = db
        self.training = training
        self.clock = clock
        self.interval = interval
        self.priors = priors
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None
        self._jobs: dict[str, _Job] = {}

    def start(self) -> None:
        """Start the controller thread."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="lakeworks-tuning-controller", daemon=True
            )
            self._thread.start()

    def close(self) -> None:
        """Stop the controller thread (trials keep running; the next server carries on)."""
        self._closing.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def wake(self) -> None:
        """Run a pass now."""
        self._wake.set()

    def _run(self) -> None:
        while not self._closing.is_set():
            self._wake.clear()
            try:
                self.tick()
            except Exception:
                log.exception("tuning controller pass failed; retrying")
            self._wake.wait(self.interval)

    def tick(self) -> None:
        """One pass over every running tuning job."""
        for record in store.list_active(self.db):
            if self._closing.is_set():
                return
            try:
                self.advance(record)
            except Exception:
                log.exception("tuning job %s: pass failed; retrying", record.name)

    # -- one tuning job -------------------------------------------------------------------------

    def _job(self, record: store.TuningJobRecord) -> _Job:
        cached = self._jobs.get(record.name)
        if cached is not None:
            cached.record = record
            return cached
        request = TuningJobCreate.model_validate(record.request)
        config = request.hyper_parameter_tuning_job_config
        definition = definition_of(request)
        space = SearchSpace.from_ranges(
            config.parameter_ranges or definition.hyper_parameter_ranges
        )
        metric, direction = objective_of(request)
        hyperband = (
            config.strategy_config.hyperband_strategy_config if config.strategy_config else None
        )
        strategy = make_strategy(
            config.strategy,
            space,
            record.seed,
            early_stopping=config.training_job_early_stopping_type == "Auto",
            min_resource=hyperband.min_resource if hyperband else None,
            max_resource=hyperband.max_resource if hyperband else None,
            budget=config.resource_limits.max_number_of_training_jobs,
        )
        spec = definition.algorithm_specification
        from lakeworks.training.images import find_algorithm
        from lakeworks.training.script_mode import split_hyperparameters

        image = str(spec.training_image or spec.algorithm_name or "")
        builtin = (
            find_algorithm(image) is not None
            and split_hyperparameters(definition.static_hyperparameters) is None
        )
        job = _Job(
            record,
            request,
            space,
            strategy,
            metric,
            direction,
            builtin,
            self.priors(request, metric),
        )
        self._jobs[record.name] = job
        return job

    def _context(self, record: store.TuningJobRecord) -> RequestContext:
        return RequestContext(principal=record.principal, scopes=frozenset(record.scopes))

    def advance(self, record: store.TuningJobRecord) -> None:
        """One pass over one tuning job (see the module docstring)."""
        job = self._job(record)
        ctx = self._context(record)
        with self.db.session() as session:
            trials = list(store.trials_of(session, record.name))
        curves = self._refresh(job, trials)
        with self.db.session() as session:
            trials = list(store.trials_of(session, record.name))
        running = [t for t in trials if t.status not in _ENDED]
        if record.status == "Stopping":
            self._stop_trials(running, "tuning job stopped")
            if not running:
                self._end(record, "Stopped")
            return
        history = self._history(job, trials, curves)
        self._early_stop(job, trials, history, curves)
        limits = job.request.hyper_parameter_tuning_job_config.resource_limits
        capacity = job.strategy.capacity()
        most = limits.max_number_of_training_jobs or capacity or 100
        if capacity is not None:
            most = min(most, capacity)
        reason = self._early_completion(job, trials)
        if reason and not record.completion_reason:
            store.update_tuning(self.db, record.name, completion_reason=reason)
            record.completion_reason = reason
        if record.completion_reason:
            self._stop_trials(running, record.completion_reason)
        elif len(trials) < most and len(running) < limits.max_parallel_training_jobs:
            room = min(limits.max_parallel_training_jobs - len(running), most - len(trials))
            proposals = job.strategy.propose(history, room)
            for offset, values in enumerate(proposals):
                self._launch(job, ctx, len(trials) + offset, values)
            if proposals:
                return
            most = len(trials)  # the strategy has nothing left (a finished grid)
        if running or (len(trials) < most and not record.completion_reason):
            return
        if any(t.objective_status == "Succeeded" for t in trials):
            self._end(record, "Completed")
        else:
            self._end(record, "Failed", failure_reason=self._why_failed(job, trials))

    def _raw_curve(self, job: _Job, training_job_name: str) -> list[float]:
        series = self.training.metric_series(_SYSTEM, training_job_name, job.metric)
        return [value for _, value in series.get(job.metric, [])]

    def _refresh(
        self, job: _Job, trials: Sequence[store.TrialRecord]
    ) -> dict[int, tuple[float, ...]]:
        """Update trials from their training jobs; return the trials' objective curves (as
        losses) when the strategy stops trials early."""
        curves: dict[int, tuple[float, ...]] = {}
        needs_curves = isinstance(job.strategy, HyperbandStrategy) or job.strategy.early_stopping
        for trial in trials:
            raw: list[float] | None = None
            if needs_curves:
                raw = self._raw_curve(job, trial.training_job_name)
                curves[trial.number] = tuple(
                    loss for loss in (loss_of(v, job.direction) for v in raw) if loss is not None
                )
            if trial.status in _ENDED:
                continue
            try:
                info = self.training.describe_training_job(_SYSTEM, trial.training_job_name)
            except NotFound:
                # The row was written, then the server went down before the training job was.
                self._create_training_job(
                    job, self._context(job.record), trial.number, trial.params
                )
                continue
            if info.training_job_status not in _ENDED:
                if trial.start_time is None and info.training_start_time is not None:
                    store.update_trial(
                        self.db, job.record.name, trial.number, start_time=info.training_start_time
                    )
                continue
            finals = {m.metric_name: m.value for m in info.final_metric_data_list}
            value = finals.get(job.metric)
            if value is None and info.training_job_status == "Stopped":
                raw = raw if raw is not None else self._raw_curve(job, trial.training_job_name)
                value = raw[-1] if raw else None  # stopped early: its last value counts
            values: dict[str, Any] = {
                "status": info.training_job_status,
                "end_time": info.training_end_time,
                "start_time": info.training_start_time,
                "failure_reason": info.failure_reason,
                "objective_value": value,
                "objective_status": "Succeeded" if value is not None else "Failed",
            }
            if value is None and info.training_job_status != "Failed":
                found = ", ".join(sorted(finals)) or "none"
                values["failure_reason"] = (
                    f"The objective metric {job.metric!r} was not found in the training job's "
                    f"metrics (reported: {found}); check its MetricDefinitions or the metric name"
                )
            store.update_trial(self.db, job.record.name, trial.number, **values)
        return curves

    def _history(
        self,
        job: _Job,
        trials: Sequence[store.TrialRecord],
        curves: dict[int, tuple[float, ...]],
    ) -> list[Observation]:
        history = list(job.priors)
        for trial in trials:
            params = job.space.parse_strings(trial.params) or {}
            if trial.status not in _ENDED:
                state = "running"
            elif trial.objective_status == "Succeeded":
                state = "complete"
            else:
                state = "failed"
            history.append(
                Observation(
                    params=params,
                    state=state,  # type: ignore[arg-type]
                    loss=loss_of(trial.objective_value, job.direction),
                    curve=curves.get(trial.number, ()),
                )
            )
        return history

    def _early_stop(
        self,
        job: _Job,
        trials: Sequence[store.TrialRecord],
        history: list[Observation],
        curves: dict[int, tuple[float, ...]],
    ) -> None:
        offset = len(job.priors)
        for index, trial in enumerate(trials):
            if trial.status in _ENDED or trial.early_stopped:
                continue
            observation = history[offset + index]
            if job.strategy.should_stop(observation, history):
                log.info(
                    "tuning job %s: stopping weak trial %s",
                    job.record.name,
                    trial.training_job_name,
                )
                store.update_trial(self.db, job.record.name, trial.number, early_stopped=True)
                self._stop_trials([trial], "early stopped")

    def _stop_trials(self, trials: Sequence[store.TrialRecord], why: str) -> None:
        for trial in trials:
            try:
                self.training.stop_training_job(_SYSTEM, trial.training_job_name)
            except (ValidationError, NotFound):
                pass  # ended or never created meanwhile
            except LakeworksError as exc:
                log.warning("stopping trial %s (%s) failed: %s", trial.training_job_name, why, exc)

    def _early_completion(self, job: _Job, trials: Sequence[store.TrialRecord]) -> str | None:
        config = job.request.hyper_parameter_tuning_job_config
        done = [
            t for t in trials if t.objective_status == "Succeeded" and t.objective_value is not None
        ]
        criteria = config.tuning_job_completion_criteria
        if criteria and criteria.target_objective_metric_value is not None and done:
            target = loss_of(criteria.target_objective_metric_value, job.direction)
            best = min(loss_of(t.objective_value, job.direction) or 0.0 for t in done)
            if target is not None and best <= target:
                return "TargetObjectiveMetricValue reached"
        if criteria and criteria.best_objective_not_improving:
            patience = int(
                criteria.best_objective_not_improving.get("MaxNumberOfTrainingJobsNotImproving", 0)
            )
            ordered = sorted(done, key=lambda t: (t.end_time or t.creation_time, t.number))
            if patience >= 1 and len(ordered) > patience:
                losses = [loss_of(t.objective_value, job.direction) or 0.0 for t in ordered]
                if min(losses[-patience:]) >= min(losses[:-patience]):
                    return f"the best objective did not improve in {patience} training jobs"
        limit = config.resource_limits.max_runtime_in_seconds
        if limit and (self.clock() - job.record.creation_time).total_seconds() > limit:
            return f"MaxRuntimeInSeconds ({limit}) reached"
        return None

    def _launch(self, job: _Job, ctx: RequestContext, number: int, values: dict[str, Any]) -> None:
        tuned = job.space.as_strings(values)
        trial = store.TrialRecord(
            tuning_job_name=job.record.name,
            number=number,
            training_job_name=trial_name(job.record.name, number),
            params=tuned,
            status="InProgress",
            objective_status="Pending",
            creation_time=self.clock(),
        )
        if store.add_trial(self.db, trial):
            self._create_training_job(job, ctx, number, tuned)

    def _create_training_job(
        self, job: _Job, ctx: RequestContext, number: int, tuned: dict[str, Any]
    ) -> None:
        name = trial_name(job.record.name, number)
        request = trial_request(
            definition_of(job.request),
            name,
            {k: str(v) for k, v in tuned.items()},
            objective=job.metric,
            builtin=job.builtin,
            tags=[t.model_dump() for t in job.request.tags],
        )
        try:
            self.training.create_training_job(ctx, request, tuning_job_name=job.record.name)
        except LakeworksError as exc:
            # Values the algorithm refuses in combination: this trial fails, the search goes on.
            store.update_trial(
                self.db,
                job.record.name,
                number,
                status="Failed",
                objective_status="Failed",
                failure_reason=f"ClientError: {exc.message}",
                end_time=self.clock(),
            )

    def _why_failed(self, job: _Job, trials: Sequence[store.TrialRecord]) -> str:
        if not trials:
            return "No training job could be started"
        reasons = [t.failure_reason for t in trials if t.failure_reason]
        first = reasons[0] if reasons else "no reason recorded"
        return (
            f"No training job reported the objective metric {job.metric!r} "
            f"({len(trials)} training job(s)); first failure: {first}"
        )[:1024]

    def _end(
        self, record: store.TuningJobRecord, status: str, *, failure_reason: str | None = None
    ) -> None:
        now = self.clock()
        store.update_tuning(
            self.db,
            record.name,
            expect=record.status,
            status=status,
            failure_reason=failure_reason,
            end_time=now,
            last_modified_time=now,
        )
        self._jobs.pop(record.name, None)
