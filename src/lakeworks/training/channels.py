"""Staging a training job's channels and checkpoints, and recording what was read (lineage).

Channels (``InputDataConfig``):

``S3Prefix``
    The object, or every object under the prefix, into ``input/data/<channel>/`` (an object
    keeps its file name; a prefix keeps the key paths below it).
``ManifestFile``
    A JSON list whose first entry is ``{"prefix": "s3://bucket/prefix/"}`` and whose other
    entries are keys relative to it; each object lands at its relative path.

Pipe and FastFile input modes are staged as files too (a note in the job's log says so), and
``ShuffleConfig`` is passed on in ``inputdataconfig.json``. Each channel's objects are listed
with their ETags before the download, so the run record says exactly which bytes a model was
trained on.

Checkpoints (``CheckpointConfig``): ``S3Uri`` is restored into the job's ``checkpoints/``
directory before it starts; :class:`CheckpointSync` uploads new or changed files while it runs
and once more when it ends. Files are read with ``lstat``; links are never followed.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import LakeworksError, NotFound, ValidationError
from lakeworks.jobs import staging
from lakeworks.jobs.layout import JobPaths
from lakeworks.lake.service import LakeService
from lakeworks.schemas.jobs import Channel as JobChannel
from lakeworks.schemas.training import Channel, InputLineage, ObjectLineage
from lakeworks.training.tracking import digest_objects

__all__ = [
    "CHECKPOINT_DIR",
    "MAX_LINEAGE_OBJECTS",
    "CheckpointSync",
    "checkpoint_dir",
    "input_data_config",
    "restore_checkpoints",
    "stage_channel",
]

CHECKPOINT_DIR = "checkpoints"
#: SageMaker's default local checkpoint path; other paths under /opt/ml map into the job too.
SAGEMAKER_CHECKPOINTS = "/opt/ml/checkpoints"
MAX_LINEAGE_OBJECTS = 100
_MAX_MANIFEST_BYTES = 16 * 1024 * 1024


def checkpoint_dir(paths: JobPaths, local_path: str | None) -> Path:
    """The job directory's stand-in for ``LocalPath`` (default ``/opt/ml/checkpoints``).

    Raises:
        ValidationError: ``local_path`` is not under ``/opt/ml`` (the container's job directory).
    """
    local = PurePosixPath(local_path or SAGEMAKER_CHECKPOINTS)
    if (
        not local.is_absolute()
        or ".." in local.parts
        or not local.is_relative_to("/opt/ml")
        or local == PurePosixPath("/opt/ml")
    ):
        raise ValidationError(
            f"CheckpointConfig.LocalPath {local_path!r} must be a directory under /opt/ml "
            "(default /opt/ml/checkpoints); Lakeworks maps /opt/ml to the job's directory",
            details={"field": "CheckpointConfig.LocalPath"},
        )
    relative = local.relative_to("/opt/ml")
    if relative.parts[0] in ("input", "model", "output", "code"):
        raise ValidationError(
            f"CheckpointConfig.LocalPath {local_path!r} overlaps the job's own "
            f"/opt/ml/{relative.parts[0]} directory; use /opt/ml/checkpoints"
        )
    return paths.root.joinpath(*relative.parts)


def input_data_config(channels: list[Channel], input_mode: str) -> dict[str, dict[str, Any]]:
    """``inputdataconfig.json`` as SageMaker writes it for these channels."""
    config: dict[str, dict[str, Any]] = {}
    for channel in channels:
        source = channel.data_source.s3_data_source
        entry: dict[str, Any] = {
            "TrainingInputMode": channel.input_mode or input_mode,
            "S3DistributionType": (source.s3_data_distribution_type if source else None)
            or "FullyReplicated",
            "RecordWrapperType": channel.record_wrapper_type or "None",
        }
        if channel.content_type:
            entry["ContentType"] = channel.content_type
        if channel.compression_type != "None":
            entry["CompressionType"] = channel.compression_type
        if channel.shuffle_config is not None:
            entry["ShuffleConfig"] = {"Seed": channel.shuffle_config.seed}
        config[channel.channel_name] = entry
    return config


def _lineage_of(
    lake: LakeService, ctx: RequestContext, channel: str, uri: str, data_type: str
) -> tuple[InputLineage, list[tuple[str, str]]]:
    """List the objects ``uri`` stands for (the lake's download rule) with their ETags."""
    bucket, key = staging.split_uri(uri)
    objects: list[ObjectLineage] = []
    pairs: list[tuple[str, str]] = []
    total = 0
    if key and not key.endswith("/"):
        try:
            info = lake.head_object(ctx, bucket, key)
        except NotFound:
            key += "/"
        else:
            lineage = ObjectLineage(uri=uri, etag=info.etag, size=info.size)
            return (
                InputLineage(
                    channel_name=channel,
                    s3_uri=uri,
                    s3_data_type=data_type,
                    object_count=1,
                    total_bytes=info.size,
                    digest=digest_objects([(key, info.etag)]),
                    objects=[lineage],
                ),
                [(key, info.etag)],
            )
    token: str | None = None
    while True:
        page = lake.list_objects(ctx, bucket, prefix=key, continuation_token=token)
        for item in page.items:
            if item.key.endswith("/"):
                continue
            pairs.append((item.key, item.etag))
            total += item.size
            if len(objects) < MAX_LINEAGE_OBJECTS:
                objects.append(
                    ObjectLineage(uri=f"s3://{bucket}/{item.key}", etag=item.etag, size=item.size)
                )
        token = page.next_token
        if token is None:
            break
    return (
        InputLineage(
            channel_name=channel,
            s3_uri=uri,
            s3_data_type=data_type,
            object_count=len(pairs),
            total_bytes=total,
            digest=digest_objects(pairs),
            objects=objects,
        ),
        pairs,
    )


def _read_manifest(
    lake: LakeService, ctx: RequestContext, uri: str, scratch: Path
) -> tuple[str, list[str]]:
    """A SageMaker manifest file: its prefix and the relative keys it lists."""
    scratch.mkdir(parents=True, exist_ok=True)
    copy = scratch / "manifest.json"
    try:
        lake.download(ctx, uri, copy)
        if copy.stat().st_size > _MAX_MANIFEST_BYTES:
            raise ValidationError(f"Manifest {uri} is larger than {_MAX_MANIFEST_BYTES} bytes")
        entries = json.loads(copy.read_text())
    except ValueError as exc:
        raise ValidationError(f"Manifest {uri} is not valid JSON: {exc}") from None
    finally:
        copy.unlink(missing_ok=True)
    if (
        not isinstance(entries, list)
        or not entries
        or not isinstance(entries[0], dict)
        or not isinstance(entries[0].get("prefix"), str)
    ):
        raise ValidationError(
            f'Manifest {uri} must be a JSON list starting with {{"prefix": "s3://..."}} '
            "followed by keys relative to that prefix"
        )
    prefix: str = entries[0]["prefix"]
    if not prefix.startswith("s3://"):
        raise ValidationError(f"Manifest {uri}: prefix {prefix!r} is not an s3:// URI")
    relative = entries[1:]
    if not relative or not all(isinstance(r, str) and r for r in relative):
        raise ValidationError(f"Manifest {uri} must list at least one key after the prefix")
    return prefix if prefix.endswith("/") else prefix + "/", relative


def stage_channel(
    lake: LakeService, ctx: RequestContext, channel: Channel, paths: JobPaths
) -> InputLineage:
    """Download one channel into ``input/data/<channel>/``; return what it read.

    Raises:
        LakeworksError: Naming the channel and the URI (nothing there, a bad manifest …).
    """
    source = channel.data_source.s3_data_source
    name = channel.channel_name
    if source is None:
        raise ValidationError(
            f"Channel {name!r}: only S3 data sources are supported (DataSource.S3DataSource)"
        )
    dest = paths.channel_dir(name)
    dest.mkdir(parents=True, exist_ok=True)
    try:
        if source.s3_data_type == "ManifestFile":
            prefix, keys = _read_manifest(lake, ctx, source.s3_uri, paths.root / "transfer")
            pairs: list[tuple[str, str]] = []
            objects: list[ObjectLineage] = []
            total = 0
            for relative in keys:
                uri = prefix + relative
                bucket, key = staging.split_uri(uri)
                target = dest.joinpath(*[p for p in relative.split("/") if p])
                if not target.resolve().is_relative_to(dest.resolve()) or target == dest:
                    raise ValidationError(
                        f"Manifest entry {relative!r} would be written outside the channel"
                    )
                info = lake.head_object(ctx, bucket, key)
                lake.download(ctx, uri, target)
                pairs.append((key, info.etag))
                total += info.size
                if len(objects) < MAX_LINEAGE_OBJECTS:
                    objects.append(ObjectLineage(uri=uri, etag=info.etag, size=info.size))
            return InputLineage(
                channel_name=name,
                s3_uri=source.s3_uri,
                s3_data_type=source.s3_data_type,
                object_count=len(pairs),
                total_bytes=total,
                digest=digest_objects(pairs),
                objects=objects,
            )
        if source.s3_data_type != "S3Prefix":
            raise ValidationError(
                f"Channel {name!r}: S3DataType {source.s3_data_type} is not supported; "
                "use S3Prefix or ManifestFile"
            )
        lineage, _ = _lineage_of(lake, ctx, name, source.s3_uri, source.s3_data_type)
        if lineage.object_count == 0:
            raise NotFound(f"No objects at {source.s3_uri}", aws_code="NoSuchKey")
        legacy = JobChannel(channel_name=name, s3_uri=source.s3_uri)
        staging.stage_channel(lake, ctx, legacy, paths)
        return lineage
    except LakeworksError as exc:
        raise type(exc)(
            f"Downloading channel {name!r} from {source.s3_uri} failed: {exc.message}",
            details=exc.details,
            aws_code=exc.aws_code,
        ) from None


def restore_checkpoints(
    lake: LakeService, ctx: RequestContext, s3_uri: str, directory: Path
) -> int:
    """Download what ``s3_uri`` holds into ``directory``; 0 when there is nothing yet."""
    directory.mkdir(parents=True, exist_ok=True)
    bucket, key = staging.split_uri(s3_uri)
    prefix = key if not key or key.endswith("/") else key + "/"
    try:
        return lake.download(ctx, f"s3://{bucket}/{prefix}", directory)
    except NotFound as exc:
        if exc.aws_code == "NoSuchBucket":
            raise ValidationError(
                f"CheckpointConfig.S3Uri {s3_uri}: the bucket {bucket!r} does not exist"
            ) from None
        return 0


@dataclass
class CheckpointSync:
    """Uploads new or changed checkpoint files of one job (remembers what it sent)."""

    s3_uri: str
    directory: Path
    sent: dict[str, tuple[int, int]] = field(default_factory=dict)

    def changed(self) -> list[tuple[str, Path]]:
        """Regular files (never through links) that are new or changed since the last sync."""
        found: list[tuple[str, Path]] = []
        if not self.directory.is_dir() or self.directory.is_symlink():
            return found
        for folder, dirnames, filenames in os.walk(self.directory, followlinks=False):
            dirnames.sort()
            for name in sorted(filenames):
                path = Path(folder) / name
                info = path.lstat()
                if not stat.S_ISREG(info.st_mode):
                    continue
                relative = path.relative_to(self.directory).as_posix()
                if self.sent.get(relative) != (info.st_size, info.st_mtime_ns):
                    found.append((relative, path))
        return found

    def sync(self, lake: LakeService, ctx: RequestContext) -> int:
        """Upload what changed; return how many files were sent."""
        count = 0
        for relative, path in self.changed():
            info = path.lstat()
            staging.upload_file(
                lake, ctx, path, staging.join_uri(self.s3_uri, relative), "binary/octet-stream"
            )
            self.sent[relative] = (info.st_size, info.st_mtime_ns)
            count += 1
        return count
