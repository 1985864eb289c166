"""requirements.txt environments: built once per content, see the server's packages, install a
local wheel, and fail with pip's reason — all without the network."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import zipfile
from pathlib import Path

import pytest

from lakeworks.core.errors import ValidationError
from lakeworks.training.environments import EnvironmentCache, environment_key


def build_wheel(directory: Path, name: str = "lakeworks_hello", version: str = "0.1") -> Path:
    """A minimal pure-Python wheel, written by hand (no build tools, no network)."""
    directory.mkdir(parents=True, exist_ok=True)
    dist = f"{name}-{version}.dist-info"
    files = {
        f"{name}.py": b"GREETING = 'hello from a local wheel'\n",
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{dist}/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{dist}/RECORD,,")
    wheel = directory / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
        archive.writestr(f"{dist}/RECORD", "\n".join(record) + "\n")
    return wheel


@pytest.fixture
def cache(tmp_path: Path) -> EnvironmentCache:
    return EnvironmentCache(tmp_path / "envs", os.environ)


def test_the_key_ignores_trailing_space_but_not_content() -> None:
    assert environment_key("numpy\n") == environment_key("numpy  \n\n")
    assert environment_key("numpy\n") != environment_key("numpy==1.0\n")


def test_a_satisfied_requirement_and_a_local_wheel_install_once(
    cache: EnvironmentCache, tmp_path: Path
) -> None:
    code = tmp_path / "code"
    build_wheel(code / "wheels")
    requirements = code / "requirements.txt"
    requirements.write_text("--no-index\nnumpy\n./wheels/lakeworks_hello-0.1-py3-none-any.whl\n")
    built = cache.ensure(requirements, code)
    assert built.created
    assert "lakeworks_hello" in built.log
    run = subprocess.run(
        [
            str(built.python),
            "-c",
            "import lakeworks_hello, numpy, sklearn; print(lakeworks_hello.GREETING)",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "hello from a local wheel"
    again = cache.ensure(requirements, code)
    assert not again.created
    assert again.python == built.python


def test_a_package_that_cannot_be_had_fails_with_pips_reason(
    cache: EnvironmentCache, tmp_path: Path
) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("--no-index\nlakeworks-no-such-package==9.9\n")
    with pytest.raises(ValidationError) as caught:
        cache.ensure(requirements, tmp_path)
    message = caught.value.message
    assert "Installing requirements.txt failed" in message
    assert "lakeworks-no-such-package" in message
    assert not any(
        p.name.startswith(environment_key(requirements.read_text()))
        for p in cache.root.iterdir()
        if p.is_dir()
    )
