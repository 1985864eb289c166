"""``lakeworks lake versioning|versions|tags|encryption|policy|lifecycle`` (real server)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

Run = Callable[..., Result]

pytestmark = pytest.mark.usefixtures("needs_lake")


def failed(result: Result, message: str) -> None:
    assert result.exit_code == 1, result.stdout
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_versioning_and_versions(cli: Run, cli_json: Callable[..., Any], tmp_path: Path) -> None:
    assert cli("lake", "mb", "s3://cli-ver").exit_code == 0
    assert cli("lake", "versioning", "status", "s3://cli-ver").stdout == "cli-ver: never enabled\n"
    assert cli_json("lake", "versioning", "enable", "s3://cli-ver") == {"status": "Enabled"}
    for text in ("one", "two"):
        (tmp_path / "doc").write_text(text)
        assert cli("lake", "cp", str(tmp_path / "doc"), "s3://cli-ver/doc").exit_code == 0
    versions = cli_json("lake", "versions", "list", "s3://cli-ver")
    assert [v["is_latest"] for v in versions] == [True, False]
    oldest = versions[1]["version_id"]
    assert oldest in cli("lake", "versions", "list", "s3://cli-ver/do").stdout

    got = cli("lake", "versions", "get", "s3://cli-ver/doc", oldest, str(tmp_path / "old"))
    assert got.exit_code == 0, got.stderr
    assert (tmp_path / "old").read_text() == "one"
    gone = cli("lake", "versions", "delete", "s3://cli-ver/doc", oldest)
    assert gone.exit_code == 0, gone.stderr
    assert len(cli_json("lake", "versions", "list", "s3://cli-ver")) == 1
    assert cli("lake", "versioning", "suspend", "s3://cli-ver").stdout == "cli-ver: Suspended\n"

    failed(
        cli("lake", "versions", "get", "s3://cli-ver/doc", "0123456789abcdef", str(tmp_path / "x")),
        "0123456789abcdef",
    )
    assert not (tmp_path / "x").exists()
    failed(cli("lake", "versions", "get", "s3://cli-ver", "v", "x"), "takes s3://bucket/key")
    failed(cli("lake", "versioning", "enable", "s3://cli-ver/key"), "with no key")
    failed(cli("lake", "versioning", "status", "s3://no-such-bucket"), "no-such-bucket")


def test_tags(cli: Run, cli_json: Callable[..., Any], tmp_path: Path) -> None:
    assert cli("lake", "mb", "s3://cli-tags").exit_code == 0
    (tmp_path / "f").write_text("x")
    assert cli("lake", "cp", str(tmp_path / "f"), "s3://cli-tags/dir/f").exit_code == 0
    put = cli("lake", "tags", "put", "s3://cli-tags", "team=ml", "env=dev")
    assert put.exit_code == 0, put.stderr
    assert cli_json("lake", "tags", "get", "s3://cli-tags") == {
        "tags": {"team": "ml", "env": "dev"}
    }
    assert cli("lake", "tags", "put", "s3://cli-tags/dir/f", "stage=raw").stdout == "stage=raw\n"
    assert cli("lake", "tags", "get", "s3://cli-tags/dir/f").stdout == "stage=raw\n"
    assert cli("lake", "tags", "delete", "s3://cli-tags/dir/f").exit_code == 0
    assert cli("lake", "tags", "get", "s3://cli-tags/dir/f").stdout == "(none)\n"
    assert cli("lake", "tags", "delete", "s3://cli-tags").exit_code == 0
    failed(cli("lake", "tags", "get", "s3://cli-tags"), "")
    failed(cli("lake", "tags", "put", "s3://cli-tags", "novalue"), "KEY=VALUE")
    failed(cli("lake", "tags", "put", "s3://cli-tags/dir/f", "aws:x=1"), "aws:")


def test_encryption_policy_lifecycle(
    cli: Run, cli_json: Callable[..., Any], tmp_path: Path
) -> None:
    assert cli("lake", "mb", "s3://cli-conf").exit_code == 0
    failed(cli("lake", "encryption", "get", "s3://cli-conf"), "")
    failed(cli("lake", "encryption", "put", "s3://cli-conf", "--algorithm", "ROT13"), "ROT13")
    put = cli("lake", "encryption", "put", "s3://cli-conf", "--algorithm", "aws:kms",
              "--kms-key-id", "team-key")  # fmt: skip
    assert put.stdout == "cli-conf: aws:kms (team-key)\n"
    assert cli_json("lake", "encryption", "get", "s3://cli-conf")["kms_key_id"] == "team-key"
    assert cli("lake", "encryption", "delete", "s3://cli-conf").exit_code == 0

    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Sealed",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::cli-conf/sealed/*",
            }
        ],
    }
    (tmp_path / "policy.json").write_text(json.dumps(document))
    (tmp_path / "broken.json").write_text('{"Statement": [')
    failed(cli("lake", "policy", "put", "s3://cli-conf", str(tmp_path / "broken.json")), "JSON")
    failed(cli("lake", "policy", "get", "s3://cli-conf"), "")
    assert (
        cli("lake", "policy", "put", "s3://cli-conf", str(tmp_path / "policy.json")).exit_code == 0
    )
    assert json.loads(cli("lake", "policy", "get", "s3://cli-conf").stdout) == document
    assert cli("lake", "policy", "delete", "s3://cli-conf").exit_code == 0
    failed(cli("lake", "policy", "get", "s3://cli-conf"), "")

    rules = '{"rules": [{"id": "tmp", "filter": {"prefix": "tmp/"}, "expiration": {"days": 7}}]}'
    put_rules = cli("lake", "lifecycle", "put", "s3://cli-conf", "-", input=rules)
    assert put_rules.stdout == "put_lifecycle: cli-conf (1 rule)\n"
    got = json.loads(cli("lake", "lifecycle", "get", "s3://cli-conf").stdout)
    assert got["rules"][0]["id"] == "tmp"
    bad = '[{"expiration": {"days": 0}}]'
    failed(cli("lake", "lifecycle", "put", "s3://cli-conf", "-", input=bad), "")
    failed(cli("lake", "lifecycle", "put", "s3://cli-conf", "-", input='"x"'), "list of rules")
    assert cli_json("lake", "lifecycle", "run")["expired_objects"] == 0
    assert cli("lake", "lifecycle", "delete", "s3://cli-conf").exit_code == 0
    failed(cli("lake", "lifecycle", "get", "s3://cli-conf"), "")
