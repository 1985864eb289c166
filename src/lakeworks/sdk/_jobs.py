"""The shape every job-like SDK resource shares: create, get, list, stop, wait (and logs).

A resource names its REST path, its wire models and how to read a job's status; the rest is
here once. ``client.processing_jobs``, ``client.transform_jobs`` and
``client.inference_recommendations_jobs`` are built this way.
"""

from __future__ import annotations

import abc
import time
from collections.abc import Iterator
from typing import Any, Generic, TypeVar
from urllib.parse import quote

from pydantic import BaseModel

from lakeworks.schemas.common import Page
from lakeworks.schemas.jobs import JobLogs
from lakeworks.sdk._http import Transport, paginate, request_body
from lakeworks.sdk.waiters import poll_intervals

__all__ = ["JobResource", "LoggedJobResource"]

CreateT = TypeVar("CreateT", bound=BaseModel)
InfoT = TypeVar("InfoT", bound=BaseModel)
SummaryT = TypeVar("SummaryT", bound=BaseModel)


class JobResource(abc.ABC, Generic[CreateT, InfoT, SummaryT]):
    """A kind of job behind ``/api/v1/<kind>``.

    Subclasses set :attr:`api`, :attr:`what` (for messages), the three models, the statuses
    that end a job, and :meth:`status`.
    """

    api: str
    what: str
    create_model: type[CreateT]
    info_model: type[InfoT]
    summary_model: type[SummaryT]
    ended: tuple[str, ...] = ("Completed", "Failed", "Stopped")

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    @abc.abstractmethod
    def status(self, job: InfoT) -> str:
        """The job's status as its wire model spells it."""

    def _path(self, name: str) -> str:
        return f"{self.api}/{quote(name, safe='')}"

    def create(self, spec: CreateT | dict[str, Any] | None = None, **fields: Any) -> InfoT:
        """Submit a job: the AWS Create action's fields, snake_case or AWS's spelling."""
        body = request_body(self.create_model, spec, **fields)
        return self._t.model(self.info_model, "POST", self.api, json=body)

    def get(self, name: str) -> InfoT:
        """Describe a job.

        Raises:
            NotFound: No such job.
        """
        return self._t.model(self.info_model, "GET", self._path(name))

    def list(
        self, *, status: str | None = None, name_contains: str | None = None
    ) -> Iterator[SummaryT]:
        """Iterate over the jobs, newest first."""

        def page(token: str | None) -> tuple[list[SummaryT], str | None]:
            params = {"status_equals": status, "name_contains": name_contains, "next_token": token}
            got = self._t.model(Page[self.summary_model], "GET", self.api, params=params)  # type: ignore[name-defined]
            return got.items, got.next_token

        return paginate(page)

    def stop(self, name: str) -> InfoT:
        """Stop a running job."""
        return self._t.model(self.info_model, "POST", f"{self._path(name)}/stop")

    def wait(self, name: str, *, timeout: float | None = None) -> InfoT:
        """Wait until the job ends (Completed, Failed or Stopped); return its final state.

        Raises:
            TimeoutError: Still running after ``timeout`` seconds.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        pauses = poll_intervals()
        while True:
            job = self.get(name)
            if self.status(job) in self.ended:
                return job
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"{self.what} {name} is still {self.status(job)}")
            time.sleep(next(pauses))


class LoggedJobResource(JobResource[CreateT, InfoT, SummaryT]):
    """A job kind that runs as a Lakeworks job, with its combined output at ``…/logs``."""

    def logs_page(self, name: str, offset: int = 0) -> JobLogs:
        """One slice of the job's combined stdout/stderr."""
        return self._t.model(JobLogs, "GET", f"{self._path(name)}/logs", params={"offset": offset})
