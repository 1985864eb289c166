"""``lakeworks profile s3://bucket/data.csv``: profile a lake dataset in a processing job."""

from __future__ import annotations

from typing import Annotated

import typer

from lakeworks.cli.server import connect

__all__ = ["profile"]


def profile(
    s3_uri: Annotated[str, typer.Argument(help="s3:// dataset (CSV, Parquet, JSON lines).")],
    sample: Annotated[str, typer.Option(help="full, first or random.")] = "full",
    rows: Annotated[int | None, typer.Option(min=1, help="Rows for first/random.")] = None,
    output_uri: Annotated[str | None, typer.Option("--output", help="s3:// prefix.")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Wait for the report.")] = False,
) -> None:
    """Profile a dataset: profile.json and report.html in the lake."""
    options: dict[str, object] = {"sample": sample}
    if rows is not None:
        options["rows"] = rows
    if output_uri is not None:
        options["output_uri"] = output_uri
    with connect() as client:
        job = client.profiles.create(s3_uri, **options)
        name = job.processing_job_name
        if wait:
            job = client.processing_jobs.wait(name)
            if job.processing_job_status != "Completed":
                typer.echo(
                    f"Error: profile job {name} ended {job.processing_job_status}: "
                    f"{job.failure_reason}",
                    err=True,
                )
                raise typer.Exit(1)
        typer.echo(f"profile job {name}: {job.processing_job_status}")
        typer.echo(f"report: {client.profiles.report_uri(job)}")
