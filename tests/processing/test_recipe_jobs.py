"""Recipes as a resource and recipe/profile jobs end to end on the book's wine data."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from tests.processing.conftest import BUCKET, put_text, read_object, wait_job

from lakeworks.dataprep import FittedRecipe, example_recipe
from lakeworks.testing import InProcessServer
from lakeworks.testing.datasets import book_dataset

WINE = f"s3://{BUCKET}/wine/wine-canvas.csv"


@pytest.fixture(scope="module")
def wine_recipe(lw: InProcessServer) -> dict[str, object]:
    """The shipped wine recipe stored as version 1."""
    got = lw.client.post("/api/v1/recipes", json={"text": example_recipe("wine").to_yaml()})
    assert got.status_code == 201, got.text
    body: dict[str, object] = got.json()
    return body


def test_create_publish_list_diff_export(
    lw: InProcessServer, wine_recipe: dict[str, object]
) -> None:
    assert wine_recipe["version"] == 1
    assert wine_recipe["name"] == "wine"
    v2 = example_recipe("wine").to_dict()
    v2["steps"][0]["params"]["strategy"] = "median"
    got = lw.client.post("/api/v1/recipes/wine/versions", json={"recipe": v2})
    assert got.status_code == 201, got.text
    assert got.json()["version"] == 2
    versions = lw.client.get("/api/v1/recipes/wine/versions").json()
    assert [v["version"] for v in versions] == [1, 2]
    listed = lw.client.get("/api/v1/recipes").json()["items"]
    assert [(r["name"], r["latest_version"]) for r in listed] == [("wine", 2)]
    diff = lw.client.get("/api/v1/recipes/wine/diff", params={"version_a": 1, "version_b": 2})
    changes = diff.json()["changes"]
    assert {"field": "params.strategy", "old": "mean", "new": "median"}.items() <= next(
        c for c in changes if c["change"] == "step_changed"
    ).items()
    yaml_text = lw.client.get("/api/v1/recipes/wine/export", params={"format": "yaml"})
    assert yaml_text.headers["content-type"].startswith("application/yaml")
    assert "strategy: median" in yaml_text.text
    v1 = lw.client.get("/api/v1/recipes/wine", params={"version": 1}).json()
    assert v1["recipe"]["steps"][0]["params"]["strategy"] == "mean"
    # delete one version: the rest stays
    assert lw.client.delete("/api/v1/recipes/wine", params={"version": 2}).status_code == 204
    assert lw.client.get("/api/v1/recipes/wine").json()["version"] == 1


def test_recipe_bad_inputs(lw: InProcessServer, wine_recipe: dict[str, object]) -> None:
    missing = lw.client.get("/api/v1/recipes/wine/versions/7")
    assert missing.status_code == 404
    assert "versions: [1" in missing.json()["error"]["message"]
    again = lw.client.post("/api/v1/recipes", json={"text": example_recipe("wine").to_yaml()})
    assert again.status_code == 409
    bad = lw.client.post(
        "/api/v1/recipes",
        json={"recipe": {"name": "bad", "steps": [{"transform": "min_max", "params": {"x": 1}}]}},
    )
    assert bad.status_code == 400
    assert "no parameter 'x'" in bad.json()["error"]["message"]
    assert lw.client.get("/api/v1/recipes/bad").status_code == 404
    both = lw.client.post("/api/v1/recipes", json={"text": "a: 1", "recipe": {}})
    assert both.status_code == 400
    other = lw.client.post(
        "/api/v1/recipes/wine/versions",
        json={"recipe": {**example_recipe("wine").to_dict(), "name": "x"}},
    )
    assert other.status_code == 400
    fit = lw.client.post(
        "/api/v1/recipes/wine/fit",
        json={"input_uri": WINE, "output_uri": f"s3://{BUCKET}/out/", "version": 9},
    )
    assert fit.status_code == 404
    assert "versions" in fit.json()["error"]["message"]
    nobucket = lw.client.post(
        "/api/v1/recipes/wine/fit", json={"input_uri": WINE, "output_uri": "s3://nope-bucket/x/"}
    )
    assert nobucket.status_code == 400
    assert "nope-bucket" in nobucket.json()["error"]["message"]
    jobs = lw.client.get("/api/v1/processing-jobs", params={"name_contains": "wine-fit"}).json()
    assert jobs["items"] == []  # nothing was started


def test_fit_then_apply_matches_the_library(
    lw: InProcessServer, wine_recipe: dict[str, object], tmp_path: Path
) -> None:
    fit = lw.client.post(
        "/api/v1/recipes/wine/fit",
        json={
            "input_uri": WINE,
            "output_uri": f"s3://{BUCKET}/fitted/",
            "job_name": "wine-fit-1",
            "output_format": "parquet",
        },
    )
    assert fit.status_code == 201, fit.text
    done = wait_job(lw, "wine-fit-1")
    assert done["processing_job_status"] == "Completed", done
    assert done["builtin"] == "recipe-fit"
    artifact = read_object(lw, f"s3://{BUCKET}/fitted/fitted-recipe.json")
    fitted = FittedRecipe.from_json(artifact)
    frame = pd.read_csv(book_dataset("wine-canvas.csv"))
    _, expected_train = example_recipe("wine").fit_transform(frame)
    got_train = pd.read_parquet(
        io.BytesIO(read_object(lw, f"s3://{BUCKET}/fitted/transformed.parquet"))
    )
    pd.testing.assert_frame_equal(got_train, expected_train.reset_index(drop=True))

    new_rows = frame.sample(200, random_state=1).drop(columns=["price"]).reset_index(drop=True)
    new_rows["price"] = 20.0
    new_uri = put_text(lw, "new/new.csv", new_rows.to_csv(index=False), tmp_path)
    apply = lw.client.post(
        "/api/v1/recipes/apply",
        json={
            "fitted_uri": f"s3://{BUCKET}/fitted/fitted-recipe.json",
            "input_uri": new_uri,
            "output_uri": f"s3://{BUCKET}/applied/",
            "job_name": "wine-apply-1",
            "output_format": "parquet",
        },
    )
    assert apply.status_code == 201, apply.text
    assert wait_job(lw, "wine-apply-1")["processing_job_status"] == "Completed"
    served = pd.read_parquet(
        io.BytesIO(read_object(lw, f"s3://{BUCKET}/applied/transformed.parquet"))
    )
    reference = fitted.transform(pd.read_csv(io.StringIO(new_rows.to_csv(index=False))))
    pd.testing.assert_frame_equal(served, reference.reset_index(drop=True))
    logs = lw.client.get("/api/v1/processing-jobs/wine-apply-1/logs").json()
    assert "applying recipe wine" in logs["data"]


def test_failing_recipe_jobs_report_the_library_message(
    lw: InProcessServer, tmp_path: Path
) -> None:
    recipe = {
        "name": "needs-col",
        "steps": [{"transform": "impute", "columns": ["nope"], "params": {"strategy": "mean"}}],
    }
    assert lw.client.post("/api/v1/recipes", json={"recipe": recipe}).status_code == 201
    started = lw.client.post(
        "/api/v1/recipes/needs-col/fit",
        json={"input_uri": WINE, "output_uri": f"s3://{BUCKET}/x/", "job_name": "missing-col"},
    )
    assert started.status_code == 201
    failed = wait_job(lw, "missing-col")
    assert failed["processing_job_status"] == "Failed"
    assert failed["failure_reason"].startswith("ClientError:")
    assert "nope" in failed["failure_reason"]
    assert "country" in failed["failure_reason"]  # lists the dataset's columns

    scale = {"name": "scale-text", "steps": [{"transform": "min_max", "columns": ["country"]}]}
    assert lw.client.post("/api/v1/recipes", json={"recipe": scale}).status_code == 201
    lw.client.post(
        "/api/v1/recipes/scale-text/fit",
        json={"input_uri": WINE, "output_uri": f"s3://{BUCKET}/x/", "job_name": "scale-text"},
    )
    assert "country" in wait_job(lw, "scale-text")["failure_reason"]

    empty = put_text(lw, "empty/empty.csv", "country,points,price\n", tmp_path)
    lw.client.post(
        "/api/v1/recipes/scale-text/fit",
        json={"input_uri": empty, "output_uri": f"s3://{BUCKET}/x/", "job_name": "empty-fit"},
    )
    assert "empty dataset" in wait_job(lw, "empty-fit")["failure_reason"]
    assert read_object  # nothing uploaded for failed jobs:
    listing = lw.client.get(f"/api/v1/buckets/{BUCKET}/objects", params={"prefix": "x/"})
    if listing.status_code == 200:
        assert not listing.json().get("items")


def test_profile_job_writes_json_and_report(lw: InProcessServer) -> None:
    got = lw.client.post(
        "/api/v1/profiles",
        json={"input_uri": WINE, "sample": "first", "rows": 500, "job_name": "wine-profile"},
    )
    assert got.status_code == 201, got.text
    done = wait_job(lw, "wine-profile")
    assert done["processing_job_status"] == "Completed", done
    out = done["outputs"]["result"]
    assert out == f"s3://{BUCKET}/profiles/wine-profile/"
    profile = json.loads(read_object(lw, out + "profile.json"))
    assert profile["rows"] == 500
    assert {c["name"] for c in profile["columns"]} >= {"country", "price", "points"}
    html = read_object(lw, out + "report.html").decode()
    assert html.startswith("<!DOCTYPE html") or "<html" in html[:200]

    bad = lw.client.post("/api/v1/profiles", json={"input_uri": WINE, "rows": 5})
    assert bad.status_code == 400
