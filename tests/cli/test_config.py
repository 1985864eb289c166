"""``lakeworks config show``: every setting with value and source."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from lakeworks.cli.main import app


def settings_of(home: Path, env: dict[str, str] | None = None) -> dict[str, dict[str, object]]:
    result = CliRunner().invoke(app, ["config", "show", "--home", str(home), "-o", "json"], env=env)
    assert result.exit_code == 0, result.stderr
    return {row["path"]: row for row in json.loads(result.stdout)}


def test_sources_are_argument_env_file_and_default(tmp_path: Path) -> None:
    (tmp_path / "lakeworks.toml").write_text('[jobs]\nbackend = "local"\nmax_concurrent = 3\n')
    rows = settings_of(tmp_path, env={"LAKEWORKS_SERVER_PORT": "9123"})
    assert rows["home"]["value"] == str(tmp_path.resolve())
    assert rows["home"]["source"] == "argument"
    assert rows["server.port"] == {
        "path": "server.port",
        "value": 9123,
        "source": "env LAKEWORKS_SERVER_PORT",
        "description": rows["server.port"]["description"],
    }
    assert rows["jobs.max_concurrent"]["value"] == 3
    assert rows["jobs.max_concurrent"]["source"].startswith("file ")
    assert rows["server.host"]["source"] == "default"


def test_secrets_are_masked(tmp_path: Path) -> None:
    rows = settings_of(tmp_path, env={"LAKEWORKS_AUTH_MASTER_KEY": "super-secret-value"})
    assert rows["auth.master_key"]["value"] == "**********"
    table = CliRunner().invoke(
        app,
        ["config", "show", "--home", str(tmp_path)],
        env={"LAKEWORKS_AUTH_MASTER_KEY": "super-secret-value"},
    )
    assert table.exit_code == 0
    assert "super-secret-value" not in table.stdout
    assert "server.port" in table.stdout


def test_invalid_settings_are_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["config", "show", "--home", str(tmp_path)], env={"LAKEWORKS_SERVER_PORT": "huge"}
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: Invalid settings: server.port")
    assert "Traceback" not in result.stderr
