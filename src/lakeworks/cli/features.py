"""``lakeworks feature-groups``: list, describe and delete feature groups; read a record.

Groups are created from SageMaker-shaped specs (the SDK, boto3 or the SageMaker SDK's
``FeatureGroup``); these commands sit on :mod:`lakeworks.sdk.features`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from lakeworks.cli.output import (
    Column,
    OutputFormat,
    OutputOption,
    emit,
    emit_record,
    emit_rows,
)
from lakeworks.cli.server import connect
from lakeworks.core.errors import NotFound

__all__ = ["app"]

app = typer.Typer(
    help="Feature groups (Feature Store): list, describe, delete, get-record.",
    no_args_is_help=True,
)

GroupName = Annotated[str, typer.Argument(help="The feature group's name.", show_default=False)]

_COLUMNS: list[Column] = [
    ("NAME", "feature_group_name"),
    ("STATUS", "feature_group_status"),
    ("OFFLINE STORE", "offline_store_status"),
    ("CREATED", "creation_time"),
]
_FIELDS = [
    "feature_group_name",
    "feature_group_arn",
    "feature_group_status",
    "record_identifier_feature_name",
    "event_time_feature_name",
    "feature_definitions",
    "online_store_config",
    "offline_store_config",
    "offline_store_status",
    "description",
    "creation_time",
    "last_modified_time",
]


@app.command("list")
def list_(
    name_contains: Annotated[str | None, typer.Option(help="Only names that contain this.")] = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """List feature groups, newest first."""
    with connect() as client:
        emit_rows(client.feature_groups.list(name_contains=name_contains), _COLUMNS, output)


@app.command()
def describe(name: GroupName, output: OutputOption = OutputFormat.table) -> None:
    """Everything about one feature group."""
    with connect() as client:
        emit_record(client.feature_groups.get(name), output, _FIELDS)


@app.command()
def delete(name: GroupName, output: OutputOption = OutputFormat.table) -> None:
    """Delete a feature group (its offline files and catalog table stay)."""
    with connect() as client:
        client.feature_groups.delete(name)
    emit({"feature_group_name": name, "deleted": True}, output, f"Deleted feature group {name}")


@app.command("get-record")
def get_record(
    name: GroupName,
    record_id: Annotated[
        str, typer.Argument(help="The record identifier's value.", show_default=False)
    ],
    feature: Annotated[
        list[str] | None,
        typer.Option("--feature", "-f", help="Only this feature (repeat for more)."),
    ] = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """The latest record with that identifier, from the online store; exit 1 if none."""
    with connect() as client:
        record = client.feature_groups.get_record(name, record_id, feature_names=feature)
    if not record:
        raise NotFound(f"Feature group {name!r} has no record with identifier {record_id!r}")
    emit_record(record, output)
