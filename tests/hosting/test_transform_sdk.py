"""``client.transform_jobs`` and ``/api/v1/transform-jobs`` in process (jobs run as real
processes on the local backend)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb
from tests.hosting.support import train_xgboost, xgboost_archive

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import NotFound, ValidationError
from lakeworks.schemas.hosting import ModelCreate
from lakeworks.sdk.client import Client
from lakeworks.testing import InProcessServer, temporary_server

BUCKET = "sdk-transform"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"


@pytest.fixture(scope="module")
def lw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    with temporary_server(tmp_path_factory.mktemp("transform") / "home") as srv:
        yield srv


@pytest.fixture(scope="module")
def booster(lw: InProcessServer, tmp_path_factory: pytest.TempPathFactory) -> xgb.Booster:
    """Model ``xgb`` and ``s3://sdk-transform/in/rows.csv`` (10 rows)."""
    ctx = RequestContext.system()
    model = train_xgboost()
    scratch = tmp_path_factory.mktemp("files")
    lake = lw.platform.lake
    lake.create_bucket(ctx, BUCKET)
    (scratch / "model.tar.gz").write_bytes(xgboost_archive(model))
    lake.upload_file(ctx, scratch / "model.tar.gz", f"s3://{BUCKET}/xgb/model.tar.gz")
    rows = np.round(np.random.default_rng(0).random((10, 4)), 4)
    (scratch / "rows.csv").write_text("\n".join(",".join(map(str, r)) for r in rows))
    lake.upload_file(ctx, scratch / "rows.csv", f"s3://{BUCKET}/in/rows.csv")
    lw.platform.hosting.create_model(
        ctx,
        ModelCreate.model_validate(
            {
                "model_name": "xgb",
                "primary_container": {
                    "image": IMAGE,
                    "model_data_url": f"s3://{BUCKET}/xgb/model.tar.gz",
                },
            }
        ),
    )
    return model


def _spec(name: str, **extra: object) -> dict[str, object]:
    return {
        "transform_job_name": name,
        "model_name": "xgb",
        "transform_input": {
            "data_source": {
                "s3_data_source": {"s3_data_type": "S3Prefix", "s3_uri": f"s3://{BUCKET}/in/"}
            },
            "content_type": "text/csv",
            "split_type": "Line",
        },
        "transform_output": {"s3_output_path": f"s3://{BUCKET}/out", "assemble_with": "Line"},
        "transform_resources": {"instance_type": "ml.m5.large", "instance_count": 1},
        **extra,
    }


def test_sdk_create_wait_list_and_outputs(
    lw: InProcessServer, booster: xgb.Booster, tmp_path: Path
) -> None:
    client = Client(http=lw.client)
    created = client.transform_jobs.create(_spec("sdk-job"))
    assert created.transform_job_status == "InProgress"
    done = client.transform_jobs.wait("sdk-job", timeout=120)
    assert done.transform_job_status == "Completed", done.failure_reason
    assert done.outputs == [f"s3://{BUCKET}/out/rows.csv.out"]
    assert done.records == 10
    assert done.transform_end_time is not None
    assert "sdk-job" in [j.transform_job_name for j in client.transform_jobs.list()]
    logs = client.transform_jobs.logs_page("sdk-job")
    assert "transformed 10 records in 1 objects" in logs.data
    target = tmp_path / "out"
    lw.platform.lake.download(RequestContext.system(), done.outputs[0], target)
    assert len(target.read_text().split()) == 10


def test_rest_errors_are_native_and_say_what_is_allowed(
    lw: InProcessServer, booster: xgb.Booster
) -> None:
    client = Client(http=lw.client)
    with pytest.raises(ValidationError, match=r"Invalid JSONPath '\$\.\.x'"):
        client.transform_jobs.create(_spec("bad", data_processing={"output_filter": "$..x"}))
    spec = _spec("bad", data_processing={"join_source": "Input"})
    spec["transform_input"]["split_type"] = "RecordIO"  # type: ignore[index]
    with pytest.raises(ValidationError, match=r"JoinSource Input need TransformInput\.SplitType"):
        client.transform_jobs.create(spec)
    response = lw.client.post("/api/v1/transform-jobs", json={**_spec("bad"), "unknown": 1})
    assert response.status_code == 400
    with pytest.raises(NotFound, match="never-made"):
        client.transform_jobs.get("never-made")
    assert (
        lw.client.get("/api/v1/transform-jobs/never-made").json()["error"]["code"]
        == "ResourceNotFound"
    )
