"""Batch transform jobs: ``client.transform_jobs`` — create, describe, list, stop, logs, wait."""

from __future__ import annotations

from lakeworks.schemas.transform import (
    TransformJobCreate,
    TransformJobInfo,
    TransformJobSummary,
)
from lakeworks.sdk._jobs import LoggedJobResource

__all__ = ["TransformJobs"]


class TransformJobs(LoggedJobResource[TransformJobCreate, TransformJobInfo, TransformJobSummary]):
    """Batch transform jobs (SageMaker's)."""

    api = "/api/v1/transform-jobs"
    what = "Transform job"
    create_model = TransformJobCreate
    info_model = TransformJobInfo
    summary_model = TransformJobSummary

    def status(self, job: TransformJobInfo) -> str:
        """The job's TransformJobStatus."""
        return job.transform_job_status
