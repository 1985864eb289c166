"""Inference recommendations jobs: ``client.inference_recommendations_jobs`` — create, get,
list, stop, steps, wait."""

from __future__ import annotations

from collections.abc import Iterator

from lakeworks.schemas.common import Page
from lakeworks.schemas.recommender import (
    RecommendationJobCreate,
    RecommendationJobInfo,
    RecommendationJobStep,
    RecommendationJobSummary,
)
from lakeworks.sdk._http import paginate
from lakeworks.sdk._jobs import JobResource

__all__ = ["InferenceRecommendationsJobs"]


class InferenceRecommendationsJobs(
    JobResource[RecommendationJobCreate, RecommendationJobInfo, RecommendationJobSummary]
):
    """Inference recommendations jobs (SageMaker Inference Recommender's)."""

    api = "/api/v1/inference-recommendations-jobs"
    what = "Inference recommendations job"
    create_model = RecommendationJobCreate
    info_model = RecommendationJobInfo
    summary_model = RecommendationJobSummary
    ended = ("COMPLETED", "FAILED", "STOPPED")

    def status(self, job: RecommendationJobInfo) -> str:
        """The job's Status."""
        return job.status

    def steps(self, name: str) -> Iterator[RecommendationJobStep]:
        """Iterate over the job's load tests in the order they ended."""

        def page(token: str | None) -> tuple[list[RecommendationJobStep], str | None]:
            params = {"next_token": token}
            got = self._t.model(
                Page[RecommendationJobStep], "GET", f"{self._path(name)}/steps", params=params
            )
            return got.items, got.next_token

        return paginate(page)
