"""``lakeworks recipes``: create, publish, list, describe, diff, export, delete, fit, apply."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from lakeworks.cli.output import Column, OutputFormat, OutputOption, emit_record, emit_rows
from lakeworks.cli.server import connect

__all__ = ["app"]

app = typer.Typer(
    help="Versioned feature-engineering recipes and their jobs.", no_args_is_help=True
)

NameArgument = Annotated[str, typer.Argument(help="The recipe's name.", show_default=False)]
VersionOption = Annotated[int | None, typer.Option("--version", min=1, help="A version.")]
_COLUMNS: list[Column] = [
    ("NAME", "name"),
    ("LATEST", "latest_version"),
    ("VERSIONS", "versions"),
    ("DESCRIPTION", "description"),
]
_VERSION_FIELDS = ["name", "version", "steps", "description", "created_by", "creation_time"]
_JOB_FIELDS = ["processing_job_name", "processing_job_status", "failure_reason", "outputs"]


@app.command()
def create(
    file: Annotated[Path, typer.Argument(help="The recipe, JSON or YAML.", exists=True)],
    output: OutputOption = OutputFormat.table,
) -> None:
    """Store a new recipe as version 1."""
    with connect() as client:
        emit_record(client.recipes.create(file), output, _VERSION_FIELDS)


@app.command()
def publish(
    name: NameArgument,
    file: Annotated[Path, typer.Argument(help="The new version, JSON or YAML.", exists=True)],
    output: OutputOption = OutputFormat.table,
) -> None:
    """Publish the next version of a recipe."""
    with connect() as client:
        emit_record(client.recipes.publish(name, file), output, _VERSION_FIELDS)


@app.command("list")
def list_(output: OutputOption = OutputFormat.table) -> None:
    """List recipes with their latest version."""
    with connect() as client:
        emit_rows(list(client.recipes.list()), _COLUMNS, output)


@app.command()
def describe(
    name: NameArgument, version: VersionOption = None, output: OutputOption = OutputFormat.table
) -> None:
    """A version of a recipe (the latest by default)."""
    with connect() as client:
        emit_record(client.recipes.get(name, version), output, [*_VERSION_FIELDS, "recipe"])


@app.command()
def diff(
    name: NameArgument,
    version_a: Annotated[int, typer.Argument(min=1)],
    version_b: Annotated[int, typer.Argument(min=1)],
) -> None:
    """What changed between two versions (JSON)."""
    with connect() as client:
        got = client.recipes.diff(name, version_a, version_b)
    typer.echo(json.dumps(got.changes, indent=2, ensure_ascii=False))


@app.command()
def export(
    name: NameArgument,
    version: VersionOption = None,
    format: Annotated[str, typer.Option("--format", help="json or yaml.")] = "yaml",
) -> None:
    """Print a version of a recipe as JSON or YAML."""
    with connect() as client:
        typer.echo(client.recipes.export(name, version=version, format=format), nl=False)  # type: ignore[arg-type]


@app.command()
def delete(name: NameArgument, version: VersionOption = None) -> None:
    """Delete a recipe (every version), or one version."""
    with connect() as client:
        client.recipes.delete(name, version=version)


@app.command()
def fit(
    name: NameArgument,
    input_uri: Annotated[str, typer.Argument(help="s3:// dataset to fit on.")],
    output_uri: Annotated[str, typer.Option("--output", help="s3:// prefix for the results.")],
    version: VersionOption = None,
    wait: Annotated[bool, typer.Option("--wait", help="Wait for the job to end.")] = False,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Fit a recipe on a lake dataset in a processing job."""
    with connect() as client:
        job = client.recipes.fit(name, input_uri, output_uri, version=version)
        if wait:
            job = client.processing_jobs.wait(job.processing_job_name)
        emit_record(job, output, _JOB_FIELDS)


@app.command()
def apply(
    fitted_uri: Annotated[str, typer.Argument(help="s3:// URI of fitted-recipe.json.")],
    input_uri: Annotated[str, typer.Argument(help="s3:// dataset to transform.")],
    output_uri: Annotated[str, typer.Option("--output", help="s3:// prefix for the result.")],
    wait: Annotated[bool, typer.Option("--wait", help="Wait for the job to end.")] = False,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Apply a fitted recipe to a lake dataset in a processing job."""
    with connect() as client:
        job = client.recipes.apply(fitted_uri, input_uri, output_uri)
        if wait:
            job = client.processing_jobs.wait(job.processing_job_name)
        emit_record(job, output, _JOB_FIELDS)
