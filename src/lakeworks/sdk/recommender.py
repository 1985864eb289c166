"""Inference recommendations jobs: ``client.inference_recommendations_jobs`` — create, get,
list, stop, steps, wait."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from lakeworks.schemas.common import Page
from lakeworks.schemas.recommender import (
    RecommendationJobCreate,
    RecommendationJobInfo,
    RecommendationJobStep,
    RecommendationJobSummary,
)
from lakeworks.sdk._http import Transport, paginate, request_body
from lakeworks.sdk.waiters import poll_intervals

__all__ = ["InferenceRecommendationsJobs"]

_API = "/api/v1/inference-recommendations-jobs"
_ENDED = ("COMPLETED", "FAILED", "STOPPED")


def _path(name: str) -> str:
    return f"{_API}/{quote(name, safe='')}"


class InferenceRecommendationsJobs:
    """Inference recommendations jobs (SageMaker Inference Recommender's)."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create(
        self, spec: RecommendationJobCreate | dict[str, Any] | None = None, **fields: Any
    ) -> RecommendationJobInfo:
        """Start a job (CreateInferenceRecommendationsJob's fields, snake_case or SageMaker's)."""
        body = request_body(RecommendationJobCreate, spec, **fields)
        return self._t.model(RecommendationJobInfo, "POST", _API, json=body)

    def get(self, name: str) -> RecommendationJobInfo:
        """Describe a job.

        Raises:
            NotFound: No such job.
        """
        return self._t.model(RecommendationJobInfo, "GET", _path(name))

    def list(
        self, *, status: str | None = None, name_contains: str | None = None
    ) -> Iterator[RecommendationJobSummary]:
        """Iterate over jobs, newest first."""

        def page(token: str | None) -> tuple[list[RecommendationJobSummary], str | None]:
            params = {"status_equals": status, "name_contains": name_contains, "next_token": token}
            got = self._t.model(Page[RecommendationJobSummary], "GET", _API, params=params)
            return got.items, got.next_token

        return paginate(page)

    def steps(self, name: str) -> Iterator[RecommendationJobStep]:
        """Iterate over the job's load tests in the order they ended."""

        def page(token: str | None) -> tuple[list[RecommendationJobStep], str | None]:
            params = {"next_token": token}
            got = self._t.model(
                Page[RecommendationJobStep], "GET", f"{_path(name)}/steps", params=params
            )
            return got.items, got.next_token

        return paginate(page)

    def stop(self, name: str) -> RecommendationJobInfo:
        """Stop a running job."""
        return self._t.model(RecommendationJobInfo, "POST", f"{_path(name)}/stop")

    def wait(self, name: str, *, timeout: float | None = None) -> RecommendationJobInfo:
        """Wait until the job is COMPLETED, FAILED or STOPPED; return its final state.

        Raises:
            TimeoutError: Still running after ``timeout`` seconds.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        pauses = poll_intervals()
        while True:
            job = self.get(name)
            if job.status in _ENDED:
                return job
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"Inference recommendations job {name} is still {job.status}")
            time.sleep(next(pauses))
