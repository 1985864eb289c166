"""Moving a job's data between the lake and its directory (server side).

Before the job: the code (a ``.py`` object, a ``.tar.gz`` of sources checked member by member, or
a prefix) into ``code/``, and each channel into ``input/data/<channel>/`` — an object as
``<channel>/<its file name>``, a prefix as the tree of keys below it, as SageMaker stages them.

After the job, under ``<output_path>/<job>/``:

``output/model.tar.gz``
    ``model/`` packed (names relative to it).
``output/output.tar.gz`` and ``output/data/<file>``
    ``output/data/`` packed as SageMaker does, and its files one by one for tools that read
    the lake in place.
``logs/output.log``
    The job's combined stdout/stderr.

Files are read with ``lstat`` and symbolic links are never followed, so a job cannot make the
server upload files from outside its directory. Every transfer acts as the principal that
submitted the job.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import NotFound, ValidationError
from lakeworks.jobs.archives import pack_directory, safe_extract
from lakeworks.jobs.layout import JobPaths
from lakeworks.schemas.jobs import Channel

__all__ = [
    "Lake",
    "Results",
    "join_uri",
    "split_uri",
    "stage_channel",
    "stage_code",
    "upload_file",
    "upload_results",
]

_ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar")


class Lake(Protocol):
    """What staging needs from :class:`lakeworks.lake.service.LakeService`."""

    def download(self, ctx: RequestContext, s3_uri: str, dest: Path) -> int:
        """An object → ``dest`` file, or a prefix → files under ``dest``; NotFound if nothing."""
        ...

    def upload_file(
        self, ctx: RequestContext, path: Path, s3_uri: str, *, content_type: str | None = None
    ) -> Any:
        """Store the file at ``path`` as the object ``s3_uri``."""
        ...

    def head_object(self, ctx: RequestContext, bucket: str, key: str) -> Any:
        """An object's metadata; NotFound if it does not exist."""
        ...


@dataclass(frozen=True)
class Results:
    """Where a job's results went."""

    model_artifacts: str | None = None
    output_data: str | None = None


def split_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/some/key`` → ``("bucket", "some/key")``.

    Raises:
        ValidationError: Not an s3:// URI with a bucket.
    """
    if not uri.startswith("s3://") or not uri[5:].split("/", 1)[0]:
        raise ValidationError(f"Expected an s3://bucket/key URI, got {uri!r}")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


def join_uri(base: str, *parts: str) -> str:
    """Join ``parts`` onto the s3:// prefix ``base`` with single slashes."""
    return "/".join([base.rstrip("/"), *(p.strip("/") for p in parts)])


def _is_object(lake: Lake, ctx: RequestContext, uri: str) -> bool:
    bucket, key = split_uri(uri)
    if not key or key.endswith("/"):
        return False
    try:
        lake.head_object(ctx, bucket, key)
    except NotFound:
        return False
    return True


def stage_code(
    lake: Lake, ctx: RequestContext, code_uri: str, paths: JobPaths, entry_point: str
) -> None:
    """Fill ``code/`` from ``code_uri`` and check that the entry point is a file in it.

    Raises:
        LakeworksError: From the lake (NotFound …), or UnsafeArchive, or a ValidationError when
            the entry point is missing; each message names what was wrong.
    """
    key = split_uri(code_uri)[1]
    if key.endswith(_ARCHIVE_SUFFIXES):
        scratch = paths.root / "transfer"
        scratch.mkdir(parents=True, exist_ok=True)
        archive = scratch / "sourcedir.tar.gz"
        lake.download(ctx, code_uri, archive)
        try:
            safe_extract(archive, paths.code_dir)
        finally:
            archive.unlink(missing_ok=True)
    elif _is_object(lake, ctx, code_uri):
        paths.code_dir.mkdir(parents=True, exist_ok=True)
        lake.download(ctx, code_uri, paths.code_dir / PurePosixPath(key).name)
    else:
        paths.code_dir.mkdir(parents=True, exist_ok=True)
        lake.download(ctx, code_uri, paths.code_dir)
    entry = paths.code_dir / entry_point
    inside = entry.resolve().is_relative_to(paths.code_dir.resolve())
    if not inside or not entry.is_file():
        found = sorted(
            str(p.relative_to(paths.code_dir)) for p in paths.code_dir.rglob("*") if p.is_file()
        )
        shown = ", ".join(found[:10]) + (" ..." if len(found) > 10 else "")
        raise ValidationError(
            f"entry_point {entry_point!r} is not a file in {code_uri} (found: {shown or 'nothing'})"
        )


def stage_channel(lake: Lake, ctx: RequestContext, channel: Channel, paths: JobPaths) -> int:
    """Download one channel into ``input/data/<channel>/``; return the number of files."""
    dest = paths.channel_dir(channel.channel_name)
    dest.mkdir(parents=True, exist_ok=True)
    if _is_object(lake, ctx, channel.s3_uri):
        key = split_uri(channel.s3_uri)[1]
        return lake.download(ctx, channel.s3_uri, dest / PurePosixPath(key).name)
    return lake.download(ctx, channel.s3_uri, dest)


def _regular_files(root: Path) -> list[Path]:
    """Regular files under ``root``, never through a symbolic link, sorted."""
    found: list[Path] = []
    for directory, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(directory) / name
            if stat.S_ISREG(path.lstat().st_mode):
                found.append(path)
    return found


def upload_file(lake: Lake, ctx: RequestContext, path: Path, uri: str, content_type: str) -> None:
    """Upload ``path`` unless it is a symbolic link or not a regular file."""
    if stat.S_ISREG(path.lstat().st_mode):
        lake.upload_file(ctx, path, uri, content_type=content_type)


def upload_results(
    lake: Lake,
    ctx: RequestContext,
    paths: JobPaths,
    job_uri: str,
    *,
    include_model: bool,
) -> Results:
    """Pack and upload ``model/`` and ``output/data/`` under ``job_uri`` (``<output_path>/<job>``).

    Args:
        lake: The lake.
        ctx: The submitting principal.
        paths: The job's layout.
        job_uri: The job's prefix in the lake.
        include_model: Upload ``model.tar.gz`` even when ``model/`` is empty (a completed job
            always has one, as on SageMaker; a stopped one only if it saved something).

    Returns:
        The URIs of what was uploaded.
    """
    scratch = paths.root / "transfer"
    model_artifacts = output_data = None
    if include_model or _regular_files(paths.model_dir):
        archive = scratch / "model.tar.gz"
        pack_directory(paths.model_dir, archive)
        model_artifacts = join_uri(job_uri, "output", "model.tar.gz")
        upload_file(lake, ctx, archive, model_artifacts, "application/x-gzip")
        archive.unlink()
    data_files = _regular_files(paths.output_data_dir)
    if data_files:
        archive = scratch / "output.tar.gz"
        pack_directory(paths.output_data_dir, archive)
        upload_file(
            lake, ctx, archive, join_uri(job_uri, "output", "output.tar.gz"), "application/x-gzip"
        )
        archive.unlink()
        output_data = join_uri(job_uri, "output", "data") + "/"
        for path in data_files:
            relative = path.relative_to(paths.output_data_dir).as_posix()
            upload_file(lake, ctx, path, join_uri(output_data, relative), "binary/octet-stream")
    return Results(model_artifacts=model_artifacts, output_data=output_data)
