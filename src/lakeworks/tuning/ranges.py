"""The search space of a tuning job: SageMaker's parameter ranges, checked and made usable.

Each range maps a point of the unit interval to a value and back, according to its scaling:

``Linear``
    evenly over ``[min, max]``.
``Logarithmic``
    evenly over ``[log min, log max]`` (``min > 0``); for learning rates and regularisation.
``ReverseLogarithmic``
    evenly over ``log(1 - x)``: dense near ``max`` (continuous ranges in ``[0, 1)``, for
    momentum-like values close to 1).
``Auto``
    Logarithmic when the range is positive and spans two orders of magnitude or more, Linear
    otherwise (SageMaker leaves the choice to the tuner; this is ours).

Integers are drawn on the same scale and rounded. Values go to training jobs as strings
(``"5"``, ``"0.0123"``), as SageMaker passes them. Pure logic: no I/O.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from lakeworks.core.errors import ValidationError
from lakeworks.schemas.tuning import ParameterRanges

__all__ = [
    "MAX_GRID",
    "MAX_RANGES",
    "CategoricalRange",
    "ContinuousRange",
    "IntegerRange",
    "Range",
    "Scaling",
    "SearchSpace",
    "format_value",
]

Scaling = Literal["Linear", "Logarithmic", "ReverseLogarithmic"]
MAX_RANGES = 30
#: The most combinations a Grid search may enumerate.
MAX_GRID = 10_000


def format_value(value: Any) -> str:
    """A hyperparameter value as the string a training job receives."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


def _auto(low: float, high: float) -> Scaling:
    return "Logarithmic" if low > 0 and high / low >= 100 else "Linear"


@dataclass(frozen=True)
class IntegerRange:
    """Integers in ``[low, high]``."""

    name: str
    low: int
    high: int
    scaling: Scaling

    def from_unit(self, u: float) -> int:
        """The value at ``u`` in [0, 1]."""
        if self.scaling == "Logarithmic":
            x = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        else:
            x = self.low + u * (self.high - self.low)
        return int(min(self.high, max(self.low, round(x))))

    def to_unit(self, value: float) -> float:
        """Where ``value`` sits in [0, 1]."""
        if self.high == self.low:
            return 0.0
        if self.scaling == "Logarithmic":
            return (math.log(value) - math.log(self.low)) / (
                math.log(self.high) - math.log(self.low)
            )
        return (value - self.low) / (self.high - self.low)

    def contains(self, value: Any) -> bool:
        """Whether ``value`` is an integer in the range."""
        return isinstance(value, int) and self.low <= value <= self.high


@dataclass(frozen=True)
class ContinuousRange:
    """Real numbers in ``[low, high]``."""

    name: str
    low: float
    high: float
    scaling: Scaling

    def from_unit(self, u: float) -> float:
        """The value at ``u`` in [0, 1]."""
        if self.scaling == "Logarithmic":
            x = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        elif self.scaling == "ReverseLogarithmic":
            a, b = math.log(1 - self.low), math.log(1 - self.high)
            x = 1 - math.exp(a + u * (b - a))
        else:
            x = self.low + u * (self.high - self.low)
        return min(self.high, max(self.low, x))

    def to_unit(self, value: float) -> float:
        """Where ``value`` sits in [0, 1]."""
        if self.high == self.low:
            return 0.0
        if self.scaling == "Logarithmic":
            return (math.log(value) - math.log(self.low)) / (
                math.log(self.high) - math.log(self.low)
            )
        if self.scaling == "ReverseLogarithmic":
            a, b = math.log(1 - self.low), math.log(1 - self.high)
            return (math.log(1 - value) - a) / (b - a)
        return (value - self.low) / (self.high - self.low)

    def contains(self, value: Any) -> bool:
        """Whether ``value`` is a number in the range."""
        return isinstance(value, int | float) and self.low <= float(value) <= self.high


@dataclass(frozen=True)
class CategoricalRange:
    """One of ``values``."""

    name: str
    values: tuple[str, ...]

    def contains(self, value: Any) -> bool:
        """Whether ``value`` is one of the values."""
        return value in self.values


Range = IntegerRange | ContinuousRange | CategoricalRange


def _number(text: str, what: str, *, integer: bool) -> float:
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        kind = "an integer" if integer else "a number"
        raise ValidationError(f"{what} is {text!r}; it must be {kind} (as a string)") from None
    if not math.isfinite(value):
        raise ValidationError(f"{what} is {text!r}; it must be finite")
    return value


