"""Recipes as a resource (versions, diff, export) and the recipe and profile jobs.

A recipe is stored as immutable versions: :meth:`RecipeService.create_recipe` stores version 1,
:meth:`RecipeService.publish_recipe_version` the next number; every document is checked with the
library (:class:`lakeworks.dataprep.recipes.Recipe`) first, and its ``version`` is set to the
number it is stored as.

Fit, apply and profile run as processing jobs with a built-in runner (no user script):
``python -m lakeworks.processing.recipe_job`` or ``...profile_job`` with the dataset staged at
``/opt/ml/processing/input/data`` and the results uploaded from ``/opt/ml/processing/output``.
What can be checked at submit time is (an unknown recipe version, a missing bucket); what needs
the data (a missing column, a text column for a scaler, an empty dataset) ends the job Failed
with the library's message.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from lakeworks.core.clock import utcnow
from lakeworks.core.context import RequestContext
from lakeworks.core.errors import AlreadyExists, NotFound, ValidationError
from lakeworks.core.names import validate_name
from lakeworks.dataprep.recipes import Recipe, diff_recipes, parse_document
from lakeworks.db import Database
from lakeworks.jobs import staging
from lakeworks.processing import store
from lakeworks.processing.kind import BUILTIN_CONFIG
from lakeworks.processing.service import ProcessingService
from lakeworks.schemas.common import Page
from lakeworks.schemas.processing import BuiltinJobConfig, ProcessingJobCreate, ProcessingJobInfo
from lakeworks.schemas.recipes import (
    ProfileJobCreate,
    RecipeApplyJobCreate,
    RecipeDiff,
    RecipeDocument,
    RecipeFitJobCreate,
    RecipeSummary,
    RecipeVersionInfo,
    RecipeVersionSummary,
)

__all__ = ["BUILTIN_IMAGE", "RecipeService"]

#: The ImageUri recorded on built-in recipe and profile jobs.
BUILTIN_IMAGE = "lakeworks/dataprep:1"
_INPUT = "/opt/ml/processing/input/data"
_FITTED = "/opt/ml/processing/input/fitted"
_OUTPUT = "/opt/ml/processing/output"


def _load(document: RecipeDocument) -> Recipe:
    data = document.recipe if document.recipe is not None else None
    if data is None:
        assert document.text is not None  # the schema requires one of them
        data = parse_document(document.text, document.format)
    if isinstance(data, dict) and "version" not in data:
        data = {**data, "version": 1}  # the server numbers versions
    return Recipe.from_dict(data)


def _version_info(row: store.RecipeVersionRecord) -> RecipeVersionInfo:
    return RecipeVersionInfo(
        name=row.name,
        version=row.version,
        description=row.description,
        steps=row.steps,
        created_by=row.created_by,
        creation_time=row.creation_time,
        recipe=row.document,
    )


class RecipeService:
    """Recipe versions, and the fit, apply and profile jobs.

    Args:
        db: The metadata database.
        processing: Runs the jobs.
        clock: Current UTC time.
    """

    def __init__(
        self,
        db: Database,
        processing: ProcessingService,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.processing = processing
        self.clock = clock

    # -- versions -----------------------------------------------------------------------------

    def _store(self, ctx: RequestContext, recipe: Recipe, version: int) -> RecipeVersionInfo:
        document = Recipe(recipe.name, version, recipe.steps, recipe.description).to_dict()
        row = store.RecipeVersionRecord(
            name=recipe.name,
            version=version,
            document=document,
            description=recipe.description,
            steps=len(recipe.steps),
            created_by=ctx.principal,
            creation_time=self.clock(),
        )
        try:
            with self.db.session() as session:
                session.add(row)
        except IntegrityError:
            raise AlreadyExists(
                f"Recipe {recipe.name!r} version {version} was just published by someone else; "
                "publish again"
            ) from None
        return _version_info(row)

    def create_recipe(self, ctx: RequestContext, document: RecipeDocument) -> RecipeVersionInfo:
        """Store a new recipe as version 1 (its document's ``name`` names it).

        Raises:
            ValidationError: Not a valid recipe (the library's message).
            AlreadyExists: A recipe of that name exists (publish a new version instead).
        """
        ctx.require("write")
        recipe = _load(document)
        with self.db.session() as session:
            if store.recipe_versions(session, recipe.name):
                raise AlreadyExists(
                    f"Recipe {recipe.name!r} already exists; publish a new version with "
                    f"POST /api/v1/recipes/{recipe.name}/versions"
                )
        return self._store(ctx, recipe, 1)

    def publish_recipe_version(
        self, ctx: RequestContext, name: str, document: RecipeDocument
    ) -> RecipeVersionInfo:
        """Store ``document`` as the next version of recipe ``name``.

        Raises:
            NotFound: No recipe ``name``.
            ValidationError: Not a valid recipe, or its name is not ``name``.
        """
        ctx.require("write")
        recipe = _load(document)
        if recipe.name != name:
            raise ValidationError(
                f"The document names recipe {recipe.name!r}, but it is published as a version "
                f"of {name!r}; make the names match"
            )
        versions = self._versions(name)
        return self._store(ctx, recipe, versions[-1].version + 1)

    def _versions(self, name: str) -> list[store.RecipeVersionRecord]:
        validate_name(name, "recipe")
        with self.db.session() as session:
            rows = store.recipe_versions(session, name)
        if not rows:
            raise NotFound(f"Recipe {name!r} does not exist", aws_code="ResourceNotFound")
        return rows

    def _version(self, name: str, version: int | None) -> store.RecipeVersionRecord:
        rows = self._versions(name)
        if version is None:
            return rows[-1]
        for row in rows:
            if row.version == version:
                return row
        raise NotFound(
            f"Recipe {name!r} has no version {version}; versions: {[r.version for r in rows]}",
            aws_code="ResourceNotFound",
            details={"versions": [r.version for r in rows]},
        )

    def list_recipes(
        self,
        ctx: RequestContext,
        *,
        name_contains: str | None = None,
        max_results: int = 50,
        next_token: str | None = None,
    ) -> Page[RecipeSummary]:
        """Recipes by name, with their latest version; ``next_token`` is the last name seen.

        Raises:
            ValidationError: ``max_results`` outside 1..100.
        """
        ctx.require("read")
        if not 1 <= max_results <= 100:
            raise ValidationError(f"max_results must be 1-100, got {max_results}")
        with self.db.session() as session:
            names = store.recipe_names(
                session, name_contains=name_contains, after=next_token, limit=max_results + 1
            )
            items = []
            for name in names[:max_results]:
                rows = store.recipe_versions(session, name)
                items.append(
                    RecipeSummary(
                        name=name,
                        latest_version=rows[-1].version,
                        versions=[r.version for r in rows],
                        description=rows[-1].description,
                        creation_time=rows[0].creation_time,
                        last_modified_time=rows[-1].creation_time,
                    )
                )
        token = names[max_results - 1] if len(names) > max_results else None
        return Page(items=items, next_token=token)

    def list_recipe_versions(self, ctx: RequestContext, name: str) -> list[RecipeVersionSummary]:
        """Every version of recipe ``name``, oldest first.

        Raises:
            NotFound: No recipe ``name``.
        """
        ctx.require("read")
        return [
            RecipeVersionSummary.model_validate(_version_info(r).model_dump())
            for r in self._versions(name)
        ]

    def describe_recipe(
        self, ctx: RequestContext, name: str, version: int | None = None
    ) -> RecipeVersionInfo:
        """One version of recipe ``name`` (the latest by default).

        Raises:
            NotFound: No recipe ``name``, or no such version (the message lists those that
                exist).
        """
        ctx.require("read")
        return _version_info(self._version(name, version))

    def diff_recipe_versions(
        self, ctx: RequestContext, name: str, version_a: int, version_b: int
    ) -> RecipeDiff:
        """What changed from one version of recipe ``name`` to another.

        Raises:
            NotFound: No recipe ``name``, or either version does not exist.
        """
        ctx.require("read")
        a, b = self._version(name, version_a), self._version(name, version_b)
        return RecipeDiff(
            name=name,
            version_a=version_a,
            version_b=version_b,
            changes=diff_recipes(a.document, b.document),
        )

    def export_recipe(
        self, ctx: RequestContext, name: str, version: int | None = None, fmt: str = "json"
    ) -> str:
        """A version of recipe ``name`` as JSON or YAML text.

        Raises:
            NotFound: No such recipe or version.
            ValidationError: ``fmt`` is neither json nor yaml.
        """
        ctx.require("read")
        if fmt not in ("json", "yaml"):
            raise ValidationError(f"format must be 'json' or 'yaml', got {fmt!r}")
        recipe = Recipe.from_dict(self._version(name, version).document)
        return recipe.to_yaml() if fmt == "yaml" else recipe.to_json() + "\n"

    def delete_recipe(self, ctx: RequestContext, name: str, version: int | None = None) -> None:
        """Delete recipe ``name`` (every version), or one version of it.

        Raises:
            NotFound: No such recipe or version.
        """
        ctx.require("write")
        self._version(name, version)
        with self.db.session() as session:
            store.delete_recipe_versions(session, name, version)

    # -- jobs ---------------------------------------------------------------------------------

    def fit_recipe(
        self, ctx: RequestContext, name: str, request: RecipeFitJobCreate
    ) -> ProcessingJobInfo:
        """Start a processing job fitting a version of recipe ``name`` on a dataset.

        Raises:
            NotFound: No such recipe or version (checked before anything runs).
            ValidationError: The output bucket does not exist.
        """
        ctx.require("write")
        row = self._version(name, request.version)
        config = BuiltinJobConfig(
            task="recipe-fit",
            recipe=row.document,
            input_format=request.input_format,
            output_format=request.output_format,
            write_transformed=request.write_transformed,
            delimiter=request.delimiter,
        )
        job = request.job_name or _job_name(f"{name}-fit")
        spec = _builtin_request(
            job,
            module="lakeworks.processing.recipe_job",
            task=["fit"],
            inputs={"data": (request.input_uri, _INPUT)},
            output=request.output_uri,
            runtime=request.max_runtime_in_seconds,
        )
        return self.processing.create_processing_job(
            ctx, spec, builtin="recipe-fit", builtin_config=config.model_dump(mode="json")
        )

    def apply_recipe(self, ctx: RequestContext, request: RecipeApplyJobCreate) -> ProcessingJobInfo:
        """Start a processing job applying a fitted recipe artifact to a dataset.

        Raises:
            ValidationError: The output bucket does not exist.
        """
        ctx.require("write")
        config = BuiltinJobConfig(
            task="recipe-apply",
            input_format=request.input_format,
            output_format=request.output_format,
            delimiter=request.delimiter,
        )
        job = request.job_name or _job_name("recipe-apply")
        spec = _builtin_request(
            job,
            module="lakeworks.processing.recipe_job",
            task=["apply", "--fitted", _FITTED],
            inputs={"data": (request.input_uri, _INPUT), "fitted": (request.fitted_uri, _FITTED)},
            output=request.output_uri,
            runtime=request.max_runtime_in_seconds,
        )
        return self.processing.create_processing_job(
            ctx, spec, builtin="recipe-apply", builtin_config=config.model_dump(mode="json")
        )

    def create_profile(self, ctx: RequestContext, request: ProfileJobCreate) -> ProcessingJobInfo:
        """Start a processing job profiling a dataset (``profile.json`` and ``report.html``).

        Raises:
            ValidationError: The output bucket does not exist.
        """
        ctx.require("write")
        job = request.job_name or _job_name("profile")
        output = request.output_uri or (
            f"s3://{staging.split_uri(request.input_uri)[0]}/profiles/{job}/"
        )
        config = BuiltinJobConfig(
            task="profile",
            input_format=request.input_format,
            delimiter=request.delimiter,
            sample=request.sample,
            rows=request.rows,
            seed=request.seed,
            title=request.title or f"Profile of {request.input_uri}",
        )
        spec = _builtin_request(
            job,
            module="lakeworks.processing.profile_job",
            task=[],
            inputs={"data": (request.input_uri, _INPUT)},
            output=output,
            runtime=request.max_runtime_in_seconds,
        )
        return self.processing.create_processing_job(
            ctx, spec, builtin="profile", builtin_config=config.model_dump(mode="json")
        )


def _job_name(prefix: str) -> str:
    """``<prefix>-<8 hex>``, cut so the whole fits in 63 characters."""
    return f"{prefix[:54].rstrip('-')}-{uuid.uuid4().hex[:8]}"


def _builtin_request(
    name: str,
    *,
    module: str,
    task: list[str],
    inputs: dict[str, tuple[str, str]],
    output: str,
    runtime: int,
) -> ProcessingJobCreate:
    data: dict[str, Any] = {
        "processing_job_name": name,
        "processing_inputs": [
            {
                "input_name": input_name,
                "s3_input": {"s3_uri": uri, "local_path": local, "s3_data_type": "S3Prefix"},
            }
            for input_name, (uri, local) in inputs.items()
        ],
        "processing_output_config": {
            "outputs": [
                {
                    "output_name": "result",
                    "s3_output": {"s3_uri": output, "local_path": _OUTPUT},
                }
            ]
        },
        "app_specification": {
            "image_uri": BUILTIN_IMAGE,
            "container_entrypoint": ["python3", "-m", module],
            "container_arguments": [
                *task,
                "--config",
                BUILTIN_CONFIG,
                "--input",
                _INPUT,
                "--output",
                _OUTPUT,
                "--opt-ml",
                "/opt/ml",
            ],
        },
        "stopping_condition": {"max_runtime_in_seconds": runtime},
    }
    return ProcessingJobCreate.model_validate(data)
