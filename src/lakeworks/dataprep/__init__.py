"""Data preparation: transforms, recipes with train/serve parity, and data profiling.

The public entry points — what the REST API, SDK, CLI and processing jobs build on:

- :class:`Recipe` (``from_dict``/``from_yaml``/``to_json`` …, ``validate``, ``fit``) and
  :class:`FittedRecipe` (``transform``, ``to_json``/``from_json``), :func:`diff_recipes`;
- :func:`create_transform`, :func:`describe_transforms` — the transform registry;
- :func:`profile_frame`, :func:`profile_dataset` and :func:`render_profile_html`;
- :func:`example_recipe` — recipes shipped with Lakeworks (``wine``).

Image packing (MXNet RecordIO) lives in :mod:`lakeworks.dataprep.image`, text helpers in
:mod:`lakeworks.dataprep.text`.
"""

from __future__ import annotations

from importlib import resources

from lakeworks.core.errors import ValidationError
from lakeworks.dataprep.profiling import profile_dataset, profile_frame
from lakeworks.dataprep.recipes import FittedRecipe, Recipe, Step, diff_recipes
from lakeworks.dataprep.report import render_profile_html
from lakeworks.dataprep.transforms import (
    Transform,
    create_transform,
    describe_transforms,
    transform_names,
)

__all__ = [
    "FittedRecipe",
    "Recipe",
    "Step",
    "Transform",
    "create_transform",
    "describe_transforms",
    "diff_recipes",
    "example_recipe",
    "example_recipes",
    "profile_dataset",
    "profile_frame",
    "render_profile_html",
    "transform_names",
]


def example_recipes() -> list[str]:
    """Return the names of the recipes shipped with Lakeworks."""
    folder = resources.files("lakeworks.dataprep") / "examples"
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


def example_recipe(name: str) -> Recipe:
    """Return a shipped recipe by name (``"wine"``: the book's wine-reviews preparation).

    Raises:
        ValidationError: No shipped recipe has that name; the message lists those that exist.
    """
    if name not in example_recipes():
        raise ValidationError(f"No example recipe {name!r}; available: {example_recipes()}")
    text = (resources.files("lakeworks.dataprep") / "examples" / f"{name}.yaml").read_text(
        encoding="utf-8"
    )
    return Recipe.from_yaml(text)
