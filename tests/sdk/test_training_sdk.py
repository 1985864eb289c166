"""``client.training_jobs`` and ``client.tuning_jobs`` against an in-process server: a tiny
built-in XGBoost job on a few dozen CSV rows, its metrics and learning curve; a two-trial
tuning job; unknown names and bad specs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from lakeworks.core.errors import NotFound, ValidationError
from lakeworks.schemas.training import TrainingJobInfo
from lakeworks.sdk.client import Client
from lakeworks.testing import InProcessServer, temporary_server

BUCKET = "sdk-train"


def _rows(n: int = 40) -> bytes:
    # label first, no header: y = 2*a - b, on a small deterministic grid
    lines = []
    for i in range(n):
        a, b = (i % 7) / 7, (i % 5) / 5
        lines.append(f"{2 * a - b:.4f},{a:.4f},{b:.4f}")
    return ("\n".join(lines) + "\n").encode()


def xgboost_spec(name: str, **changes: Any) -> dict[str, Any]:
    """A CreateTrainingJob spec for the built-in XGBoost on the uploaded rows."""
    spec: dict[str, Any] = {
        "training_job_name": name,
        "hyperparameters": {"num_round": "5", "max_depth": "2"},
        "algorithm_specification": {"training_image": "xgboost"},
        "input_data_config": [
            {
                "channel_name": "train",
                "content_type": "text/csv",
                "data_source": {"s3_data_source": {"s3_uri": f"s3://{BUCKET}/data/"}},
            }
        ],
        "output_data_config": {"s3_output_path": f"s3://{BUCKET}/out"},
    }
    spec.update(changes)
    return spec


def tuning_spec(name: str) -> dict[str, Any]:
    """A two-trial random search over XGBoost's max_depth."""
    definition = xgboost_spec("unused")
    return {
        "hyper_parameter_tuning_job_name": name,
        "hyper_parameter_tuning_job_config": {
            "strategy": "Random",
            "hyper_parameter_tuning_job_objective": {
                "type": "Minimize",
                "metric_name": "train:rmse",
            },
            "resource_limits": {"max_number_of_training_jobs": 2, "max_parallel_training_jobs": 2},
            "parameter_ranges": {
                "integer_parameter_ranges": [
                    {"name": "max_depth", "min_value": "1", "max_value": "3"}
                ]
            },
        },
        "training_job_definition": {
            "static_hyperparameters": {"num_round": "3"},
            "algorithm_specification": {"training_image": "xgboost"},
            "input_data_config": definition["input_data_config"],
            "output_data_config": definition["output_data_config"],
        },
    }


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    home = tmp_path_factory.mktemp("training-sdk") / "home"
    with temporary_server(home, jobs={"poll_interval_seconds": 0.05}) as running:
        assert running.client.post("/api/v1/buckets", json={"name": BUCKET}).status_code == 201
        put = running.client.put(
            f"/api/v1/buckets/{BUCKET}/objects/data/train.csv", content=_rows()
        )
        assert put.status_code == 200, put.text
        yield running


@pytest.fixture
def sdk(srv: InProcessServer) -> Client:
    return Client(http=srv.client, home=srv.settings.home)


@pytest.fixture(scope="module")
def trained(srv: InProcessServer) -> TrainingJobInfo:
    client = Client(http=srv.client, home=srv.settings.home)
    created = client.training_jobs.create(xgboost_spec("sdk-xgb"))
    assert created.training_job_name == "sdk-xgb"
    assert created.training_job_status == "InProgress"
    return client.training_jobs.wait("sdk-xgb", timeout=120, max_interval=0.2)


def test_create_wait_get_and_list(sdk: Client, trained: TrainingJobInfo) -> None:
    assert trained.training_job_status == "Completed", trained.failure_reason
    assert trained.model_artifacts is not None
    assert trained.model_artifacts.s3_model_artifacts.endswith("sdk-xgb/output/model.tar.gz")
    got = sdk.training_jobs.get("sdk-xgb")
    assert got.training_job_arn == trained.training_job_arn
    names = [j.training_job_name for j in sdk.training_jobs.list(name_contains="sdk-xgb")]
    assert names == ["sdk-xgb"]
    # one job per page still reaches every job
    every = [j.training_job_name for j in sdk.training_jobs.list(page_size=1)]
    assert "sdk-xgb" in every
    assert len(every) == len(set(every))


