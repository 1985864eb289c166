"""The S3 Select SQL dialect, checked and translated to DuckDB SQL over a view ``s3object``.

S3 Select accepts one ``SELECT`` over one object: a select list, ``FROM S3Object [alias]``
(``S3Object[*]`` for the records of a JSON document), ``WHERE`` and ``LIMIT``; columns by
name (``s.name``, ``s."Name"``) or, for CSV, by position (``s._1``); ``CAST``, the aggregates
``COUNT``/``SUM``/``AVG``/``MIN``/``MAX`` and a few scalar functions. It has no joins, groups,
ordering or subqueries. :func:`translate` lexes the expression, lets DuckDB's parser judge the
syntax (so a syntax error names the token and its line and column), refuses what S3 Select does
not have with S3's error codes, and rewrites the rest:

- ``_N`` becomes the N-th column (a header name when the CSV header is used);
- ``[N]`` (0-based in S3 Select) becomes DuckDB's 1-based ``[N+1]``;
- ``FROM S3Object[*] s`` becomes ``FROM s3object AS s``;
- each select item without an alias gets S3's output name: the column's name for a column
  reference, else ``_<position>`` (``COUNT(*)`` is ``_1``).

Everything the translation lets through is still evaluated inside a sandboxed DuckDB connection
that can read only the one object, so the allow-list is about S3's contract, not safety alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb

from lakeworks.core.errors import ValidationError

__all__ = ["MAX_EXPRESSION_BYTES", "SOURCE_VIEW", "Token", "lex", "position", "translate"]

#: S3 Select refuses longer expressions (``ExpressionTooLong``).
MAX_EXPRESSION_BYTES = 256 * 1024
#: The DuckDB view the translated SQL reads.
SOURCE_VIEW = "s3object"

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<string>'(?:[^']|'')*')
  | (?P<quoted>"(?:[^"]|"")*")
  | (?P<number>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><=|>=|<>|!=|\|\||[(),.*+\-/%=<>\[\];])
    """,
    re.VERBOSE,
)

_FUNCTIONS = frozenset(
    {
        "count",
        "sum",
        "avg",
        "min",
        "max",
        "cast",
        "coalesce",
        "nullif",
        "lower",
        "upper",
        "trim",
        "substring",
        "char_length",
        "character_length",
    }
)
_TYPES = frozenset(
    {
        "bool",
        "boolean",
        "int",
        "integer",
        "smallint",
        "bigint",
        "float",
        "double",
        "real",
        "decimal",
        "numeric",
        "string",
        "varchar",
        "char",
        "timestamp",
        "date",
    }
)
_KEYWORDS = frozenset(
    {
        "select",
        "from",
        "where",
        "and",
        "or",
        "not",
        "in",
        "is",
        "null",
        "like",
        "between",
        "as",
        "limit",
        "case",
        "when",
        "then",
        "else",
        "end",
        "distinct",
        "true",
        "false",
        "escape",
        "leading",
        "trailing",
        "both",
        "for",
    }
)
_UNSUPPORTED = frozenset(
    {
        "join",
        "union",
        "intersect",
        "except",
        "group",
        "order",
        "having",
        "with",
        "over",
        "window",
        "qualify",
        "into",
        "pivot",
        "unpivot",
        "offset",
        "fetch",
        "using",
    }
)
_POSITIONAL = re.compile(r"^_(\d+)$")
_CARET = re.compile(r"LINE (\d+): (.*)\n( *)\^")
_NEAR = re.compile(r'at or near "([^"]*)"')


@dataclass(frozen=True)
class Token:
    """One lexeme: its kind (``string``, ``quoted``, ``number``, ``word``, ``op``)."""

    kind: str
    text: str
    start: int

    @property
    def end(self) -> int:
        """Offset just past the token."""
        return self.start + len(self.text)

    @property
    def lower(self) -> str:
        """The text in lower case (for keywords)."""
        return self.text.lower()


def position(sql: str, offset: int) -> tuple[int, int]:
    """The 1-based ``(line, column)`` of ``offset`` in ``sql``."""
    line = sql.count("\n", 0, offset) + 1
    column = offset - (sql.rfind("\n", 0, offset) + 1) + 1
    return line, column


def _error(code: str, message: str, sql: str | None = None, offset: int | None = None) -> Exception:
    details: dict[str, object] = {}
    if sql is not None and offset is not None:
        line, column = position(sql, offset)
        message += f" at line {line}, column {column}"
        details = {"line": line, "column": column}
    return ValidationError(message + ".", aws_code=code, details=details)


