"""``lakeworks lake``: buckets and objects addressed as ``s3://bucket/key``, like ``aws s3``."""

from __future__ import annotations

import mimetypes
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from lakeworks.cli.output import OutputFormat, OutputOption, emit, emit_rows, jsonable
from lakeworks.cli.server import connect
from lakeworks.core.errors import ValidationError

if TYPE_CHECKING:
    from lakeworks.sdk.client import Client

__all__ = ["S3Uri", "app", "parse_s3_uri"]

app = typer.Typer(help="Buckets and objects (s3://bucket/key).", no_args_is_help=True)

_SCHEME = "s3://"


@dataclass(frozen=True)
class S3Uri:
    """A parsed ``s3://bucket[/key]``; ``key`` is empty for the bucket itself."""

    bucket: str
    key: str = ""

    def __str__(self) -> str:
        return f"{_SCHEME}{self.bucket}/{self.key}"

    def child(self, name: str) -> S3Uri:
        """The key ``name`` under this one, treated as a folder."""
        prefix = self.key if not self.key or self.key.endswith("/") else f"{self.key}/"
        return S3Uri(self.bucket, prefix + name)


def parse_s3_uri(text: str) -> S3Uri:
    """Parse ``s3://bucket[/key]``.

    Raises:
        ValidationError: Not an ``s3://`` URI, or no bucket in it.
    """
    if not text.startswith(_SCHEME):
        raise ValidationError(
            f"Expected an S3 URI like s3://bucket/key, got {text!r}", details={"uri": text}
        )
    bucket, _, key = text[len(_SCHEME) :].partition("/")
    if not bucket:
        raise ValidationError(
            f"The S3 URI {text!r} names no bucket: use s3://bucket/key", details={"uri": text}
        )
    return S3Uri(bucket, key)


def _bucket_only(text: str, command: str) -> str:
    uri = parse_s3_uri(text)
    if uri.key:
        raise ValidationError(f"'lake {command}' takes s3://bucket with no key, got {text!r}")
    return uri.bucket


@app.command()
def ls(
    uri: Annotated[
        str | None, typer.Argument(help="s3://bucket[/prefix]; none lists the buckets.")
    ] = None,
    recursive: Annotated[
        bool, typer.Option("--recursive", "-r", help="List every key, not one level.")
    ] = False,
    output: OutputOption = OutputFormat.table,
) -> None:
    """List buckets, or the objects and folders under s3://bucket/prefix."""
    target = parse_s3_uri(uri) if uri is not None else None  # before any connection
    with connect() as client:
        if target is None:
            emit_rows(
                client.buckets.list(), [("CREATED", "creation_time"), ("NAME", "name")], output
            )
            return
        prefixes: list[str] = []
        objects = []
        for page in client.objects.listings(
            target.bucket, prefix=target.key, delimiter=None if recursive else "/"
        ):
            prefixes += page.common_prefixes
            objects += page.items
    if output is OutputFormat.json:
        emit({"prefixes": prefixes, "objects": jsonable(objects)}, output, "")
        return
    lines = [f"{'PRE':>30} {prefix}" for prefix in prefixes]
    lines += [f"{obj.last_modified:%Y-%m-%d %H:%M:%S} {obj.size:>10} {obj.key}" for obj in objects]
    if lines:
        typer.echo("\n".join(lines))


@app.command()
def mb(
    uri: Annotated[str, typer.Argument(help="s3://bucket")],
    output: OutputOption = OutputFormat.table,
) -> None:
    """Make a bucket."""
    bucket = _bucket_only(uri, "mb")
    with connect() as client:
        info = client.buckets.create(bucket)
    emit(jsonable(info), output, f"make_bucket: {bucket}")


@app.command()
def rb(
    uri: Annotated[str, typer.Argument(help="s3://bucket")],
    output: OutputOption = OutputFormat.table,
) -> None:
    """Remove an empty bucket."""
    bucket = _bucket_only(uri, "rb")
    with connect() as client:
        client.buckets.delete(bucket)
    emit({"bucket": bucket, "deleted": True}, output, f"remove_bucket: {bucket}")


