"""Checks for transform hyperparameters, with messages that say what is allowed.

Transforms store their hyperparameters unchanged (the estimator contract) and check them once,
at construction, with these helpers, so a bad recipe fails when it is loaded — long before data
is read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lakeworks.core.errors import ValidationError

__all__ = [
    "check_bool",
    "check_choice",
    "check_columns",
    "check_int",
    "check_number",
    "check_str",
    "check_str_list",
]


def _fail(transform: str, name: str, wanted: str, value: Any) -> ValidationError:
    return ValidationError(
        f"{transform}: parameter {name!r} must be {wanted}; got {value!r}",
        details={"transform": transform, "param": name},
    )


def check_choice(transform: str, name: str, value: Any, allowed: Sequence[Any]) -> None:
    """Require ``value`` to be one of ``allowed``."""
    if isinstance(value, bool) or value not in allowed:
        raise _fail(transform, name, f"one of {list(allowed)}", value)


def check_bool(transform: str, name: str, value: Any) -> None:
    """Require a real boolean (not 0/1, not "yes")."""
    if not isinstance(value, bool):
        raise _fail(transform, name, "true or false", value)


def check_int(
    transform: str,
    name: str,
    value: Any,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    optional: bool = False,
) -> None:
    """Require an integer within ``[minimum, maximum]`` (None allowed when ``optional``)."""
    if value is None and optional:
        return
    bounds = _bounds(minimum, maximum)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(transform, name, f"an integer{bounds}", value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise _fail(transform, name, f"an integer{bounds}", value)


def check_number(
    transform: str,
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive: bool = False,
    optional: bool = False,
) -> None:
    """Require a finite number within the bounds (exclusive bounds when ``exclusive``)."""
    if value is None and optional:
        return
    bounds = _bounds(minimum, maximum, exclusive)
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise _fail(transform, name, f"a number{bounds}", value)
    low_bad = minimum is not None and (value <= minimum if exclusive else value < minimum)
    high_bad = maximum is not None and (value >= maximum if exclusive else value > maximum)
    if low_bad or high_bad or value in (float("inf"), float("-inf")):
        raise _fail(transform, name, f"a number{bounds}", value)


def check_str(transform: str, name: str, value: Any, *, optional: bool = False) -> None:
    """Require a non-empty string (None allowed when ``optional``)."""
    if value is None and optional:
        return
    if not isinstance(value, str) or not value:
        raise _fail(transform, name, "a non-empty string", value)


def check_str_list(
    transform: str, name: str, value: Any, *, optional: bool = False, allow_empty: bool = False
) -> None:
    """Require a list of distinct non-empty strings."""
    if value is None and optional:
        return
    ok = isinstance(value, list | tuple) and all(isinstance(v, str) and v for v in value)
    if not ok or (not allow_empty and not value):
        what = "a list of strings" if allow_empty else "a non-empty list of strings"
        raise _fail(transform, name, what, value)
    duplicates = sorted({v for v in value if list(value).count(v) > 1})
    if duplicates:
        raise _fail(transform, name, f"a list without repeats (repeated: {duplicates})", value)


def check_columns(transform: str, columns: Any) -> None:
    """Require ``columns`` to be None (the transform's default selection) or a list of names."""
    check_str_list(transform, "columns", columns, optional=True)


def _bounds(minimum: float | None, maximum: float | None, exclusive: bool = False) -> str:
    low, high = ("(", ")") if exclusive else ("[", "]")
    if minimum is not None and maximum is not None:
        return f" in {low}{minimum}, {maximum}{high}"
    if minimum is not None:
        return f" {'>' if exclusive else '>='} {minimum}"
    if maximum is not None:
        return f" {'<' if exclusive else '<='} {maximum}"
    return ""