def lex(sql: str) -> list[Token]:
    """The tokens of ``sql`` (whitespace dropped).

    Raises:
        ValidationError: ``LexerInvalidChar`` or ``LexerInvalidLiteral`` (unterminated quote).
    """
    tokens: list[Token] = []
    offset = 0
    while offset < len(sql):
        match = _TOKEN.match(sql, offset)
        if match is None:
            char = sql[offset]
            if char in "'\"":
                raise _error("LexerInvalidLiteral", f"Unterminated quote {char}", sql, offset)
            raise _error("LexerInvalidChar", f"Invalid character {char!r}", sql, offset)
        kind = match.lastgroup or ""
        if kind != "space":
            tokens.append(Token(kind, match.group(), offset))
        offset = match.end()
    return tokens


def _check_syntax(sql: str, tokens: list[Token]) -> None:
    """Let DuckDB's parser judge the syntax; ``S3Object[*]`` is blanked out first."""
    masked = list(sql)
    for i, token in enumerate(tokens[:-3]):
        if token.lower == "s3object" and [t.text for t in tokens[i + 1 : i + 4]] == ["[", "*", "]"]:
            for j in range(tokens[i + 1].start, tokens[i + 3].end):
                masked[j] = " "
    try:
        statements = duckdb.extract_statements("".join(masked))
    except duckdb.ParserException as exc:
        text = str(exc)
        caret = _CARET.search(text)
        near = _NEAR.search(text)
        what = f"Unexpected token found {near.group(1)}" if near else "Unexpected end of input"
        if caret:
            line = int(caret.group(1))
            column = len(caret.group(3)) - len(f"LINE {line}: ") + 1
            what += f" at line {line}, column {max(column, 1)}"
        raise ValidationError(what + ".", aws_code="ParseUnexpectedToken") from None
    if len(statements) != 1:
        raise _error(
            "UnsupportedSqlStructure",
            f"Only one statement is allowed, got {len(statements)}",
        )


def _check_structure(sql: str, tokens: list[Token]) -> None:
    first = tokens[0]
    if first.lower != "select":
        raise _error("ParseUnsupportedSelect", "The expression must begin with SELECT", sql, 0)
    for i, token in enumerate(tokens):
        word = token.lower if token.kind == "word" else ""
        if word in _UNSUPPORTED:
            raise _error(
                "UnsupportedSqlStructure",
                f"{token.text.upper()} is not supported by S3 Select (a select list, FROM "  # noqa: S608
                "S3Object, WHERE and LIMIT are)",
                sql,
                token.start,
            )
        if word == "select" and i > 0:
            raise _error(
                "UnsupportedSqlStructure", "Subqueries are not supported", sql, token.start
            )
        if token.text == ";" and i != len(tokens) - 1:
            raise _error(
                "UnsupportedSqlStructure", "Only one statement is allowed", sql, token.start
            )
        followed_by_paren = i + 1 < len(tokens) and tokens[i + 1].text == "("
        if not word or not followed_by_paren or word in _KEYWORDS or word in _FUNCTIONS:
            continue
        is_type = word in _TYPES and i > 0 and tokens[i - 1].lower == "as"
        if not is_type:
            raise _error(
                "UnsupportedFunction",
                f"Function {token.text} is not supported; use one of "
                + ", ".join(sorted(f.upper() for f in _FUNCTIONS)),
                sql,
                token.start,
            )


def _from_clause(sql: str, tokens: list[Token]) -> tuple[int, int, str | None]:
    """``(first, last)`` token indexes of ``FROM S3Object … [alias]`` and the alias."""
    depth, found = 0, -1
    for i, token in enumerate(tokens):
        depth += token.text == "("
        depth -= token.text == ")"
        if depth == 0 and token.lower == "from" and token.kind == "word":
            found = i
            break
    if found < 0:
        raise _error("ParseSelectMissingFrom", "The expression has no FROM S3Object clause")
    i = found + 1
    if i >= len(tokens) or tokens[i].lower != "s3object":
        where = tokens[i].start if i < len(tokens) else len(sql)
        raise _error(
            "InvalidDataSource", "The data source must be S3Object (FROM S3Object s)", sql, where
        )
    i += 1
    if [t.text for t in tokens[i : i + 3]] == ["[", "*", "]"]:
        i += 3
    if i < len(tokens) and tokens[i].text in (".", "["):
        raise _error(
            "InvalidKeyPath",
            "Paths after S3Object are not supported; use S3Object or S3Object[*]",
            sql,
            tokens[i].start,
        )
    alias = None
    if i < len(tokens) and tokens[i].lower == "as":
        i += 1
    if i < len(tokens) and (
        tokens[i].kind == "quoted"
        or (tokens[i].kind == "word" and tokens[i].lower not in _KEYWORDS)
    ):
        alias = tokens[i].text
        i += 1
    if i < len(tokens) and tokens[i].text == ",":
        raise _error(
            "MultipleDataSourcesUnsupported",
            "Only one data source (S3Object) is supported",
            sql,
            tokens[i].start,
        )
    return found, i - 1, alias


