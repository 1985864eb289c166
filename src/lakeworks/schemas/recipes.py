"""Wire shapes of recipes (versioned feature-engineering recipes) and of recipe/profile jobs.

A recipe is stored as versions: creating one stores version 1, publishing adds the next
number. The document is the library's recipe format (``lakeworks.dataprep.recipes``); its
``version`` field is set by the server to the version it is stored as.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, model_validator

from lakeworks.core.names import NAME_PATTERN
from lakeworks.schemas.common import RequestModel, ResponseModel

__all__ = [
    "ProfileJobCreate",
    "RecipeApplyJobCreate",
    "RecipeDiff",
    "RecipeDocument",
    "RecipeFitJobCreate",
    "RecipeSummary",
    "RecipeVersionInfo",
    "RecipeVersionSummary",
]

S3_URI = r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$"
DataFormat = Literal["csv", "parquet", "json"]
OutputFormat = Literal["csv", "parquet"]


class RecipeDocument(RequestModel):
    """A recipe to create or publish: parsed (``recipe``) or as JSON/YAML text (``text``)."""

    recipe: dict[str, Any] | None = Field(None, description="The recipe as a JSON object")
    text: str | None = Field(
        None, max_length=1_000_000, description="The recipe as JSON or YAML text"
    )
    format: Literal["json", "yaml"] | None = Field(
        None, description="Format of ``text``; None: JSON when it starts with '{', else YAML"
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> RecipeDocument:
        if (self.recipe is None) == (self.text is None):
            raise ValueError("give exactly one of 'recipe' (an object) or 'text' (JSON/YAML)")
        return self


class RecipeVersionSummary(ResponseModel):
    """One stored version of a recipe."""

    name: str
    version: int
    description: str = ""
    steps: int
    created_by: str
    creation_time: datetime


class RecipeVersionInfo(RecipeVersionSummary):
    """One version with its document."""

    recipe: dict[str, Any]


class RecipeSummary(ResponseModel):
    """A recipe in a list: its latest version and how many versions exist."""

    name: str
    latest_version: int
    versions: list[int]
    description: str = ""
    creation_time: datetime
    last_modified_time: datetime


class RecipeDiff(ResponseModel):
    """What changed from version ``version_a`` to ``version_b`` (``diff_recipes``)."""

    name: str
    version_a: int
    version_b: int
    changes: list[dict[str, Any]]


class RecipeFitJobCreate(RequestModel):
    """Fit a recipe version on a lake dataset in a processing job.

    Results under ``output_uri``: ``fitted-recipe.json`` and, with ``write_transformed``,
    ``transformed.<csv|parquet>``.
    """

    input_uri: str = Field(pattern=S3_URI, description="A CSV/Parquet/JSON object or prefix")
    output_uri: str = Field(pattern=S3_URI, description="Prefix the results go under")
    version: int | None = Field(None, ge=1, description="None: the latest version")
    job_name: str | None = Field(None, pattern=NAME_PATTERN, min_length=1, max_length=63)
    input_format: DataFormat | None = None
    output_format: OutputFormat | None = None
    delimiter: str | None = Field(None, min_length=1, max_length=1)
    write_transformed: bool = True
    max_runtime_in_seconds: int = Field(3600, ge=1, le=7 * 86400)


class RecipeApplyJobCreate(RequestModel):
    """Apply a fitted recipe artifact (``fitted-recipe.json`` in the lake) to a dataset.

    The result goes to ``<output_uri>/transformed.<csv|parquet>``.
    """

    fitted_uri: str = Field(pattern=S3_URI, description="The fitted recipe JSON object")
    input_uri: str = Field(pattern=S3_URI)
    output_uri: str = Field(pattern=S3_URI)
    job_name: str | None = Field(None, pattern=NAME_PATTERN, min_length=1, max_length=63)
    input_format: DataFormat | None = None
    output_format: OutputFormat | None = None
    delimiter: str | None = Field(None, min_length=1, max_length=1)
    max_runtime_in_seconds: int = Field(3600, ge=1, le=7 * 86400)


class ProfileJobCreate(RequestModel):
    """Profile a lake dataset in a processing job: ``profile.json`` and ``report.html``.

    Without ``output_uri`` the results go to ``s3://<input bucket>/profiles/<job name>/``.
    """

    input_uri: str = Field(pattern=S3_URI)
    output_uri: str | None = Field(None, pattern=S3_URI)
    job_name: str | None = Field(None, pattern=NAME_PATTERN, min_length=1, max_length=63)
    sample: Literal["full", "first", "random"] = "full"
    rows: int | None = Field(None, ge=1, description="Rows for sample first/random")
    seed: int = Field(0, ge=0)
    input_format: DataFormat | None = None
    delimiter: str | None = Field(None, min_length=1, max_length=1)
    title: str | None = Field(None, max_length=200)
    max_runtime_in_seconds: int = Field(3600, ge=1, le=7 * 86400)

    @model_validator(mode="after")
    def _rows_with_sample(self) -> ProfileJobCreate:
        if self.sample == "full" and self.rows is not None:
            raise ValueError("'rows' applies to sample 'first' or 'random', not 'full'")
        return self
