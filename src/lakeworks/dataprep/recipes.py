"""Recipes: named, versioned, ordered lists of transforms — and their fitted artifacts.

A recipe is plain data, in JSON or YAML::

    {"name": "wine", "version": 1, "description": "…",
     "steps": [{"transform": "impute", "columns": ["price"], "params": {"strategy": "mean"}},
               …]}

(optional keys: ``format`` — the recipe format, 1, the only one there is; ``description``; per
step ``name``, a label that :func:`diff_recipes` uses to match steps). Loading checks everything
that can be checked without data: known transforms, known parameters, valid values.
:meth:`Recipe.validate` then walks the steps over a dataset's schema, so a missing column or a
text column handed to a scaler fails before any step runs.

:meth:`Recipe.fit` learns every step in order on a dataset and returns a :class:`FittedRecipe`:
the artifact to apply to new data. It serializes to JSON holding the recipe, each step's learned
state and the input schema — no pickle — and applying the JSON loaded anywhere gives the same
rows as applying it in the process that fitted it (train/serve parity).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import yaml

from lakeworks.core.errors import ValidationError
from lakeworks.core.names import validate_name
from lakeworks.dataprep.frames import FrameT, Schema, column_kind, like, to_pandas
from lakeworks.dataprep.transforms.base import Transform, create_transform, transform_class

__all__ = [
    "FITTED_FORMAT",
    "RECIPE_FORMAT",
    "FittedRecipe",
    "Recipe",
    "Step",
    "diff_recipes",
    "parse_document",
]

#: The recipe format this code reads and writes.
RECIPE_FORMAT = 1
#: The ``format`` marker and version of fitted-recipe artifacts.
FITTED_KIND = "lakeworks.fitted-recipe"
FITTED_FORMAT = 1

_RECIPE_KEYS = ("format", "name", "version", "description", "steps")
_STEP_KEYS = ("name", "transform", "columns", "params")


def parse_document(text: str | bytes, fmt: str | None = None) -> Any:
    """Parse JSON or YAML text (``fmt`` "json"/"yaml"; None: JSON when it starts with ``{``).

    Raises:
        ValidationError: The text is not UTF-8, or does not parse; the message says where.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValidationError(f"The document is not UTF-8 text: {exc}") from None
    if fmt not in (None, "json", "yaml"):
        raise ValidationError(f"Unknown document format {fmt!r}; allowed: 'json', 'yaml'")
    if fmt is None:
        fmt = "json" if text.lstrip().startswith("{") else "yaml"
    try:
        if fmt == "json":
            return json.loads(text)
        return yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(f"The document is not valid JSON: {exc}") from None
    except yaml.YAMLError as exc:
        raise ValidationError(f"The document is not valid YAML: {exc}") from None


def _in_step(index: int, transform: Any, exc: ValidationError) -> ValidationError:
    where = f"step {index + 1} ({transform})"
    message = exc.message
    for prefix in (f"transform {transform!r}: ", f"{transform}: "):
        message = message.removeprefix(prefix)
    message = message if message.startswith(where) else f"{where}: {message}"
    return ValidationError(message, details={**exc.details, "step": index + 1})


@dataclass(frozen=True)
class Step:
    """One step of a recipe: a transform by name, its columns and its hyperparameters."""

    transform: str
    columns: tuple[str, ...] | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    name: str | None = None

    def build(self) -> Transform:
        """Return a new, unfitted transform for this step."""
        columns = None if self.columns is None else list(self.columns)
        return create_transform(self.transform, columns, dict(self.params))

    def to_dict(self) -> dict[str, Any]:
        """Return the step as recipe JSON (``name``/``columns`` only when set)."""
        out: dict[str, Any] = {}
        if self.name is not None:
            out["name"] = self.name
        out["transform"] = self.transform
        if self.columns is not None:
            out["columns"] = list(self.columns)
        out["params"] = dict(self.params)
        return out

    @classmethod
    def from_dict(cls, data: Any, index: int) -> Step:
        """Read and check one step; errors name the step by position.

        Raises:
            ValidationError: Not an object, unknown keys, unknown transform or parameter, or a
                bad value.
        """
        if not isinstance(data, Mapping):
            raise ValidationError(
                f"step {index + 1}: must be an object with a 'transform'; got {data!r}"
            )
        transform = data.get("transform")
        try:
            unknown = sorted(str(k) for k in data if k not in _STEP_KEYS)
            if unknown:
                raise ValidationError(
                    f"unknown step keys {unknown}; allowed keys: {list(_STEP_KEYS)}"
                )
            params = data.get("params") or {}
            if not isinstance(params, Mapping):
                raise ValidationError(f"'params' must be an object; got {params!r}")
            label = data.get("name")
            if label is not None and not isinstance(label, str):
                raise ValidationError(f"'name' must be a string; got {label!r}")
            columns = data.get("columns")
            if columns is not None and not (
                isinstance(columns, list | tuple) and all(isinstance(c, str) for c in columns)
            ):
                raise ValidationError(f"'columns' must be a list of column names; got {columns!r}")
            transform_class(transform)  # an unknown name fails here, listing the known ones
            step = cls(
                transform=str(transform),
                columns=None if columns is None else tuple(columns),
                params=dict(params),
                name=label,
            )
            step.build()  # checks the parameter names and values
        except ValidationError as exc:
            raise _in_step(index, transform, exc) from None
        return step


@dataclass(frozen=True)
class Recipe:
    """A named, versioned, ordered list of steps (see the module docstring for the format)."""

    name: str
    version: int
    steps: tuple[Step, ...]
    description: str = ""

    # -- reading and writing -----------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Any) -> Recipe:
        """Read and check a recipe from parsed JSON/YAML.

        Raises:
            ValidationError: Not a recipe (or a fitted artifact), an unknown format, a bad name
                or version, unknown keys, or a bad step (named by position).
        """
        if not isinstance(data, Mapping):
            raise ValidationError(f"A recipe must be an object; got {type(data).__name__}")
        if data.get("format") == FITTED_KIND:
            raise ValidationError(
                "This is a fitted recipe, not a recipe; load it with FittedRecipe.from_dict"
            )
        fmt = data.get("format", RECIPE_FORMAT)
        if fmt != RECIPE_FORMAT or isinstance(fmt, bool):
            raise ValidationError(
                f"Unknown recipe format {fmt!r}; this version of Lakeworks reads format "
                f"{RECIPE_FORMAT}",
                details={"supported_formats": [RECIPE_FORMAT]},
            )
        unknown = sorted(str(k) for k in data if k not in _RECIPE_KEYS)
        if unknown:
            raise ValidationError(
                f"Unknown recipe keys {unknown}; allowed keys: {list(_RECIPE_KEYS)}"
            )
        name = validate_name(data.get("name"), "recipe")  # type: ignore[arg-type]
        version = data.get("version")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise ValidationError(
                f"Recipe 'version' must be a whole number ≥ 1; got {version!r}",
                details={"field": "version"},
            )
        description = data.get("description") or ""
        if not isinstance(description, str):
            raise ValidationError(f"Recipe 'description' must be a string; got {description!r}")
        steps = data.get("steps")
        if not isinstance(steps, list) or not steps:
            raise ValidationError("A recipe needs 'steps': a non-empty list of steps")
        return cls(
            name=name,
            version=version,
            steps=tuple(Step.from_dict(s, i) for i, s in enumerate(steps)),
            description=description,
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the recipe as JSON-ready data."""
        out: dict[str, Any] = {"format": RECIPE_FORMAT, "name": self.name, "version": self.version}
        if self.description:
            out["description"] = self.description
        out["steps"] = [s.to_dict() for s in self.steps]
        return out

    @classmethod
    def from_json(cls, text: str | bytes) -> Recipe:
        """Read a recipe from JSON text."""
        return cls.from_dict(parse_document(text, "json"))

    @classmethod
    def from_yaml(cls, text: str | bytes) -> Recipe:
        """Read a recipe from YAML text."""
        return cls.from_dict(parse_document(text, "yaml"))

    @classmethod
    def from_text(cls, text: str | bytes) -> Recipe:
        """Read a recipe from JSON or YAML text (JSON when it starts with ``{``)."""
        return cls.from_dict(parse_document(text))

    def to_json(self, indent: int | None = 2) -> str:
        """Return the recipe as JSON text."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)

    def to_yaml(self) -> str:
        """Return the recipe as YAML text (keys in recipe order)."""
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)

    # -- checking and fitting ----------------------------------------------------------------

    def build(self) -> list[Transform]:
        """Return a new, unfitted transform per step."""
        return [step.build() for step in self.steps]

    def validate(self, data: Any) -> Schema:
        """Walk every step over the schema of ``data`` without running anything.

        Args:
            data: A frame (pandas or pyarrow), a :class:`Schema` or a ``{column: kind}`` map.

        Returns:
            The schema after the last step (columns that depend on the data, like one-hot
            outputs, appear as open prefixes).

        Raises:
            ValidationError: A step names a missing column (the message lists the columns the
                data has at that step) or gets a column of the wrong kind; the step is named.
        """
        schema = _schema_of(data)
        for index, transform in enumerate(self.build()):
            schema = _step_schema(index, transform, schema)
        return schema

    def fit(self, frame: Any) -> FittedRecipe:
        """Learn every step on ``frame``, in order; return the fitted recipe."""
        return self.fit_transform(frame)[0]

    def fit_transform(self, frame: FrameT) -> tuple[FittedRecipe, FrameT]:
        """Learn every step on ``frame`` and return the fitted recipe with the transformed frame.

        Each step is fitted on the output of the steps before it with its ``fit_transform``
        (so target encoding encodes the training rows out of fold). The whole recipe is
        validated against ``frame``'s schema first.

        Raises:
            ValidationError: ``frame`` has no rows, or a step is invalid for the data.
        """
        df = to_pandas(frame)
        if len(df) == 0 or len(df.columns) == 0:
            raise ValidationError(
                f"Cannot fit recipe {self.name!r} on an empty dataset ({len(df)} rows, "
                f"{len(df.columns)} columns)"
            )
        self.validate(df)
        input_schema = _describe_columns(df)
        transforms = self.build()
        for index, transform in enumerate(transforms):
            try:
                df = transform.fit_transform(df)
            except ValidationError as exc:
                raise _in_step(index, transform.name, exc) from None
        fitted = FittedRecipe(self, transforms, input_schema, _describe_columns(df), len(df))
        return fitted, like(frame, df)


def _schema_of(data: Any) -> Schema:
    if isinstance(data, Schema):
        return data.copy()
    if isinstance(data, Mapping):
        return Schema.from_kinds(data)
    return Schema.of(to_pandas(data))


def _step_schema(index: int, transform: Transform, schema: Schema) -> Schema:
    try:
        return transform.output_schema(schema)
    except ValidationError as exc:
        raise _in_step(index, transform.name, exc) from None


def _describe_columns(df: pd.DataFrame) -> list[dict[str, str]]:
    return [
        {"name": str(c), "kind": column_kind(df[c]), "dtype": str(df[c].dtype)} for c in df.columns
    ]


class FittedRecipe:
    """A recipe with every step's learned state: apply it to new data with :meth:`transform`.

    Attributes:
        recipe: The recipe that was fitted.
        transforms: The fitted transforms, one per step.
        input_schema: ``[{"name", "kind", "dtype"}]`` of the fitting data.
        output_schema: The same for the transformed fitting data.
        rows: Rows of the transformed fitting data.
    """

    def __init__(
        self,
        recipe: Recipe,
        transforms: Sequence[Transform],
        input_schema: list[dict[str, str]],
        output_schema: list[dict[str, str]],
        rows: int,
    ) -> None:
        self.recipe = recipe
        self.transforms = list(transforms)
        self.input_schema = input_schema
        self.output_schema = output_schema
        self.rows = rows

    def transform(self, frame: FrameT) -> FrameT:
        """Apply the fitted steps to ``frame``; return a frame of the same kind.

        Every step is checked against ``frame``'s columns and kinds before the first runs.

        Raises:
            ValidationError: A step would meet a missing column or a column of the wrong kind
                (named with the step), or a value a step cannot take.
        """
        df = to_pandas(frame)
        schema = Schema.of(df)
        for index, transform in enumerate(self.transforms):
            schema = _step_schema(index, transform, schema)
        for index, transform in enumerate(self.transforms):
            try:
                df = transform.transform(df)
            except ValidationError as exc:
                raise _in_step(index, transform.name, exc) from None
        return like(frame, df)

    def to_dict(self) -> dict[str, Any]:
        """Return the artifact as JSON-ready data (recipe, schemas, every step's state)."""
        return {
            "format": FITTED_KIND,
            "format_version": FITTED_FORMAT,
            "recipe": self.recipe.to_dict(),
            "input_schema": self.input_schema,
            "output_schema": self.output_schema,
            "rows": self.rows,
            "steps": [t.to_dict() for t in self.transforms],
        }

    def to_json(self, indent: int | None = None) -> str:
        """Return the artifact as strict JSON text."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)

    @classmethod
    def from_dict(cls, data: Any) -> FittedRecipe:
        """Rebuild a fitted recipe from :meth:`to_dict` output.

        Raises:
            ValidationError: Not a fitted recipe, an unknown format version, or steps that do
                not match the recipe or lack their state.
        """
        if not isinstance(data, Mapping) or data.get("format") != FITTED_KIND:
            raise ValidationError(
                f"Not a fitted recipe: expected an object with format {FITTED_KIND!r}"
            )
        version = data.get("format_version")
        if version != FITTED_FORMAT:
            raise ValidationError(
                f"Unknown fitted-recipe format version {version!r}; this version of Lakeworks "
                f"reads version {FITTED_FORMAT}",
                details={"supported_versions": [FITTED_FORMAT]},
            )
        recipe = Recipe.from_dict(data.get("recipe"))
        steps = data.get("steps")
        if not isinstance(steps, list) or len(steps) != len(recipe.steps):
            raise ValidationError(
                f"Fitted recipe has {len(steps) if isinstance(steps, list) else 'no'} fitted "
                f"steps for {len(recipe.steps)} recipe steps"
            )
        transforms: list[Transform] = []
        for index, (step, fitted) in enumerate(zip(recipe.steps, steps, strict=True)):
            try:
                transform = Transform.from_dict(fitted)
                if transform.to_dict()["params"] != step.build().get_params() or (
                    transform.name != step.transform
                ):
                    raise ValidationError("fitted step does not match the recipe step")
                if not transform.is_fitted():
                    raise ValidationError("fitted step has no state")
            except ValidationError as exc:
                raise _in_step(index, step.transform, exc) from None
            transforms.append(transform)
        return cls(
            recipe,
            transforms,
            list(data.get("input_schema") or []),
            list(data.get("output_schema") or []),
            int(data.get("rows") or 0),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> FittedRecipe:
        """Rebuild a fitted recipe from JSON text."""
        return cls.from_dict(parse_document(text, "json"))


def _as_recipe(value: Recipe | Mapping[str, Any]) -> Recipe:
    return value if isinstance(value, Recipe) else Recipe.from_dict(value)


def _step_key(step: Step) -> str:
    if step.name is not None:
        return f"name:{step.name}"
    return json.dumps([step.transform, step.columns], sort_keys=True)


def _param_changes(a: Step, b: Step, index_a: int, index_b: int) -> list[dict[str, Any]]:
    changes: list[dict[str, Any]] = []
    base = {"change": "step_changed", "index_a": index_a, "index_b": index_b}
    if a.transform != b.transform:
        changes.append({**base, "field": "transform", "old": a.transform, "new": b.transform})
    if a.columns != b.columns:
        old = None if a.columns is None else list(a.columns)
        new = None if b.columns is None else list(b.columns)
        changes.append({**base, "field": "columns", "old": old, "new": new})
    for key in sorted(set(a.params) | set(b.params)):
        old_value, new_value = a.params.get(key), b.params.get(key)
        if key not in a.params or key not in b.params or old_value != new_value:
            entry = {**base, "field": f"params.{key}", "old": old_value, "new": new_value}
            if key not in a.params:
                entry["param"] = "added"
            elif key not in b.params:
                entry["param"] = "removed"
            changes.append(entry)
    return [{**c, "transform": b.transform} for c in changes]


def diff_recipes(
    a: Recipe | Mapping[str, Any], b: Recipe | Mapping[str, Any]
) -> list[dict[str, Any]]:
    """List what changed from recipe ``a`` to recipe ``b``.

    Steps are matched by their ``name`` label when they have one, else by transform and columns
    (a longest-common-subsequence alignment, so inserting a step does not make every later
    step "changed"). Each change is a dict with ``change``:

    - ``recipe_changed``: ``field`` (name, version, description), ``old``, ``new``;
    - ``step_added`` / ``step_removed``: ``index`` (1-based, in ``b`` / ``a``) and ``step``;
    - ``step_changed``: ``index_a``, ``index_b``, ``transform``, ``field`` (``transform``,
      ``columns`` or ``params.<name>``), ``old``, ``new`` (and ``param``: added/removed when a
      parameter appears or disappears).

    An empty list means the recipes are the same.
    """
    ra, rb = _as_recipe(a), _as_recipe(b)
    changes: list[dict[str, Any]] = []
    for attr in ("name", "version", "description"):
        old, new = getattr(ra, attr), getattr(rb, attr)
        if old != new:
            changes.append({"change": "recipe_changed", "field": attr, "old": old, "new": new})
    keys_a = [_step_key(s) for s in ra.steps]
    keys_b = [_step_key(s) for s in rb.steps]
    matcher = difflib.SequenceMatcher(a=keys_a, b=keys_b, autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal" or (op == "replace" and a1 - a0 == b1 - b0):
            # Same keys, or a same-length block replaced in place: report field changes.
            for i, j in zip(range(a0, a1), range(b0, b1), strict=True):
                changes.extend(_param_changes(ra.steps[i], rb.steps[j], i + 1, j + 1))
            continue
        for i in range(a0, a1):
            changes.append(
                {"change": "step_removed", "index": i + 1, "step": ra.steps[i].to_dict()}
            )
        for j in range(b0, b1):
            changes.append({"change": "step_added", "index": j + 1, "step": rb.steps[j].to_dict()})
    return changes
