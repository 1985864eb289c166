"""``lakeworks lake notifications get|put|deliveries``: a bucket's event targets and the history
of their deliveries, on :mod:`lakeworks.sdk.notifications`.

The configuration is read from a JSON file or stdin: ``{"webhook_configurations": [{"url",
"events", "filter_rules"?}], "lambda_function_configurations": [...]}``.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

from lakeworks.cli.lake_config import BucketArgument, DocumentArgument, _bucket, _read_json
from lakeworks.cli.output import Column, OutputFormat, OutputOption, emit, emit_rows, jsonable
from lakeworks.cli.server import connect
from lakeworks.core.errors import ValidationError

if TYPE_CHECKING:
    from lakeworks.schemas.notifications import DeliveryInfo, DeliveryStatus

__all__ = ["notifications_app"]

notifications_app = typer.Typer(
    help="A bucket's event notifications (webhooks, functions) and their deliveries.",
    no_args_is_help=True,
)

_DELIVERY_COLUMNS: list[Column] = [
    ("CREATED", "creation_time"),
    ("EVENT", "event"),
    ("KEY", "key"),
    ("TARGET", "target"),
    ("STATUS", "status"),
    ("ATTEMPTS", "attempts"),
    ("LAST ERROR", "last_error"),
]


@notifications_app.command("get")
def notifications_get(uri: BucketArgument) -> None:
    """Print the bucket's notification configuration (JSON)."""
    bucket = _bucket(uri, "notifications get")
    with connect() as client:
        config = client.buckets.notifications.get(bucket)
    sys.stdout.write(json.dumps(jsonable(config), indent=2) + "\n")


@notifications_app.command("put")
def notifications_put(
    uri: BucketArgument, document: DocumentArgument, output: OutputOption = OutputFormat.table
) -> None:
    """Replace the bucket's notification configuration from a JSON file ({} removes it)."""
    bucket = _bucket(uri, "notifications put")
    data = _read_json(document, "notification configuration")
    if not isinstance(data, dict):
        raise ValidationError(
            f"The notification configuration {document} must be a JSON object: "
            '{"webhook_configurations": [...], "lambda_function_configurations": [...]}'
        )
    with connect() as client:
        stored = client.buckets.notifications.put(bucket, data)
    count = len(stored.webhook_configurations) + len(stored.lambda_function_configurations)
    emit(stored, output, f"put_notifications: {bucket} ({count} target{'' if count == 1 else 's'})")


@notifications_app.command("deliveries")
def notifications_deliveries(
    uri: BucketArgument,
    status: Annotated[
        str | None, typer.Option(help="Only Pending, Delivered or Failed deliveries.")
    ] = None,
    target: Annotated[
        str | None, typer.Option(help="Only deliveries to this URL/function.")
    ] = None,
    max_items: Annotated[int, typer.Option(min=1, help="Show at most this many.")] = 100,
    output: OutputOption = OutputFormat.table,
) -> None:
    """The bucket's deliveries, newest first: event, target, status, attempts, last error."""
    bucket = _bucket(uri, "notifications deliveries")
    rows: list[DeliveryInfo] = []
    with connect() as client:
        for delivery in client.buckets.notifications.deliveries(
            bucket,
            status=cast("DeliveryStatus | None", status),  # the server names the allowed ones
            target=target,
        ):
            rows.append(delivery)
            if len(rows) >= max_items:
                break
    if output is OutputFormat.json:
        emit_rows(rows, _DELIVERY_COLUMNS, output)
        return
    emit_rows([_row(delivery) for delivery in rows], _DELIVERY_COLUMNS, output)


def _row(delivery: DeliveryInfo) -> dict[str, Any]:
    # The table shows the event's name and key from the S3 event document that was sent.
    records = delivery.payload.get("Records") or [{}]
    record = records[0] if isinstance(records[0], dict) else {}
    key = record.get("s3", {}).get("object", {}).get("key")
    return {**jsonable(delivery), "event": record.get("eventName"), "key": key}
