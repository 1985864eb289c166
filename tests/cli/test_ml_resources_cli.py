"""``lakeworks transform-jobs``, ``feature-groups`` and ``delivery-streams`` against a real
server process: a real transform job, a feature group with an online store and a delivery
stream into the lake, set up through the SDK as users do."""

from __future__ import annotations

import json
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

BUCKET = "cli-ml"
ROWS = "".join(f"{i * 0.1:.1f},0.2,0.3,{i}\n" for i in range(12))


@pytest.fixture(scope="module")
def sdk(server: ServerProcess) -> Any:
    with Client(server.url, server.token) as client:
        client.buckets.create(BUCKET)
        yield client


def failed(result: Result, message: str) -> None:
    assert result.exit_code == 1, result.stdout
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_transform_jobs_list_describe_logs_stop(
    sdk: Client, cli: Run, cli_json: Callable[..., Any]
) -> None:
    sdk.objects.put(BUCKET, "xgb.tar.gz", xgboost_archive(train_xgboost()))
    sdk.objects.put(BUCKET, "in/rows.csv", ROWS.encode())
    sdk.models.create(
        model_name="cli-transform-xgb",
        primary_container={"image": "xgboost", "model_data_url": f"s3://{BUCKET}/xgb.tar.gz"},
    )
    sdk.transform_jobs.create(
        transform_job_name="cli-transform",
        model_name="cli-transform-xgb",
        transform_input={
            "data_source": {
                "s3_data_source": {"s3_data_type": "S3Prefix", "s3_uri": f"s3://{BUCKET}/in/"}
            },
            "content_type": "text/csv",
            "split_type": "Line",
        },
        transform_output={"s3_output_path": f"s3://{BUCKET}/out"},
        transform_resources={"instance_type": "ml.m5.large", "instance_count": 1},
    )
    followed = cli("transform-jobs", "logs", "cli-transform", "--follow")
    assert followed.exit_code == 0, followed.stderr
    assert "transformed 12 records in 1 objects" in followed.stdout
    assert cli("transform-jobs", "logs", "cli-transform").stdout == followed.stdout

    described = cli_json("transform-jobs", "describe", "cli-transform")
    assert described["transform_job_status"] == "Completed", described.get("failure_reason")
    assert described["records"] == 12
    table = cli("transform-jobs", "describe", "cli-transform")
    assert "transform_job_status" in table.stdout
    assert "Completed" in table.stdout
    listed = cli_json("transform-jobs", "list", "--status", "Completed")
    assert "cli-transform" in [j["transform_job_name"] for j in listed]
    assert "cli-transform" in cli("transform-jobs", "list", "--name-contains", "cli-").stdout
    assert cli_json("transform-jobs", "list", "--name-contains", "nothing-like-it") == []
    stopped = cli_json("transform-jobs", "stop", "cli-transform")  # ended: stays Completed
    assert stopped["transform_job_status"] == "Completed"

    failed(cli("transform-jobs", "describe", "no-such-job"), "no-such-job")
    failed(cli("transform-jobs", "logs", "no-such-job"), "no-such-job")
    bad = cli("transform-jobs", "list", "--status", "Sleeping")
    failed(bad, "'InProgress', 'Completed', 'Failed', 'Stopping' or 'Stopped'")


def test_feature_groups_list_describe_get_record_delete(
    sdk: Client, cli: Run, cli_json: Callable[..., Any]
) -> None:
    sdk.feature_groups.create(
        feature_group_name="cli-users",
        record_identifier_feature_name="user",
        event_time_feature_name="ts",
        feature_definitions=[
            {"feature_name": "user", "feature_type": "String"},
            {"feature_name": "ts", "feature_type": "Fractional"},
            {"feature_name": "score", "feature_type": "Fractional"},
        ],
        online_store_config={"enable_online_store": True},
    )
    sdk.feature_groups.put_record("cli-users", {"user": "ann", "ts": 1714521600.0, "score": 0.5})
    sdk.feature_groups.put_record("cli-users", {"user": "ann", "ts": 1714525200.0, "score": 0.9})

    listed = cli_json("feature-groups", "list", "--name-contains", "cli-")
    assert [g["feature_group_name"] for g in listed] == ["cli-users"]
    assert "cli-users" in cli("feature-groups", "list").stdout
    described = cli_json("feature-groups", "describe", "cli-users")
    assert described["record_identifier_feature_name"] == "user"
    assert [d["FeatureName"] for d in described["feature_definitions"]] == ["user", "ts", "score"]

    record = cli_json("feature-groups", "get-record", "cli-users", "ann")
    assert record == {"user": "ann", "ts": "1714525200.0", "score": "0.9"}
    only = cli_json("feature-groups", "get-record", "cli-users", "ann", "--feature", "score")
    assert only == {"score": "0.9"}
    assert "0.9" in cli("feature-groups", "get-record", "cli-users", "ann").stdout
    failed(cli("feature-groups", "get-record", "cli-users", "bob"), "no record with identifier")
    failed(cli("feature-groups", "get-record", "cli-users", "ann", "-f", "nope"), "nope")

    deleted = cli("feature-groups", "delete", "cli-users")
    assert deleted.exit_code == 0
    assert "Deleted feature group cli-users" in deleted.stdout
    failed(cli("feature-groups", "describe", "cli-users"), "cli-users")
    failed(cli("feature-groups", "delete", "cli-users"), "cli-users")


def test_delivery_streams_list_describe_put_from_file_and_stdin(
    sdk: Client, cli: Run, cli_json: Callable[..., Any], tmp_path: Path
) -> None:
    sdk.delivery_streams.create(
        "cli-events",
        BUCKET,
        prefix="events/",
        buffering_hints={"size_in_mbs": 1, "interval_in_seconds": 900},
    )
    lines = [json.dumps({"n": i}) + "\n" for i in range(5)]
    source = tmp_path / "events.jsonl"
    source.write_text("".join(lines[:3]))
    put = cli_json("delivery-streams", "put", "cli-events", str(source))
    assert len(put["record_ids"]) == 3
    piped = cli("delivery-streams", "put", "cli-events", "--flush", input="".join(lines[3:]))
    assert piped.exit_code == 0
    assert "Put 2 records" in piped.stdout

    described = cli_json("delivery-streams", "describe", "cli-events")
    assert described["records_acknowledged"] == 5
    assert described["records_delivered"] == 5
    (obj,) = sdk.objects.list(BUCKET, prefix="events/")
    assert sdk.objects.get(BUCKET, obj.key) == "".join(lines).encode()
    listed = cli_json("delivery-streams", "list")
    assert "cli-events" in [s["delivery_stream_name"] for s in listed]
    assert "cli-events" in cli("delivery-streams", "list").stdout

    failed(cli("delivery-streams", "put", "cli-events", input=""), "stdin is empty")
    failed(cli("delivery-streams", "put", "cli-events", str(tmp_path / "gone")), "Cannot read")
    failed(cli("delivery-streams", "put", "no-such-stream", input="x\n"), "no-such-stream")
    failed(cli("delivery-streams", "describe", "no-such-stream"), "no-such-stream")