@app.command()
def rm(
    uri: Annotated[str, typer.Argument(help="s3://bucket/key")],
    output: OutputOption = OutputFormat.table,
) -> None:
    """Delete an object."""
    target = parse_s3_uri(uri)
    if not target.key:
        raise ValidationError(
            f"'lake rm' deletes one object: give s3://bucket/key (got {uri!r}); "
            "remove an empty bucket with 'lake rb'"
        )
    with connect() as client:
        client.objects.delete(target.bucket, target.key)
    emit({"deleted": str(target)}, output, f"delete: {target}")


@app.command()
def cp(
    source: Annotated[str, typer.Argument(help="Local path or s3://bucket/key.")],
    destination: Annotated[str, typer.Argument(help="s3://bucket/key or local path.")],
    recursive: Annotated[
        bool,
        typer.Option("--recursive", "-r", help="Copy a local folder or every key under a prefix."),
    ] = False,
    content_type: Annotated[
        str | None, typer.Option(help="Content type of uploads (default: guessed from the name).")
    ] = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Copy between a local path and the lake: upload (local → s3://) or download (s3:// →
    local). A destination ending in '/' (or an existing folder) keeps the source's name."""
    upload = destination.startswith(_SCHEME)
    if upload == source.startswith(_SCHEME):
        raise ValidationError(
            "'lake cp' copies between a local path and an s3:// URI: exactly one of "
            f"SOURCE ({source!r}) and DESTINATION ({destination!r}) must start with s3://"
        )
    remote = parse_s3_uri(destination if upload else source)
    # Local mistakes are reported before connecting (which may start a server).
    uploads: list[tuple[Path, S3Uri]] = []
    if upload:
        uploads = _upload_plan(Path(source), remote, recursive)
    elif not recursive and (not remote.key or remote.key.endswith("/")):
        raise ValidationError(
            f"{remote} is a prefix, not an object: add --recursive to download every key under it"
        )
    with connect() as client:
        if upload:
            copied = [_put(client, path, uri, content_type) for path, uri in uploads]
        else:
            copied = _download(client, remote, destination, recursive)
    verb = "upload" if upload else "download"
    emit(
        [{"from": src, "to": dst, "size": size} for src, dst, size in copied],
        output,
        "\n".join(f"{verb}: {src} to {dst}" for src, dst, _ in copied),
    )


def _upload_plan(source: Path, target: S3Uri, recursive: bool) -> list[tuple[Path, S3Uri]]:
    """Which local file goes to which key."""
    if source.is_dir():
        if not recursive:
            raise ValidationError(f"{source} is a folder: add --recursive to upload its files")
        files = sorted(p for p in source.rglob("*") if p.is_file())
        return [(p, target.child(p.relative_to(source).as_posix())) for p in files]
    if source.is_file():
        into = not target.key or target.key.endswith("/")
        return [(source, target.child(source.name) if into else target)]
    raise ValidationError(f"Cannot upload {source}: no such file or folder")


def _put(client: Client, path: Path, uri: S3Uri, content_type: str | None) -> tuple[str, str, int]:
    kind = content_type or mimetypes.guess_type(path.name)[0]
    info = client.objects.put(uri.bucket, uri.key, path, content_type=kind)
    return str(path), str(uri), info.size


def _download(
    client: Client, source: S3Uri, destination: str, recursive: bool
) -> list[tuple[str, str, int]]:
    target = Path(destination)
    if recursive:
        prefix = source.key if not source.key or source.key.endswith("/") else f"{source.key}/"
        pairs = [
            (S3Uri(source.bucket, obj.key), _inside(target, obj.key[len(prefix) :]))
            for obj in client.objects.list(source.bucket, prefix=prefix)
            if not obj.key.endswith("/")
        ]
    else:
        name = source.key.rsplit("/", 1)[-1]
        into = target.is_dir() or destination.endswith(("/", os.sep))
        pairs = [(source, target / name if into else target)]
    copied = []
    for uri, path in pairs:
        path.parent.mkdir(parents=True, exist_ok=True)
        info = client.objects.download(uri.bucket, uri.key, path)
        copied.append((str(uri), str(path), info.size))
    return copied


def _inside(folder: Path, relative: str) -> Path:
    """``folder / relative``, refusing keys that would land outside ``folder``."""
    path = folder / relative
    if not path.resolve().is_relative_to(folder.resolve()):
        raise ValidationError(f"Refusing to download key part {relative!r} outside {folder}")
    return path
