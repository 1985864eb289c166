"""``lakeworks whoami``, ``tokens`` and ``access-keys`` against a real server process."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from typer.testing import Result

Run = Callable[..., Result]


def test_whoami(cli: Run, cli_json: Callable[..., Any]) -> None:
    assert cli_json("whoami")["principal"] == "admin"
    table = cli("whoami")
    assert table.exit_code == 0
    assert "principal" in table.stdout
    assert "admin" in table.stdout


def test_token_lifecycle(cli: Run, cli_json: Callable[..., Any]) -> None:
    created = cli_json(
        "tokens", "create", "--principal", "dana", "--scope", "read", "--description", "cli"
    )
    assert created["token"]
    assert created["scopes"] == ["read"]

    listed = cli_json("tokens", "list", "--principal", "dana")
    assert [t["token_id"] for t in listed] == [created["token_id"]]
    assert listed[0]["token"] is None

    as_dana = cli_json("whoami", env={"LAKEWORKS_TOKEN": created["token"]})
    assert as_dana["principal"] == "dana"

    table = cli("tokens", "list")
    assert table.exit_code == 0
    assert created["token_id"] in table.stdout
    assert created["token"] not in table.stdout

    revoked = cli_json("tokens", "revoke", created["token_id"])
    assert revoked["revoked_at"]
    denied = cli("whoami", env={"LAKEWORKS_TOKEN": created["token"]})
    assert denied.exit_code == 1
    assert denied.stderr.startswith("Error: ")


def test_access_key_lifecycle(cli_json: Callable[..., Any]) -> None:
    created = cli_json("access-keys", "create", "--principal", "erin", "--scope", "write")
    assert created["secret_access_key"]
    listed = cli_json("access-keys", "list", "--principal", "erin")
    assert [k["access_key_id"] for k in listed] == [created["access_key_id"]]
    assert cli_json("access-keys", "revoke", created["access_key_id"])["revoked_at"]


def test_errors_print_the_server_message_and_exit_1(cli: Run) -> None:
    result = cli("tokens", "revoke", "no-such-token")
    assert result.exit_code == 1
    assert result.stderr == "Error: Token 'no-such-token' does not exist\n"
    assert result.stdout == ""
    assert "Traceback" not in result.stderr


def test_bad_options_are_usage_errors(cli: Run, cli_json: Callable[..., Any]) -> None:
    before = cli_json("tokens", "list")
    result = cli("tokens", "create", "--scope", "root")
    assert result.exit_code == 2
    assert "root" in result.stderr
    bad_principal = cli("tokens", "create", "--principal", "has space")
    assert bad_principal.exit_code == 1
    assert "principal" in bad_principal.stderr
    assert cli_json("tokens", "list") == before


def test_wrong_token_is_a_clear_error(cli: Run) -> None:
    result = cli("whoami", env={"LAKEWORKS_TOKEN": "not-a-token"})
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert "Traceback" not in result.stderr
