"""Recipes and profiles: ``client.recipes`` and ``client.profiles``."""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from lakeworks.schemas.common import Page
from lakeworks.schemas.processing import ProcessingJobInfo
from lakeworks.schemas.recipes import (
    ProfileJobCreate,
    RecipeApplyJobCreate,
    RecipeDiff,
    RecipeFitJobCreate,
    RecipeSummary,
    RecipeVersionInfo,
    RecipeVersionSummary,
)
from lakeworks.sdk._http import Transport, paginate, request_body

__all__ = ["Profiles", "Recipes"]

_API = "/api/v1/recipes"


def _path(name: str) -> str:
    return f"{_API}/{quote(name, safe='')}"


def _document(recipe: str | Path | dict[str, Any]) -> dict[str, Any]:
    """A dict stays a dict; a Path is read; a string is JSON/YAML text."""
    if isinstance(recipe, dict):
        return {"recipe": recipe}
    if isinstance(recipe, Path):
        return {"text": recipe.read_text(encoding="utf-8")}
    return {"text": recipe}


class Recipes:
    """Versioned feature-engineering recipes, and the jobs that fit and apply them."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create(self, recipe: str | Path | dict[str, Any]) -> RecipeVersionInfo:
        """Store a new recipe as version 1 (a dict, a JSON/YAML string or a file Path).

        Raises:
            ValidationError: Not a valid recipe.
            AlreadyExists: The name is taken (publish a version instead).
        """
        return self._t.model(RecipeVersionInfo, "POST", _API, json=_document(recipe))

    def publish(self, name: str, recipe: str | Path | dict[str, Any]) -> RecipeVersionInfo:
        """Store the next version of recipe ``name``."""
        body = _document(recipe)
        return self._t.model(RecipeVersionInfo, "POST", f"{_path(name)}/versions", json=body)

    def list(self, *, name_contains: str | None = None) -> Iterator[RecipeSummary]:
        """Iterate over recipes (latest version each)."""

        def page(token: str | None) -> tuple[list[RecipeSummary], str | None]:
            params = {"name_contains": name_contains, "next_token": token}
            got = self._t.model(Page[RecipeSummary], "GET", _API, params=params)
            return got.items, got.next_token

        return paginate(page)

    def versions(self, name: str) -> builtins.list[RecipeVersionSummary]:
        """Every version of recipe ``name``."""
        data = self._t.request("GET", f"{_path(name)}/versions").json()
        return [RecipeVersionSummary.model_validate(v) for v in data]

    def get(self, name: str, version: int | None = None) -> RecipeVersionInfo:
        """A version of recipe ``name`` (the latest by default).

        Raises:
            NotFound: No such recipe or version (the message lists the versions).
        """
        params = {"version": version}
        return self._t.model(RecipeVersionInfo, "GET", _path(name), params=params)

    def diff(self, name: str, version_a: int, version_b: int) -> RecipeDiff:
        """What changed from ``version_a`` to ``version_b``."""
        params = {"version_a": version_a, "version_b": version_b}
        return self._t.model(RecipeDiff, "GET", f"{_path(name)}/diff", params=params)

    def export(
        self, name: str, *, version: int | None = None, format: Literal["json", "yaml"] = "json"
    ) -> str:
        """A version of recipe ``name`` as JSON or YAML text."""
        params = {"version": version, "format": format}
        return self._t.request("GET", f"{_path(name)}/export", params=params).text

    def delete(self, name: str, *, version: int | None = None) -> None:
        """Delete recipe ``name`` (all versions) or one version."""
        self._t.request("DELETE", _path(name), params={"version": version})

    def fit(self, name: str, input_uri: str, output_uri: str, **options: Any) -> ProcessingJobInfo:
        """Start a job fitting recipe ``name`` on ``input_uri``; results under ``output_uri``.

        Args:
            options: More :class:`RecipeFitJobCreate` fields (``version``, ``job_name`` …).
        """
        body = request_body(
            RecipeFitJobCreate, None, input_uri=input_uri, output_uri=output_uri, **options
        )
        return self._t.model(ProcessingJobInfo, "POST", f"{_path(name)}/fit", json=body)

    def apply(
        self, fitted_uri: str, input_uri: str, output_uri: str, **options: Any
    ) -> ProcessingJobInfo:
        """Start a job applying the fitted recipe at ``fitted_uri`` to ``input_uri``."""
        body = request_body(
            RecipeApplyJobCreate,
            None,
            fitted_uri=fitted_uri,
            input_uri=input_uri,
            output_uri=output_uri,
            **options,
        )
        return self._t.model(ProcessingJobInfo, "POST", f"{_API}/apply", json=body)


class Profiles:
    """Profile jobs: ``profile.json`` and ``report.html`` for a lake dataset."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create(self, s3_uri: str, **options: Any) -> ProcessingJobInfo:
        """Start a profile job on ``s3_uri`` (``sample``, ``rows``, ``output_uri`` …)."""
        body = request_body(ProfileJobCreate, None, input_uri=s3_uri, **options)
        return self._t.model(ProcessingJobInfo, "POST", "/api/v1/profiles", json=body)

    def report_uri(self, job: ProcessingJobInfo) -> str:
        """Where a profile job's ``report.html`` lands."""
        return job.outputs.get("result", _output_of(job)).rstrip("/") + "/report.html"

    def report_html(self, job: ProcessingJobInfo) -> str:
        """The report of a completed profile job, as HTML text."""
        bucket, _, key = self.report_uri(job)[5:].partition("/")
        path = f"/api/v1/buckets/{quote(bucket, safe='')}/objects/{quote(key, safe='/')}"
        return self._t.request("GET", path).text


def _output_of(job: ProcessingJobInfo) -> str:
    config = job.processing_output_config
    if config and config.outputs and config.outputs[0].s3_output:
        return config.outputs[0].s3_output.s3_uri
    return ""
