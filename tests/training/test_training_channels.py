"""Checkpoint paths and uploads, and inputdataconfig.json, without a server."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import ValidationError
from lakeworks.jobs.layout import JobPaths
from lakeworks.schemas.training import Channel
from lakeworks.training.channels import CheckpointSync, checkpoint_dir, input_data_config

CTX = RequestContext(principal="admin", scopes=frozenset({"read", "write"}))


@dataclass
class RecordingLake:
    uploads: list[tuple[str, bytes]] = field(default_factory=list)

    def upload_file(
        self, ctx: RequestContext, path: Path, s3_uri: str, *, content_type: str | None = None
    ) -> Any:
        self.uploads.append((s3_uri, path.read_bytes()))


def test_checkpoint_paths_map_under_the_job_directory(tmp_path: Path) -> None:
    paths = JobPaths(tmp_path)
    assert checkpoint_dir(paths, None) == tmp_path / "checkpoints"
    assert checkpoint_dir(paths, "/opt/ml/checkpoints") == tmp_path / "checkpoints"
    assert checkpoint_dir(paths, "/opt/ml/my/ckpt") == tmp_path / "my" / "ckpt"
    for bad in ("/tmp/ckpt", "relative", "/opt/ml/../etc", "/opt/ml", "/opt/ml/model/x"):
        with pytest.raises(ValidationError, match="LocalPath"):
            checkpoint_dir(paths, bad)


def test_checkpoint_sync_uploads_new_and_changed_files_only(tmp_path: Path) -> None:
    directory = tmp_path / "checkpoints"
    (directory / "sub").mkdir(parents=True)
    (directory / "a.ckpt").write_bytes(b"1")
    (directory / "sub" / "b.ckpt").write_bytes(b"2")
    os.symlink("/etc/hostname", directory / "leak")
    lake = RecordingLake()
    sync = CheckpointSync("s3://bucket/ckpt/run", directory)
    assert sync.sync(lake, CTX) == 2  # type: ignore[arg-type]
    assert sorted(u for u, _ in lake.uploads) == [
        "s3://bucket/ckpt/run/a.ckpt",
        "s3://bucket/ckpt/run/sub/b.ckpt",
    ]
    assert sync.sync(lake, CTX) == 0  # type: ignore[arg-type]
    (directory / "a.ckpt").write_bytes(b"1 and more")
    (directory / "c.ckpt").write_bytes(b"3")
    assert sync.sync(lake, CTX) == 2  # type: ignore[arg-type]
    assert lake.uploads[-2:] == [
        ("s3://bucket/ckpt/run/a.ckpt", b"1 and more"),
        ("s3://bucket/ckpt/run/c.ckpt", b"3"),
    ]


def test_checkpoint_sync_without_a_directory_sends_nothing(tmp_path: Path) -> None:
    lake = RecordingLake()
    assert CheckpointSync("s3://b/c", tmp_path / "missing").sync(lake, CTX) == 0  # type: ignore[arg-type]


def test_inputdataconfig_is_written_as_sagemaker_writes_it() -> None:
    channels = [
        Channel.model_validate(
            {
                "ChannelName": "train",
                "ContentType": "text/csv",
                "CompressionType": "Gzip",
                "ShuffleConfig": {"Seed": 7},
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://bkt/t/"}},
            }
        ),
        Channel.model_validate(
            {
                "ChannelName": "validation",
                "InputMode": "Pipe",
                "RecordWrapperType": "RecordIO",
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": "s3://bkt/v/",
                        "S3DataDistributionType": "ShardedByS3Key",
                    }
                },
            }
        ),
    ]
    assert input_data_config(channels, "File") == {
        "train": {
            "TrainingInputMode": "File",
            "S3DistributionType": "FullyReplicated",
            "RecordWrapperType": "None",
            "ContentType": "text/csv",
            "CompressionType": "Gzip",
            "ShuffleConfig": {"Seed": 7},
        },
        "validation": {
            "TrainingInputMode": "Pipe",
            "S3DistributionType": "ShardedByS3Key",
            "RecordWrapperType": "RecordIO",
        },
    }
