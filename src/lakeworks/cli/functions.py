"""``lakeworks functions`` and ``lakeworks etl-jobs``: list, describe, invoke or run, logs."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from lakeworks.cli.output import Column, OutputFormat, OutputOption, emit_record, emit_rows
from lakeworks.cli.server import connect
from lakeworks.core.errors import ValidationError

__all__ = ["etl_app", "functions_app"]

functions_app = typer.Typer(help="Lambda-compatible functions.", no_args_is_help=True)
etl_app = typer.Typer(help="Glue-style Python-shell ETL jobs.", no_args_is_help=True)

FunctionArgument = Annotated[str, typer.Argument(help="The function's name.", show_default=False)]
JobArgument = Annotated[str, typer.Argument(help="The ETL job's name.", show_default=False)]

_FUNCTION_COLUMNS: list[Column] = [
    ("NAME", "function_name"),
    ("RUNTIME", "runtime"),
    ("HANDLER", "handler"),
    ("MODIFIED", "last_modified"),
]
_INVOCATION_COLUMNS: list[Column] = [
    ("REQUEST", "request_id"),
    ("STARTED", "start_time"),
    ("ERROR", "error_type"),
]
_JOB_COLUMNS: list[Column] = [("NAME", "name"), ("SCRIPT", "command.script_location")]
_RUN_COLUMNS: list[Column] = [
    ("RUN", "id"),
    ("STATE", "job_run_state"),
    ("TRIGGER", "trigger_name"),
    ("STARTED", "started_on"),
    ("ERROR", "error_message"),
]


@functions_app.command("list")
def list_functions(output: OutputOption = OutputFormat.table) -> None:
    """List functions."""
    with connect() as client:
        emit_rows(client.functions.list(), _FUNCTION_COLUMNS, output)


@functions_app.command("describe")
def describe_function(name: FunctionArgument, output: OutputOption = OutputFormat.table) -> None:
    """One function's configuration."""
    with connect() as client:
        emit_record(client.functions.get(name), output)


@functions_app.command()
def invoke(
    name: FunctionArgument,
    payload: Annotated[str, typer.Option(help="The event, as JSON.")] = "{}",
    event: Annotated[bool, typer.Option(help="Queue it (Event) instead of waiting.")] = False,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Invoke a function and print its answer."""
    try:
        body = json.loads(payload)
    except ValueError as exc:
        raise ValidationError(f"--payload is not valid JSON: {exc}") from None
    kind = "Event" if event else "RequestResponse"
    with connect() as client:
        emit_record(client.functions.invoke(name, body, invocation_type=kind), output)


@functions_app.command()
def logs(name: FunctionArgument, output: OutputOption = OutputFormat.table) -> None:
    """Recent invocations; with --output json, each one's output too."""
    with connect() as client:
        items = client.functions.invocations(name)
        if output == OutputFormat.table:
            for item in reversed(items):
                typer.echo(f"--- {item.request_id} {item.start_time.isoformat()}")
                typer.echo(item.log.rstrip("\n"))
        else:
            emit_rows(items, _INVOCATION_COLUMNS, output)


@etl_app.command("list")
def list_jobs(output: OutputOption = OutputFormat.table) -> None:
    """List ETL jobs."""
    with connect() as client:
        emit_rows(client.etl_jobs.list(), _JOB_COLUMNS, output)


@etl_app.command("describe")
def describe_job(name: JobArgument, output: OutputOption = OutputFormat.table) -> None:
    """One ETL job."""
    with connect() as client:
        emit_record(client.etl_jobs.get(name), output)


@etl_app.command("start-run")
def start_run(
    name: JobArgument,
    arg: Annotated[list[str] | None, typer.Option(help="--NAME=VALUE run argument.")] = None,
    wait: Annotated[bool, typer.Option(help="Wait until the run ends.")] = False,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Start a run."""
    arguments: dict[str, str] = {}
    for pair in arg or []:
        key, sep, value = pair.partition("=")
        if not sep:
            raise ValidationError(f"--arg takes NAME=VALUE, got {pair!r}")
        arguments[key] = value
    with connect() as client:
        run = client.etl_jobs.start_run(name, arguments)
        if wait:
            run = client.etl_jobs.wait(name, run.id)
        emit_record(run, output)


@etl_app.command()
def runs(name: JobArgument, output: OutputOption = OutputFormat.table) -> None:
    """A job's runs, newest first."""
    with connect() as client:
        emit_rows(client.etl_jobs.runs(name), _RUN_COLUMNS, output)


@etl_app.command("logs")
def run_logs(
    name: JobArgument,
    run_id: Annotated[str, typer.Argument(help="The run's id.", show_default=False)],
) -> None:
    """Print a run's output."""
    with connect() as client:
        offset = 0
        while True:
            page = client.etl_jobs.logs_page(name, run_id, offset)
            typer.echo(page.data, nl=False)
            if page.next_offset == offset:
                break
            offset = page.next_offset
