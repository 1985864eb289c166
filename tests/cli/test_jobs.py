"""``lakeworks jobs`` against a real server process running real job processes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

Run = Callable[..., Result]

SCRIPT = "import sys\nprint('cli job says hi', flush=True)\nsys.exit(int(sys.argv[1]))\n"


@pytest.fixture
def spec_file(cli: Run, tmp_path: Path) -> Callable[..., Path]:
    """Writes a job spec running SCRIPT from the lake, exiting with the given code."""
    script = tmp_path / "job.py"
    script.write_text(SCRIPT)
    cli("lake", "mb", "s3://cli-jobs")
    uploaded = cli("lake", "cp", str(script), "s3://cli-jobs/job.py")
    assert uploaded.exit_code == 0, uploaded.stderr

    def write(name: str, exit_code: int = 0) -> Path:
        spec = {
            "job_name": name,
            "code_uri": "s3://cli-jobs/job.py",
            "entry_point": "job.py",
            "arguments": [str(exit_code)],
        }
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(spec))
        return path

    return write


@pytest.mark.usefixtures("needs_jobs", "needs_lake")
def test_create_wait_logs_list_describe(
    cli: Run, cli_json: Callable[..., Any], spec_file: Callable[..., Path]
) -> None:
    created = cli_json("jobs", "create", str(spec_file("cli-ok")))
    assert created["job_name"] == "cli-ok"

    waited = cli("jobs", "wait", "cli-ok", "--timeout", "120")
    assert waited.exit_code == 0, waited.stderr
    assert "Completed" in waited.stdout

    logs = cli("jobs", "logs", "cli-ok")
    assert logs.exit_code == 0
    assert "cli job says hi" in logs.stdout
    assert "cli job says hi" in cli("jobs", "logs", "cli-ok", "--follow").stdout

    listed = cli_json("jobs", "list", "--name-contains", "cli-ok")
    assert [j["job_name"] for j in listed] == ["cli-ok"]
    assert "cli-ok" in cli("jobs", "list").stdout

    described = cli_json("jobs", "describe", "cli-ok")
    assert described["status"] == "Completed"
    assert described["spec"]["entry_point"] == "job.py"
    assert "Completed" in cli("jobs", "describe", "cli-ok").stdout


@pytest.mark.usefixtures("needs_jobs", "needs_lake")
def test_a_failed_job_makes_wait_exit_1(cli: Run, spec_file: Callable[..., Path]) -> None:
    assert cli("jobs", "create", str(spec_file("cli-fails", exit_code=3))).exit_code == 0
    waited = cli("jobs", "wait", "cli-fails", "--timeout", "120")
    assert waited.exit_code == 1
    assert "cli-fails ended Failed" in waited.stderr


@pytest.mark.usefixtures("needs_jobs")
@pytest.mark.parametrize("command", ["describe", "logs", "stop", "wait"])
def test_unknown_job_exits_1_with_the_server_message(cli: Run, command: str) -> None:
    result = cli("jobs", command, "cli-no-such-job")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert "cli-no-such-job" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.usefixtures("needs_jobs")
def test_bad_specs_are_refused(cli: Run, cli_json: Callable[..., Any], tmp_path: Path) -> None:
    before = cli_json("jobs", "list")
    not_json = tmp_path / "bad.json"
    not_json.write_text("{nope")
    result = cli("jobs", "create", str(not_json))
    assert result.exit_code == 1
    assert "not valid JSON" in result.stderr

    invalid = tmp_path / "invalid.json"
    invalid.write_text(json.dumps({"job_name": "has space", "entry_point": "x.py"}))
    result = cli("jobs", "create", str(invalid))
    assert result.exit_code == 1
    assert "job_name" in result.stderr

    missing = cli("jobs", "create", str(tmp_path / "absent.json"))
    assert missing.exit_code == 1
    assert "Cannot read the job spec" in missing.stderr
    assert cli_json("jobs", "list") == before
