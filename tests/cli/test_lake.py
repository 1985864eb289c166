"""``lakeworks lake ls|mb|rb|cp|rm`` against a real server process."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from lakeworks.cli.lake import S3Uri, parse_s3_uri

Run = Callable[..., Result]


def test_parse_s3_uri() -> None:
    assert parse_s3_uri("s3://b") == S3Uri("b", "")
    assert parse_s3_uri("s3://b/") == S3Uri("b", "")
    assert parse_s3_uri("s3://b/dir/file.csv") == S3Uri("b", "dir/file.csv")
    assert S3Uri("b", "dir").child("x") == S3Uri("b", "dir/x")
    assert S3Uri("b", "dir/").child("x") == S3Uri("b", "dir/x")
    assert S3Uri("b").child("x") == S3Uri("b", "x")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ls", "bucket/key"], "Expected an S3 URI like s3://bucket/key, got 'bucket/key'"),
        (["ls", "s3://"], "names no bucket"),
        (["mb", "s3://b/key"], "takes s3://bucket with no key"),
        (["rb", "https://b"], "Expected an S3 URI"),
        (["rm", "s3://bucket"], "deletes one object"),
        (["cp", "a.txt", "b.txt"], "exactly one of SOURCE"),
        (["cp", "s3://a/x", "s3://b/y"], "exactly one of SOURCE"),
        (["cp", "s3://a/dir/", "out"], "add --recursive"),
        (["cp", "no-such-file.txt", "s3://a/"], "no such file or folder"),
    ],
)
def test_bad_arguments_fail_before_any_connection(
    tmp_path: Path, args: list[str], message: str
) -> None:
    from typer.testing import CliRunner

    from lakeworks.cli.main import app

    home = tmp_path / "never-created"
    # No LAKEWORKS_URL: a connection attempt would start a server under this home.
    result = CliRunner().invoke(app, ["lake", *args], env={"LAKEWORKS_HOME": str(home)})
    assert result.exit_code == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not home.exists()


@pytest.mark.usefixtures("needs_lake")
def test_bucket_and_object_round_trip(
    cli: Run, cli_json: Callable[..., Any], tmp_path: Path
) -> None:
    made = cli("lake", "mb", "s3://cli-data")
    assert made.exit_code == 0, made.stderr
    assert made.stdout == "make_bucket: cli-data\n"
    assert "cli-data" in [b["name"] for b in cli_json("lake", "ls")]
    assert "cli-data" in cli("lake", "ls").stdout

    source = tmp_path / "train.csv"
    source.write_text("a,b\n1,2\n")
    up = cli("lake", "cp", str(source), "s3://cli-data/sets/")
    assert up.exit_code == 0, up.stderr
    assert up.stdout == f"upload: {source} to s3://cli-data/sets/train.csv\n"

    listing = cli_json("lake", "ls", "s3://cli-data/")
    assert listing["prefixes"] == ["sets/"]
    assert listing["objects"] == []
    deep = cli_json("lake", "ls", "s3://cli-data/sets/")
    assert [o["key"] for o in deep["objects"]] == ["sets/train.csv"]
    assert deep["objects"][0]["size"] == 8
    assert deep["objects"][0]["content_type"].startswith("text/csv")
    table = cli("lake", "ls", "s3://cli-data", "--recursive")
    assert "sets/train.csv" in table.stdout

    out = tmp_path / "out"
    out.mkdir()
    down = cli("lake", "cp", "s3://cli-data/sets/train.csv", str(out))
    assert down.exit_code == 0, down.stderr
    assert (out / "train.csv").read_text() == "a,b\n1,2\n"
    renamed = cli("lake", "cp", "s3://cli-data/sets/train.csv", str(out / "copy.csv"))
    assert renamed.exit_code == 0
    assert (out / "copy.csv").read_text() == "a,b\n1,2\n"

    not_empty = cli("lake", "rb", "s3://cli-data")
    assert not_empty.exit_code == 1
    assert not_empty.stderr.startswith("Error: ")

    removed = cli("lake", "rm", "s3://cli-data/sets/train.csv")
    assert removed.stdout == "delete: s3://cli-data/sets/train.csv\n"
    assert cli_json("lake", "ls", "s3://cli-data", "--recursive")["objects"] == []
    assert cli("lake", "rb", "s3://cli-data").stdout == "remove_bucket: cli-data\n"
    assert "cli-data" not in [b["name"] for b in cli_json("lake", "ls")]


@pytest.mark.usefixtures("needs_lake")
def test_recursive_copies(cli: Run, cli_json: Callable[..., Any], tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "top.txt").write_text("top")
    (tree / "sub" / "deep.txt").write_text("deep")
    assert cli("lake", "mb", "s3://cli-tree").exit_code == 0

    refused = cli("lake", "cp", str(tree), "s3://cli-tree/t/")
    assert refused.exit_code == 1
    assert "--recursive" in refused.stderr

    up = cli_json("lake", "cp", "--recursive", str(tree), "s3://cli-tree/t/")
    assert sorted(item["to"] for item in up) == [
        "s3://cli-tree/t/sub/deep.txt",
        "s3://cli-tree/t/top.txt",
    ]
    back = tmp_path / "back"
    down = cli("lake", "cp", "--recursive", "s3://cli-tree/t", str(back))
    assert down.exit_code == 0, down.stderr
    assert (back / "top.txt").read_text() == "top"
    assert (back / "sub" / "deep.txt").read_text() == "deep"


@pytest.mark.usefixtures("needs_lake")
def test_missing_objects_and_buckets(cli: Run, tmp_path: Path) -> None:
    missing_bucket = cli("lake", "ls", "s3://cli-no-such-bucket")
    assert missing_bucket.exit_code == 1
    assert "cli-no-such-bucket" in missing_bucket.stderr

    assert cli("lake", "mb", "s3://cli-empty").exit_code == 0
    target = tmp_path / "x.bin"
    missing_key = cli("lake", "cp", "s3://cli-empty/nope.bin", str(target))
    assert missing_key.exit_code == 1
    assert missing_key.stderr.startswith("Error: ")
    assert not target.exists()

    bad_name = cli("lake", "mb", "s3://Bad_Name")
    assert bad_name.exit_code == 1
    assert "Invalid bucket name" in bad_name.stderr