@dataclass(frozen=True)
class SearchSpace:
    """The ranges of a tuning job, in the order given (integer, continuous, categorical)."""

    ranges: tuple[Range, ...]

    @classmethod
    def from_ranges(cls, ranges: ParameterRanges | None) -> SearchSpace:
        """Check SageMaker's ranges and build the space.

        Raises:
            ValidationError: Duplicate names, bad bounds, a scaling the range cannot use, too
                many ranges or values, or AutoParameters (Autotune is not supported).
        """
        if ranges is None:
            raise ValidationError("ParameterRanges is required: give at least one range")
        if ranges.auto_parameters:
            raise ValidationError("AutoParameters (Autotune) is not supported; give the ranges")
        built: list[Range] = []
        for item in ranges.integer_parameter_ranges:
            where = f"IntegerParameterRange {item.name!r}"
            low = int(_number(item.min_value, f"{where} MinValue", integer=True))
            high = int(_number(item.max_value, f"{where} MaxValue", integer=True))
            built.append(
                IntegerRange(
                    item.name,
                    low,
                    high,
                    _scaling(where, item.scaling_type, low, high, integer=True),
                )
            )
        for cont in ranges.continuous_parameter_ranges:
            where = f"ContinuousParameterRange {cont.name!r}"
            flow = _number(cont.min_value, f"{where} MinValue", integer=False)
            fhigh = _number(cont.max_value, f"{where} MaxValue", integer=False)
            built.append(
                ContinuousRange(
                    cont.name,
                    flow,
                    fhigh,
                    _scaling(where, cont.scaling_type, flow, fhigh, integer=False),
                )
            )
        for cat in ranges.categorical_parameter_ranges:
            if len(set(cat.values)) != len(cat.values):
                raise ValidationError(f"CategoricalParameterRange {cat.name!r} repeats a value")
            built.append(CategoricalRange(cat.name, tuple(cat.values)))
        if not built:
            raise ValidationError("ParameterRanges is empty: give at least one range")
        if len(built) > MAX_RANGES:
            raise ValidationError(
                f"At most {MAX_RANGES} hyperparameters can be tuned, got {len(built)}"
            )
        names = [r.name for r in built]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValidationError(f"Hyperparameters appear in more than one range: {duplicates}")
        return cls(tuple(built))

    @property
    def names(self) -> list[str]:
        """The tuned hyperparameters."""
        return [r.name for r in self.ranges]

    def is_categorical(self) -> bool:
        """Whether every range is categorical (what Grid search needs)."""
        return all(isinstance(r, CategoricalRange) for r in self.ranges)

    def grid_size(self) -> int:
        """The number of combinations of the categorical values."""
        return math.prod(len(r.values) for r in self.ranges if isinstance(r, CategoricalRange))

    def grid(self) -> Iterator[dict[str, Any]]:
        """Every combination, in order (first range slowest)."""
        categorical = [r for r in self.ranges if isinstance(r, CategoricalRange)]
        for combo in itertools.product(*(r.values for r in categorical)):
            yield dict(zip((r.name for r in categorical), combo, strict=True))

    def from_unit(self, point: Mapping[str, float], choices: Mapping[str, int]) -> dict[str, Any]:
        """Values from unit coordinates (numeric ranges) and value indices (categorical)."""
        values: dict[str, Any] = {}
        for r in self.ranges:
            if isinstance(r, CategoricalRange):
                values[r.name] = r.values[choices[r.name] % len(r.values)]
            else:
                values[r.name] = r.from_unit(point[r.name])
        return values

    def as_strings(self, values: Mapping[str, Any]) -> dict[str, str]:
        """Values as the strings training jobs receive."""
        return {name: format_value(value) for name, value in values.items()}

    def parse_strings(self, values: Mapping[str, str]) -> dict[str, Any] | None:
        """Typed values from strings, or None if one is missing or outside its range."""
        parsed: dict[str, Any] = {}
        for r in self.ranges:
            raw = values.get(r.name)
            if raw is None:
                return None
            try:
                value: Any = (
                    int(raw)
                    if isinstance(r, IntegerRange)
                    else float(raw)
                    if isinstance(r, ContinuousRange)
                    else raw
                )
            except ValueError:
                return None
            if not r.contains(value):
                return None
            parsed[r.name] = value
        return parsed


def _scaling(where: str, given: str, low: float, high: float, *, integer: bool) -> Scaling:
    if low > high:
        raise ValidationError(f"{where}: MinValue {low} is greater than MaxValue {high}")
    scaling: Scaling = _auto(low, high) if given == "Auto" else given  # type: ignore[assignment]
    if scaling == "Logarithmic" and low <= 0:
        raise ValidationError(
            f"{where}: Logarithmic scaling needs MinValue > 0 (got {low}); use Linear"
        )
    if scaling == "ReverseLogarithmic":
        if integer:
            raise ValidationError(f"{where}: ReverseLogarithmic scaling is for continuous ranges")
        if not (0 <= low < high < 1):
            raise ValidationError(
                f"{where}: ReverseLogarithmic scaling needs 0 <= MinValue < MaxValue < 1 "
                f"(got {low}, {high})"
            )
    return scaling
