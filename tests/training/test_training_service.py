"""Training jobs through the native REST API, in process, with real job processes: shapes,
run tracking (metric series, lineage, learning curve), native log events, errors and scopes."""

from __future__ import annotations

import io
import tarfile
import time
from collections.abc import Iterator
from typing import Any
from xml.etree import ElementTree

import pytest

from lakeworks.jobs.layout import failure_reason
from lakeworks.testing import InProcessServer, temporary_server

API = "/api/v1/training-jobs"
SCRIPT = """
import os
for epoch in range(1, 4):
    print(f"epoch={epoch} train_loss={1.0 / epoch:.4f} valid_loss={1.5 / epoch:.4f}", flush=True)
open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w").write("m")
"""


def _tarball(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(text.encode())
            tar.addfile(info, io.BytesIO(text.encode()))
    return buffer.getvalue()


def request(name: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "training_job_name": name,
        "hyperparameters": {
            "sagemaker_program": '"train.py"',
            "sagemaker_submit_directory": '"s3://runs/code/src.tar.gz"',
        },
        "algorithm_specification": {
            "training_image": "sagemaker-scikit-learn:1.2-1-cpu-py3",
            "metric_definitions": [
                {"name": "train:loss", "regex": r"train_loss=([0-9.]+)"},
                {"name": "validation:loss", "regex": r"valid_loss=([0-9.]+)"},
            ],
        },
        "input_data_config": [
            {
                "channel_name": "train",
                "data_source": {"s3_data_source": {"s3_uri": "s3://runs/data/"}},
            }
        ],
        "output_data_config": {"s3_output_path": "s3://runs/out"},
    }
    body.update(changes)
    return body


def wait(client: Any, name: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        info: dict[str, Any] = client.get(f"{API}/{name}").json()
        if info["training_job_status"] not in ("InProgress", "Stopping"):
            return info
        assert time.monotonic() < deadline, info
        time.sleep(0.05)


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    home = tmp_path_factory.mktemp("training") / "home"
    with temporary_server(home, jobs={"poll_interval_seconds": 0.05}) as running:
        client = running.client
        assert client.post("/api/v1/buckets", json={"name": "runs"}).status_code == 201
        for key, body in (
            ("code/src.tar.gz", _tarball({"train.py": SCRIPT})),
            ("data/a.csv", b"1,2\n"),
            ("data/b.csv", b"3,4\n"),
        ):
            assert (
                client.put(f"/api/v1/buckets/runs/objects/{key}", content=body).status_code == 200
            )
        yield running


@pytest.fixture(scope="module")
def tracked(srv: InProcessServer) -> dict[str, Any]:
    created = srv.client.post(API, json=request("tracked"))
    assert created.status_code == 201, created.text
    return wait(srv.client, "tracked")


def test_create_answers_in_snake_case_and_accepts_sagemakers_names(srv: InProcessServer) -> None:
    body = request("aliases")
    aws_names = {
        "TrainingJobName": body.pop("training_job_name"),
        "HyperParameters": body.pop("hyperparameters"),
        "AlgorithmSpecification": {"TrainingImage": "sagemaker-scikit-learn:1.2-1-cpu-py3"},
    }
    del body["algorithm_specification"]
    created = srv.client.post(API, json={**body, **aws_names})
    assert created.status_code == 201, created.text
    info = created.json()
    assert info["training_job_name"] == "aliases"
    assert info["training_job_arn"].endswith(":training-job/aliases")
    assert info["secondary_status"] in ("Pending", "Starting", "Downloading", "Training")
    assert "TrainingJobName" not in info
    wait(srv.client, "aliases")


def test_the_run_record_has_series_lineage_and_the_artifact(
    srv: InProcessServer, tracked: dict[str, Any]
) -> None:
    assert tracked["training_job_status"] == "Completed", tracked["failure_reason"]
    run = srv.client.get(f"{API}/tracked/metrics").json()
    assert run["hyperparameters"]["sagemaker_program"] == '"train.py"'
    series = {m["metric_name"]: m["points"] for m in run["metrics"]}
    assert [p["value"] for p in series["train:loss"]] == [1.0, 0.5, 0.3333]
    assert [p["step"] for p in series["validation:loss"]] == [1, 2, 3]
    finals = {m["metric_name"]: m["value"] for m in run["final_metric_data_list"]}
    assert finals == {"train:loss": 0.3333, "validation:loss": 0.5}
    (train,) = run["inputs"]
    assert train["channel_name"] == "train"
    assert train["object_count"] == 2
    listed = srv.client.get("/api/v1/buckets/runs/objects", params={"prefix": "data/"}).json()
    etags = {f"s3://runs/{o['key']}": o["etag"] for o in listed["items"]}
    assert {o["uri"]: o["etag"] for o in train["objects"]} == etags
    artifact = run["model_artifact"]
    assert artifact["uri"] == "s3://runs/out/tracked/output/model.tar.gz"
    assert artifact["uri"] == tracked["model_artifacts"]["s3_model_artifacts"]
    assert len(artifact["etag"]) >= 32


def test_learning_curve_as_svg_and_html(srv: InProcessServer, tracked: dict[str, Any]) -> None:
    svg = srv.client.get(f"{API}/tracked/learning-curve")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    root = ElementTree.fromstring(svg.text)
    assert len(root.findall(".//{http://www.w3.org/2000/svg}polyline")) == 2
    html = srv.client.get(f"{API}/tracked/learning-curve", params={"format": "html"})
    assert html.headers["content-type"].startswith("text/html")
    assert "<svg" in html.text


def test_log_events_page_through_the_log(srv: InProcessServer, tracked: dict[str, Any]) -> None:
    first = srv.client.get(f"{API}/tracked/log-events", params={"limit": 2}).json()
    assert [e["message"][:7] for e in first["events"]] == ["epoch=1", "epoch=2"]
    rest = srv.client.get(
        f"{API}/tracked/log-events", params={"next_token": first["next_forward_token"]}
    ).json()
    assert [e["message"][:7] for e in rest["events"]] == ["epoch=3"]
    end = srv.client.get(
        f"{API}/tracked/log-events", params={"next_token": rest["next_forward_token"]}
    ).json()
    assert end["events"] == []
    assert end["next_forward_token"] == rest["next_forward_token"]


def test_listing_only_shows_training_jobs(srv: InProcessServer, tracked: dict[str, Any]) -> None:
    listed = srv.client.get(API, params={"name_contains": "track"}).json()
    assert [j["training_job_name"] for j in listed["items"]] == ["tracked"]
    assert listed["items"][0]["training_job_status"] == "Completed"


def test_errors_come_in_the_native_shape(srv: InProcessServer) -> None:
    bad = srv.client.post(
        API,
        json=request(
            "bad",
            hyperparameters={"num_round": "5", "max_deepth": "3"},
            algorithm_specification={"training_image": "xgboost"},
        ),
    )
    assert bad.status_code == 400
    error = bad.json()["error"]
    assert error["code"] == "ValidationException"
    assert "max_deepth" in error["message"]
    assert "max_depth" in error["details"]["allowed"]
    missing = srv.client.get(f"{API}/nope")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "ResourceNotFound"
    assert srv.client.get(f"{API}/bad").status_code == 404  # nothing was recorded
    typo = srv.client.post(API, json={**request("typo"), "hyperparameterz": {}})
    assert typo.status_code == 400


def test_training_jobs_are_not_made_through_the_plain_jobs_api(srv: InProcessServer) -> None:
    sneaky = srv.client.post(
        "/api/v1/jobs",
        json={
            "job_name": "sneaky",
            "job_type": "training",
            "code_uri": "s3://runs/code/src.tar.gz",
            "entry_point": "train.py",
        },
    )
    assert sneaky.status_code == 400
    assert "CreateTrainingJob" in sneaky.json()["error"]["message"]


def test_readers_may_look_but_not_create(srv: InProcessServer, tracked: dict[str, Any]) -> None:
    token = srv.client.post(
        "/api/v1/tokens", json={"principal": "training-reader", "scopes": ["read"]}
    ).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert srv.client.get(f"{API}/tracked", headers=headers).status_code == 200
    denied = srv.client.post(API, json=request("denied"), headers=headers)
    assert denied.status_code == 403
    assert srv.client.get(f"{API}/tracked").status_code == 200


def test_a_classified_failure_keeps_its_class() -> None:
    reason = failure_reason(1, "ClientError: row 1, column 1: 'price' is not a number\n", "")
    assert reason == "ClientError: row 1, column 1: 'price' is not a number (exit code 1)"
    assert failure_reason(2, "plain text", "").startswith("AlgorithmError: exit code 2: plain")
