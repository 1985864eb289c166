"""A typed, declarative hyperparameter spec: names, types, ranges and defaults, as AWS lists them.

SageMaker writes every hyperparameter to ``hyperparameters.json`` as a string, so each kind here
parses a string (or, from Python, an already typed value) into the value the algorithm stores.
A spec is a tuple of kinds; :meth:`HyperparameterSpec.parse` turns a raw mapping into keyword
arguments for the algorithm's constructor and raises one
:class:`~lakeworks.core.errors.ValidationError` per mistake that names the hyperparameter, the
value and what is allowed.

``"auto"`` is a value in its own right (AWS lets many hyperparameters be ``auto``); kinds that
allow it say so with ``auto=True`` and keep the string ``"auto"`` as the parsed value, so what an
algorithm stores is what the user sent. The algorithm resolves ``auto`` when it fits.
"""

from __future__ import annotations

import abc
import json
import keyword
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from lakeworks.core.errors import ValidationError

__all__ = [
    "AUTO",
    "REQUIRED",
    "Boolean",
    "Categorical",
    "Float",
    "Hyperparameter",
    "HyperparameterSpec",
    "Integer",
    "IntegerTuple",
    "NestedIntegerList",
    "StringList",
    "Text",
]

AUTO: Final = "auto"
#: Hyperparameters SageMaker adds on its own: automatic model tuning passes the objective metric's
#: name to every built-in algorithm's training job.
TUNING_OBJECTIVE = "_tuning_objective_metric"


class _Required:
    """Marks a hyperparameter that has no default."""

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Final = _Required()


class _BadValue(Exception):
    """Raised by a kind's ``convert``; the spec turns it into a ValidationError with context."""


def _unquote(raw: object) -> object:
    """Strip one JSON string layer ("\\"auto\\"" → "auto"): framework-style hyperparameters."""
    if isinstance(raw, str) and len(raw) >= 2 and raw[0] == raw[-1] == '"':
        try:
            inner = json.loads(raw)
        except ValueError:
            return raw
        return inner if isinstance(inner, str) else raw
    return raw


