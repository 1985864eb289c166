"""Training and tuning jobs: ``client.training_jobs`` and ``client.tuning_jobs``.

Both follow SageMaker's CreateTrainingJob / CreateHyperParameterTuningJob: a spec is given in
snake_case (``training_job_name=...``) or with SageMaker's names (``TrainingJobName=...``), is
checked here against the same schema the server uses, and the typed result comes back.

Example::

    c.training_jobs.create(
        training_job_name="xgb-1",
        algorithm_specification={"training_image": "xgboost"},
        hyperparameters={"num_round": "20"},
        input_data_config=[{"channel_name": "train", "data_source": {...}}],
        output_data_config={"s3_output_path": "s3://runs/out"},
    )
    job = c.training_jobs.wait("xgb-1")
    print(c.training_jobs.metrics("xgb-1").final_metric_data_list)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, Literal, TypeVar
from urllib.parse import quote

from lakeworks.schemas.common import Page
from lakeworks.schemas.training import (
    TrainingJobCreate,
    TrainingJobInfo,
    TrainingJobMetrics,
    TrainingJobSummary,
)
from lakeworks.schemas.tuning import (
    HyperParameterTrainingJobSummary,
    TuningJobCreate,
    TuningJobInfo,
    TuningJobSummary,
)
from lakeworks.sdk._http import Transport, paginate, request_body
from lakeworks.sdk.waiters import poll_intervals

__all__ = ["ENDED_STATUSES", "SortBy", "SortOrder", "TrainingJobs", "TrialSortBy", "TuningJobs"]

_TRAINING_API = "/api/v1/training-jobs"
_TUNING_API = "/api/v1/hyper-parameter-tuning-jobs"

#: Statuses after which a training or tuning job changes no more.
ENDED_STATUSES = frozenset({"Completed", "Failed", "Stopped"})

SortOrder = Literal["Ascending", "Descending"]
SortBy = Literal["Name", "CreationTime", "Status"]
TrialSortBy = Literal["Name", "CreationTime", "Status", "FinalObjectiveMetricValue"]

T = TypeVar("T")


def _path(api: str, name: str) -> str:
    return f"{api}/{quote(name, safe='')}"


def _wait(
    describe: Callable[[], T],
    status_of: Callable[[T], str],
    what: str,
    timeout: float | None,
    max_interval: float,
) -> T:
    """Poll ``describe`` until the status is an ended one; the last state is returned."""
    deadline = None if timeout is None else time.monotonic() + timeout
    pauses = poll_intervals(most=max_interval)
    while True:
        current = describe()
        status = status_of(current)
        if status in ENDED_STATUSES:
            return current
        if deadline is not None and time.monotonic() >= deadline:
            raise TimeoutError(f"{what} is still {status} after {timeout:g}s")
        pause = next(pauses)
        if deadline is not None:
            pause = max(0.0, min(pause, deadline - time.monotonic()))
        time.sleep(pause)


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


class TrainingJobs:
    """Training jobs: built-in algorithms or framework scripts on data in the lake."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create(
        self, spec: TrainingJobCreate | dict[str, Any] | None = None, **fields: Any
    ) -> TrainingJobInfo:
        """Create a training job.

        Args:
            spec: A :class:`TrainingJobCreate` or a dict of its fields.
            fields: Fields as keyword arguments; they override those of ``spec``.

        Returns:
            The job as just created (``InProgress``).

        Raises:
            ValidationError: The spec is invalid (checked before sending), or the server
                rejects it (e.g. an unknown hyperparameter of a built-in algorithm).
            AlreadyExists: A training job of that name exists.
        """
        body = request_body(TrainingJobCreate, spec, **fields)
        return self._t.model(TrainingJobInfo, "POST", _TRAINING_API, json=body)

    def get(self, name: str) -> TrainingJobInfo:
        """Describe a training job: state, transitions, timing, final metrics, artifact.

        Raises:
            NotFound: No training job has that name.
        """
        return self._t.model(TrainingJobInfo, "GET", _path(_TRAINING_API, name))

    def list(
        self,
        *,
        status: str | None = None,
        name_contains: str | None = None,
        creation_time_after: datetime | None = None,
        creation_time_before: datetime | None = None,
        sort_by: SortBy | None = None,
        sort_order: SortOrder | None = None,
        page_size: int | None = None,
    ) -> Iterator[TrainingJobSummary]:
        """Iterate over training jobs across all pages (newest first by default).

        Args:
            status: Only jobs in this status (InProgress, Completed, Failed, Stopping, Stopped).
            name_contains: Only jobs whose name contains this text.
            creation_time_after: Only jobs created after this time.
            creation_time_before: Only jobs created before this time.
            sort_by: ``Name``, ``CreationTime`` or ``Status``.
            sort_order: ``Ascending`` or ``Descending``.
            page_size: Jobs per request (1–100; the server's default when omitted).

        Raises:
            ValidationError: A filter value is not one the server allows.
        """

        def page(token: str | None) -> tuple[list[TrainingJobSummary], str | None]:
            params = {
                "status_equals": status,
                "name_contains": name_contains,
                "creation_time_after": _time(creation_time_after),
                "creation_time_before": _time(creation_time_before),
                "sort_by": sort_by,
                "sort_order": sort_order,
                "max_results": page_size,
                "next_token": token,
            }
            got = self._t.model(Page[TrainingJobSummary], "GET", _TRAINING_API, params=params)
            return got.items, got.next_token

        return paginate(page)

    def stop(self, name: str) -> TrainingJobInfo:
        """Stop a training job; it ends Stopped (its model is uploaded if it saved one).

        Raises:
            NotFound: No training job has that name.
        """
        return self._t.model(TrainingJobInfo, "POST", f"{_path(_TRAINING_API, name)}/stop")

    def wait(
        self, name: str, *, timeout: float | None = None, max_interval: float = 2.0
    ) -> TrainingJobInfo:
        """Wait until a training job is Completed, Failed or Stopped.

        Args:
            name: The training job.
            timeout: Seconds to wait at most (``None``: no limit).
            max_interval: Longest pause between two polls.

        Returns:
            The final state; a Failed job is returned, not raised — check
            ``.training_job_status`` and ``.failure_reason``.

        Raises:
            TimeoutError: Still running after ``timeout`` seconds.
            NotFound: No training job has that name.
        """
        return _wait(
            lambda: self.get(name),
            lambda job: job.training_job_status,
            f"Training job {name}",
            timeout,
            max_interval,
        )

    def metrics(self, name: str) -> TrainingJobMetrics:
        """The run record: hyperparameters, every metric's series, final metrics, inputs with
        their ETags, and the artifact produced.

        Raises:
            NotFound: No training job has that name.
        """
        return self._t.model(TrainingJobMetrics, "GET", f"{_path(_TRAINING_API, name)}/metrics")

    def learning_curve(self, name: str, *, format: Literal["svg", "html"] = "svg") -> str:
        """The metric series drawn as a self-contained SVG image (or an HTML page around it).

        Args:
            name: The training job.
            format: ``svg`` for the image alone, ``html`` for a page to open in a browser.

        Raises:
            NotFound: No training job has that name.
        """
        path = f"{_path(_TRAINING_API, name)}/learning-curve"
        return self._t.request("GET", path, params={"format": format}).text


