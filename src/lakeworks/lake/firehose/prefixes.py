"""Firehose's S3 key layout: prefix expressions, the default ``YYYY/MM/DD/HH/`` layout and object
names.

A prefix may hold ``!{timestamp:<java pattern>}`` (the arrival time of the oldest record in the
object, UTC), ``!{firehose:random-string}`` and, in the error prefix only,
``!{firehose:error-output-type}``. A prefix without expressions gets ``YYYY/MM/DD/HH/`` appended
(the error prefix ``<error-output-type>/YYYY/MM/DD/HH/``). Everything here is a pure function of
its inputs, so a replayed delivery renders the very same key.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from lakeworks.core.errors import ValidationError

__all__ = [
    "ERROR_TYPES",
    "KeyLayout",
    "format_timestamp",
    "object_name",
    "parse_pattern",
]

#: The values of ``!{firehose:error-output-type}``.
ERROR_TYPES = ("processing-failed", "format-conversion-failed")
_EXPRESSION = re.compile(r"!\{([^}:]*):([^}]*)\}")
#: Java DateTimeFormatter letters Lakeworks renders → (strftime-ish renderer) by run length.
_FIELDS = {"y", "M", "d", "H", "m", "s", "S"}
_DEFAULT_LAYOUT = "yyyy/MM/dd/HH/"


def _invalid(message: str) -> ValidationError:
    return ValidationError(message, aws_code="InvalidArgumentException")


def parse_pattern(pattern: str) -> list[tuple[str, int] | str]:
    """Split a Java ``DateTimeFormatter`` pattern into fields ``(letter, width)`` and literals.

    Supported letters: ``y`` (``yy`` or ``yyyy``), ``M``, ``d``, ``H``, ``m``, ``s`` and ``S``
    (fraction of second); text in single quotes and non-letters are literal.

    Raises:
        ValidationError: An unsupported letter, an unterminated quote or an empty pattern.
    """
    if not pattern:
        raise _invalid("A timestamp expression needs a pattern, e.g. !{timestamp:yyyy/MM/dd}")
    parts: list[tuple[str, int] | str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "'":
            end = pattern.find("'", i + 1)
            if end < 0:
                raise _invalid(f"Unterminated quote in timestamp pattern {pattern!r}")
            parts.append(pattern[i + 1 : end] or "'")
            i = end + 1
        elif char.isalpha():
            j = i
            while j < len(pattern) and pattern[j] == char:
                j += 1
            width = j - i
            if char not in _FIELDS or (char == "y" and width not in (2, 4)):
                raise _invalid(
                    f"Unsupported field {pattern[i:j]!r} in timestamp pattern {pattern!r}; "
                    "allowed: yyyy, yy, MM, dd, HH, mm, ss, SSS and quoted text"
                )
            parts.append((char, width))
            i = j
        else:
            parts.append(char)
            i += 1
    return parts


def format_timestamp(pattern: str, when: datetime) -> str:
    """Render ``when`` with a Java ``DateTimeFormatter`` pattern (see :func:`parse_pattern`)."""
    out: list[str] = []
    for part in parse_pattern(pattern):
        if isinstance(part, str):
            out.append(part)
            continue
        letter, width = part
        if letter == "y":
            out.append(f"{when.year:04d}" if width == 4 else f"{when.year % 100:02d}")
        elif letter == "S":
            out.append(f"{when.microsecond:06d}"[:width].ljust(width, "0"))
        else:
            value = {"M": when.month, "d": when.day, "H": when.hour, "m": when.minute}.get(
                letter, when.second
            )
            out.append(f"{value:0{width}d}")
    return "".join(out)


def _check_expressions(prefix: str, what: str, *, allow_error_type: bool) -> bool:
    """Validate ``prefix``'s expressions; whether it has any."""
    found = False
    for match in _EXPRESSION.finditer(prefix):
        found = True
        namespace, value = match.group(1), match.group(2)
        if namespace == "timestamp":
            parse_pattern(value)
        elif namespace == "firehose" and value == "random-string":
            pass
        elif namespace == "firehose" and value == "error-output-type":
            if not allow_error_type:
                raise _invalid("!{firehose:error-output-type} is allowed only in ErrorOutputPrefix")
        else:
            raise _invalid(
                f"Unsupported expression {match.group(0)!r} in {what}; allowed: "
                "!{timestamp:<pattern>}, !{firehose:random-string}"
                + (", !{firehose:error-output-type}" if allow_error_type else "")
                + " (dynamic partitioning keys are not supported)"
            )
    if "!{" in _EXPRESSION.sub("", prefix):
        raise _invalid(f"Malformed expression in {what} {prefix!r}: '!{{' without a closing '}}'")
    return found


@dataclass(frozen=True)
class KeyLayout:
    """A stream's validated ``Prefix`` and ``ErrorOutputPrefix``.

    Raises:
        ValidationError: (``InvalidArgumentException``) an unsupported or malformed expression;
            expressions in Prefix without an ErrorOutputPrefix; an ErrorOutputPrefix with
            expressions but no ``!{firehose:error-output-type}``.
    """

    prefix: str
    error_prefix: str

    def __post_init__(self) -> None:
        has_expr = _check_expressions(self.prefix, "Prefix", allow_error_type=False)
        error_expr = _check_expressions(
            self.error_prefix, "ErrorOutputPrefix", allow_error_type=True
        )
        if has_expr and not self.error_prefix:
            raise _invalid(
                "ErrorOutputPrefix cannot be null or empty when Prefix contains expressions"
            )
        if error_expr and "!{firehose:error-output-type}" not in self.error_prefix:
            raise _invalid(
                "ErrorOutputPrefix with expressions must contain !{firehose:error-output-type}"
            )

    def data_prefix(self, when: datetime, token: uuid.UUID) -> str:
        """The key prefix of a data object whose oldest record arrived at ``when``."""
        if not _EXPRESSION.search(self.prefix):
            return self.prefix + format_timestamp(_DEFAULT_LAYOUT, when)
        return _render(self.prefix, when, token, None)

    def error_prefix_for(self, when: datetime, token: uuid.UUID, error_type: str) -> str:
        """The key prefix of an error object of ``error_type`` (one of :data:`ERROR_TYPES`)."""
        if not _EXPRESSION.search(self.error_prefix):
            return f"{self.error_prefix}{error_type}/" + format_timestamp(_DEFAULT_LAYOUT, when)
        return _render(self.error_prefix, when, token, error_type)

    def static_prefix(self) -> str:
        """The folders of the data prefix before its first expression (or the whole prefix)."""
        match = _EXPRESSION.search(self.prefix)
        if match is None:
            return self.prefix
        head = self.prefix[: match.start()]
        return head[: head.rfind("/") + 1]


def _render(prefix: str, when: datetime, token: uuid.UUID, error_type: str | None) -> str:
    def value(match: re.Match[str]) -> str:
        namespace, name = match.group(1), match.group(2)
        if namespace == "timestamp":
            return format_timestamp(name, when)
        if name == "random-string":
            return _random_string(token)
        return error_type or ""

    return _EXPRESSION.sub(value, prefix)


def _random_string(token: uuid.UUID) -> str:
    # Deterministic per object, so a replayed delivery lands on the same key.
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    number, out = token.int, []
    for _ in range(11):
        number, digit = divmod(number, len(alphabet))
        out.append(alphabet[digit])
    return "".join(out)


def object_name(stream: str, version: str, when: datetime, token: uuid.UUID) -> str:
    """Firehose's object name: ``<stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<uuid>``."""
    return f"{stream}-{version}-{when:%Y-%m-%d-%H-%M-%S}-{token}"
