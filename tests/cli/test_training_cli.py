"""``lakeworks training``, ``lakeworks tuning`` and ``lakeworks jobs metrics`` against a real
server process: a tiny built-in XGBoost job on a few dozen CSV rows, and a two-trial tuning
job; unknown names exit 1 with the server's message."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from typer.testing import Result

from lakeworks.sdk.client import Client
from lakeworks.testing.process import ServerProcess

Run = Callable[..., Result]
BUCKET = "cli-train"


def _rows(n: int = 40) -> bytes:
    # label first, no header
    lines = [
        f"{2 * (i % 7) / 7 - (i % 5) / 5:.4f},{(i % 7) / 7:.4f},{(i % 5) / 5:.4f}" for i in range(n)
    ]
    return ("\n".join(lines) + "\n").encode()


def _channels() -> dict[str, Any]:
    return {
        "input_data_config": [
            {
                "channel_name": "train",
                "content_type": "text/csv",
                "data_source": {"s3_data_source": {"s3_uri": f"s3://{BUCKET}/data/"}},
            }
        ],
        "output_data_config": {"s3_output_path": f"s3://{BUCKET}/out"},
    }


@pytest.fixture(scope="module")
def sdk(server: ServerProcess) -> Iterator[Client]:
    """An SDK client on the CLI tests' server, with the bucket, the data and the jobs made."""
    with Client(server.url, server.token) as client:
        _make_jobs(client)
        yield client


def _make_jobs(client: Client) -> None:
    if BUCKET not in [b.name for b in client.buckets.list()]:
        client.buckets.create(BUCKET)
        client.objects.put(BUCKET, "data/train.csv", _rows())
        client.training_jobs.create(
            training_job_name="cli-xgb",
            hyperparameters={"num_round": "4", "max_depth": "2"},
            algorithm_specification={"training_image": "xgboost"},
            **_channels(),
        )
        client.tuning_jobs.create(
            hyper_parameter_tuning_job_name="cli-tune",
            hyper_parameter_tuning_job_config={
                "strategy": "Random",
                "hyper_parameter_tuning_job_objective": {
                    "type": "Minimize",
                    "metric_name": "train:rmse",
                },
                "resource_limits": {
                    "max_number_of_training_jobs": 2,
                    "max_parallel_training_jobs": 2,
                },
                "parameter_ranges": {
                    "integer_parameter_ranges": [
                        {"name": "max_depth", "min_value": "1", "max_value": "3"}
                    ]
                },
            },
            training_job_definition={
                "static_hyperparameters": {"num_round": "3"},
                "algorithm_specification": {"training_image": "xgboost"},
                **_channels(),
            },
        )


def test_training_wait_describe_list(sdk: Client, cli: Run, cli_json: Callable[..., Any]) -> None:
    waited = cli("training", "wait", "cli-xgb", "--timeout", "120")
    assert waited.exit_code == 0, waited.stderr
    assert "Completed" in waited.stdout
    described = cli_json("training", "describe", "cli-xgb")
    assert described["training_job_status"] == "Completed"
    assert described["model_artifacts"]["s3_model_artifacts"].endswith("output/model.tar.gz")
    table = cli("training", "list", "--name-contains", "cli-xgb")
    assert table.exit_code == 0, table.stderr
    assert "cli-xgb" in table.stdout
    assert "Completed" in table.stdout
    listed = cli_json("training", "list", "--max-items", "1", "--sort-by", "Name")
    assert len(listed) == 1


def test_jobs_metrics_prints_final_metrics_and_series(sdk: Client, cli: Run) -> None:
    assert sdk.training_jobs.wait("cli-xgb", timeout=120).training_job_status == "Completed"
    shown = cli("jobs", "metrics", "cli-xgb")
    assert shown.exit_code == 0, shown.stderr
    assert "Final metrics" in shown.stdout
    assert "Metric series" in shown.stdout
    assert "train:rmse" in shown.stdout
    run = sdk.training_jobs.metrics("cli-xgb")
    series = {s.metric_name: s for s in run.metrics}["train:rmse"]
    assert len(series.points) == 4
    assert " ".join(f"{p.value:g}" for p in series.points) in shown.stdout
    as_json = cli("jobs", "metrics", "cli-xgb", "-o", "json")
    assert as_json.exit_code == 0
    assert '"final_metric_data_list"' in as_json.stdout


def test_tuning_wait_describe_jobs_list(
    sdk: Client, cli: Run, cli_json: Callable[..., Any]
) -> None:
    waited = cli("tuning", "wait", "cli-tune", "--timeout", "120")
    assert waited.exit_code == 0, waited.stderr
    described = cli_json("tuning", "describe", "cli-tune")
    assert described["objective_status_counters"]["succeeded"] == 2
    best = described["best_training_job"]["training_job_name"]
    trials = cli_json("tuning", "jobs", "cli-tune", "--sort-by", "FinalObjectiveMetricValue")
    assert next(t["training_job_name"] for t in trials) == best
    assert len(trials) == 2
    table = cli("tuning", "jobs", "cli-tune")
    assert table.exit_code == 0, table.stderr
    assert "train:rmse=" in table.stdout
    assert "max_depth" in table.stdout
    assert [
        t["hyper_parameter_tuning_job_name"]
        for t in cli_json("tuning", "list", "--name-contains", "cli-tune")
    ] == ["cli-tune"]
    ended = cli("tuning", "stop", "cli-tune")
    assert ended.exit_code == 1
    assert ended.stderr.startswith("Error: ")


@pytest.mark.parametrize(
    "args",
    [
        ("training", "describe", "no-such-job"),
        ("training", "stop", "no-such-job"),
        ("training", "wait", "no-such-job", "--timeout", "5"),
        ("jobs", "metrics", "no-such-job"),
        ("tuning", "describe", "no-such-job"),
        ("tuning", "stop", "no-such-job"),
        ("tuning", "jobs", "no-such-job"),
    ],
)
def test_unknown_names_exit_1_with_the_servers_message(cli: Run, args: tuple[str, ...]) -> None:
    result = cli(*args)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert "no-such-job" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_bad_list_filters_exit_1(cli: Run) -> None:
    result = cli("training", "list", "--sort-by", "Size")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert "Traceback" not in result.stderr
