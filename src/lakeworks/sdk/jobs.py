"""Jobs: ``client.jobs`` — submit, describe, list, stop, read logs, wait."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any, Literal
from urllib.parse import quote

from lakeworks.schemas.common import Page
from lakeworks.schemas.jobs import JobCreate, JobInfo, JobLogs, JobStatus, JobSummary
from lakeworks.sdk._http import Transport, paginate, request_body
from lakeworks.sdk.waiters import poll_intervals, wait_for_job

__all__ = ["Jobs"]

_API = "/api/v1/jobs"


def _job_path(name: str) -> str:
    return f"{_API}/{quote(name, safe='')}"


class Jobs:
    """Jobs: scripts from the lake run in the SageMaker container layout."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create(self, spec: JobCreate | dict[str, Any] | None = None, **fields: Any) -> JobInfo:
        """Submit a job.

        Args:
            spec: A :class:`JobCreate` or a dict of its fields.
            fields: Fields as keyword arguments (``job_name=..., entry_point=...``); they
                override those of ``spec``.

        Returns:
            The job as just created (usually ``InProgress``).

        Raises:
            ValidationError: The spec is invalid (checked before sending).
            AlreadyExists: A job of that name exists.
        """
        body = request_body(JobCreate, spec, **fields)
        return self._t.model(JobInfo, "POST", _API, json=body)

    def get(self, name: str) -> JobInfo:
        """Describe a job.

        Raises:
            NotFound: No job has that name.
        """
        return self._t.model(JobInfo, "GET", _job_path(name))

    def list(
        self,
        *,
        status: JobStatus | None = None,
        name_contains: str | None = None,
        sort_by: str | None = None,
        sort_order: Literal["Ascending", "Descending"] | None = None,
        page_size: int | None = None,
    ) -> Iterator[JobSummary]:
        """Iterate over jobs across all pages.

        Args:
            status: Only jobs in this status.
            name_contains: Only jobs whose name contains this text.
            sort_by: Sort key, e.g. ``CreationTime`` or ``Name`` (the server's default when
                omitted).
            sort_order: Sort direction.
            page_size: Jobs per request (the server's default when omitted).
        """

        def page(token: str | None) -> tuple[list[JobSummary], str | None]:
            params = {
                "status_equals": status,
                "name_contains": name_contains,
                "sort_by": sort_by,
                "sort_order": sort_order,
                "max_results": page_size,
                "next_token": token,
            }
            got = self._t.model(Page[JobSummary], "GET", _API, params=params)
            return got.items, got.next_token

        return paginate(page)

    def stop(self, name: str) -> JobInfo:
        """Ask a running job to stop (SIGTERM, then SIGKILL after the grace period).

        Raises:
            NotFound: No job has that name.
        """
        return self._t.model(JobInfo, "POST", f"{_job_path(name)}/stop")

    def logs_page(self, name: str, offset: int = 0, limit: int | None = None) -> JobLogs:
        """One slice of a job's combined stdout/stderr, from byte ``offset``.

        Raises:
            NotFound: No job has that name.
        """
        params = {"offset": offset, "limit": limit}
        return self._t.model(JobLogs, "GET", f"{_job_path(name)}/logs", params=params)

    def logs(
        self, name: str, *, follow: bool = False, offset: int = 0, max_interval: float = 1.0
    ) -> Iterator[str]:
        """Yield a job's output as text, chunk by chunk.

        Args:
            name: The job.
            follow: Keep waiting for new output until the job ends (like ``tail -f``);
                otherwise stop at the end of what exists now.
            offset: Byte offset to start from.
            max_interval: Longest pause between polls while following.

        Raises:
            NotFound: No job has that name.
        """
        pauses = poll_intervals(most=max_interval)
        while True:
            page = self.logs_page(name, offset)
            offset = page.next_offset
            if page.data:
                pauses = poll_intervals(most=max_interval)
                yield page.data
                continue
            if page.complete or not follow:
                return
            time.sleep(next(pauses))

    def wait(self, name: str, *, timeout: float | None = None, progress: bool = True) -> JobInfo:
        """Wait until a job is Completed, Failed or Stopped.

        Args:
            name: The job.
            timeout: Seconds to wait at most (``None``: no limit).
            progress: Show a spinner with the status in a terminal or notebook.

        Returns:
            The final state; a Failed job is returned, not raised — check ``.status``.

        Raises:
            TimeoutError: Still running after ``timeout`` seconds.
            NotFound: No job has that name.
        """
        return wait_for_job(lambda: self.get(name), timeout=timeout, progress=progress)
