"""ETL jobs: ``client.etl_jobs`` — create, get, list, delete, start runs, runs, logs, wait."""

from __future__ import annotations

import builtins
import time
from typing import Any
from urllib.parse import quote

from lakeworks.schemas.common import Page
from lakeworks.schemas.etl import EtlJobCreate, EtlJobInfo, EtlRunInfo
from lakeworks.schemas.jobs import JobLogs
from lakeworks.sdk._http import Transport
from lakeworks.sdk.waiters import poll_intervals

__all__ = ["EtlJobs"]

_API = "/api/v1/etl-jobs"
_ACTIVE = ("STARTING", "RUNNING", "STOPPING")


def _path(name: str) -> str:
    return f"{_API}/{quote(name, safe='')}"


class EtlJobs:
    """Glue-style Python-shell ETL jobs and their runs."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create(
        self, spec: EtlJobCreate | dict[str, Any] | None = None, **fields: Any
    ) -> EtlJobInfo:
        """Create a job (CreateJob's fields, snake_case: ``name``, ``command``,
        ``default_arguments`` …).

        Raises:
            ValidationError: A bad field, or not a Python-shell job.
        """
        if isinstance(spec, EtlJobCreate):
            base: dict[str, Any] = spec.model_dump(mode="json", exclude_unset=True)
        else:
            base = dict(spec or {})
        return self._t.model(EtlJobInfo, "POST", _API, json={**base, **fields})

    def get(self, name: str) -> EtlJobInfo:
        """One job."""
        return self._t.model(EtlJobInfo, "GET", _path(name))

    def list(self) -> builtins.list[EtlJobInfo]:
        """Every job, by name."""
        return self._t.model(Page[EtlJobInfo], "GET", _API).items

    def delete(self, name: str) -> None:
        """Delete a job."""
        self._t.request("DELETE", _path(name))

    def start_run(self, name: str, arguments: dict[str, str] | None = None) -> EtlRunInfo:
        """Start a run with ``arguments`` over the job's default arguments."""
        body = {"arguments": arguments or {}}
        return self._t.model(EtlRunInfo, "POST", f"{_path(name)}/runs", json=body)

    def runs(self, name: str, *, max_results: int = 100) -> builtins.list[EtlRunInfo]:
        """A job's runs, newest first."""
        params = {"max_results": max_results}
        return self._t.model(Page[EtlRunInfo], "GET", f"{_path(name)}/runs", params=params).items

    def get_run(self, name: str, run_id: str) -> EtlRunInfo:
        """One run."""
        return self._t.model(EtlRunInfo, "GET", f"{_path(name)}/runs/{quote(run_id, safe='')}")

    def logs_page(self, name: str, run_id: str, offset: int = 0) -> JobLogs:
        """One slice of a run's output."""
        path = f"{_path(name)}/runs/{quote(run_id, safe='')}/logs"
        return self._t.model(JobLogs, "GET", path, params={"offset": offset})

    def wait(self, name: str, run_id: str, *, timeout: float | None = None) -> EtlRunInfo:
        """Wait until the run ended; its final state.

        Raises:
            TimeoutError: Still running after ``timeout`` seconds.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        pauses = poll_intervals()
        while True:
            run = self.get_run(name, run_id)
            if run.job_run_state not in _ACTIVE:
                return run
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"Run {run_id} of {name} is still {run.job_run_state}")
            time.sleep(next(pauses))
