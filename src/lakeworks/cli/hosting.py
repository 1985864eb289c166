"""``lakeworks models`` and ``lakeworks endpoints``: hosted models and real-time endpoints.

Models, endpoint configs and endpoints are created from SageMaker-shaped specs (the SDK or
boto3); these commands list, describe, delete, wait for and invoke them, on
:mod:`lakeworks.sdk.hosting`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from lakeworks.cli.output import Column, OutputFormat, OutputOption, emit, emit_record, emit_rows
from lakeworks.cli.server import connect
from lakeworks.core.errors import ValidationError

__all__ = ["endpoints_app", "models_app"]

models_app = typer.Typer(help="Hosted models: list, describe, delete.", no_args_is_help=True)
endpoints_app = typer.Typer(
    help="Real-time endpoints: list, describe, invoke, wait, metrics, delete.",
    no_args_is_help=True,
)

ModelName = Annotated[str, typer.Argument(help="The model's name.", show_default=False)]
EndpointName = Annotated[str, typer.Argument(help="The endpoint's name.", show_default=False)]
NameContains = Annotated[str | None, typer.Option(help="Only names that contain this.")]

_MODEL_COLUMNS: list[Column] = [("NAME", "model_name"), ("CREATED", "creation_time")]
_MODEL_FIELDS = [
    "model_name",
    "model_arn",
    "creation_time",
    "primary_container",
    "containers",
    "inference_execution_config",
    "enable_network_isolation",
    "tags",
]
_ENDPOINT_COLUMNS: list[Column] = [
    ("NAME", "endpoint_name"),
    ("STATUS", "endpoint_status"),
    ("CREATED", "creation_time"),
    ("MODIFIED", "last_modified_time"),
]
_ENDPOINT_FIELDS = [
    "endpoint_name",
    "endpoint_arn",
    "endpoint_status",
    "failure_reason",
    "endpoint_config_name",
    "production_variants",
    "shadow_production_variants",
    "data_capture_config",
    "creation_time",
    "last_modified_time",
    "tags",
]
_METRIC_COLUMNS: list[Column] = [
    ("VARIANT", "variant_name"),
    ("MODEL", "target_model"),
    ("INVOCATIONS", "invocations"),
    ("4XX", "invocation_4xx_errors"),
    ("5XX", "invocation_5xx_errors"),
    ("MODEL ERRORS", "model_errors"),
    ("P50 MODEL LATENCY (us)", "p50_us"),
    ("P99 MODEL LATENCY (us)", "p99_us"),
    ("INSTANCES", "instance_count"),
]


# -- models ----------------------------------------------------------------------------------------


@models_app.command("list")
def models_list(
    name_contains: NameContains = None, output: OutputOption = OutputFormat.table
) -> None:
    """List models, newest first."""
    with connect() as client:
        emit_rows(list(client.models.list(name_contains=name_contains)), _MODEL_COLUMNS, output)


@models_app.command("describe")
def models_describe(name: ModelName, output: OutputOption = OutputFormat.table) -> None:
    """Everything about one model."""
    with connect() as client:
        emit_record(client.models.get(name), output, _MODEL_FIELDS)


@models_app.command("delete")
def models_delete(name: ModelName, output: OutputOption = OutputFormat.table) -> None:
    """Delete a model (endpoints using it keep serving)."""
    with connect() as client:
        client.models.delete(name)
    emit({"model_name": name, "deleted": True}, output, f"delete: {name}")


# -- endpoints -------------------------------------------------------------------------------------


@endpoints_app.command("list")
def endpoints_list(
    status: Annotated[
        str | None, typer.Option(help="Only endpoints in this status (InService, Failed ...).")
    ] = None,
    name_contains: NameContains = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """List endpoints, newest first."""
    with connect() as client:
        rows = list(client.endpoints.list(status=status, name_contains=name_contains))
    emit_rows(rows, _ENDPOINT_COLUMNS, output)


@endpoints_app.command("describe")
def endpoints_describe(name: EndpointName, output: OutputOption = OutputFormat.table) -> None:
    """Everything about one endpoint: status, variants' weights and instance counts."""
    with connect() as client:
        emit_record(client.endpoints.get(name), output, _ENDPOINT_FIELDS)


