"""Date parts: year, month, weekday … of date-time columns as numeric columns."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from lakeworks.core.errors import ValidationError
from lakeworks.dataprep.frames import Schema
from lakeworks.dataprep.transforms.base import Transform, register, splice
from lakeworks.dataprep.transforms.params import check_bool, check_choice, check_str

__all__ = ["PARTS", "DateParts", "parse_dates"]

#: Parts a date-time column can be split into. ``weekday`` is 0 for Monday; ``week`` is the ISO
#: week; ``epoch`` is seconds since 1970-01-01 UTC; ``is_*`` parts are 0/1.
PARTS: tuple[str, ...] = (
    "year",
    "quarter",
    "month",
    "week",
    "day",
    "dayofyear",
    "weekday",
    "hour",
    "minute",
    "second",
    "is_weekend",
    "is_month_start",
    "is_month_end",
    "epoch",
)


def parse_dates(series: pd.Series, date_format: str | None, column: str) -> pd.Series:
    """Return ``series`` as datetimes; strings are parsed with ``date_format`` (ISO 8601 when
    None).

    Raises:
        ValidationError: Some present values do not parse; the message shows a few of them.
    """
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return series
    parsed = pd.to_datetime(series, format=date_format or "ISO8601", errors="coerce", utc=False)
    bad = parsed.isna() & series.notna()
    if bad.any():
        sample = [str(v) for v in series[bad].head(5)]
        raise ValidationError(
            f"date_parts: column {column!r} has {int(bad.sum())} value(s) that are not dates in "
            f"format {date_format or 'ISO 8601'!r}, such as {sample}; set 'format' "
            "(strftime codes, like '%d/%m/%Y')",
            details={"column": column},
        )
    return parsed


def _part(dates: pd.Series, part: str) -> np.ndarray[Any, Any]:
    dt = dates.dt
    values: Any
    if part == "week":
        values = dt.isocalendar().week
    elif part == "weekday":
        values = dt.day_of_week
    elif part == "is_weekend":
        values = dt.day_of_week >= 5
    elif part == "is_month_start":
        values = dt.is_month_start
    elif part == "is_month_end":
        values = dt.is_month_end
    elif part == "epoch":
        naive = dt.tz_convert("UTC").dt.tz_localize(None) if dt.tz is not None else dates
        seconds = (naive - pd.Timestamp("1970-01-01")) / pd.Timedelta(seconds=1)
        return np.asarray(seconds.to_numpy(dtype="float64", na_value=np.nan))
    else:
        values = getattr(dt, part)
    result = np.array(pd.Series(values).to_numpy(dtype="float64", na_value=np.nan))
    result[dates.isna().to_numpy()] = np.nan
    return result


@register
class DateParts(Transform):
    """Split date-time columns (or ISO date strings) into numeric part columns.

    Args:
        columns: Date-time or date-string columns; None takes every date-time column.
        parts: Which parts, from :data:`PARTS`; each becomes ``<column>_<part>``.
        keep_original: Keep the source column after the parts (else it is replaced).
        format: strftime format of string dates; None reads ISO 8601.
    """

    name = "date_parts"
    accepts = ("datetime", "string")
    selects = ("datetime",)

    def __init__(
        self,
        columns: list[str] | None = None,
        parts: list[str] | None = None,
        keep_original: bool = False,
        format: str | None = None,
    ) -> None:
        super().__init__(columns)
        self.parts = parts
        self.keep_original = keep_original
        self.format = format
        check_bool(self.name, "keep_original", keep_original)
        check_str(self.name, "format", format, optional=True)
        if parts is not None:
            if not isinstance(parts, list) or not parts:
                raise ValidationError(f"date_parts: 'parts' must be a non-empty list of {PARTS}")
            for part in parts:
                check_choice(self.name, "parts", part, PARTS)

    def _parts(self) -> list[str]:
        return list(self.parts) if self.parts else ["year", "month", "day", "weekday"]

    def _fit(self, df: pd.DataFrame, columns: list[str]) -> None:
        for column in columns:
            parse_dates(df[column], self.format, column)

    def _transform(self, df: pd.DataFrame) -> pd.DataFrame:
        out = df
        for column in self.columns_:
            dates = parse_dates(df[column], self.format, column)
            new: dict[str, Any] = {f"{column}_{part}": _part(dates, part) for part in self._parts()}
            if self.keep_original:
                new = {column: df[column], **new}
            out = splice(out, [column], new, f"transform {self.name!r}")
        return out

    def _output_schema(self, schema: Schema, columns: list[str]) -> Schema:
        for column in columns:
            kept = schema.kinds.pop(column, "datetime")
            if self.keep_original:
                schema.kinds[column] = kept
            for part in self._parts():
                schema.kinds[f"{column}_{part}"] = "numeric"
        return schema
