"""``lakeworks lake versioning|versions|tags|encryption|policy|lifecycle``: bucket settings.

Each group sits on :mod:`lakeworks.sdk.lake_config`; ``cli/main.py`` mounts them under
``lakeworks lake``. Documents (a policy, lifecycle rules) are read from a file or stdin.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from lakeworks.cli.lake import parse_s3_uri
from lakeworks.cli.output import Column, OutputFormat, OutputOption, emit, emit_rows, jsonable
from lakeworks.cli.server import connect
from lakeworks.core.errors import ValidationError

__all__ = [
    "encryption_app",
    "lifecycle_app",
    "policy_app",
    "tags_app",
    "versioning_app",
    "versions_app",
]

versioning_app = typer.Typer(
    help="Bucket versioning: status, enable, suspend.", no_args_is_help=True
)
versions_app = typer.Typer(help="Object versions: list, get, delete.", no_args_is_help=True)
tags_app = typer.Typer(
    help="Tags of a bucket (s3://b) or an object (s3://b/key).", no_args_is_help=True
)
encryption_app = typer.Typer(help="A bucket's default encryption.", no_args_is_help=True)
policy_app = typer.Typer(help="A bucket's policy.", no_args_is_help=True)
lifecycle_app = typer.Typer(help="A bucket's lifecycle rules.", no_args_is_help=True)

BucketArgument = Annotated[str, typer.Argument(help="s3://bucket", show_default=False)]
ObjectArgument = Annotated[str, typer.Argument(help="s3://bucket/key", show_default=False)]
VersionArgument = Annotated[str, typer.Argument(help="The version id.", show_default=False)]
DocumentArgument = Annotated[
    str, typer.Argument(help="JSON file ('-' reads stdin).", show_default=False)
]
VersionOption = Annotated[
    str | None, typer.Option("--version-id", help="A version of the object (default: current).")
]

_VERSION_COLUMNS: list[Column] = [
    ("MODIFIED", "last_modified"),
    ("SIZE", "size"),
    ("KEY", "key"),
    ("VERSION", "version_id"),
    ("LATEST", "is_latest"),
    ("DELETE MARKER", "delete_marker"),
]


def _bucket(text: str, command: str) -> str:
    uri = parse_s3_uri(text)
    if uri.key:
        raise ValidationError(f"'lake {command}' takes s3://bucket with no key, got {text!r}")
    return uri.bucket


def _object(text: str, command: str) -> tuple[str, str]:
    uri = parse_s3_uri(text)
    if not uri.key:
        raise ValidationError(f"'lake {command}' takes s3://bucket/key, got {text!r}")
    return uri.bucket, uri.key


def _read_json(path: str, what: str) -> Any:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text()
    except OSError as exc:
        raise ValidationError(f"Cannot read the {what} {path}: {exc.strerror}") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ValidationError(f"The {what} {path} is not valid JSON: {exc}") from None


def _parse_tags(pairs: list[str]) -> dict[str, str]:
    tags: dict[str, str] = {}
    for pair in pairs:
        key, eq, value = pair.partition("=")
        if not eq or not key:
            raise ValidationError(f"Give tags as KEY=VALUE, got {pair!r}")
        tags[key] = value
    return tags


# -- versioning ------------------------------------------------------------------------------


def _versioning(uri: str, status: str | None, output: OutputFormat) -> None:
    bucket = _bucket(uri, "versioning")
    with connect() as client:
        versioning = client.buckets.versioning
        state = versioning.get(bucket) if status is None else versioning.put(bucket, status)
    emit(jsonable(state), output, f"{bucket}: {state.status or 'never enabled'}")


@versioning_app.command("status")
def versioning_status(uri: BucketArgument, output: OutputOption = OutputFormat.table) -> None:
    """Show whether versioning is Enabled, Suspended or never enabled."""
    _versioning(uri, None, output)


@versioning_app.command("enable")
def versioning_enable(uri: BucketArgument, output: OutputOption = OutputFormat.table) -> None:
    """Keep every version of every key from now on."""
    _versioning(uri, "Enabled", output)


@versioning_app.command("suspend")
def versioning_suspend(uri: BucketArgument, output: OutputOption = OutputFormat.table) -> None:
    """Stop making new versions (existing ones stay)."""
    _versioning(uri, "Suspended", output)


# -- versions --------------------------------------------------------------------------------


@versions_app.command("list")
def versions_list(
    uri: Annotated[str, typer.Argument(help="s3://bucket[/prefix]", show_default=False)],
    output: OutputOption = OutputFormat.table,
) -> None:
    """List versions and delete markers under a prefix (by key, newest first)."""
    target = parse_s3_uri(uri)
    with connect() as client:
        found = list(client.objects.versions.list(target.bucket, prefix=target.key))
    emit_rows(found, _VERSION_COLUMNS, output)


@versions_app.command("get")
def versions_get(
    uri: ObjectArgument,
    version_id: VersionArgument,
    destination: Annotated[Path, typer.Argument(help="Local file to write.", show_default=False)],
    output: OutputOption = OutputFormat.table,
) -> None:
    """Download one version of an object."""
    bucket, key = _object(uri, "versions get")
    with connect() as client:
        info = client.objects.versions.download(bucket, key, version_id, destination)
    text = f"download: s3://{bucket}/{key} ({version_id}) to {destination}"
    emit(jsonable(info), output, text)


@versions_app.command("delete")
def versions_delete(
    uri: ObjectArgument, version_id: VersionArgument, output: OutputOption = OutputFormat.table
) -> None:
    """Delete one version (or delete marker) for good."""
    bucket, key = _object(uri, "versions delete")
    with connect() as client:
        result = client.objects.versions.delete(bucket, key, version_id)
    emit(jsonable(result), output, f"delete: s3://{bucket}/{key} ({version_id})")


# -- tags ------------------------------------------------------------------------------------


def _print_tags(tags: dict[str, str], output: OutputFormat) -> None:
    emit({"tags": tags}, output, "\n".join(f"{k}={v}" for k, v in tags.items()) or "(none)")


@tags_app.command("get")
def tags_get(
    uri: Annotated[str, typer.Argument(help="s3://bucket or s3://bucket/key.")],
    version_id: VersionOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Show the tags of a bucket or an object, one KEY=VALUE a line."""
    target = parse_s3_uri(uri)
    with connect() as client:
        if target.key:
            tags = client.objects.tags.get(target.bucket, target.key, version_id=version_id).tags
        else:
            tags = client.buckets.tags.get(target.bucket)
    _print_tags(tags, output)


