"""The built-in runner of recipe jobs: ``python -m lakeworks.processing.recipe_job``.

Runs inside the job process and imports only core, schemas and the data-preparation library.

``fit``: fit the recipe of the config on the dataset under ``--input``; write
``fitted-recipe.json`` (and, unless switched off, ``transformed.<csv|parquet>``) to
``--output``. ``apply``: load the fitted recipe under ``--fitted``, transform the dataset under
``--input``, write ``transformed.<csv|parquet>``. A user mistake (a step naming a missing
column, a text column handed to a scaler, an empty dataset) ends the job Failed with the
library's message as its FailureReason.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from lakeworks.core.errors import ValidationError
from lakeworks.dataprep.recipes import FittedRecipe, Recipe
from lakeworks.processing.datasets import data_files, describe, fail, read_frame, write_frame
from lakeworks.schemas.processing import BuiltinJobConfig

__all__ = ["FITTED_NAME", "main"]

#: The fitted recipe artifact's object name under the job's output URI.
FITTED_NAME = "fitted-recipe.json"


def _output_format(config: BuiltinJobConfig, input_folder: Path) -> str:
    if config.output_format:
        return config.output_format
    first = data_files(input_folder)[0].name.lower()
    return "parquet" if first.endswith((".parquet", ".pq")) else "csv"


def fit(config: BuiltinJobConfig, input_folder: Path, output: Path) -> None:
    """Fit the config's recipe on the input; write the artifact (and the transformed data)."""
    if config.recipe is None:
        raise ValidationError("The job's config has no recipe")
    recipe = Recipe.from_dict(config.recipe)
    frame = read_frame(input_folder, config.input_format, config.delimiter)
    print(f"[lakeworks] fitting recipe {recipe.name} v{recipe.version} on {describe(frame)}")
    fitted, transformed = recipe.fit_transform(frame)
    output.mkdir(parents=True, exist_ok=True)
    (output / FITTED_NAME).write_text(fitted.to_json(), encoding="utf-8")
    print(f"[lakeworks] wrote {FITTED_NAME} ({len(fitted.transforms)} fitted steps)")
    if config.write_transformed:
        path = write_frame(transformed, output, "transformed", _output_format(config, input_folder))
        print(f"[lakeworks] wrote {path.name}: {describe(transformed)}")


def apply(config: BuiltinJobConfig, input_folder: Path, fitted_folder: Path, output: Path) -> None:
    """Apply the fitted recipe under ``fitted_folder`` to the input; write the result."""
    artifacts = data_files(fitted_folder)
    if len(artifacts) != 1:
        raise ValidationError(
            f"Expected one fitted recipe JSON object, found {len(artifacts)} files"
        )
    try:
        text = artifacts[0].read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValidationError(f"{artifacts[0].name} is not a fitted recipe (not UTF-8)") from None
    fitted = FittedRecipe.from_json(text)
    frame = read_frame(input_folder, config.input_format, config.delimiter)
    if len(frame) == 0 or len(frame.columns) == 0:
        raise ValidationError(
            f"Cannot apply recipe {fitted.recipe.name!r} to an empty dataset ({describe(frame)})"
        )
    print(
        f"[lakeworks] applying recipe {fitted.recipe.name} v{fitted.recipe.version} "
        f"to {describe(frame)}"
    )
    transformed = fitted.transform(frame)
    path = write_frame(transformed, output, "transformed", _output_format(config, input_folder))
    print(f"[lakeworks] wrote {path.name}: {describe(transformed)}")


def main(argv: list[str] | None = None) -> None:
    """Run ``fit`` or ``apply`` (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="lakeworks.processing.recipe_job")
    parser.add_argument("task", choices=["fit", "apply"])
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--input", type=Path, required=True)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--opt-ml", type=Path, required=True)
    parser.add_argument("--fitted", type=Path)
    args = parser.parse_args(argv)
    try:
        config = BuiltinJobConfig.model_validate(json.loads(args.config.read_text()))
        if args.task == "fit":
            fit(config, args.input, args.output)
        else:
            if args.fitted is None:
                raise ValidationError("apply needs --fitted")
            apply(config, args.input, args.fitted, args.output)
    except Exception as exc:  # every failure becomes the job's FailureReason
        fail(args.opt_ml, exc)


if __name__ == "__main__":
    main()
