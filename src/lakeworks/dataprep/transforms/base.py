"""The transform contract every data-preparation step follows, and the registry of them.

A transform follows scikit-learn's estimator contract:

- hyperparameters are explicit keyword arguments of ``__init__``, stored unchanged under the same
  names (:meth:`Transform.get_params` reads them back), and checked once, at construction;
- :meth:`Transform.fit` learns from a frame and returns ``self``; everything learned lives in
  attributes ending in ``_`` (``columns_`` plus the class's :attr:`Transform.state_keys`);
- :meth:`Transform.transform` applies what was learned and returns a new frame of the kind it was
  given (pandas in, pandas out; pyarrow in, pyarrow out), never changing its input.

Learned state is plain JSON (numbers, strings, lists, dicts) — :meth:`Transform.to_dict` and
:meth:`Transform.from_dict` round-trip a fitted transform with no pickle anywhere. Columns are
checked before any work: a missing column names itself and lists the frame's columns, a column of
the wrong kind (scaling text) fails with what is allowed.
"""

from __future__ import annotations

import abc
import importlib
import inspect
import json
from collections.abc import Mapping
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd

from lakeworks.core.errors import ValidationError
from lakeworks.dataprep.frames import (
    Frame,
    FrameT,
    Schema,
    column_kind,
    like,
    missing_column_error,
    to_pandas,
)
from lakeworks.dataprep.transforms.params import check_columns

__all__ = [
    "Transform",
    "as_float",
    "create_transform",
    "describe_transforms",
    "register",
    "splice",
    "transform_class",
    "transform_names",
]

_REGISTRY: dict[str, type[Transform]] = {}

# Modules that register transforms; imported on the first registry lookup so that importing one
# transform does not import them all (and the text package can build on this module).
_MODULES = (
    "lakeworks.dataprep.transforms.impute",
    "lakeworks.dataprep.transforms.rows",
    "lakeworks.dataprep.transforms.encode",
    "lakeworks.dataprep.transforms.target",
    "lakeworks.dataprep.transforms.scale",
    "lakeworks.dataprep.transforms.binning",
    "lakeworks.dataprep.transforms.power",
    "lakeworks.dataprep.transforms.dates",
    "lakeworks.dataprep.transforms.decompose",
    "lakeworks.dataprep.transforms.outliers",
    "lakeworks.dataprep.text.steps",
)