class TuningJobs:
    """Hyperparameter tuning jobs: many training jobs (trials) searching for the best values."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create(
        self, spec: TuningJobCreate | dict[str, Any] | None = None, **fields: Any
    ) -> TuningJobInfo:
        """Create a tuning job; its trials start at once, up to MaxParallelTrainingJobs.

        Args:
            spec: A :class:`TuningJobCreate` or a dict of its fields.
            fields: Fields as keyword arguments; they override those of ``spec``.

        Raises:
            ValidationError: The spec is invalid (e.g. a range whose MinValue exceeds MaxValue).
            AlreadyExists: A tuning job of that name exists.
        """
        body = request_body(TuningJobCreate, spec, **fields)
        return self._t.model(TuningJobInfo, "POST", _TUNING_API, json=body)

    def get(self, name: str) -> TuningJobInfo:
        """Describe a tuning job: its state, counters and best training job.

        Raises:
            NotFound: No tuning job has that name.
        """
        return self._t.model(TuningJobInfo, "GET", _path(_TUNING_API, name))

    def list(
        self,
        *,
        status: str | None = None,
        name_contains: str | None = None,
        creation_time_after: datetime | None = None,
        creation_time_before: datetime | None = None,
        sort_by: SortBy | None = None,
        sort_order: SortOrder | None = None,
        page_size: int | None = None,
    ) -> Iterator[TuningJobSummary]:
        """Iterate over tuning jobs across all pages (newest first by default).

        Args:
            status: Only jobs in this status.
            name_contains: Only jobs whose name contains this text.
            creation_time_after: Only jobs created after this time.
            creation_time_before: Only jobs created before this time.
            sort_by: ``Name``, ``CreationTime`` or ``Status``.
            sort_order: ``Ascending`` or ``Descending``.
            page_size: Jobs per request (1–100; the server's default when omitted).
        """

        def page(token: str | None) -> tuple[list[TuningJobSummary], str | None]:
            params = {
                "status_equals": status,
                "name_contains": name_contains,
                "creation_time_after": _time(creation_time_after),
                "creation_time_before": _time(creation_time_before),
                "sort_by": sort_by,
                "sort_order": sort_order,
                "max_results": page_size,
                "next_token": token,
            }
            got = self._t.model(Page[TuningJobSummary], "GET", _TUNING_API, params=params)
            return got.items, got.next_token

        return paginate(page)

    def stop(self, name: str) -> TuningJobInfo:
        """Stop a tuning job and its running trials.

        Raises:
            NotFound: No tuning job has that name.
            ValidationError: The tuning job has already ended.
        """
        return self._t.model(TuningJobInfo, "POST", f"{_path(_TUNING_API, name)}/stop")

    def wait(
        self, name: str, *, timeout: float | None = None, max_interval: float = 2.0
    ) -> TuningJobInfo:
        """Wait until a tuning job is Completed, Failed or Stopped; return its final state.

        Raises:
            TimeoutError: Still running after ``timeout`` seconds.
            NotFound: No tuning job has that name.
        """
        return _wait(
            lambda: self.get(name),
            lambda job: job.hyper_parameter_tuning_job_status,
            f"Tuning job {name}",
            timeout,
            max_interval,
        )

    def training_jobs(
        self,
        name: str,
        *,
        status: str | None = None,
        sort_by: TrialSortBy | None = None,
        sort_order: SortOrder | None = None,
        page_size: int | None = None,
    ) -> Iterator[HyperParameterTrainingJobSummary]:
        """Iterate over a tuning job's trials with their tuned values and objective.

        Args:
            name: The tuning job.
            status: Only trials in this status.
            sort_by: ``Name`` (default), ``CreationTime``, ``Status`` or
                ``FinalObjectiveMetricValue`` (best first with ``Ascending`` for Minimize).
            sort_order: ``Ascending`` or ``Descending``.
            page_size: Trials per request.

        Raises:
            NotFound: No tuning job has that name.
        """
        path = f"{_path(_TUNING_API, name)}/training-jobs"

        def page(token: str | None) -> tuple[list[HyperParameterTrainingJobSummary], str | None]:
            params = {
                "status_equals": status,
                "sort_by": sort_by,
                "sort_order": sort_order,
                "max_results": page_size,
                "next_token": token,
            }
            got = self._t.model(Page[HyperParameterTrainingJobSummary], "GET", path, params=params)
            return got.items, got.next_token

        return paginate(page)
