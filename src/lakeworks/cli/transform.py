"""``lakeworks transform-jobs``: list, describe, stop batch transform jobs and print their logs.

Jobs are created from SageMaker-shaped specs (the SDK, boto3 or the SageMaker SDK's
``Transformer``); these commands sit on :mod:`lakeworks.sdk.transform`.
"""

from __future__ import annotations

import sys
import time
from typing import Annotated

import typer

from lakeworks.cli.output import Column, OutputFormat, OutputOption, emit_record, emit_rows
from lakeworks.cli.server import connect

__all__ = ["app"]

app = typer.Typer(help="Batch transform jobs: list, describe, stop, logs.", no_args_is_help=True)

JobName = Annotated[str, typer.Argument(help="The transform job's name.", show_default=False)]

_COLUMNS: list[Column] = [
    ("NAME", "transform_job_name"),
    ("STATUS", "transform_job_status"),
    ("CREATED", "creation_time"),
    ("ENDED", "transform_end_time"),
]
_FIELDS = [
    "transform_job_name",
    "transform_job_arn",
    "transform_job_status",
    "failure_reason",
    "model_name",
    "transform_input",
    "transform_output",
    "transform_resources",
    "records",
    "outputs",
    "creation_time",
    "transform_start_time",
    "transform_end_time",
]
#: Longest pause between polls while following a job's output.
_FOLLOW_PAUSE = 1.0


@app.command("list")
def list_(
    status: Annotated[
        str | None,
        typer.Option(
            help="Only jobs in this status (InProgress, Completed, Failed, Stopping, Stopped)."
        ),
    ] = None,
    name_contains: Annotated[str | None, typer.Option(help="Only names that contain this.")] = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """List transform jobs, newest first."""
    with connect() as client:
        jobs = client.transform_jobs.list(status=status, name_contains=name_contains)
        emit_rows(list(jobs), _COLUMNS, output)


@app.command()
def describe(name: JobName, output: OutputOption = OutputFormat.table) -> None:
    """Everything about one transform job."""
    with connect() as client:
        emit_record(client.transform_jobs.get(name), output, _FIELDS)


@app.command()
def stop(name: JobName, output: OutputOption = OutputFormat.table) -> None:
    """Stop a running transform job (an ended job stays as it ended)."""
    with connect() as client:
        emit_record(client.transform_jobs.stop(name), output, _FIELDS)


@app.command()
def logs(
    name: JobName,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new output until the job ends.")
    ] = False,
) -> None:
    """Print a transform job's combined stdout and stderr."""
    offset = 0
    with connect() as client:
        while True:
            page = client.transform_jobs.logs_page(name, offset)
            offset = page.next_offset
            if page.data:
                sys.stdout.write(page.data)
                sys.stdout.flush()
            elif page.complete or not follow:
                return
            else:
                time.sleep(_FOLLOW_PAUSE)
