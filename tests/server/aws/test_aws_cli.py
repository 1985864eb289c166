"""The real ``aws`` CLI (awscli v1) against a real server process."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lakeworks.testing.process import ServerProcess

pytestmark = pytest.mark.slow

AWS = str(Path(sys.executable).with_name("aws"))
MiB = 1024 * 1024

Cli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def aws(aws_server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """Run ``aws <args>`` as admin against the server, with no user config in the way."""
    config_dir = tmp_path_factory.mktemp("aws-config")
    env = {
        **os.environ,
        **aws_server.aws_env(),
        "AWS_CONFIG_FILE": str(config_dir / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(config_dir / "credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_MAX_ATTEMPTS": "1",
    }
    env.pop("AWS_PROFILE", None)

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [AWS, *args], env=env, capture_output=True, text=True, timeout=120, check=False
        )
        if check and result.returncode != 0:
            raise AssertionError(f"aws {' '.join(args)} failed:\n{result.stderr}")
        return result

    return run


def _json(result: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(result.stdout)


def test_sts_get_caller_identity(aws: Cli) -> None:
    identity = _json(aws("sts", "get-caller-identity", "--output", "json"))
    assert identity["Account"] == "000000000000"
    assert identity["Arn"].endswith(":user/admin")


def test_s3_commands_round_trip_a_twenty_megabyte_file(aws: Cli, tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(20 * MiB))
    small = tmp_path / "small.txt"
    small.write_text("hello from the cli\n")
    assert "make_bucket: cli-bucket" in aws("s3", "mb", "s3://cli-bucket").stdout
    aws("s3", "cp", str(source), "s3://cli-bucket/data/big.bin")
    aws("s3", "cp", str(small), "s3://cli-bucket/dir with space/été+1.txt")

    listing = aws("s3", "ls", "s3://cli-bucket/data/").stdout
    assert "big.bin" in listing
    assert str(20 * MiB) in listing
    assert "cli-bucket" in aws("s3", "ls").stdout
    recursive = aws("s3", "ls", "--recursive", "s3://cli-bucket").stdout
    assert "dir with space/été+1.txt" in recursive

    objects = _json(aws("s3api", "list-objects-v2", "--bucket", "cli-bucket", "--output", "json"))
    keys = {item["Key"]: item for item in objects["Contents"]}
    assert set(keys) == {"data/big.bin", "dir with space/été+1.txt"}
    assert keys["data/big.bin"]["Size"] == 20 * MiB
    assert keys["data/big.bin"]["ETag"].endswith('-3"')  # 8 MiB parts: a multipart upload
    prefixed = _json(
        aws(
            "s3api",
            "list-objects-v2",
            "--bucket",
            "cli-bucket",
            "--prefix",
            "dir with",
            "--delimiter",
            "/",
            "--output",
            "json",
        )
    )
    assert [p["Prefix"] for p in prefixed["CommonPrefixes"]] == ["dir with space/"]

    target = tmp_path / "down.bin"
    aws("s3", "cp", "s3://cli-bucket/data/big.bin", str(target))
    assert hashlib.sha256(target.read_bytes()).digest() == (
        hashlib.sha256(source.read_bytes()).digest()
    )

    aws("s3", "cp", "s3://cli-bucket/data/big.bin", "s3://cli-bucket/data/copy.bin")
    head = _json(
        aws(
            "s3api",
            "head-object",
            "--bucket",
            "cli-bucket",
            "--key",
            "data/copy.bin",
            "--output",
            "json",
        )
    )
    assert head["ContentLength"] == 20 * MiB
    assert head["ETag"].endswith('-3"')  # copied part by part (UploadPartCopy)

    aws("s3", "rm", "--recursive", "s3://cli-bucket")
    aws("s3", "rb", "s3://cli-bucket")
    assert "cli-bucket" not in aws("s3", "ls").stdout


def test_cli_reports_a_missing_bucket(aws: Cli) -> None:
    result = aws("s3", "ls", "s3://no-such-bucket-here", check=False)
    assert result.returncode != 0
    assert "NoSuchBucket" in result.stderr
