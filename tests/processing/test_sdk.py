"""``client.recipes``, ``client.profiles`` and ``client.processing_jobs`` in process."""

from __future__ import annotations

import pytest
from tests.processing.conftest import BUCKET

from lakeworks.core.errors import NotFound
from lakeworks.dataprep import example_recipe
from lakeworks.sdk.client import Client
from lakeworks.testing import InProcessServer


def test_sdk_recipes_and_profiles(lw: InProcessServer) -> None:
    client = Client(http=lw.client)
    created = client.recipes.create(example_recipe("wine").to_yaml().replace("wine", "sdk-wine", 1))
    assert created.version == 1
    published = client.recipes.publish("sdk-wine", created.recipe)
    assert published.version == 2
    assert [v.version for v in client.recipes.versions("sdk-wine")] == [1, 2]
    assert client.recipes.diff("sdk-wine", 1, 2).changes == [
        {"change": "recipe_changed", "field": "version", "old": 1, "new": 2}
    ]
    assert "name: sdk-wine" in client.recipes.export("sdk-wine", format="yaml")
    with pytest.raises(NotFound, match=r"versions: \[1, 2\]"):
        client.recipes.get("sdk-wine", 3)
    job = client.profiles.create(f"s3://{BUCKET}/wine/wine-canvas.csv", sample="random", rows=300)
    done = client.processing_jobs.wait(job.processing_job_name, timeout=120)
    assert done.processing_job_status == "Completed", done.failure_reason
    assert client.profiles.report_uri(done).endswith(f"{job.processing_job_name}/report.html")
    assert "<svg" in client.profiles.report_html(done)
    names = [j.processing_job_name for j in client.processing_jobs.list()]
    assert job.processing_job_name in names
    client.recipes.delete("sdk-wine")
    with pytest.raises(NotFound):
        client.recipes.get("sdk-wine")
