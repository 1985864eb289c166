"""The ``lakeworks`` root command: help stays light, every group documents itself."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from lakeworks import __version__
from lakeworks.cli.main import app

HEAVY = ("httpx", "fastapi", "sqlalchemy", "uvicorn", "pydantic_settings", "lakeworks.server")


def test_help_imports_nothing_heavy() -> None:
    probe = (
        "import json, sys\n"
        "from lakeworks.cli.main import main\n"
        "sys.argv = ['lakeworks', '--help']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print(json.dumps(heavy), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert "Usage" in done.stdout
    assert json.loads(done.stderr.strip().splitlines()[-1]) == []


@pytest.mark.parametrize("group", ["server", "config", "jobs", "lake", "tokens", "access-keys"])
def test_every_group_has_help(group: str) -> None:
    result = CliRunner().invoke(app, [group, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.stdout


def test_no_arguments_shows_help_and_version_works() -> None:
    bare = CliRunner().invoke(app, [])
    assert "Usage" in bare.stdout
    assert "server" in bare.stdout
    version = CliRunner().invoke(app, ["--version"])
    assert version.exit_code == 0
    assert version.stdout.strip() == f"lakeworks {__version__}"
