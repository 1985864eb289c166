"""Processing jobs: ``client.processing_jobs`` — create, describe, list, stop, logs, wait."""

from __future__ import annotations

from lakeworks.schemas.processing import (
    ProcessingJobCreate,
    ProcessingJobInfo,
    ProcessingJobSummary,
)
from lakeworks.sdk._jobs import LoggedJobResource

__all__ = ["ProcessingJobs"]


class ProcessingJobs(
    LoggedJobResource[ProcessingJobCreate, ProcessingJobInfo, ProcessingJobSummary]
):
    """Processing jobs (SageMaker's), including recipe and profile jobs."""

    api = "/api/v1/processing-jobs"
    what = "Processing job"
    create_model = ProcessingJobCreate
    info_model = ProcessingJobInfo
    summary_model = ProcessingJobSummary

    def status(self, job: ProcessingJobInfo) -> str:
        """The job's ProcessingJobStatus."""
        return job.processing_job_status
