"""``lakeworks triggers``: event and schedule triggers that start ETL jobs and functions."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from lakeworks.cli.output import Column, OutputFormat, OutputOption, emit_record, emit_rows
from lakeworks.cli.server import connect
from lakeworks.core.errors import ValidationError

__all__ = ["app"]

app = typer.Typer(
    help="Triggers: object events and schedules that start ETL jobs and functions.",
    no_args_is_help=True,
)

NameArgument = Annotated[str, typer.Argument(help="The trigger's name.", show_default=False)]

_COLUMNS: list[Column] = [
    ("NAME", "name"),
    ("TYPE", "type"),
    ("STATE", "state"),
    ("SCHEDULE", "schedule"),
    ("NEXT", "next_fire_time"),
]
_RUN_COLUMNS: list[Column] = [
    ("RUN", "trigger_run_id"),
    ("REASON", "reason"),
    ("STATUS", "status"),
    ("FIRED", "fired_on"),
    ("ATTEMPTS", "attempts"),
    ("ERROR", "error_message"),
]


def _arguments(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ValidationError(f"--arg takes NAME=VALUE, got {pair!r}")
        out[name] = value
    return out


@app.command()
def create(
    name: NameArgument,
    type_: Annotated[
        str, typer.Option("--type", help="EVENT, SCHEDULED, ON_DEMAND or CONDITIONAL.")
    ] = "EVENT",
    job: Annotated[str | None, typer.Option(help="Start this ETL job.")] = None,
    function: Annotated[str | None, typer.Option(help="Invoke this function.")] = None,
    arg: Annotated[
        list[str] | None,
        typer.Option(help="NAME=VALUE argument; {bucket}, {key}, {s3_uri} … come from the event."),
    ] = None,
    bucket: Annotated[str | None, typer.Option(help="EVENT: the bucket watched.")] = None,
    prefix: Annotated[str, typer.Option(help="EVENT: keys starting with this.")] = "",
    suffix: Annotated[str, typer.Option(help="EVENT: keys ending with this.")] = "",
    schedule: Annotated[
        str | None, typer.Option(help="SCHEDULED: rate(5 minutes) or cron(0 12 * * ? *).")
    ] = None,
    start: Annotated[bool, typer.Option(help="Activate it at once.")] = True,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Create a trigger with one action (a job or a function)."""
    action: dict[str, Any] = {"arguments": _arguments(arg or [])}
    if job is not None:
        action["job_name"] = job
    if function is not None:
        action["function_name"] = function
    fields: dict[str, Any] = {"name": name, "type": type_.upper(), "actions": [action]}
    if bucket is not None:
        fields["event_source"] = {"bucket": bucket, "prefix": prefix, "suffix": suffix}
    if schedule is not None:
        fields["schedule"] = schedule
    if start and type_.upper() != "ON_DEMAND":
        fields["start_on_creation"] = True
    with connect() as client:
        emit_record(client.triggers.create(fields), output)


@app.command("list")
def list_(output: OutputOption = OutputFormat.table) -> None:
    """List triggers."""
    with connect() as client:
        emit_rows(client.triggers.list(), _COLUMNS, output)


@app.command()
def describe(name: NameArgument, output: OutputOption = OutputFormat.table) -> None:
    """Everything about one trigger."""
    with connect() as client:
        emit_record(client.triggers.get(name), output)


@app.command()
def start(name: NameArgument, output: OutputOption = OutputFormat.table) -> None:
    """Fire an ON_DEMAND trigger now, or activate another kind."""
    with connect() as client:
        emit_record(client.triggers.start(name), output)


@app.command()
def stop(name: NameArgument, output: OutputOption = OutputFormat.table) -> None:
    """Deactivate a trigger."""
    with connect() as client:
        emit_record(client.triggers.stop(name), output)


@app.command()
def delete(name: NameArgument) -> None:
    """Delete a trigger."""
    with connect() as client:
        client.triggers.delete(name)


@app.command()
def runs(name: NameArgument, output: OutputOption = OutputFormat.table) -> None:
    """A trigger's firings, newest first: reason, outcome, attempts, error."""
    with connect() as client:
        emit_rows(client.triggers.runs(name), _RUN_COLUMNS, output)
