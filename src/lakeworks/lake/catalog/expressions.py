"""Partition filter expressions, as Glue's GetPartitions takes them (pure logic).

The subset: comparisons of a partition key with a literal (``=``, ``<>``, ``!=``, ``<``,
``<=``, ``>``, ``>=``, ``LIKE``), ``IN (…)``, ``BETWEEN … AND …``, ``IS [NOT] NULL``, combined
with ``AND``, ``OR``, ``NOT`` and parentheses, e.g. ``year='2024' AND month IN ('01','02')``.
Keys of a numeric type compare as numbers, others as strings.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from lakeworks.core.errors import ValidationError

__all__ = ["PartitionFilter", "parse_filter"]

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<op><>|!=|<=|>=|=|<|>)"
    r"|(?P<punct>[(),])|(?P<word>[A-Za-z_][A-Za-z0-9_]*|`[^`]+`|\"[^\"]+\"))"
)
_NUMERIC = frozenset({"tinyint", "smallint", "int", "integer", "bigint", "float", "double"})

Predicate = Callable[[dict[str, str]], bool]


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    pos: int


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise _error(text, pos, "unexpected character")
        kind = match.lastgroup or ""
        out.append(_Token(kind, match.group(kind), match.start(kind)))
        pos = match.end()
    return out


def _error(text: str, pos: int, why: str) -> ValidationError:
    return ValidationError(
        f"Invalid partition expression at position {pos + 1}: {why} in {text!r}. Use "
        "comparisons of partition keys with literals ('=', '<>', '<', '>', LIKE, IN, BETWEEN, "
        "IS NULL) joined with AND, OR, NOT and parentheses",
        aws_code="InvalidInputException",
        details={"expression": text, "position": pos + 1},
    )


class _Parser:
    def __init__(self, text: str, key_types: dict[str, str]) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.pos = 0
        self.key_types = key_types

    def peek(self) -> _Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def word(self, *words: str) -> bool:
        token = self.peek()
        if token is not None and token.kind == "word" and token.text.upper() in words:
            self.pos += 1
            return True
        return False

    def expect(self, text: str) -> None:
        token = self.peek()
        if token is None or token.text.upper() != text:
            raise self.fail(f"expected {text!r}")
        self.pos += 1

    def fail(self, why: str) -> ValidationError:
        token = self.peek()
        return _error(self.text, token.pos if token else len(self.text), why)

    def parse(self) -> Predicate:
        predicate = self.or_()
        if self.peek() is not None:
            raise self.fail("unexpected token")
        return predicate

    def or_(self) -> Predicate:
        parts = [self.and_()]
        while self.word("OR"):
            parts.append(self.and_())
        return parts[0] if len(parts) == 1 else (lambda v: any(p(v) for p in parts))

    def and_(self) -> Predicate:
        parts = [self.not_()]
        while self.word("AND"):
            parts.append(self.not_())
        return parts[0] if len(parts) == 1 else (lambda v: all(p(v) for p in parts))

    def not_(self) -> Predicate:
        if self.word("NOT"):
            inner = self.not_()
            return lambda v: not inner(v)
        token = self.peek()
        if token is not None and token.text == "(":
            self.pos += 1
            inner = self.or_()
            self.expect(")")
            return inner
        return self.comparison()

    def key(self) -> str:
        token = self.peek()
        if token is None or token.kind != "word":
            raise self.fail("expected a partition key")
        self.pos += 1
        name = token.text.strip('`"').lower()
        if name not in self.key_types:
            raise _error(
                self.text, token.pos, f"{name!r} is not a partition key ({sorted(self.key_types)})"
            )
        return name

    def literal(self) -> str:
        token = self.peek()
        if token is None or token.kind not in ("str", "num"):
            raise self.fail("expected a literal ('text' or a number)")
        self.pos += 1
        return token.text[1:-1].replace("''", "'") if token.kind == "str" else token.text

    def comparison(self) -> Predicate:
        key = self.key()
        numeric = self.key_types[key] in _NUMERIC
        if self.word("IS"):
            negate = self.word("NOT")
            if not self.word("NULL"):
                raise self.fail("expected NULL")
            return lambda v: (v.get(key) is None) != negate
        negate = self.word("NOT")
        if self.word("IN"):
            self.expect("(")
            options = [self.literal()]
            while self.peek() is not None and self.peek().text == ",":  # type: ignore[union-attr]
                self.pos += 1
                options.append(self.literal())
            self.expect(")")
            return lambda v: any(_compare(v.get(key), "=", o, numeric) for o in options) != negate
        if self.word("BETWEEN"):
            low = self.literal()
            self.expect("AND")
            high = self.literal()
            return lambda v: (
                (
                    _compare(v.get(key), ">=", low, numeric)
                    and _compare(v.get(key), "<=", high, numeric)
                )
                != negate
            )
        if self.word("LIKE"):
            pattern = _like(self.literal())
            return lambda v: (v.get(key) is not None and bool(pattern.match(v[key]))) != negate
        if negate:
            raise self.fail("expected IN, BETWEEN or LIKE after NOT")
        token = self.peek()
        if token is None or token.kind != "op":
            raise self.fail("expected a comparison operator")
        self.pos += 1
        value = self.literal()
        return lambda v: _compare(v.get(key), token.text, value, numeric)


def _like(pattern: str) -> re.Pattern[str]:
    parts = [".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern]
    return re.compile("^" + "".join(parts) + "$", re.DOTALL)


def _compare(actual: str | None, op: str, literal: str, numeric: bool) -> bool:
    if actual is None:
        return False
    left: float | str = actual
    right: float | str = literal
    if numeric:
        try:
            left, right = float(actual), float(literal)
        except ValueError:
            left, right = actual, literal
    if op == "=":
        return left == right
    if op in ("<>", "!="):
        return left != right
    if isinstance(left, float) != isinstance(right, float):
        return False
    ordered = {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}  # type: ignore[operator]
    return ordered[op]


@dataclass(frozen=True)
class PartitionFilter:
    """A parsed filter; call :meth:`matches` with a partition's values."""

    keys: tuple[str, ...]
    predicate: Predicate

    def matches(self, values: list[str]) -> bool:
        """Whether a partition with ``values`` (one per key, in key order) passes."""
        return self.predicate(dict(zip(self.keys, values, strict=False)))


def parse_filter(expression: str, keys: list[tuple[str, str]]) -> PartitionFilter:
    """Parse a partition filter for a table with partition ``keys`` (name, type).

    Raises:
        ValidationError: The expression is malformed or names an unknown key; the message
            gives the position (``InvalidInputException``).
    """
    key_types = {name.lower(): type_.lower() for name, type_ in keys}
    predicate = _Parser(expression, key_types).parse()
    return PartitionFilter(tuple(key_types), predicate)
