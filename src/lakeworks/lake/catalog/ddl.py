"""Athena's DDL and utility statements, parsed into plain values (pure logic).

Supported (keywords in any case)::

    CREATE EXTERNAL TABLE [IF NOT EXISTS] [db.]name (col type [COMMENT '…'], …)
        [COMMENT '…'] [PARTITIONED BY (col type, …)]
        [ROW FORMAT DELIMITED FIELDS TERMINATED BY 'c' [ESCAPED BY 'c'] [LINES TERMINATED BY 'c']
         | ROW FORMAT SERDE 'class' [WITH SERDEPROPERTIES ('k'='v', …)]]
        [STORED AS PARQUET | TEXTFILE | JSON | INPUTFORMAT 'class' OUTPUTFORMAT 'class']
        LOCATION 's3://…' [TBLPROPERTIES ('k'='v', …)]
    CREATE TABLE [db.]name [WITH (format='PARQUET', external_location='s3://…',
        partitioned_by=ARRAY['col', …])] AS SELECT …
    CREATE [OR REPLACE] VIEW [db.]name AS SELECT …
    CREATE DATABASE|SCHEMA [IF NOT EXISTS] name [COMMENT '…'] [LOCATION '…']
    DROP TABLE|VIEW [IF EXISTS] [db.]name       DROP DATABASE|SCHEMA [IF EXISTS] name [CASCADE]
    SHOW TABLES [IN db] ['pattern']             SHOW DATABASES|SCHEMAS [LIKE 'pattern']
    SHOW PARTITIONS [db.]name                   DESCRIBE [db.]name
    MSCK REPAIR TABLE [db.]name
    ALTER TABLE [db.]name ADD [IF NOT EXISTS] PARTITION (k='v', …) [LOCATION '…'] …
    ALTER TABLE [db.]name DROP [IF EXISTS] PARTITION (k='v', …), …

Anything else is left to DuckDB (``SELECT``, ``WITH``, ``EXPLAIN``…). Views are stored as
Athena stores them: ``/* Presto View: <base64 JSON> */`` in ``view_original_text``.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from typing import Any

from lakeworks.core.errors import ValidationError

__all__ = [
    "AlterPartitions",
    "CreateDatabase",
    "CreateExternalTable",
    "CreateTableAs",
    "CreateView",
    "Describe",
    "DropDatabase",
    "DropTable",
    "MsckRepair",
    "ShowDatabases",
    "ShowPartitions",
    "ShowTables",
    "Statement",
    "TableName",
    "decode_view",
    "encode_view",
    "parse_statement",
    "show_pattern",
]

_TOKEN = re.compile(
    r"(?P<space>\s+|--[^\n]*|/\*.*?\*/)|(?P<str>'(?:[^'\\]|\\.|'')*')|(?P<bq>`[^`]*`)"
    r"|(?P<dq>\"(?:[^\"]|\"\")*\")|(?P<word>[A-Za-z_][A-Za-z0-9_$]*)|(?P<num>\d+)"
    r"|(?P<punct>[(),.=<>:;\[\]*])|(?P<other>.)",
    re.DOTALL,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "\\": "\\", "'": "'", '"': '"'}


@dataclass(frozen=True)
class TableName:
    """A possibly qualified table name (``None`` database: the query's database)."""

    database: str | None
    name: str


@dataclass(frozen=True)
class CreateExternalTable:
    """``CREATE EXTERNAL TABLE``: everything needed for a catalog table."""

    table: TableName
    if_not_exists: bool
    columns: list[tuple[str, str, str | None]]
    partition_keys: list[tuple[str, str, str | None]]
    comment: str | None
    serde: str | None
    serde_properties: dict[str, str]
    stored_as: str | None
    input_format: str | None
    output_format: str | None
    location: str
    properties: dict[str, str]


@dataclass(frozen=True)
class CreateTableAs:
    """``CREATE TABLE … AS SELECT``: the query and the WITH properties."""

    table: TableName
    if_not_exists: bool
    properties: dict[str, Any]
    query: str


@dataclass(frozen=True)
class CreateView:
    """``CREATE [OR REPLACE] VIEW … AS SELECT``."""

    table: TableName
    or_replace: bool
    query: str


@dataclass(frozen=True)
class CreateDatabase:
    """``CREATE DATABASE``."""

    name: str
    if_not_exists: bool
    comment: str | None = None
    location: str | None = None


@dataclass(frozen=True)
class DropTable:
    """``DROP TABLE`` or ``DROP VIEW``."""

    table: TableName
    if_exists: bool
    view: bool


@dataclass(frozen=True)
class DropDatabase:
    """``DROP DATABASE``."""

    name: str
    if_exists: bool
    cascade: bool


@dataclass(frozen=True)
class ShowTables:
    """``SHOW TABLES``."""

    database: str | None
    pattern: str | None


@dataclass(frozen=True)
class ShowDatabases:
    """``SHOW DATABASES``."""

    pattern: str | None


@dataclass(frozen=True)
class ShowPartitions:
    """``SHOW PARTITIONS``."""

    table: TableName


@dataclass(frozen=True)
class Describe:
    """``DESCRIBE``."""

    table: TableName


@dataclass(frozen=True)
class MsckRepair:
    """``MSCK REPAIR TABLE``: add the Hive-style partitions found under the location."""

    table: TableName


@dataclass(frozen=True)
class AlterPartitions:
    """``ALTER TABLE … ADD|DROP PARTITION``: ``(values by key, location)`` pairs."""

    table: TableName
    add: bool
    if_flag: bool
    partitions: list[tuple[dict[str, str], str | None]] = field(default_factory=list)


Statement = (
    CreateExternalTable
    | CreateTableAs
    | CreateView
    | CreateDatabase
    | DropTable
    | DropDatabase
    | ShowTables
    | ShowDatabases
    | ShowPartitions
    | Describe
    | MsckRepair
    | AlterPartitions
)


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str
    start: int
    end: int

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "word" else self.text


def _unquote_string(text: str) -> str:
    body = text[1:-1].replace("''", "'")

    def escape(match: re.Match[str]) -> str:
        code = match.group(1)
        if code.isdigit():
            return chr(int(code, 8))
        return _ESCAPES.get(code, code)

    return re.sub(r"\\([0-7]{1,3}|.)", escape, body)


class _Parser:
    def __init__(self, sql: str) -> None:
        self.sql = sql
        self.tokens: list[_Tok] = []
        pos = 0
        while pos < len(sql):
            match = _TOKEN.match(sql, pos)
            if match is None:
                raise self._error(pos, f"unexpected character {sql[pos]!r}")
            kind = match.lastgroup or ""
            if kind != "space":
                self.tokens.append(_Tok(kind, match.group(), match.start(), match.end()))
            pos = match.end()
        while self.tokens and self.tokens[-1].text == ";":
            self.tokens.pop()
        self.pos = 0

    def _error(self, pos: int, why: str) -> ValidationError:
        line = self.sql.count("\n", 0, pos) + 1
        column = pos - (self.sql.rfind("\n", 0, pos) + 1) + 1
        return ValidationError(
            f"line {line}:{column}: {why}",
            aws_code="InvalidRequestException",
            details={"line": line, "column": column},
        )

    def fail(self, why: str) -> ValidationError:
        token = self.peek()
        return self._error(token.start if token else len(self.sql), why)

    def peek(self, ahead: int = 0) -> _Tok | None:
        index = self.pos + ahead
        return self.tokens[index] if index < len(self.tokens) else None

    def at(self, *words: str) -> bool:
        return all(
            (tok := self.peek(i)) is not None and tok.upper == w for i, w in enumerate(words)
        )

    def accept(self, *words: str) -> bool:
        if self.at(*words):
            self.pos += len(words)
            return True
        return False

    def expect(self, *words: str) -> None:
        if not self.accept(*words):
            raise self.fail(f"expected {' '.join(words)}")

    def done(self) -> bool:
        return self.pos >= len(self.tokens)

    def end(self) -> None:
        if not self.done():
            raise self.fail(f"unexpected {self.peek().text!r}")  # type: ignore[union-attr]

    def ident(self) -> str:
        token = self.peek()
        if token is None or token.kind not in ("word", "bq", "dq"):
            raise self.fail("expected a name")
        self.pos += 1
        if token.kind == "bq":
            return token.text[1:-1]
        if token.kind == "dq":
            return token.text[1:-1].replace('""', '"')
        return token.text

    def string(self) -> str:
        token = self.peek()
        if token is None or token.kind != "str":
            raise self.fail("expected a 'quoted string'")
        self.pos += 1
        return _unquote_string(token.text)

    def table_name(self) -> TableName:
        parts = [self.ident()]
        while self.peek() is not None and self.peek().text == ".":  # type: ignore[union-attr]
            self.pos += 1
            parts.append(self.ident())
        if len(parts) == 3 and parts[0].lower() == "awsdatacatalog":
            parts = parts[1:]
        if len(parts) > 2:
            raise self.fail("expected [database.]table")
        return TableName(parts[0] if len(parts) == 2 else None, parts[-1])

    def rest(self) -> str:
        """The SQL text from the current token to the end."""
        token = self.peek()
        if token is None:
            raise self.fail("expected a query")
        return self.sql[token.start :].rstrip().rstrip(";").rstrip()

    def type_text(self) -> str:
        """A column type: tokens up to a top-level ``,`` ``)`` or ``COMMENT``."""
        depth = 0
        start = self.peek()
        if start is None:
            raise self.fail("expected a type")
        end = start.end
        while (token := self.peek()) is not None:
            if depth == 0 and (token.text in (",", ")") or token.upper == "COMMENT"):
                break
            if token.text in ("<", "("):
                depth += 1
            elif token.text in (">", ")"):
                depth -= 1
            end = token.end
            self.pos += 1
        return self.sql[start.start : end]

    def columns(self) -> list[tuple[str, str, str | None]]:
        self.expect("(")
        out = []
        while True:
            name = self.ident()
            type_ = self.type_text()
            comment = self.string() if self.accept("COMMENT") else None
            out.append((name, re.sub(r"\s+", "", type_), comment))
            if self.accept(")"):
                return out
            self.expect(",")

    def properties(self) -> dict[str, str]:
        self.expect("(")
        out: dict[str, str] = {}
        if self.accept(")"):
            return out
        while True:
            key = self.string()
            self.expect("=")
            out[key] = self.string()
            if self.accept(")"):
                return out
            self.expect(",")

    def partition_spec(self) -> dict[str, str]:
        self.expect("(")
        out: dict[str, str] = {}
        while True:
            key = self.ident().lower()
            self.expect("=")
            token = self.peek()
            if token is not None and token.kind == "num":
                self.pos += 1
                out[key] = token.text
            else:
                out[key] = self.string()
            if self.accept(")"):
                return out
            self.expect(",")


def _create_external(p: _Parser) -> CreateExternalTable:
    if_not_exists = p.accept("IF", "NOT", "EXISTS")
    table = p.table_name()
    columns = p.columns()
    comment = serde = stored_as = input_format = output_format = location = None
    partition_keys: list[tuple[str, str, str | None]] = []
    serde_properties: dict[str, str] = {}
    properties: dict[str, str] = {}
    while not p.done():
        if p.accept("COMMENT"):
            comment = p.string()
        elif p.accept("PARTITIONED", "BY"):
            partition_keys = p.columns()
        elif p.accept("ROW", "FORMAT", "DELIMITED"):
            serde = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
            while True:
                if p.accept("FIELDS", "TERMINATED", "BY"):
                    serde_properties["field.delim"] = p.string()
                    if p.accept("ESCAPED", "BY"):
                        serde_properties["escape.delim"] = p.string()
                elif p.accept("LINES", "TERMINATED", "BY"):
                    serde_properties["line.delim"] = p.string()
                elif p.accept("COLLECTION", "ITEMS", "TERMINATED", "BY"):
                    serde_properties["collection.delim"] = p.string()
                elif p.accept("MAP", "KEYS", "TERMINATED", "BY"):
                    serde_properties["mapkey.delim"] = p.string()
                else:
                    break
        elif p.accept("ROW", "FORMAT", "SERDE"):
            serde = p.string()
            if p.accept("WITH", "SERDEPROPERTIES"):
                serde_properties.update(p.properties())
        elif p.accept("STORED", "AS", "INPUTFORMAT"):
            input_format = p.string()
            p.expect("OUTPUTFORMAT")
            output_format = p.string()
        elif p.accept("STORED", "AS"):
            stored_as = p.ident().upper()
        elif p.accept("LOCATION"):
            location = p.string()
        elif p.accept("TBLPROPERTIES"):
            properties.update(p.properties())
        else:
            raise p.fail(
                "expected COMMENT, PARTITIONED BY, ROW FORMAT, STORED AS, LOCATION or TBLPROPERTIES"
            )
    if location is None:
        raise p.fail("CREATE EXTERNAL TABLE needs LOCATION 's3://bucket/prefix/'")
    return CreateExternalTable(
        table, if_not_exists, columns, partition_keys, comment, serde, serde_properties,
        stored_as, input_format, output_format, location, properties,
    )  # fmt: skip


def _with_value(p: _Parser) -> Any:
    if p.accept("ARRAY"):
        p.expect("[")
        values: list[str] = []
        while not p.accept("]"):
            values.append(p.string())
            p.accept(",")
        return values
    token = p.peek()
    if token is not None and token.kind in ("num", "word") and token.upper in ("TRUE", "FALSE"):
        p.pos += 1
        return token.upper == "TRUE"
    if token is not None and token.kind == "num":
        p.pos += 1
        return int(token.text)
    return p.string()


def _create_table_as(p: _Parser, table: TableName, if_not_exists: bool) -> CreateTableAs:
    properties: dict[str, Any] = {}
    if p.accept("WITH"):
        p.expect("(")
        while True:
            key = p.ident().lower()
            p.expect("=")
            properties[key] = _with_value(p)
            if p.accept(")"):
                break
            p.expect(",")
    if not p.accept("AS"):
        raise p.fail("expected AS SELECT …, or use CREATE EXTERNAL TABLE for a table over files")
    return CreateTableAs(table, if_not_exists, properties, p.rest())


def _create(p: _Parser) -> Statement | None:
    if p.accept("EXTERNAL", "TABLE"):
        return _create_external(p)
    if p.accept("TABLE"):
        if_not_exists = p.accept("IF", "NOT", "EXISTS")
        table = p.table_name()
        if p.at("("):
            raise p.fail("use CREATE EXTERNAL TABLE … LOCATION 's3://…' for a table over files")
        return _create_table_as(p, table, if_not_exists)
    or_replace = p.accept("OR", "REPLACE")
    if p.accept("VIEW"):
        table = p.table_name()
        p.expect("AS")
        return CreateView(table, or_replace, p.rest())
    if p.accept("DATABASE") or p.accept("SCHEMA"):
        if_not_exists = p.accept("IF", "NOT", "EXISTS")
        name = p.ident()
        comment = location = None
        while not p.done():
            if p.accept("COMMENT"):
                comment = p.string()
            elif p.accept("LOCATION"):
                location = p.string()
            elif p.accept("WITH", "DBPROPERTIES"):
                p.properties()
            else:
                raise p.fail("expected COMMENT, LOCATION or WITH DBPROPERTIES")
        return CreateDatabase(name, if_not_exists, comment, location)
    return None


def _show(p: _Parser) -> Statement | None:
    if p.accept("TABLES"):
        database = p.ident() if p.accept("IN") or p.accept("FROM") else None
        pattern = p.string() if not p.done() else None
        p.end()
        return ShowTables(database, pattern)
    if p.accept("DATABASES") or p.accept("SCHEMAS"):
        pattern = None
        if p.accept("LIKE") or not p.done():
            pattern = p.string()
        p.end()
        return ShowDatabases(pattern)
    if p.accept("PARTITIONS"):
        table = p.table_name()
        p.end()
        return ShowPartitions(table)
    return None


def _alter(p: _Parser) -> AlterPartitions:
    table = p.table_name()
    if p.accept("ADD"):
        if_flag = p.accept("IF", "NOT", "EXISTS")
        parts: list[tuple[dict[str, str], str | None]] = []
        while p.accept("PARTITION"):
            spec = p.partition_spec()
            parts.append((spec, p.string() if p.accept("LOCATION") else None))
        if not parts:
            raise p.fail("expected PARTITION (key='value', …)")
        p.end()
        return AlterPartitions(table, True, if_flag, parts)
    if p.accept("DROP"):
        if_flag = p.accept("IF", "EXISTS")
        parts = []
        while p.accept("PARTITION"):
            parts.append((p.partition_spec(), None))
            p.accept(",")
        if not parts:
            raise p.fail("expected PARTITION (key='value', …)")
        p.end()
        return AlterPartitions(table, False, if_flag, parts)
    raise p.fail("Lakeworks supports ALTER TABLE … ADD PARTITION and DROP PARTITION")


def parse_statement(sql: str) -> Statement | None:
    """Parse a DDL or utility statement; ``None`` when it is none (a query for DuckDB).

    Raises:
        ValidationError: A DDL statement that is malformed; the message starts with
            ``line L:C:`` like Athena's (``InvalidRequestException``).
    """
    p = _Parser(sql)
    statement: Statement | None = None
    if p.accept("CREATE"):
        statement = _create(p)
    elif p.accept("DROP"):
        view = p.accept("VIEW")
        if view or p.accept("TABLE"):
            if_exists = p.accept("IF", "EXISTS")
            statement = DropTable(p.table_name(), if_exists, view)
            p.end()
        elif p.accept("DATABASE") or p.accept("SCHEMA"):
            if_exists = p.accept("IF", "EXISTS")
            name = p.ident()
            cascade = p.accept("CASCADE")
            p.accept("RESTRICT")
            p.end()
            statement = DropDatabase(name, if_exists, cascade)
    elif p.accept("SHOW"):
        statement = _show(p)
    elif p.accept("DESCRIBE") or p.accept("DESC"):
        p.accept("EXTENDED") or p.accept("FORMATTED")
        statement = Describe(p.table_name())
        p.end()
    elif p.accept("MSCK", "REPAIR", "TABLE"):
        statement = MsckRepair(p.table_name())
        p.end()
    elif p.accept("ALTER", "TABLE"):
        statement = _alter(p)
    return statement


def show_pattern(pattern: str | None) -> re.Pattern[str] | None:
    """Athena's SHOW pattern (``*`` any characters, ``|`` alternatives) as a regex."""
    if not pattern:
        return None
    options = [".*".join(re.escape(part) for part in alt.split("*")) for alt in pattern.split("|")]
    return re.compile("^(" + "|".join(options) + ")$", re.IGNORECASE)


_VIEW = re.compile(r"^/\* Presto View: (?P<body>[A-Za-z0-9+/=]+) \*/$")


def encode_view(sql: str, database: str, columns: list[tuple[str, str]]) -> str:
    """A view's ``view_original_text`` as Athena writes it."""
    body = {
        "originalSql": sql,
        "catalog": "awsdatacatalog",
        "schema": database,
        "columns": [{"name": n, "type": t} for n, t in columns],
        "owner": "lakeworks",
        "runAsInvoker": False,
        "properties": {},
    }
    encoded = base64.b64encode(json.dumps(body).encode("utf-8")).decode("ascii")
    return f"/* Presto View: {encoded} */"


def decode_view(text: str | None) -> str | None:
    """The SQL of a view from its ``view_original_text`` (Athena's form or plain SQL)."""
    if not text:
        return None
    match = _VIEW.match(text.strip())
    if match is None:
        return text
    try:
        body = json.loads(base64.b64decode(match.group("body")))
        return str(body["originalSql"])
    except (ValueError, KeyError, TypeError):
        return None
