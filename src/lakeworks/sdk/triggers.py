"""Triggers: ``client.triggers`` — create, get, list, update, delete, start, stop, runs.

Example::

    c.triggers.create(
        name="raw-csv",
        type="EVENT",
        event_source={"bucket": "data", "prefix": "glue-in/", "suffix": ".csv"},
        actions=[{"job_name": "scale", "arguments": {"--s3_input_dataset": "{s3_uri}"}}],
        start_on_creation=True,
    )
    c.triggers.create(name="every-5", type="SCHEDULED", schedule="rate(5 minutes)",
                      actions=[{"function_name": "report"}], start_on_creation=True)
    for run in c.triggers.runs("raw-csv"):
        print(run.reason, run.status, run.started, run.error_message)
"""

from __future__ import annotations

import builtins
from typing import Any
from urllib.parse import quote

from lakeworks.schemas.common import Page
from lakeworks.schemas.triggers import TriggerCreate, TriggerInfo, TriggerRunInfo, TriggerUpdate
from lakeworks.sdk._http import Transport, request_body

__all__ = ["Triggers"]

_API = "/api/v1/triggers"


def _path(name: str) -> str:
    return f"{_API}/{quote(name, safe='')}"


class Triggers:
    """Triggers (Glue's and native ones) and the record of their firings."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create(
        self, spec: TriggerCreate | dict[str, Any] | None = None, **fields: Any
    ) -> TriggerInfo:
        """Create a trigger (TriggerCreate's fields).

        Raises:
            NotFound: A job, function, crawler or bucket it names does not exist.
            ValidationError: Fields that do not fit its type, a bad schedule.
        """
        body = request_body(TriggerCreate, spec, **fields)
        return self._t.model(TriggerInfo, "POST", _API, json=body)

    def get(self, name: str) -> TriggerInfo:
        """One trigger."""
        return self._t.model(TriggerInfo, "GET", _path(name))

    def list(self, *, dependent_job_name: str | None = None) -> builtins.list[TriggerInfo]:
        """Every trigger by name (only those starting ``dependent_job_name`` if given)."""
        params = {"dependent_job_name": dependent_job_name}
        return self._t.model(Page[TriggerInfo], "GET", _API, params=params).items

    def update(self, name: str, **fields: Any) -> TriggerInfo:
        """Change a trigger's schedule, predicate, actions, event source or description."""
        body = request_body(TriggerUpdate, None, **fields)
        return self._t.model(TriggerInfo, "PATCH", _path(name), json=body)

    def delete(self, name: str) -> None:
        """Delete a trigger (its firings stay visible)."""
        self._t.request("DELETE", _path(name))

    def start(self, name: str) -> TriggerInfo:
        """Fire an ON_DEMAND trigger now, or activate any other kind."""
        return self._t.model(TriggerInfo, "POST", f"{_path(name)}/start")

    def stop(self, name: str) -> TriggerInfo:
        """Deactivate a trigger."""
        return self._t.model(TriggerInfo, "POST", f"{_path(name)}/stop")

    def runs(self, name: str, *, max_results: int = 100) -> builtins.list[TriggerRunInfo]:
        """A trigger's firings, newest first."""
        params = {"max_results": max_results}
        got = self._t.model(Page[TriggerRunInfo], "GET", f"{_path(name)}/runs", params=params)
        return got.items

    def get_run(self, run_id: str) -> TriggerRunInfo:
        """One firing."""
        path = f"/api/v1/trigger-runs/{quote(run_id, safe='')}"
        return self._t.model(TriggerRunInfo, "GET", path)
