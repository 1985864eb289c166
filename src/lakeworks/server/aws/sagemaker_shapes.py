"""Reading SageMaker's JSON input into the wire models and writing results back.

The wire models (:mod:`lakeworks.schemas.training`, :mod:`lakeworks.schemas.tuning`) carry
SageMaker's names as aliases, so parsing is ``model_validate`` and answering is
``model_dump(by_alias=True)``; this module turns pydantic's complaints into SageMaker's
``ValidationException`` text and reads the few scalar parameters list calls take.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

import pydantic

from lakeworks.core.errors import ValidationError

__all__ = [
    "dump",
    "optional_int",
    "optional_str",
    "optional_time",
    "parse_shape",
    "required_str",
]

M = TypeVar("M", bound=pydantic.BaseModel)


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"


def parse_shape(model: type[M], params: dict[str, Any]) -> M:
    """Validate SageMaker input ``params`` as ``model``.

    Raises:
        ValidationError: ``ValidationException`` listing each problem as
            ``Value at 'Field.Sub' failed: <reason>``.
    """
    try:
        return model.model_validate(params)
    except pydantic.ValidationError as exc:
        problems = [
            f"Value at '{_location(tuple(err['loc']))}' failed: {err['msg']}"
            for err in exc.errors()
        ]
        count = len(problems)
        noun = "error" if count == 1 else "errors"
        raise ValidationError(
            f"{count} validation {noun} detected: " + "; ".join(problems),
            details={"errors": problems},
        ) from None


def dump(model: pydantic.BaseModel) -> dict[str, Any]:
    """A response model by SageMaker's names, unset fields left out."""
    return model.model_dump(by_alias=True, exclude_none=True)


def required_str(params: dict[str, Any], name: str) -> str:
    """A required string parameter.

    Raises:
        ValidationError: Missing or not a string.
    """
    value = params.get(name)
    if not isinstance(value, str) or not value:
        raise ValidationError(f"{name} is required and must be a non-empty string")
    return value


def optional_str(params: dict[str, Any], name: str) -> str | None:
    """An optional string parameter."""
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{name} must be a string")
    return value


def optional_int(params: dict[str, Any], name: str) -> int | None:
    """An optional integer parameter."""
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{name} must be an integer")
    return value


def optional_time(params: dict[str, Any], name: str) -> datetime | None:
    """An optional timestamp (JSON protocols send epoch seconds; ISO 8601 is accepted)."""
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError(f"{name} must be a timestamp, got {value!r}") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise ValidationError(f"{name} must be a timestamp")
