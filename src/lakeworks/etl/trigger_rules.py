"""The pure logic of triggers: schedules, argument templates and predicates (no I/O).

Schedules are Glue's ``cron(...)`` (parsed by :mod:`lakeworks.lake.catalog.cron`) or, natively,
EventBridge's ``rate(N minute|minutes|hour|hours|day|days)``. Argument values may name parts of
the firing event as ``{bucket}``, ``{key}`` …; other braces are left as they are, so JSON in an
argument survives.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from lakeworks.core.errors import ValidationError
from lakeworks.lake.catalog.cron import parse_cron
from lakeworks.schemas.triggers import TriggerPredicate

__all__ = [
    "PLACEHOLDERS",
    "RateSchedule",
    "Schedule",
    "parse_schedule",
    "predicate_met",
    "render_arguments",
]

#: Names an argument value may refer to as ``{name}``.
PLACEHOLDERS = (
    "bucket",
    "key",
    "s3_uri",
    "size",
    "etag",
    "event_name",
    "event_time",
    "fire_time",
    "trigger_name",
)
_PLACEHOLDER = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")
_RATE = re.compile(r"^\s*rate\(\s*(\d+)\s+([a-z]+)\s*\)\s*$", re.IGNORECASE)
_UNITS = {"minute": 60, "hour": 3600, "day": 86400}


class Schedule(Protocol):
    """A parsed schedule expression."""

    @property
    def expression(self) -> str:
        """The expression as written."""

    def next_after(self, moment: datetime) -> datetime | None:
        """The first fire time strictly after ``moment``, or None when none is left."""


@dataclass(frozen=True)
class RateSchedule:
    """``rate(N unit)``: every ``seconds`` seconds, counted from the previous fire time."""

    expression: str
    seconds: int

    def next_after(self, moment: datetime) -> datetime:
        """``moment`` plus the period."""
        return moment.astimezone(UTC) + timedelta(seconds=self.seconds)


def _rate_error(expression: str, why: str) -> ValidationError:
    return ValidationError(
        f"Invalid schedule {expression!r}: {why}. Use rate(N minute|minutes|hour|hours|day|days) "
        "with N >= 1 (singular unit only for 1), or cron(Minutes Hours Day-of-month Month "
        "Day-of-week Year)",
        aws_code="InvalidInputException",
        details={"schedule": expression},
    )


def parse_schedule(expression: str, *, allow_rate: bool = True) -> Schedule:
    """Parse ``cron(...)`` or (when ``allow_rate``) ``rate(...)``.

    Raises:
        ValidationError: Not a valid expression (``InvalidInputException``), saying what is.
    """
    text = expression or ""
    if text.strip().lower().startswith("rate("):
        if not allow_rate:
            raise ValidationError(
                f"Invalid schedule {expression!r}: Glue triggers take cron(...) expressions "
                "only; rate(...) schedules are available through the native API",
                aws_code="InvalidInputException",
            )
        match = _RATE.match(text)
        if match is None:
            raise _rate_error(expression, "expected rate(N unit)")
        count, unit = int(match.group(1)), match.group(2).lower()
        singular = unit[:-1] if unit.endswith("s") else unit
        if singular not in _UNITS:
            raise _rate_error(expression, f"unknown unit {unit!r}")
        if count < 1 or (count == 1) != (unit == singular):
            raise _rate_error(expression, f"{count} {unit} is not allowed")
        return RateSchedule(expression=text.strip(), seconds=count * _UNITS[singular])
    return parse_cron(text)


def render_arguments(arguments: Mapping[str, str], values: Mapping[str, str]) -> dict[str, str]:
    """``arguments`` with each ``{placeholder}`` the event provides replaced.

    A placeholder the event lacks (``{key}`` in a scheduled firing) is left as written.
    """

    def fill(match: re.Match[str]) -> str:
        return values.get(match.group(1), match.group(0))

    return {name: _PLACEHOLDER.sub(fill, value) for name, value in arguments.items()}


def predicate_met(
    predicate: TriggerPredicate,
    latest: Mapping[str, tuple[str, datetime]],
    armed_since: datetime,
) -> bool:
    """Whether a conditional trigger should fire.

    Args:
        predicate: The trigger's conditions.
        latest: Job name → (final state, completion time) of its latest ended run.
        armed_since: Only runs that ended after this count (the trigger's activation or
            previous firing), so one run never fires a trigger twice.
    """

    def holds(job: str, state: str) -> bool:
        seen = latest.get(job)
        return seen is not None and seen[0] == state and seen[1] > armed_since

    results = [holds(c.job_name, c.state) for c in predicate.conditions]
    return all(results) if predicate.logical == "AND" else any(results)
