"""Glue/EventBridge cron schedules: ``cron(Minutes Hours Day-of-month Month Day-of-week Year)``.

Times are UTC. Each field takes ``*``, values, ranges ``a-b``, steps ``*/n`` or ``a-b/n`` and
lists ``a,b``; months and weekdays also take names (``JAN``, ``MON``; weekdays count 1=SUN to
7=SAT). One of day-of-month and day-of-week must be ``?``. Day-of-month also takes ``L`` (last
day) and ``nW`` (weekday nearest day n); day-of-week takes ``nL`` (last such weekday of the
month) and ``n#k`` (k-th such weekday). Example: ``cron(0 12 * * ? *)`` is every day at noon.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from lakeworks.core.errors import ValidationError

__all__ = ["CronSchedule", "parse_cron"]

_MONTHS = {m.upper(): i for i, m in enumerate(calendar.month_abbr) if m}
_WEEKDAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_EXPRESSION = re.compile(r"^\s*cron\((.*)\)\s*$", re.IGNORECASE)
#: How far ahead :meth:`CronSchedule.next_after` looks before giving up.
_HORIZON_DAYS = 366 * 5


def _fail(expression: str, why: str) -> ValidationError:
    return ValidationError(
        f"Invalid schedule {expression!r}: {why}. Use cron(Minutes Hours Day-of-month Month "
        "Day-of-week Year) with '?' in one of the day fields, e.g. cron(0 12 * * ? *)",
        aws_code="InvalidInputException",
        details={"schedule": expression},
    )


def _value(token: str, low: int, high: int, names: dict[str, int], fail: ValidationError) -> int:
    upper = token.upper()
    if upper in names:
        return names[upper]
    if not token.isdigit() or not low <= int(token) <= high:
        raise fail
    return int(token)


def _field(
    text: str, low: int, high: int, expression: str, what: str, names: dict[str, int] | None = None
) -> frozenset[int]:
    fail = _fail(expression, f"bad {what} field {text!r} (allowed {low}-{high})")
    values: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) < 1:
                raise fail
            step = int(step_text)
        if base == "*":
            first, last = low, high
        elif "-" in base:
            a, _, b = base.partition("-")
            first = _value(a, low, high, names or {}, fail)
            last = _value(b, low, high, names or {}, fail)
            if last < first:
                raise fail
        else:
            first = _value(base, low, high, names or {}, fail)
            last = high if step_text else first
        values.update(range(first, last + 1, step))
    return frozenset(values)


@dataclass(frozen=True)
class _DaySpec:
    """A day-of-month or day-of-week field: a set, or one of the special forms."""

    any: bool = False
    values: frozenset[int] = frozenset()
    last: bool = False  # L (day of month) or nL (day of week)
    nearest_weekday: int = 0  # nW
    nth: int = 0  # n#k: k


def _dom(text: str, expression: str) -> _DaySpec:
    if text == "?":
        return _DaySpec(any=True)
    if text.upper() == "L":
        return _DaySpec(last=True)
    match = re.fullmatch(r"(\d{1,2})W", text.upper())
    if match:
        day = int(match.group(1))
        if not 1 <= day <= 31:
            raise _fail(expression, f"bad day-of-month {text!r}")
        return _DaySpec(nearest_weekday=day)
    return _DaySpec(values=_field(text, 1, 31, expression, "day-of-month"))


def _dow(text: str, expression: str) -> _DaySpec:
    if text == "?":
        return _DaySpec(any=True)
    upper = text.upper()
    fail = _fail(expression, f"bad day-of-week field {text!r} (allowed 1-7 or SUN-SAT)")
    if upper.endswith("L") and upper != "L":
        return _DaySpec(values=frozenset({_value(upper[:-1], 1, 7, _WEEKDAYS, fail)}), last=True)
    if upper == "L":
        return _DaySpec(values=frozenset({7}))
    if "#" in upper:
        day, _, nth = upper.partition("#")
        if not nth.isdigit() or not 1 <= int(nth) <= 5:
            raise fail
        return _DaySpec(values=frozenset({_value(day, 1, 7, _WEEKDAYS, fail)}), nth=int(nth))
    return _DaySpec(values=_field(text, 1, 7, expression, "day-of-week", _WEEKDAYS))


def _weekday(day: date) -> int:
    """1=Sunday … 7=Saturday, as cron counts."""
    return (day.weekday() + 1) % 7 + 1


@dataclass(frozen=True)
class CronSchedule:
    """A parsed schedule; :meth:`next_after` gives its next fire time."""

    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    dom: _DaySpec
    months: frozenset[int]
    dow: _DaySpec
    years: frozenset[int]

    def _day_matches(self, day: date) -> bool:
        if day.month not in self.months or day.year not in self.years:
            return False
        if not self.dom.any:
            return self._dom_matches(day)
        return self._dow_matches(day)

    def _dom_matches(self, day: date) -> bool:
        last = calendar.monthrange(day.year, day.month)[1]
        if self.dom.last:
            return day.day == last
        if self.dom.nearest_weekday:
            target = date(day.year, day.month, min(self.dom.nearest_weekday, last))
            if target.weekday() == 5:  # Saturday: Friday before, unless that leaves the month
                target = target - timedelta(days=1) if target.day > 1 else target + timedelta(2)
            elif target.weekday() == 6:  # Sunday: Monday after, unless that leaves the month
                target = target + timedelta(days=1) if target.day < last else target - timedelta(2)
            return day == target
        return day.day in self.dom.values

    def _dow_matches(self, day: date) -> bool:
        if _weekday(day) not in self.dow.values:
            return False
        if self.dow.last:
            return day.day + 7 > calendar.monthrange(day.year, day.month)[1]
        if self.dow.nth:
            return (day.day - 1) // 7 + 1 == self.dow.nth
        return True

    def next_after(self, moment: datetime) -> datetime | None:
        """The first fire time strictly after ``moment`` (UTC), or ``None`` if none is left.

        Args:
            moment: An aware datetime.
        """
        moment = moment.astimezone(UTC)
        start = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
        day = start.date()
        for _ in range(_HORIZON_DAYS):
            if day.year > max(self.years):
                return None
            if self._day_matches(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        when = datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)
                        if when >= start:
                            return when
            day += timedelta(days=1)
        return None


def parse_cron(expression: str) -> CronSchedule:
    """Parse a Glue schedule expression.

    Raises:
        ValidationError: Not ``cron(...)`` with six valid fields (``InvalidInputException``).
    """
    match = _EXPRESSION.match(expression or "")
    if match is None:
        raise _fail(expression, "expected cron(...)")
    fields = match.group(1).split()
    if len(fields) != 6:
        raise _fail(expression, f"expected 6 fields, got {len(fields)}")
    minutes, hours, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise _fail(expression, "exactly one of day-of-month and day-of-week must be '?'")
    return CronSchedule(
        expression=expression.strip(),
        minutes=_field(minutes, 0, 59, expression, "minutes"),
        hours=_field(hours, 0, 23, expression, "hours"),
        dom=_dom(dom, expression),
        months=_field(month, 1, 12, expression, "month", _MONTHS),
        dow=_dow(dow, expression),
        years=_field(year, 1970, 2199, expression, "year"),
    )