def test_metrics_and_learning_curve(sdk: Client, trained: TrainingJobInfo) -> None:
    run = sdk.training_jobs.metrics("sdk-xgb")
    assert run.training_job_status == "Completed"
    assert run.hyperparameters["num_round"] == "5"
    finals = {m.metric_name: m.value for m in run.final_metric_data_list}
    assert "train:rmse" in finals
    series = {s.metric_name: s for s in run.metrics}
    assert [p.step for p in series["train:rmse"].points] == [1, 2, 3, 4, 5]
    assert series["train:rmse"].points[-1].value == pytest.approx(finals["train:rmse"], abs=1e-4)
    assert run.inputs[0].object_count == 1
    svg = sdk.training_jobs.learning_curve("sdk-xgb")
    assert svg.lstrip().startswith("<")
    assert "<svg" in svg
    assert "<html" in sdk.training_jobs.learning_curve("sdk-xgb", format="html").lower()


def test_unknown_training_job_is_not_found(sdk: Client) -> None:
    for call in (
        sdk.training_jobs.get,
        sdk.training_jobs.stop,
        sdk.training_jobs.metrics,
        sdk.training_jobs.learning_curve,
    ):
        with pytest.raises(NotFound):
            call("no-such-job")
    with pytest.raises(NotFound, match="no-such-job"):
        sdk.training_jobs.wait("no-such-job", timeout=5)


def test_bad_specs_are_rejected_and_nothing_is_made(sdk: Client) -> None:
    with pytest.raises(ValidationError, match="training_job_name"):
        sdk.training_jobs.create(xgboost_spec("bad name!"))
    with pytest.raises(ValidationError, match="max_deepth"):
        sdk.training_jobs.create(xgboost_spec("typo", hyperparameters={"max_deepth": "2"}))
    with pytest.raises(NotFound):
        sdk.training_jobs.get("typo")
    with pytest.raises(ValidationError, match=r"sort_by|Name"):
        list(sdk.training_jobs.list(sort_by="Size"))  # type: ignore[arg-type]


def test_tuning_job_and_its_trials(sdk: Client) -> None:
    created = sdk.tuning_jobs.create(tuning_spec("sdk-tune"))
    assert created.hyper_parameter_tuning_job_status == "InProgress"
    done = sdk.tuning_jobs.wait("sdk-tune", timeout=120, max_interval=0.2)
    assert done.hyper_parameter_tuning_job_status == "Completed", done.failure_reason
    trials = list(sdk.tuning_jobs.training_jobs("sdk-tune", sort_by="FinalObjectiveMetricValue"))
    assert len(trials) == 2
    assert done.best_training_job is not None
    assert trials[0].training_job_name == done.best_training_job.training_job_name
    assert all("max_depth" in t.tuned_hyperparameters for t in trials)
    listed = [t.hyper_parameter_tuning_job_name for t in sdk.tuning_jobs.list()]
    assert listed == ["sdk-tune"]
    assert sdk.tuning_jobs.get("sdk-tune").hyper_parameter_tuning_job_arn == (
        created.hyper_parameter_tuning_job_arn
    )
    with pytest.raises(ValidationError):
        sdk.tuning_jobs.stop("sdk-tune")  # already ended


def test_unknown_tuning_job_is_not_found(sdk: Client) -> None:
    with pytest.raises(NotFound):
        sdk.tuning_jobs.get("no-such-tune")
    with pytest.raises(NotFound):
        sdk.tuning_jobs.stop("no-such-tune")
    with pytest.raises(NotFound):
        list(sdk.tuning_jobs.training_jobs("no-such-tune"))
    bad = tuning_spec("bad-tune")
    ranges = bad["hyper_parameter_tuning_job_config"]["parameter_ranges"]
    ranges["integer_parameter_ranges"][0].update(min_value="3", max_value="1")
    with pytest.raises(ValidationError, match="MaxValue"):
        sdk.tuning_jobs.create(bad)
    with pytest.raises(NotFound):
        sdk.tuning_jobs.get("bad-tune")