class Transform(abc.ABC):
    """Base of every registered transform; see the module docstring for the contract.

    Subclasses set :attr:`name`, :attr:`accepts`, :attr:`state_keys`, take their hyperparameters
    as keyword arguments after ``columns`` and implement :meth:`_fit` and :meth:`_transform`.

    Args:
        columns: The columns to work on; None picks every column of a kind in :attr:`selects`.
    """

    #: Registry name, as a recipe step's ``transform`` field spells it.
    name: ClassVar[str] = ""
    #: Column kinds the transform works on.
    accepts: ClassVar[tuple[str, ...]] = ("numeric",)
    #: Kinds picked when ``columns`` is None (defaults to :attr:`accepts`).
    selects: ClassVar[tuple[str, ...] | None] = None
    #: Learned attributes besides ``columns_``; all end in ``_`` and hold JSON values.
    state_keys: ClassVar[tuple[str, ...]] = ()
    #: Kind of the transformed columns for in-place transforms (None: unchanged).
    output_kind: ClassVar[str | None] = None

    columns_: list[str]

    def __init__(self, columns: list[str] | None = None) -> None:
        self.columns = columns
        check_columns(self.name, columns)

    # -- hyperparameters ---------------------------------------------------------------------

    @classmethod
    def param_names(cls) -> list[str]:
        """Return the hyperparameter names (``columns`` excluded), in signature order."""
        signature = inspect.signature(cls.__init__)
        return [n for n in signature.parameters if n not in ("self", "columns")]

    @classmethod
    def param_defaults(cls) -> dict[str, Any]:
        """Return ``{param: default}``; a required parameter maps to ``inspect.Parameter.empty``."""
        signature = inspect.signature(cls.__init__)
        return {
            n: p.default for n, p in signature.parameters.items() if n not in ("self", "columns")
        }

    def get_params(self) -> dict[str, Any]:
        """Return the hyperparameters exactly as they were given."""
        return {name: getattr(self, name) for name in self.param_names()}

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}(columns={self.columns!r}{', ' if params else ''}{params})"

    # -- columns -----------------------------------------------------------------------------

    def allowed_kinds(self) -> tuple[str, ...]:
        """Return the column kinds this configured transform takes (default :attr:`accepts`)."""
        return self.accepts

    def default_kinds(self) -> tuple[str, ...]:
        """Return the kinds picked when ``columns`` is None (default :attr:`selects`)."""
        return self.selects or self.allowed_kinds()

    def extra_columns(self) -> dict[str, tuple[str, ...]]:
        """Columns the transform reads besides its own (a target, a group key) → allowed kinds.

        They must exist when fitting and are never picked by the default column selection.
        """
        return {}

    def serving_columns(self) -> dict[str, tuple[str, ...]]:
        """The :meth:`extra_columns` still read by :meth:`transform` (a target is not)."""
        return self.extra_columns()

    def resolve(self, schema: Schema) -> list[str]:
        """Return the columns this transform works on in ``schema``, checking names and kinds.

        Unfitted, the columns are the ``columns`` parameter (or the default selection); fitted,
        they are ``columns_`` and only the extra columns :meth:`transform` reads are required.

        Raises:
            ValidationError: A named column is missing or of a kind the transform cannot take.
        """
        where = f"transform {self.name!r}"
        fitted = self.is_fitted()
        extra = self.serving_columns() if fitted else self.extra_columns()
        named = self.columns_ if fitted else self.columns
        missing = [c for c in extra if schema.kind(c) is None]
        if named is not None:
            missing = [c for c in named if schema.kind(c) is None] + missing
        if missing:
            raise missing_column_error(missing, schema.kinds, where)
        for column, kinds in extra.items():
            kind = schema.kind(column)
            if kind not in kinds:
                raise ValidationError(
                    f"{where}: column {column!r} is {kind}; it must be one of {list(kinds)}",
                    details={"column": column, "kind": kind, "allowed_kinds": list(kinds)},
                )
        if named is None:
            wanted = self.default_kinds()
            return [c for c, k in schema.kinds.items() if k in wanted and c not in extra]
        for column in named:
            self._check_kind(column, schema.kind(column))
        return list(named)

    def _check_kind(self, column: str, kind: str | None) -> None:
        allowed = self.allowed_kinds()
        if kind not in allowed and kind != "null":
            raise ValidationError(
                f"transform {self.name!r} works on {' or '.join(allowed)} columns; "
                f"column {column!r} is {kind}",
                details={"column": column, "kind": kind, "allowed_kinds": list(allowed)},
            )

    def output_schema(self, schema: Schema) -> Schema:
        """Return the schema after this step, checking the step against ``schema`` first.

        A recipe calls this for each step in turn, so that a wrong column or kind anywhere fails
        before any step runs.
        """
        columns = self.resolve(schema)
        return self._output_schema(schema.copy(), columns)

    def _output_schema(self, schema: Schema, columns: list[str]) -> Schema:
        if self.output_kind is not None:
            for column in columns:
                schema.kinds[column] = self.output_kind
        return schema

    # -- the contract ------------------------------------------------------------------------

    def fit(self, frame: Frame) -> Self:
        """Learn this transform's state from ``frame``; return ``self``.

        Raises:
            ValidationError: A column is missing or of the wrong kind, or ``frame`` has no rows.
        """
        df = to_pandas(frame)
        self.__dict__.pop("columns_", None)  # refitting starts from the parameters again
        columns = self.resolve(Schema.of(df))
        if len(df) == 0:
            raise ValidationError(
                f"transform {self.name!r} cannot be fitted on an empty frame (0 rows); "
                "give it at least one row"
            )
        self._fit(df, columns)
        self.columns_ = columns
        return self

    def transform(self, frame: FrameT) -> FrameT:
        """Apply the learned state to ``frame``; return a new frame of the same kind.

        Raises:
            ValidationError: The transform is not fitted, or ``frame`` lacks a fitted column or
                has it with the wrong kind.
        """
        self.check_fitted()
        df = to_pandas(frame)
        self.check_columns(df)
        return like(frame, self._transform(df))

    def fit_transform(self, frame: FrameT) -> FrameT:
        """Fit on ``frame`` and return it transformed (the same as ``fit`` then ``transform``
        except where a transform says otherwise, as target encoding does to avoid leakage)."""
        return self.fit(frame).transform(frame)

    def is_fitted(self) -> bool:
        """Return whether :meth:`fit` (or :meth:`set_state`) has run."""
        return hasattr(self, "columns_")

    def check_fitted(self) -> None:
        """Raise a clear error when the transform has not learned its state yet."""
        if not self.is_fitted():
            raise ValidationError(
                f"transform {self.name!r} is not fitted: call fit(frame) first, or load a fitted "
                "recipe"
            )

    def check_columns(self, df: pd.DataFrame) -> None:
        """Check that ``df`` has the fitted columns with kinds this transform accepts."""
        missing = [c for c in self.columns_ if c not in df.columns]
        if missing:
            raise missing_column_error(missing, df.columns, f"transform {self.name!r}")
        for column in self.columns_:
            series = df[column]
            kind = column_kind(series)
            # A column with no values at all (a one-row request with a null) has no kind to judge.
            if kind not in self.allowed_kinds() and not series.isna().all():
                self._check_kind(column, kind)

    @abc.abstractmethod
    def _fit(self, df: pd.DataFrame, columns: list[str]) -> None: ...

    @abc.abstractmethod
    def _transform(self, df: pd.DataFrame) -> pd.DataFrame: ...

    # -- state -------------------------------------------------------------------------------

    def get_state(self) -> dict[str, Any]:
        """Return the learned state (JSON values)."""
        self.check_fitted()
        return {"columns_": list(self.columns_), **{k: getattr(self, k) for k in self.state_keys}}

    def set_state(self, state: Mapping[str, Any]) -> Self:
        """Restore learned state saved by :meth:`get_state`; return ``self``.

        Raises:
            ValidationError: Keys are missing or unexpected.
        """
        expected = {"columns_", *self.state_keys}
        got = set(state)
        if got != expected:
            raise ValidationError(
                f"fitted state of transform {self.name!r} must have keys {sorted(expected)}; "
                f"missing {sorted(expected - got)}, unexpected {sorted(got - expected)}"
            )
        for key, value in state.items():
            setattr(self, key, value)
        return self

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"transform", "columns", "params", "state"}``; state is None until fitted."""
        return {
            "transform": self.name,
            "columns": None if self.columns is None else list(self.columns),
            "params": self.get_params(),
            "state": self.get_state() if self.is_fitted() else None,
        }

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> Transform:
        """Rebuild a transform (fitted when ``data`` carries state) from :meth:`to_dict` output.

        Raises:
            ValidationError: Unknown transform or parameter, bad values, or malformed state.
        """
        if not isinstance(data, Mapping) or "transform" not in data:
            raise ValidationError("A transform must be an object with a 'transform' field")
        transform = create_transform(
            data["transform"], data.get("columns"), data.get("params") or {}
        )
        state = data.get("state")
        if state is not None:
            if not isinstance(state, Mapping):
                raise ValidationError(f"state of transform {transform.name!r} must be an object")
            transform.set_state(state)
        return transform

    def to_json(self) -> str:
        """Return :meth:`to_dict` as strict JSON (no NaN)."""
        return json.dumps(self.to_dict(), allow_nan=False, ensure_ascii=False)


def register(cls: type[Transform]) -> type[Transform]:
    """Class decorator: add a transform to the registry under its ``name``."""
    if not cls.name or (cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls):
        raise RuntimeError(f"transform name {cls.name!r} is empty or taken")
    _REGISTRY[cls.name] = cls
    return cls


def _load_all() -> None:
    for module in _MODULES:
        importlib.import_module(module)


def transform_names() -> list[str]:
    """Return the names of all registered transforms, sorted."""
    _load_all()
    return sorted(_REGISTRY)


def transform_class(name: Any) -> type[Transform]:
    """Return the transform class registered as ``name``.

    Raises:
        ValidationError: No transform has that name; the message lists those that exist.
    """
    _load_all()
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ValidationError(
            f"Unknown transform {name!r}; allowed transforms: {sorted(_REGISTRY)}",
            details={"allowed": sorted(_REGISTRY)},
        )
    return _REGISTRY[name]


def create_transform(
    name: Any, columns: list[str] | None = None, params: Mapping[str, Any] | None = None
) -> Transform:
    """Build an unfitted transform from its registry name, columns and hyperparameters.

    Raises:
        ValidationError: Unknown transform or parameter, a required parameter missing, or a bad
            value; each message says what is allowed.
    """
    cls = transform_class(name)
    params = dict(params or {})
    defaults = cls.param_defaults()
    unknown = sorted(str(k) for k in params if k not in defaults)
    if unknown:
        raise ValidationError(
            f"transform {name!r} has no parameter {', '.join(map(repr, unknown))}; "
            f"allowed parameters: {list(defaults)}",
            details={"transform": name, "unknown": unknown, "allowed": list(defaults)},
        )
    required = [k for k, v in defaults.items() if v is inspect.Parameter.empty and k not in params]
    if required:
        raise ValidationError(
            f"transform {name!r} needs parameter {', '.join(map(repr, required))}",
            details={"transform": name, "required": required},
        )
    return cls(columns=columns, **params)


def describe_transforms() -> list[dict[str, Any]]:
    """Return, for each registered transform, its name, summary, accepted kinds and defaults.

    A listing for the API and CLI; required parameters show a default of None and
    ``required: true``.
    """
    out = []
    for name in transform_names():
        cls = _REGISTRY[name]
        params = []
        for param, default in cls.param_defaults().items():
            required = default is inspect.Parameter.empty
            params.append(
                {"name": param, "default": None if required else default, "required": required}
            )
        doc = (cls.__doc__ or "").strip().splitlines()
        out.append(
            {
                "name": name,
                "summary": doc[0] if doc else "",
                "accepts": list(cls.accepts),
                "params": params,
            }
        )
    return out


def splice(df: pd.DataFrame, drop: list[str], new: Mapping[str, Any], where: str) -> pd.DataFrame:
    """Return ``df`` without the ``drop`` columns and with ``new`` columns in their place.

    The new columns go where the first dropped column was (at the end when nothing is dropped),
    so a one-hot of ``country`` sits where ``country`` sat.

    Raises:
        ValidationError: A new column's name is already taken by a column that stays.
    """
    kept = [c for c in df.columns if c not in drop]
    clash = sorted(set(map(str, new)) & set(map(str, kept)))
    if clash:
        raise ValidationError(
            f"{where}: output column(s) {clash} already exist in the data; rename or drop them "
            "first",
            details={"columns": clash},
        )
    columns = list(df.columns)
    position = columns.index(drop[0]) if drop else len(columns)
    before = [c for c in columns[:position] if c not in drop]
    after = [c for c in columns[position:] if c not in drop]
    parts: dict[Any, Any] = {c: df[c] for c in before}
    for name, values in new.items():
        parts[name] = values
    for c in after:
        parts[c] = df[c]
    return pd.DataFrame(parts, index=df.index)


def as_float(series: pd.Series) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Return a numeric or boolean column as a new float64 array, NaN for missing values."""
    # A copy: under copy-on-write pandas may hand out a read-only view of its own buffer.
    return np.array(series.to_numpy(dtype="float64", na_value=np.nan), dtype="float64")