@endpoints_app.command("delete")
def endpoints_delete(name: EndpointName, output: OutputOption = OutputFormat.table) -> None:
    """Delete an endpoint (Deleting until its instances stopped)."""
    with connect() as client:
        client.endpoints.delete(name)
    emit({"endpoint_name": name, "deleted": True}, output, f"delete: {name}")


@endpoints_app.command("wait")
def endpoints_wait(
    name: EndpointName,
    timeout: Annotated[
        float, typer.Option(min=0, help="Give up after this many seconds (exit 1).")
    ] = 600.0,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Wait until the endpoint is InService or Failed; exit 1 unless InService."""
    with connect() as client:
        endpoint = client.endpoints.wait(name, timeout=timeout)
    status = endpoint.endpoint_status
    emit(endpoint, output, f"{name}: {status}")
    if status != "InService":
        reason = f": {endpoint.failure_reason}" if endpoint.failure_reason else ""
        typer.echo(f"Error: endpoint {name} is {status}{reason}", err=True)
        raise typer.Exit(1)


@endpoints_app.command("invoke")
def endpoints_invoke(
    name: EndpointName,
    body: Annotated[
        str, typer.Argument(help="File with the request body ('-' reads stdin).")
    ] = "-",
    content_type: Annotated[
        str | None, typer.Option("--content-type", help="The body's type, e.g. text/csv.")
    ] = None,
    accept: Annotated[str | None, typer.Option(help="The response type wanted.")] = None,
    target_variant: Annotated[
        str | None, typer.Option(help="Send to this production variant.")
    ] = None,
    target_model: Annotated[
        str | None, typer.Option(help="The model archive of a multi-model endpoint.")
    ] = None,
) -> None:
    """Send a request to the endpoint and print the model's answer on stdout (as it sent it).

    The variant that served it is printed on stderr.
    """
    try:
        payload = sys.stdin.buffer.read() if body == "-" else Path(body).read_bytes()
    except OSError as exc:
        raise ValidationError(f"Cannot read the request body {body}: {exc.strerror}") from None
    with connect() as client:
        answer = client.endpoints.invoke(
            name,
            payload,
            content_type=content_type,
            accept=accept,
            target_variant=target_variant,
            target_model=target_model,
        )
    sys.stdout.buffer.write(answer.body)
    if answer.body and not answer.body.endswith(b"\n"):
        sys.stdout.buffer.write(b"\n")
    sys.stdout.flush()
    typer.echo(f"variant: {answer.invoked_variant}", err=True)


@endpoints_app.command("invoke-async")
def endpoints_invoke_async(
    name: EndpointName,
    input_location: Annotated[str, typer.Argument(help="s3:// URI of the request payload.")],
    content_type: Annotated[
        str | None, typer.Option("--content-type", help="The payload's type, e.g. text/csv.")
    ] = None,
    accept: Annotated[str | None, typer.Option(help="The response type wanted.")] = None,
    inference_id: Annotated[str | None, typer.Option(help="Your id for the request.")] = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Queue a request to an async endpoint; prints where the output will be written."""
    with connect() as client:
        accepted = client.endpoints.invoke_async(
            name,
            input_location,
            content_type=content_type,
            accept=accept,
            inference_id=inference_id,
        )
    emit_record(accepted, output)


@endpoints_app.command("describe-async")
def endpoints_describe_async(
    inference_id: Annotated[str, typer.Argument(help="The InferenceId of the request.")],
    output: OutputOption = OutputFormat.table,
) -> None:
    """The state of an async request: Pending, InProgress, Completed or Failed (why)."""
    with connect() as client:
        emit_record(client.endpoints.describe_async_invocation(inference_id), output)


@endpoints_app.command("metrics")
def endpoints_metrics(name: EndpointName, output: OutputOption = OutputFormat.table) -> None:
    """Invocations, model errors and latencies per variant since the server started."""
    with connect() as client:
        metrics = client.endpoints.metrics(name)
    if output is OutputFormat.json:
        emit(metrics, output, "")
        return
    rows = [
        {
            **row.model_dump(mode="json"),
            "p50_us": row.model_latency.p50_us,
            "p99_us": row.model_latency.p99_us,
        }
        for row in metrics.variants
    ]
    emit_rows(rows, _METRIC_COLUMNS, output)
