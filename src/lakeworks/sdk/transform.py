"""Batch transform jobs: ``client.transform_jobs`` — create, describe, list, stop, logs, wait."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from lakeworks.schemas.common import Page
from lakeworks.schemas.jobs import JobLogs
from lakeworks.schemas.transform import (
    TransformJobCreate,
    TransformJobInfo,
    TransformJobSummary,
)
from lakeworks.sdk._http import Transport, paginate, request_body
from lakeworks.sdk.waiters import poll_intervals

__all__ = ["TransformJobs"]

_API = "/api/v1/transform-jobs"
_ENDED = ("Completed", "Failed", "Stopped")


def _path(name: str) -> str:
    return f"{_API}/{quote(name, safe='')}"


class TransformJobs:
    """Batch transform jobs (SageMaker's)."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create(
        self, spec: TransformJobCreate | dict[str, Any] | None = None, **fields: Any
    ) -> TransformJobInfo:
        """Submit a batch transform job (CreateTransformJob's fields, snake_case or SageMaker's)."""
        body = request_body(TransformJobCreate, spec, **fields)
        return self._t.model(TransformJobInfo, "POST", _API, json=body)

    def get(self, name: str) -> TransformJobInfo:
        """Describe a transform job.

        Raises:
            NotFound: No such transform job.
        """
        return self._t.model(TransformJobInfo, "GET", _path(name))

    def list(
        self, *, status: str | None = None, name_contains: str | None = None
    ) -> Iterator[TransformJobSummary]:
        """Iterate over transform jobs, newest first."""

        def page(token: str | None) -> tuple[list[TransformJobSummary], str | None]:
            params = {"status_equals": status, "name_contains": name_contains, "next_token": token}
            got = self._t.model(Page[TransformJobSummary], "GET", _API, params=params)
            return got.items, got.next_token

        return paginate(page)

    def stop(self, name: str) -> TransformJobInfo:
        """Stop a running transform job."""
        return self._t.model(TransformJobInfo, "POST", f"{_path(name)}/stop")

    def logs_page(self, name: str, offset: int = 0) -> JobLogs:
        """One slice of the job's combined stdout/stderr."""
        return self._t.model(JobLogs, "GET", f"{_path(name)}/logs", params={"offset": offset})

    def wait(self, name: str, *, timeout: float | None = None) -> TransformJobInfo:
        """Wait until the job is Completed, Failed or Stopped; return its final state.

        Raises:
            TimeoutError: Still running after ``timeout`` seconds.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        pauses = poll_intervals()
        while True:
            job = self.get(name)
            if job.transform_job_status in _ENDED:
                return job
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"Transform job {name} is still {job.transform_job_status}")
            time.sleep(next(pauses))
