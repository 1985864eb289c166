"""``lakeworks jobs``: submit, list, describe, follow, stop and wait for jobs."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, cast

import typer

from lakeworks.cli.output import Column, OutputFormat, OutputOption, emit_record, emit_rows
from lakeworks.cli.server import connect
from lakeworks.core.errors import ValidationError

if TYPE_CHECKING:
    from lakeworks.schemas.jobs import JobStatus

__all__ = ["app"]

app = typer.Typer(help="Run and inspect jobs.", no_args_is_help=True)

NameArgument = Annotated[str, typer.Argument(help="The job's name.", show_default=False)]

_COLUMNS: list[Column] = [
    ("NAME", "job_name"),
    ("TYPE", "job_type"),
    ("STATUS", "status"),
    ("SECONDARY", "secondary_status"),
    ("CREATED", "creation_time"),
    ("ENDED", "end_time"),
]
_DESCRIBE_FIELDS = [
    "job_name",
    "job_arn",
    "job_type",
    "status",
    "secondary_status",
    "failure_reason",
    "exit_code",
    "creation_time",
    "start_time",
    "end_time",
    "model_artifacts",
    "output_data",
    "log_uri",
]


def _read_spec(path: str) -> dict[str, Any]:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text()
    except OSError as exc:
        raise ValidationError(f"Cannot read the job spec {path}: {exc.strerror}") from None
    try:
        spec = json.loads(text)
    except ValueError as exc:
        raise ValidationError(f"The job spec {path} is not valid JSON: {exc}") from None
    if not isinstance(spec, dict):
        raise ValidationError(f"The job spec {path} must be a JSON object of JobCreate fields")
    return spec


@app.command()
def create(
    spec: Annotated[str, typer.Argument(help="JSON file of JobCreate fields ('-' reads stdin).")],
    name: Annotated[str | None, typer.Option("--name", help="Override job_name.")] = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Submit a job from a JSON spec (the body of POST /api/v1/jobs)."""
    fields = _read_spec(spec)
    if name:
        fields["job_name"] = name
    with connect() as client:
        emit_record(client.jobs.create(fields), output, _DESCRIBE_FIELDS)


@app.command("list")
def list_(
    status: Annotated[
        str | None,
        typer.Option(help="Only jobs in this status (InProgress, Completed, Failed, ...)."),
    ] = None,
    name_contains: Annotated[
        str | None, typer.Option(help="Only jobs whose name contains this.")
    ] = None,
    sort_by: Annotated[str | None, typer.Option(help="CreationTime, Name or Status.")] = None,
    sort_order: Annotated[str | None, typer.Option(help="Ascending or Descending.")] = None,
    max_items: Annotated[
        int | None, typer.Option(min=1, help="Show at most this many jobs.")
    ] = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """List jobs (all pages, or the first --max-items)."""
    with connect() as client:
        # Values go to the server unchecked: it names the allowed ones in its error.
        jobs = client.jobs.list(
            status=cast("JobStatus | None", status),
            name_contains=name_contains,
            sort_by=sort_by,
            sort_order=cast("Literal['Ascending', 'Descending'] | None", sort_order),
        )
        rows = []
        for job in jobs:
            rows.append(job)
            if max_items is not None and len(rows) >= max_items:
                break
        emit_rows(rows, _COLUMNS, output)


@app.command()
def describe(name: NameArgument, output: OutputOption = OutputFormat.table) -> None:
    """Everything about one job (--output json for the spec and status transitions)."""
    with connect() as client:
        emit_record(client.jobs.get(name), output, _DESCRIBE_FIELDS)


@app.command()
def logs(
    name: NameArgument,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new output until the job ends.")
    ] = False,
) -> None:
    """Print a job's combined stdout and stderr."""
    with connect() as client:
        for chunk in client.jobs.logs(name, follow=follow):
            sys.stdout.write(chunk)
            sys.stdout.flush()


@app.command()
def stop(name: NameArgument, output: OutputOption = OutputFormat.table) -> None:
    """Ask a running job to stop."""
    with connect() as client:
        emit_record(client.jobs.stop(name), output, _DESCRIBE_FIELDS)


@app.command()
def wait(
    name: NameArgument,
    timeout: Annotated[
        float | None, typer.Option(min=0, help="Give up after this many seconds (exit 1).")
    ] = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Wait until a job ends, showing its status; exit 1 unless it Completed."""
    with connect() as client:
        job = client.jobs.wait(name, timeout=timeout)
        emit_record(job, output, _DESCRIBE_FIELDS)
    if job.status != "Completed":
        reason = f": {job.failure_reason}" if job.failure_reason else ""
        typer.echo(f"Error: job {job.job_name} ended {job.status}{reason}", err=True)
        raise typer.Exit(1)
