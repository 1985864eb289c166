"""Recipes: versions, diff, export, delete, and fit/apply jobs (``/api/v1/recipes``)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, Response

from lakeworks.core.context import RequestContext
from lakeworks.schemas.common import Page
from lakeworks.schemas.processing import ProcessingJobInfo
from lakeworks.schemas.recipes import (
    RecipeApplyJobCreate,
    RecipeDiff,
    RecipeDocument,
    RecipeFitJobCreate,
    RecipeSummary,
    RecipeVersionInfo,
    RecipeVersionSummary,
)
from lakeworks.server.auth import authenticated, platform_of
from lakeworks.server.platform import Platform

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["recipes"])

_MEDIA = {"json": "application/json", "yaml": "application/yaml"}


@router.post("/recipes", status_code=201, response_model_by_alias=False)
def create_recipe(
    document: RecipeDocument,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> RecipeVersionInfo:
    """Store a new recipe as version 1 (validated with the library)."""
    return platform.recipes.create_recipe(ctx, document)


@router.get("/recipes", response_model_by_alias=False)
def list_recipes(
    name_contains: str | None = Query(None, max_length=63),
    max_results: int = Query(50, ge=1, le=100),
    next_token: str | None = Query(None, max_length=63),
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> Page[RecipeSummary]:
    """Recipes by name with their latest version."""
    return platform.recipes.list_recipes(
        ctx, name_contains=name_contains, max_results=max_results, next_token=next_token
    )


@router.post("/recipes/apply", status_code=201, response_model_by_alias=False)
def apply_recipe(
    request: RecipeApplyJobCreate,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> ProcessingJobInfo:
    """Start a job applying a fitted recipe artifact to a dataset."""
    return platform.recipes.apply_recipe(ctx, request)


@router.get("/recipes/{name}", response_model_by_alias=False)
def describe_recipe(
    name: str,
    version: int | None = Query(None, ge=1),
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> RecipeVersionInfo:
    """A version of a recipe (the latest unless ``version`` is given)."""
    return platform.recipes.describe_recipe(ctx, name, version)


@router.delete("/recipes/{name}", status_code=204)
def delete_recipe(
    name: str,
    version: int | None = Query(None, ge=1),
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> Response:
    """Delete a recipe (every version), or one version with ``version``."""
    platform.recipes.delete_recipe(ctx, name, version)
    return Response(status_code=204)


@router.get("/recipes/{name}/versions", response_model_by_alias=False)
def list_recipe_versions(
    name: str,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> list[RecipeVersionSummary]:
    """Every version of a recipe, oldest first."""
    return platform.recipes.list_recipe_versions(ctx, name)


@router.post("/recipes/{name}/versions", status_code=201, response_model_by_alias=False)
def publish_recipe_version(
    name: str,
    document: RecipeDocument,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> RecipeVersionInfo:
    """Publish the next version of a recipe."""
    return platform.recipes.publish_recipe_version(ctx, name, document)


@router.get("/recipes/{name}/versions/{version}", response_model_by_alias=False)
def describe_recipe_version(
    name: str,
    version: int,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> RecipeVersionInfo:
    """One version of a recipe."""
    return platform.recipes.describe_recipe(ctx, name, version)


@router.get("/recipes/{name}/diff", response_model_by_alias=False)
def diff_recipe_versions(
    name: str,
    version_a: int = Query(ge=1),
    version_b: int = Query(ge=1),
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> RecipeDiff:
    """What changed from ``version_a`` to ``version_b``."""
    return platform.recipes.diff_recipe_versions(ctx, name, version_a, version_b)


@router.get("/recipes/{name}/export")
def export_recipe(
    name: str,
    version: int | None = Query(None, ge=1),
    format: Literal["json", "yaml"] = "json",
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> Response:
    """A version of a recipe as a JSON or YAML document."""
    text = platform.recipes.export_recipe(ctx, name, version, format)
    return Response(content=text, media_type=_MEDIA[format])


@router.post("/recipes/{name}/fit", status_code=201, response_model_by_alias=False)
def fit_recipe(
    name: str,
    request: RecipeFitJobCreate,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> ProcessingJobInfo:
    """Start a job fitting a version of the recipe on a dataset."""
    return platform.recipes.fit_recipe(ctx, name, request)
