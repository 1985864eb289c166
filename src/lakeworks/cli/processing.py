"""``lakeworks processing-jobs``: list and describe processing jobs."""

from __future__ import annotations

from typing import Annotated

import typer

from lakeworks.cli.output import Column, OutputFormat, OutputOption, emit_record, emit_rows
from lakeworks.cli.server import connect

__all__ = ["app"]

app = typer.Typer(help="Processing jobs (scripts, recipes, profiles).", no_args_is_help=True)

_COLUMNS: list[Column] = [
    ("NAME", "processing_job_name"),
    ("STATUS", "processing_job_status"),
    ("CREATED", "creation_time"),
    ("ENDED", "processing_end_time"),
]
_FIELDS = [
    "processing_job_name",
    "processing_job_arn",
    "processing_job_status",
    "failure_reason",
    "exit_message",
    "builtin",
    "outputs",
    "creation_time",
    "processing_start_time",
    "processing_end_time",
]


@app.command("list")
def list_(
    status: Annotated[str | None, typer.Option(help="Only jobs in this status.")] = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """List processing jobs, newest first."""
    with connect() as client:
        emit_rows(list(client.processing_jobs.list(status=status)), _COLUMNS, output)


@app.command()
def describe(
    name: Annotated[str, typer.Argument(help="The job's name.")],
    output: OutputOption = OutputFormat.table,
) -> None:
    """Everything about one processing job."""
    with connect() as client:
        emit_record(client.processing_jobs.get(name), output, _FIELDS)
