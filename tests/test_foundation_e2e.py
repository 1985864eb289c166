"""The foundation's promise, end to end, with real processes and real clients.

`lakeworks server start` in the background, `eval "$(lakeworks env)"` in a shell, then boto3 (the
real client) creates a bucket, uploads a 20 MB file (multipart), lists and downloads it
byte-identical, while a wrong secret and an unsigned request are refused. The demo runs too.
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAKEWORKS_", "AWS_"))}
    env["LAKEWORKS_HOME"] = str(home)
    return env


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    home = tmp_path / "home"
    yield home
    subprocess.run(
        [BIN / "lakeworks", "server", "stop", "--home", str(home)],
        env=_clean_env(home),
        capture_output=True,
        timeout=60,
        check=False,
    )


BOTO_SCRIPT = textwrap.dedent(
    """
    import hashlib, os, sys
    import boto3, botocore, httpx
    from boto3.s3.transfer import TransferConfig

    src, dst = sys.argv[1], sys.argv[2]
    s3 = boto3.client("s3")  # everything from the environment that `lakeworks env` set
    s3.create_bucket(Bucket="e2e")
    mb8 = 8 * 1024 * 1024
    config = TransferConfig(multipart_threshold=mb8, multipart_chunksize=mb8)
    s3.upload_file(src, "e2e", "data/blob.bin", Config=config)
    head = s3.head_object(Bucket="e2e", Key="data/blob.bin")
    assert head["ETag"].strip('"').endswith("-3"), head["ETag"]  # 3 parts: multipart happened
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="e2e")["Contents"]]
    assert keys == ["data/blob.bin"], keys
    s3.download_file("e2e", "data/blob.bin", dst, Config=config)

    bad = boto3.client(
        "s3",
        aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key="not-the-secret",
    )
    try:
        bad.list_objects_v2(Bucket="e2e")
    except botocore.exceptions.ClientError as exc:
        assert exc.response["Error"]["Code"] == "SignatureDoesNotMatch", exc.response
    else:
        raise AssertionError("a wrong secret was accepted")

    unsigned = httpx.get(os.environ["AWS_ENDPOINT_URL"] + "/e2e/data/blob.bin")
    assert unsigned.status_code == 403, unsigned.text
    assert b"<Code>AccessDenied</Code>" in unsigned.content
    print("boto3 ok")
    """
)


def test_server_env_and_boto3_multipart(home: Path, tmp_path: Path) -> None:
    env = _clean_env(home)
    started = subprocess.run(
        [BIN / "lakeworks", "server", "start", "--home", str(home), "--port", str(_free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert started.returncode == 0, started.stderr
    assert "http://127.0.0.1:" in started.stdout
    src = tmp_path / "blob.bin"
    src.write_bytes(os.urandom(20 * 1024 * 1024))
    dst = tmp_path / "back.bin"
    script = tmp_path / "client.py"
    script.write_text(BOTO_SCRIPT)
    shell = (
        f'eval "$({BIN / "lakeworks"} env --home {home})" && {sys.executable} {script} {src} {dst}'
    )
    ran = subprocess.run(
        ["bash", "-c", shell], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "boto3 ok" in ran.stdout
    assert hashlib.sha256(dst.read_bytes()).digest() == hashlib.sha256(src.read_bytes()).digest()
    status = subprocess.run(
        [BIN / "lakeworks", "server", "status", "--home", str(home)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert status.returncode == 0, status.stdout + status.stderr


def test_demo_runs_end_to_end(home: Path) -> None:
    env = {**_clean_env(home), "LAKEWORKS_SERVER_PORT": str(_free_port())}
    ran = subprocess.run(
        [sys.executable, REPO / "examples" / "demo.py"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "boto3 sees raw/wine.csv" in ran.stdout
    assert "Completed" in ran.stdout
    assert "learned the mean price" in ran.stdout
    assert "model.json" in ran.stdout
    # the rest of the workflow: catalog + SQL, profile + recipe, built-in training, hosting
    assert "table demo.wine" in ran.stdout
    assert "profile job Completed" in ran.stdout
    assert "recipe fit job Completed" in ran.stdout
    assert "metrics {'train:rmse'" in ran.stdout
    assert "tuning demo-tune-" in ran.stdout
    assert ": InService" in ran.stdout
    assert "predicted prices" in ran.stdout
    assert "/test.csv.out: " in ran.stdout  # the batch transform step scored the file
