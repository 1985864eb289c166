"""``lakeworks training``, ``lakeworks tuning`` and ``lakeworks jobs metrics``.

Training and tuning jobs are created from SageMaker-shaped specs (the SDK or boto3); these
commands list, describe, stop and wait for them, and print a training job's metrics.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

from lakeworks.cli.output import (
    Column,
    OutputFormat,
    OutputOption,
    emit_record,
    emit_rows,
    jsonable,
)
from lakeworks.cli.server import connect

if TYPE_CHECKING:
    from lakeworks.schemas.training import TrainingJobMetrics
    from lakeworks.sdk.training import SortBy, SortOrder, TrialSortBy

__all__ = ["metrics", "training_app", "tuning_app"]

training_app = typer.Typer(
    help="Training jobs (built-in algorithms, scripts).", no_args_is_help=True
)
tuning_app = typer.Typer(help="Hyperparameter tuning jobs and their trials.", no_args_is_help=True)

TrainingName = Annotated[str, typer.Argument(help="The training job's name.", show_default=False)]
TuningName = Annotated[str, typer.Argument(help="The tuning job's name.", show_default=False)]
StatusOption = Annotated[
    str | None,
    typer.Option(help="Only jobs in this status (InProgress, Completed, Failed, Stopped ...)."),
]
NameContains = Annotated[str | None, typer.Option(help="Only jobs whose name contains this.")]
SortByOption = Annotated[str | None, typer.Option(help="Name, CreationTime or Status.")]
SortOrderOption = Annotated[str | None, typer.Option(help="Ascending or Descending.")]
MaxItems = Annotated[int | None, typer.Option(min=1, help="Show at most this many.")]
Timeout = Annotated[
    float | None, typer.Option(min=0, help="Give up after this many seconds (exit 1).")
]

_TRAINING_COLUMNS: list[Column] = [
    ("NAME", "training_job_name"),
    ("STATUS", "training_job_status"),
    ("SECONDARY", "secondary_status"),
    ("CREATED", "creation_time"),
    ("ENDED", "training_end_time"),
]
_TRAINING_FIELDS = [
    "training_job_name",
    "training_job_arn",
    "tuning_job_arn",
    "training_job_status",
    "secondary_status",
    "failure_reason",
    "hyperparameters",
    "creation_time",
    "training_start_time",
    "training_end_time",
    "training_time_in_seconds",
    "final_metric_data_list",
    "model_artifacts",
]
_TUNING_COLUMNS: list[Column] = [
    ("NAME", "hyper_parameter_tuning_job_name"),
    ("STATUS", "hyper_parameter_tuning_job_status"),
    ("STRATEGY", "strategy"),
    ("CREATED", "creation_time"),
    ("ENDED", "hyper_parameter_tuning_end_time"),
]
_TUNING_FIELDS = [
    "hyper_parameter_tuning_job_name",
    "hyper_parameter_tuning_job_arn",
    "hyper_parameter_tuning_job_status",
    "failure_reason",
    "creation_time",
    "hyper_parameter_tuning_end_time",
    "training_job_status_counters",
    "objective_status_counters",
    "best_training_job",
]
_TRIAL_COLUMNS: list[Column] = [
    ("NAME", "training_job_name"),
    ("STATUS", "training_job_status"),
    ("TUNED", "tuned_hyperparameters"),
    ("OBJECTIVE", "objective"),
    ("FAILURE", "failure_reason"),
]


def _first(items: Any, max_items: int | None) -> list[Any]:
    rows: list[Any] = []
    for item in items:
        rows.append(item)
        if max_items is not None and len(rows) >= max_items:
            break
    return rows


def _fail_unless_completed(what: str, status: str, reason: str | None) -> None:
    if status != "Completed":
        typer.echo(f"Error: {what} ended {status}{f': {reason}' if reason else ''}", err=True)
        raise typer.Exit(1)


# -- training --------------------------------------------------------------------------------------


@training_app.command("list")
def training_list(
    status: StatusOption = None,
    name_contains: NameContains = None,
    sort_by: SortByOption = None,
    sort_order: SortOrderOption = None,
    max_items: MaxItems = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """List training jobs, newest first (all pages, or the first --max-items)."""
    with connect() as client:
        # Values go to the server unchecked: it names the allowed ones in its error.
        jobs = client.training_jobs.list(
            status=status,
            name_contains=name_contains,
            sort_by=cast("SortBy | None", sort_by),
            sort_order=cast("SortOrder | None", sort_order),
        )
        emit_rows(_first(jobs, max_items), _TRAINING_COLUMNS, output)


@training_app.command("describe")
def training_describe(name: TrainingName, output: OutputOption = OutputFormat.table) -> None:
    """Everything about one training job (--output json for the full spec)."""
    with connect() as client:
        emit_record(client.training_jobs.get(name), output, _TRAINING_FIELDS)


@training_app.command("stop")
def training_stop(name: TrainingName, output: OutputOption = OutputFormat.table) -> None:
    """Stop a training job (its model is uploaded if it saved one)."""
    with connect() as client:
        emit_record(client.training_jobs.stop(name), output, _TRAINING_FIELDS)


@training_app.command("wait")
def training_wait(
    name: TrainingName, timeout: Timeout = None, output: OutputOption = OutputFormat.table
) -> None:
    """Wait until a training job ends; exit 1 unless it Completed."""
    with connect() as client:
        job = client.training_jobs.wait(name, timeout=timeout)
        emit_record(job, output, _TRAINING_FIELDS)
    _fail_unless_completed(
        f"training job {job.training_job_name}", job.training_job_status, job.failure_reason
    )


# -- tuning ----------------------------------------------------------------------------------------


@tuning_app.command("list")
def tuning_list(
    status: StatusOption = None,
    name_contains: NameContains = None,
    sort_by: SortByOption = None,
    sort_order: SortOrderOption = None,
    max_items: MaxItems = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """List tuning jobs, newest first (all pages, or the first --max-items)."""
    with connect() as client:
        jobs = client.tuning_jobs.list(
            status=status,
            name_contains=name_contains,
            sort_by=cast("SortBy | None", sort_by),
            sort_order=cast("SortOrder | None", sort_order),
        )
        emit_rows(_first(jobs, max_items), _TUNING_COLUMNS, output)


@tuning_app.command("describe")
def tuning_describe(name: TuningName, output: OutputOption = OutputFormat.table) -> None:
    """A tuning job: its state, counters and best training job."""
    with connect() as client:
        emit_record(client.tuning_jobs.get(name), output, _TUNING_FIELDS)


@tuning_app.command("stop")
def tuning_stop(name: TuningName, output: OutputOption = OutputFormat.table) -> None:
    """Stop a tuning job and its running trials."""
    with connect() as client:
        emit_record(client.tuning_jobs.stop(name), output, _TUNING_FIELDS)


@tuning_app.command("wait")
def tuning_wait(
    name: TuningName, timeout: Timeout = None, output: OutputOption = OutputFormat.table
) -> None:
    """Wait until a tuning job ends; exit 1 unless it Completed."""
    with connect() as client:
        job = client.tuning_jobs.wait(name, timeout=timeout)
        emit_record(job, output, _TUNING_FIELDS)
    _fail_unless_completed(
        f"tuning job {job.hyper_parameter_tuning_job_name}",
        job.hyper_parameter_tuning_job_status,
        job.failure_reason,
    )


@tuning_app.command("jobs")
def tuning_jobs(
    name: TuningName,
    status: StatusOption = None,
    sort_by: Annotated[
        str | None,
        typer.Option(help="Name, CreationTime, Status or FinalObjectiveMetricValue."),
    ] = None,
    sort_order: SortOrderOption = None,
    max_items: MaxItems = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """List a tuning job's trials with their tuned values and objective."""
    with connect() as client:
        trials = client.tuning_jobs.training_jobs(
            name,
            status=status,
            sort_by=cast("TrialSortBy | None", sort_by),
            sort_order=cast("SortOrder | None", sort_order),
        )
        rows = _first(trials, max_items)
    if output is OutputFormat.json:
        emit_rows(rows, _TRIAL_COLUMNS, output)
        return
    table = []
    for trial in rows:
        row = jsonable(trial)
        final = trial.final_hyper_parameter_tuning_job_objective_metric
        row["objective"] = f"{final.metric_name}={final.value:g}" if final else None
        table.append(row)
    emit_rows(table, _TRIAL_COLUMNS, output)


