"""Text columns as strings and token lists: decoding, cleaning, tokenizing.

Text arrives as ``str`` values, or as ``bytes`` when it came from a binary source. Bytes are
decoded as UTF-8; bytes that are not UTF-8 are *reported* — the step fails naming the column,
how many values and which rows — unless ``on_invalid="replace"`` asks for U+FFFD replacement
characters instead. Nothing is dropped silently and nothing crashes with a UnicodeDecodeError.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from lakeworks.core.errors import ValidationError

__all__ = [
    "ON_INVALID",
    "WORD_OR_PUNCTUATION_PATTERN",
    "WORD_PATTERN",
    "as_token_lists",
    "clean_text",
    "decode_texts",
    "to_column",
    "token_lists",
    "tokenize",
]

#: What to do with bytes that are not valid UTF-8.
ON_INVALID: tuple[str, ...] = ("error", "replace")
#: Words: runs of letters/digits/underscore, with inner apostrophes ("don't").
WORD_PATTERN = r"\w+(?:'\w+)*"
#: Words, or single punctuation marks as tokens of their own.
WORD_OR_PUNCTUATION_PATTERN = r"\w+(?:'\w+)*|[^\w\s]"
_PUNCTUATION = re.compile(r"[^\w\s]+")
_SPACES = re.compile(r"\s+")


def decode_texts(series: pd.Series, column: str, on_invalid: str = "error") -> pd.Series:
    """Return ``series`` as text (``str`` values, missing stays missing), decoding bytes.

    Raises:
        ValidationError: With ``on_invalid="error"``, some bytes are not UTF-8 (the message
            names the column, the count and the first rows); or a value is neither text nor
            bytes.
    """
    if isinstance(series.dtype, pd.StringDtype):
        return series
    values = series.to_numpy(dtype=object)
    bad_rows: list[int] = []
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        if isinstance(value, str):
            out[i] = value
        elif isinstance(value, bytes | bytearray):
            try:
                out[i] = bytes(value).decode("utf-8")
            except UnicodeDecodeError:
                if on_invalid == "error":
                    bad_rows.append(i)
                out[i] = bytes(value).decode("utf-8", errors="replace")
        elif value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
            out[i] = None
        else:
            raise ValidationError(
                f"column {column!r} row {i}: expected text, got {type(value).__name__} {value!r}",
                details={"column": column, "row": i},
            )
    if bad_rows:
        raise ValidationError(
            f"column {column!r} has {len(bad_rows)} value(s) that are not valid UTF-8 (rows "
            f"{bad_rows[:10]}{' …' if len(bad_rows) > 10 else ''}); fix the data or set "
            "on_invalid='replace' to replace undecodable bytes with U+FFFD",
            details={"column": column, "rows": bad_rows[:100], "count": len(bad_rows)},
        )
    return pd.Series(out, index=series.index, name=series.name, dtype=object)


def clean_text(
    series: pd.Series, *, lowercase: bool = True, strip_punctuation: bool = True
) -> pd.Series:
    """Lower-case text and replace punctuation runs by a space, collapsing whitespace.

    Works on whole columns with pandas' vectorized string methods; missing stays missing.
    """
    text = series.astype("str") if not isinstance(series.dtype, pd.StringDtype) else series
    text = text.where(series.notna())
    if lowercase:
        text = text.str.lower()
    if strip_punctuation:
        text = text.str.replace(_PUNCTUATION, " ", regex=True)
        text = text.str.replace(_SPACES, " ", regex=True).str.strip()
    return text


def tokenize(text: str, *, lowercase: bool = True, pattern: str = WORD_PATTERN) -> list[str]:
    """Return the tokens of one string (``"Dry, red!"`` → ``["dry", "red"]``)."""
    return re.findall(pattern, text.lower() if lowercase else text)


def token_lists(series: pd.Series, *, lowercase: bool, pattern: str) -> pd.Series:
    """Tokenize a text column into a column of token lists (missing stays None)."""
    text = series.str.lower() if lowercase else series
    compiled = re.compile(pattern)
    values = np.asarray(text.astype(object).where(text.notna(), None), dtype=object)
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        out[i] = None if value is None else compiled.findall(value)
    return pd.Series(out, index=series.index, name=series.name, dtype=object)


def as_token_lists(series: pd.Series, column: str) -> list[list[str] | None]:
    """Return a list column's values as Python lists of strings (None for missing).

    Raises:
        ValidationError: A value is not a list of strings.
    """
    out: list[list[str] | None] = []
    for i, value in enumerate(series.to_numpy(dtype=object)):
        if value is None or (isinstance(value, float) and np.isnan(value)):
            out.append(None)
        elif isinstance(value, list | tuple | np.ndarray):
            out.append([str(t) for t in value])
        else:
            raise ValidationError(
                f"column {column!r} row {i}: expected a list of tokens, got "
                f"{type(value).__name__}; tokenize the column first",
                details={"column": column, "row": i},
            )
    return out


def to_column(values: list[Any], series: pd.Series) -> pd.Series:
    """Return ``values`` (one per row) as an object column aligned with ``series``."""
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        out[i] = value  # element-wise: numpy would otherwise try to make equal lists a 2-D array
    return pd.Series(out, index=series.index, name=series.name, dtype=object)