def _limit(sql: str, tokens: list[Token]) -> None:
    for i, token in enumerate(tokens):
        if token.lower != "limit":
            continue
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        if following is not None and following.text == "-":
            raise _error("EvaluatorNegativeLimit", "LIMIT must not be negative", sql, token.start)
        if following is None or following.kind != "number" or not following.text.isdigit():
            raise _error("ParseExpectedNumber", "LIMIT takes a whole number", sql, token.start)


def _item_name(item: list[Token], index: int) -> str | None:
    """S3's output name of a select item, or ``None`` when it has one (or is ``*``)."""
    if len(item) == 1 and item[0].text == "*":
        return None
    if len(item) >= 2 and (
        item[-2].lower == "as"
        or (
            item[-1].kind in ("word", "quoted")
            and item[-1].lower not in _KEYWORDS
            and (item[-2].kind in ("word", "quoted", "number") or item[-2].text in (")", "]"))
        )
    ):
        return None
    names = [t for t in item if t.kind in ("word", "quoted") or t.text == "."]
    if names == item and item[-1].kind in ("word", "quoted"):
        last = item[-1]
        return last.text[1:-1].replace('""', '"') if last.kind == "quoted" else last.text
    return f"_{index}"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def translate(expression: str, columns: list[str] | None = None) -> str:
    """Check an S3 Select expression and translate it to DuckDB SQL over ``s3object``.

    Args:
        expression: The S3 Select SQL.
        columns: The CSV columns in order, to resolve ``_N``; ``None`` for JSON and Parquet.

    Returns:
        One DuckDB ``SELECT`` statement.

    Raises:
        ValidationError: With S3 Select's code (``ParseUnexpectedToken``,
            ``UnsupportedFunction``, ``InvalidColumnIndex`` …) and where it happened.
    """
    if not expression.strip():
        raise _error("MissingRequiredParameter", "The Expression is empty")
    if len(expression.encode("utf-8")) > MAX_EXPRESSION_BYTES:
        raise _error(
            "ExpressionTooLong", f"The expression is longer than {MAX_EXPRESSION_BYTES} bytes"
        )
    tokens = lex(expression)
    _check_syntax(expression, tokens)
    _check_structure(expression, tokens)
    first, last, alias = _from_clause(expression, tokens)
    _limit(expression, tokens)
    edits: list[tuple[int, int, str]] = []
    source = f"{SOURCE_VIEW} AS {alias}" if alias else SOURCE_VIEW
    edits.append((tokens[first + 1].start, tokens[last].end, source))
    # the select list: aliases S3 would give the output columns
    items: list[list[Token]] = [[]]
    depth = 0
    for token in tokens[1:first]:
        depth += token.text in ("(", "[")
        depth -= token.text in (")", "]")
        if depth == 0 and token.text == ",":
            items.append([])
        else:
            items[-1].append(token)
    if items and items[0] and items[0][0].lower == "distinct":
        items[0] = items[0][1:]
    for index, item in enumerate(items, start=1):
        if not item:
            raise _error("ParseEmptySelect", "The select list has an empty item")
        name = _item_name(item, index)
        if name is not None:
            edits.append((item[-1].end, item[-1].end, f" AS {_quote(name)}"))
    for i, token in enumerate(tokens):
        if first <= i <= last:
            continue
        previous = tokens[i - 1] if i > 0 else None
        if token.kind == "number" and previous is not None and previous.text == "[":
            before = tokens[i - 2] if i >= 2 else None
            closes = i + 1 < len(tokens) and tokens[i + 1].text == "]"
            if (
                closes
                and before is not None
                and (before.kind in ("word", "quoted") or before.text in ("]", ")"))
            ):
                if not token.text.isdigit():
                    raise _error(
                        "InvalidKeyPath", "Array indexes are whole numbers", expression, token.start
                    )
                edits.append((token.start, token.end, str(int(token.text) + 1)))
            continue
        match = _POSITIONAL.match(token.text) if token.kind == "word" else None
        if match is None or columns is None:
            continue
        if previous is not None and previous.lower == "as":
            continue  # an output alias, not a reference
        if previous is not None and previous.text == ".":
            qualifier = tokens[i - 2].text.strip('"').lower() if i >= 2 else ""
            if qualifier not in {(alias or "").strip('"').lower(), SOURCE_VIEW}:
                continue
        number = int(match.group(1))
        if not 1 <= number <= len(columns):
            raise _error(
                "InvalidColumnIndex",
                f"Column index {token.text} is out of range: the object has {len(columns)} "
                f"columns (_1 to _{len(columns)})",
                expression,
                token.start,
            )
        edits.append((token.start, token.end, _quote(columns[number - 1])))
    out = expression
    for start, end, text in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        out = out[:start] + text + out[end:]
    return out.strip().rstrip(";")