# -- jobs metrics ----------------------------------------------------------------------------------


def _print_metrics(run: TrainingJobMetrics) -> None:
    typer.echo(f"{run.training_job_name} ({run.training_job_status})")
    typer.echo("\nFinal metrics:")
    finals = [{"metric": m.metric_name, "value": m.value} for m in run.final_metric_data_list]
    emit_rows(finals, [("METRIC", "metric"), ("VALUE", "value")], OutputFormat.table)
    typer.echo("\nMetric series:")
    series = [
        {
            "metric": s.metric_name,
            "points": len(s.points),
            "first": s.points[0].value if s.points else None,
            "last": s.points[-1].value if s.points else None,
            "values": " ".join(f"{p.value:g}" for p in s.points),
        }
        for s in run.metrics
    ]
    columns: list[Column] = [
        ("METRIC", "metric"),
        ("POINTS", "points"),
        ("FIRST", "first"),
        ("LAST", "last"),
        ("VALUES", "values"),
    ]
    emit_rows(series, columns, OutputFormat.table)


def metrics(
    job: Annotated[str, typer.Argument(help="The training job's name.", show_default=False)],
    output: OutputOption = OutputFormat.table,
) -> None:
    """Print a training job's final metrics and every metric's series."""
    with connect() as client:
        run = client.training_jobs.metrics(job)
    if output is OutputFormat.json:
        emit_record(run, output)
        return
    _print_metrics(run)