def _number_text(value: float) -> str:
    return repr(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(value)


@dataclass(frozen=True)
class Hyperparameter(abc.ABC):
    """One hyperparameter: its AWS name, default and how to read a value of it.

    Attributes:
        name: Exactly the AWS name (``lambda``, ``num_round``, ``_tuning_objective_metric``).
        default: The AWS default, or :data:`REQUIRED`.
        doc: One line for generated docs.
    """

    name: str
    default: Any = REQUIRED
    doc: str = ""

    @property
    def attr(self) -> str:
        """The Python keyword argument and attribute (``lambda`` → ``lambda_``)."""
        return self.name + "_" if keyword.iskeyword(self.name) else self.name

    @property
    def required(self) -> bool:
        """True when the hyperparameter has no default."""
        return self.default is REQUIRED

    @abc.abstractmethod
    def describe(self) -> str:
        """What values are allowed, in words (used in error messages)."""

    @abc.abstractmethod
    def convert(self, raw: object) -> Any:
        """Parse ``raw`` (a hyperparameters.json string or a typed value), else raise _BadValue."""


def _bounds_text(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    left = "(" if low_open or low is None else "["
    right = ")" if high_open or high is None else "]"
    lo = "-inf" if low is None else _number_text(low)
    hi = "inf" if high is None else _number_text(high)
    return f"{left}{lo}, {hi}{right}"


def _in_bounds(
    value: float, low: float | None, high: float | None, low_open: bool, high_open: bool
) -> bool:
    if low is not None and (value < low or (low_open and value == low)):
        return False
    return not (high is not None and (value > high or (high_open and value == high)))


@dataclass(frozen=True)
class Integer(Hyperparameter):
    """An integer in a range; ``auto=True`` also allows the string ``"auto"``."""

    low: int | None = None
    high: int | None = None
    auto: bool = False

    def describe(self) -> str:
        text = f"an integer in {_bounds_text(self.low, self.high, False, False)}"
        return f"'auto' or {text}" if self.auto else text

    def convert(self, raw: object) -> Any:
        raw = _unquote(raw)
        if self.auto and raw == AUTO:
            return AUTO
        if isinstance(raw, bool):
            raise _BadValue
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        if isinstance(raw, int):
            value = raw
        elif isinstance(raw, str) and re.fullmatch(r"\s*[-+]?\d+\s*", raw):
            value = int(raw)
        else:
            raise _BadValue
        if not _in_bounds(value, self.low, self.high, False, False):
            raise _BadValue
        return value


@dataclass(frozen=True)
class Float(Hyperparameter):
    """A finite float in a range (``low_open``/``high_open`` exclude an end)."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    auto: bool = False
    #: Other words allowed besides numbers (Linear Learner's ``balanced``).
    words: tuple[str, ...] = ()

    def describe(self) -> str:
        bounds = _bounds_text(self.low, self.high, self.low_open, self.high_open)
        text = f"a number in {bounds}"
        words = ((AUTO,) if self.auto else ()) + self.words
        return ", ".join(repr(w) for w in words) + f" or {text}" if words else text

    def convert(self, raw: object) -> Any:
        raw = _unquote(raw)
        if (self.auto and raw == AUTO) or (isinstance(raw, str) and raw in self.words):
            return raw
        if isinstance(raw, bool):
            raise _BadValue
        if isinstance(raw, int | float):
            value = float(raw)
        elif isinstance(raw, str):
            try:
                value = float(raw)
            except ValueError:
                raise _BadValue from None
        else:
            raise _BadValue
        if not math.isfinite(value):
            raise _BadValue
        if not _in_bounds(value, self.low, self.high, self.low_open, self.high_open):
            raise _BadValue
        return value


@dataclass(frozen=True)
class Categorical(Hyperparameter):
    """One of a fixed set of strings (compared exactly, as AWS does)."""

    choices: tuple[str, ...] = ()

    def describe(self) -> str:
        return "one of " + ", ".join(repr(c) for c in self.choices)

    def convert(self, raw: object) -> Any:
        raw = _unquote(raw)
        if not isinstance(raw, str) or raw not in self.choices:
            raise _BadValue
        return raw


_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}


@dataclass(frozen=True)
class Boolean(Hyperparameter):
    """``true`` or ``false`` (any capitalisation the SageMaker SDKs write); ``auto`` if allowed."""

    auto: bool = False

    def describe(self) -> str:
        return "'auto', 'true' or 'false'" if self.auto else "'true' or 'false'"

    def convert(self, raw: object) -> Any:
        raw = _unquote(raw)
        if isinstance(raw, bool):
            return raw
        if self.auto and raw == AUTO:
            return AUTO
        if raw in _TRUE:
            return True
        if raw in _FALSE:
            return False
        raise _BadValue


@dataclass(frozen=True)
class Text(Hyperparameter):
    """Free text, optionally matching ``pattern`` (checked by the algorithm where it must be)."""

    pattern: str | None = None
    hint: str = "a string"

    def describe(self) -> str:
        return self.hint

    def convert(self, raw: object) -> Any:
        raw = _unquote(raw)
        if not isinstance(raw, str) or not raw.strip():
            raise _BadValue
        if self.pattern is not None and not re.fullmatch(self.pattern, raw):
            raise _BadValue
        return raw


def _split_list(raw: str) -> list[str]:
    """``'["a", "b"]'``, ``'[a, b]'``, ``'a,b'`` or ``'a'`` → ``['a', 'b']``."""
    text = raw.strip()
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = [part.strip().strip("'\"") for part in text[1:-1].split(",")]
        if not isinstance(parsed, list):
            raise _BadValue
        return [str(item).strip() for item in parsed]
    return [part.strip() for part in text.split(",")]


@dataclass(frozen=True)
class StringList(Hyperparameter):
    """A list of names: a JSON list, a bracketed list or comma separated; each from ``choices``.

    The parsed value is a tuple of strings. With ``open_choices`` any non-empty name passes here
    and the algorithm checks it (XGBoost metrics such as ``error@0.7``).
    """

    choices: tuple[str, ...] = ()
    open_choices: bool = False

    def describe(self) -> str:
        if self.open_choices or not self.choices:
            return "a comma-separated list of names"
        return "a list (JSON or comma-separated) of " + ", ".join(repr(c) for c in self.choices)

    def convert(self, raw: object) -> Any:
        raw = _unquote(raw)
        if isinstance(raw, list | tuple):
            items = [str(item).strip() for item in raw]
        elif isinstance(raw, str):
            items = _split_list(raw)
        else:
            raise _BadValue
        if not items or any(not item for item in items):
            raise _BadValue
        if not self.open_choices and self.choices and any(i not in self.choices for i in items):
            raise _BadValue
        return tuple(items)


@dataclass(frozen=True)
class IntegerTuple(Hyperparameter):
    """A tuple of integers such as ``(0, 1, -1)``, each from ``choices`` when given."""

    choices: tuple[int, ...] = ()

    def describe(self) -> str:
        allowed = ", ".join(str(c) for c in self.choices) if self.choices else "integers"
        return f"a tuple of {allowed}, e.g. '(0, 1)'"

    def convert(self, raw: object) -> Any:
        raw = _unquote(raw)
        if isinstance(raw, str):
            text = raw.strip()
            if text[:1] in "([" and text[-1:] in ")]":
                text = text[1:-1]
            parts = [p.strip() for p in text.split(",") if p.strip()]
            if not all(re.fullmatch(r"[-+]?\d+", p) for p in parts):
                raise _BadValue
            values = tuple(int(p) for p in parts)
        elif isinstance(raw, list | tuple) and all(
            isinstance(v, int) and not isinstance(v, bool) for v in raw
        ):
            values = tuple(int(v) for v in raw)
        else:
            raise _BadValue
        if not values or (self.choices and any(v not in self.choices for v in values)):
            raise _BadValue
        return values


@dataclass(frozen=True)
class NestedIntegerList(Hyperparameter):
    """A list of lists of non-negative integers such as ``[[0, 1], [2, 3, 4]]``."""

    def describe(self) -> str:
        return "a nested list of feature indices, e.g. '[[0, 1], [2, 3, 4]]'"

    def convert(self, raw: object) -> Any:
        raw = _unquote(raw)
        value: object = raw
        if isinstance(raw, str):
            try:
                value = json.loads(raw)
            except ValueError:
                raise _BadValue from None
        if not isinstance(value, list | tuple) or not value:
            raise _BadValue
        groups: list[tuple[int, ...]] = []
        for group in value:
            if not isinstance(group, list | tuple) or not group:
                raise _BadValue
            if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in group):
                raise _BadValue
            groups.append(tuple(group))
        return tuple(groups)


@dataclass(frozen=True)
class HyperparameterSpec:
    """All hyperparameters of one algorithm, in the order AWS documents them."""

    algorithm: str
    params: tuple[Hyperparameter, ...]
    _by_name: dict[str, Hyperparameter] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name = {p.name: p for p in self.params}
        if len(by_name) != len(self.params):
            raise ValueError(f"duplicate hyperparameter names in {self.algorithm}")
        object.__setattr__(self, "_by_name", by_name)

    @property
    def names(self) -> tuple[str, ...]:
        """The AWS names, in spec order."""
        return tuple(p.name for p in self.params)

    def __getitem__(self, name: str) -> Hyperparameter:
        return self._by_name[name]

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def defaults(self) -> dict[str, Any]:
        """AWS name → default, for hyperparameters that have one."""
        return {p.name: p.default for p in self.params if not p.required}

    def parse(self, raw: Mapping[str, object]) -> dict[str, Any]:
        """Parse and check ``raw`` (AWS name → value); return constructor keyword arguments.

        Only the hyperparameters present in ``raw`` are returned (keyed by attribute name); the
        constructor supplies the defaults, so what is stored is exactly what was given.

        Raises:
            ValidationError: For the first unknown name, missing required hyperparameter, or value
                of the wrong type or out of range; ``details`` holds ``hyperparameter`` and
                ``allowed``.
        """
        unknown = sorted(name for name in raw if name not in self._by_name)
        if unknown:
            raise ValidationError(
                f"Unknown hyperparameter {unknown[0]!r} for algorithm {self.algorithm!r}; "
                f"allowed: {', '.join(sorted(self.names))}",
                details={"hyperparameter": unknown[0], "allowed": sorted(self.names)},
            )
        for param in self.params:
            if param.required and raw.get(param.name) is None:
                raise ValidationError(
                    f"Missing required hyperparameter {param.name!r} for algorithm "
                    f"{self.algorithm!r}: {param.describe()}",
                    details={"hyperparameter": param.name, "allowed": param.describe()},
                )
        kwargs: dict[str, Any] = {}
        for name, value in raw.items():
            param = self._by_name[name]
            if value is None and not param.required:
                kwargs[param.attr] = param.default
                continue
            kwargs[param.attr] = self.convert(param, value)
        return kwargs

    def convert(self, param: Hyperparameter, value: object) -> Any:
        """Parse one value of ``param`` or raise a ValidationError saying what is allowed."""
        try:
            return param.convert(value)
        except _BadValue:
            raise ValidationError(
                f"Invalid value {value!r} for hyperparameter {param.name!r} of algorithm "
                f"{self.algorithm!r}: expected {param.describe()}",
                details={"hyperparameter": param.name, "allowed": param.describe()},
            ) from None

    def check(self, values: Mapping[str, object]) -> dict[str, Any]:
        """Check already stored values (AWS name → value); return them parsed.

        Used by ``fit`` so an estimator built in Python with a bad value fails the same way as
        one built from strings. ``None`` means "not set" for optional hyperparameters.
        """
        checked: dict[str, Any] = {}
        for param in self.params:
            value = values.get(param.name, param.default)
            if value is REQUIRED or (value is None and param.required):
                raise ValidationError(
                    f"Missing required hyperparameter {param.name!r} for algorithm "
                    f"{self.algorithm!r}: {param.describe()}",
                    details={"hyperparameter": param.name, "allowed": param.describe()},
                )
            checked[param.name] = None if value is None else self.convert(param, value)
        return checked


def names_of(values: Sequence[str]) -> str:
    """``['a', 'b']`` → ``"'a', 'b'"`` for messages."""
    return ", ".join(repr(v) for v in values)
