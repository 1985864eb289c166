"""``lakeworks models`` and ``lakeworks endpoints`` against a real server process serving a real
XGBoost model (set up through the SDK, as users create models)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.hosting.support import train_xgboost, xgboost_archive
from typer.testing import Result

from lakeworks.sdk.client import Client
from lakeworks.testing.process import ServerProcess

Run = Callable[..., Result]

pytestmark = pytest.mark.usefixtures("needs_lake")


@pytest.fixture(scope="module")
def endpoint(server: ServerProcess) -> str:
    """Model ``cli-xgb``, config ``cli-config`` and endpoint ``cli-endpoint``, InService."""
    with Client(server.url, server.token) as client:
        client.buckets.create("cli-models")
        client.objects.put("cli-models", "xgb.tar.gz", xgboost_archive(train_xgboost()))
        client.models.create(
            model_name="cli-xgb",
            primary_container={"image": "xgboost", "model_data_url": "s3://cli-models/xgb.tar.gz"},
        )
        client.endpoint_configs.create(
            endpoint_config_name="cli-config",
            production_variants=[
                {
                    "variant_name": "main",
                    "model_name": "cli-xgb",
                    "initial_instance_count": 1,
                    "instance_type": "ml.m5.large",
                }
            ],
        )
        client.endpoints.create("cli-endpoint", "cli-config")
    return "cli-endpoint"


def failed(result: Result, message: str) -> None:
    assert result.exit_code == 1, result.stdout
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_models(cli: Run, cli_json: Callable[..., Any], endpoint: str) -> None:
    listed = cli("models", "list")
    assert listed.exit_code == 0, listed.stderr
    assert "cli-xgb" in listed.stdout
    assert "NAME" in listed.stdout
    assert [m["model_name"] for m in cli_json("models", "list", "--name-contains", "cli-")] == [
        "cli-xgb"
    ]
    described = cli_json("models", "describe", "cli-xgb")
    assert described["primary_container"]["model_data_url"] == "s3://cli-models/xgb.tar.gz"
    assert "model_arn" in cli("models", "describe", "cli-xgb").stdout
    failed(cli("models", "describe", "ghost"), 'Could not find model "arn:')
    failed(cli("models", "delete", "ghost"), "ghost")


def test_endpoints(cli: Run, cli_json: Callable[..., Any], endpoint: str, tmp_path: Path) -> None:
    waited = cli("endpoints", "wait", endpoint, "--timeout", "120")
    assert waited.exit_code == 0, waited.stderr
    assert waited.stdout == f"{endpoint}: InService\n"
    rows = cli_json("endpoints", "list", "--status", "InService")
    assert [r["endpoint_name"] for r in rows] == [endpoint]
    assert endpoint in cli("endpoints", "list").stdout
    described = cli_json("endpoints", "describe", endpoint)
    assert described["endpoint_config_name"] == "cli-config"
    assert described["production_variants"][0]["current_instance_count"] == 1

    (tmp_path / "rows.csv").write_text("0.1,0.2,0.3,0.4\n")
    from_file = cli(
        "endpoints", "invoke", endpoint, str(tmp_path / "rows.csv"), "--content-type", "text/csv"
    )
    assert from_file.exit_code == 0, from_file.stderr
    assert 0.0 < float(from_file.stdout) < 10.0
    assert "variant: main" in from_file.stderr
    from_stdin = cli(
        "endpoints", "invoke", endpoint, "--content-type", "text/csv", input="0.1,0.2,0.3,0.4\n"
    )
    assert from_stdin.exit_code == 0, from_stdin.stderr
    assert from_stdin.stdout == from_file.stdout

    metrics = cli_json("endpoints", "metrics", endpoint)
    assert metrics["variants"][0]["invocations"] >= 2
    table = cli("endpoints", "metrics", endpoint)
    assert "INVOCATIONS" in table.stdout
    assert "main" in table.stdout


def test_endpoint_errors(cli: Run, endpoint: str, tmp_path: Path) -> None:
    failed(cli("endpoints", "describe", "ghost"), "ghost")
    failed(
        cli("endpoints", "invoke", "ghost", "--content-type", "text/csv", input="1,2,3,4"),
        "Endpoint ghost of account 000000000000 not found.",
    )
    failed(
        cli("endpoints", "invoke", endpoint, "--content-type", "text/csv", input="1,2"),
        "Received client error (400)",
    )
    failed(cli("endpoints", "invoke", endpoint, str(tmp_path / "missing")), "Cannot read")
    failed(cli("endpoints", "wait", "ghost"), "ghost")
    failed(cli("endpoints", "metrics", "ghost"), "ghost")
    failed(cli("endpoints", "list", "--status", "Sleeping"), "status")
    failed(cli("endpoints", "delete", "ghost"), "ghost")


def test_delete(cli: Run, server: ServerProcess, endpoint: str) -> None:
    with Client(server.url, server.token) as client:
        client.endpoints.create("cli-doomed", "cli-config")
    deleted = cli("endpoints", "delete", "cli-doomed")
    assert deleted.exit_code == 0, deleted.stderr
    assert deleted.stdout == "delete: cli-doomed\n"
    failed(cli("endpoints", "wait", "cli-doomed", "--timeout", "60"), "cli-doomed")
    model_gone = cli("models", "delete", "cli-xgb", "--output", "json")
    assert model_gone.exit_code == 0, model_gone.stderr
    failed(cli("models", "describe", "cli-xgb"), "cli-xgb")