@tags_app.command("put")
def tags_put(
    uri: Annotated[str, typer.Argument(help="s3://bucket or s3://bucket/key.")],
    tags: Annotated[list[str], typer.Argument(help="KEY=VALUE ...", show_default=False)],
    version_id: VersionOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Replace the tags of a bucket or an object."""
    target = parse_s3_uri(uri)
    wanted = _parse_tags(tags)
    with connect() as client:
        if target.key:
            got = client.objects.tags.put(target.bucket, target.key, wanted, version_id=version_id)
            result = got.tags
        else:
            result = client.buckets.tags.put(target.bucket, wanted)
    _print_tags(result, output)


@tags_app.command("delete")
def tags_delete(
    uri: Annotated[str, typer.Argument(help="s3://bucket or s3://bucket/key.")],
    version_id: VersionOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Remove the tags of a bucket or an object."""
    target = parse_s3_uri(uri)
    with connect() as client:
        if target.key:
            client.objects.tags.delete(target.bucket, target.key, version_id=version_id)
        else:
            client.buckets.tags.delete(target.bucket)
    emit({"uri": uri, "tags_deleted": True}, output, f"delete_tags: {uri}")


# -- encryption ------------------------------------------------------------------------------


@encryption_app.command("get")
def encryption_get(uri: BucketArgument, output: OutputOption = OutputFormat.table) -> None:
    """Show the bucket's default encryption."""
    bucket = _bucket(uri, "encryption get")
    with connect() as client:
        config = client.buckets.encryption.get(bucket)
    key = f" ({config.kms_key_id})" if config.kms_key_id else ""
    emit(jsonable(config), output, f"{bucket}: {config.algorithm}{key}")


@encryption_app.command("put")
def encryption_put(
    uri: BucketArgument,
    algorithm: Annotated[str, typer.Option(help="AES256 or aws:kms.")] = "AES256",
    kms_key_id: Annotated[str | None, typer.Option(help="Key id for aws:kms.")] = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Encrypt new objects of the bucket at rest by default."""
    bucket = _bucket(uri, "encryption put")
    with connect() as client:
        config = client.buckets.encryption.put(bucket, algorithm=algorithm, kms_key_id=kms_key_id)
    key = f" ({config.kms_key_id})" if config.kms_key_id else ""
    emit(jsonable(config), output, f"{bucket}: {config.algorithm}{key}")


@encryption_app.command("delete")
def encryption_delete(uri: BucketArgument, output: OutputOption = OutputFormat.table) -> None:
    """Stop encrypting new objects by default."""
    bucket = _bucket(uri, "encryption delete")
    with connect() as client:
        client.buckets.encryption.delete(bucket)
    emit({"bucket": bucket, "encryption_deleted": True}, output, f"delete_encryption: {bucket}")


# -- policy ----------------------------------------------------------------------------------


@policy_app.command("get")
def policy_get(uri: BucketArgument) -> None:
    """Print the bucket policy (JSON)."""
    bucket = _bucket(uri, "policy get")
    with connect() as client:
        text = client.buckets.policy.get(bucket)
    sys.stdout.write(json.dumps(json.loads(text), indent=2) + "\n")


@policy_app.command("put")
def policy_put(
    uri: BucketArgument, document: DocumentArgument, output: OutputOption = OutputFormat.table
) -> None:
    """Set the bucket policy from a JSON file."""
    bucket = _bucket(uri, "policy put")
    policy = _read_json(document, "policy")
    if not isinstance(policy, dict):
        raise ValidationError(f"The policy {document} must be a JSON object (a policy document)")
    with connect() as client:
        client.buckets.policy.put(bucket, policy)
    emit({"bucket": bucket, "policy": policy}, output, f"put_policy: {bucket}")


@policy_app.command("delete")
def policy_delete(uri: BucketArgument, output: OutputOption = OutputFormat.table) -> None:
    """Remove the bucket policy."""
    bucket = _bucket(uri, "policy delete")
    with connect() as client:
        client.buckets.policy.delete(bucket)
    emit({"bucket": bucket, "policy_deleted": True}, output, f"delete_policy: {bucket}")


# -- lifecycle -------------------------------------------------------------------------------


@lifecycle_app.command("get")
def lifecycle_get(uri: BucketArgument) -> None:
    """Print the bucket's lifecycle rules (JSON: {"rules": [...]})."""
    bucket = _bucket(uri, "lifecycle get")
    with connect() as client:
        rules = client.buckets.lifecycle.get(bucket)
    sys.stdout.write(json.dumps({"rules": jsonable(rules)}, indent=2) + "\n")


@lifecycle_app.command("put")
def lifecycle_put(
    uri: BucketArgument, document: DocumentArgument, output: OutputOption = OutputFormat.table
) -> None:
    """Replace the bucket's lifecycle rules from a JSON file: {"rules": [...]} or [...]."""
    bucket = _bucket(uri, "lifecycle put")
    data = _read_json(document, "lifecycle configuration")
    rules = data.get("rules") if isinstance(data, dict) else data
    if not isinstance(rules, list):
        raise ValidationError(
            f'The lifecycle configuration {document} must be {{"rules": [...]}} or a list of rules'
        )
    with connect() as client:
        stored = client.buckets.lifecycle.put(bucket, rules)
    count = len(stored)
    emit(
        {"rules": jsonable(stored)},
        output,
        f"put_lifecycle: {bucket} ({count} rule{'' if count == 1 else 's'})",
    )


@lifecycle_app.command("delete")
def lifecycle_delete(uri: BucketArgument, output: OutputOption = OutputFormat.table) -> None:
    """Remove the bucket's lifecycle rules."""
    bucket = _bucket(uri, "lifecycle delete")
    with connect() as client:
        client.buckets.lifecycle.delete(bucket)
    emit({"bucket": bucket, "lifecycle_deleted": True}, output, f"delete_lifecycle: {bucket}")


@lifecycle_app.command("run")
def lifecycle_run(output: OutputOption = OutputFormat.table) -> None:
    """Apply every bucket's lifecycle rules now (admin)."""
    with connect() as client:
        report = client.buckets.lifecycle.run()
    text = ", ".join(f"{name}={value}" for name, value in report.model_dump().items())
    emit(jsonable(report), output, text)
