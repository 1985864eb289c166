"""Column types: Hive/Athena type strings, DuckDB types, Arrow types, inference (pure logic).

The catalog stores types as Glue and Athena write them (``bigint``, ``decimal(10,2)``,
``array<struct<a:int>>``); DuckDB reads the data with the matching DuckDB types, and query
results describe their columns with Athena's result type names (``varchar``, ``integer``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from lakeworks.core.errors import ValidationError

__all__ = [
    "HiveType",
    "arrow_to_hive",
    "athena_result_type",
    "duckdb_to_hive",
    "infer_value",
    "json_value_type",
    "merge_types",
    "parse_type",
    "to_duckdb",
]

_PRIMITIVES = {
    "tinyint": "TINYINT",
    "smallint": "SMALLINT",
    "int": "INTEGER",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "float": "FLOAT",
    "real": "FLOAT",
    "double": "DOUBLE",
    "boolean": "BOOLEAN",
    "string": "VARCHAR",
    "varchar": "VARCHAR",
    "char": "VARCHAR",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "binary": "BLOB",
    "decimal": "DECIMAL",
}
_TOKEN = re.compile(r"\s*(?:([A-Za-z_][A-Za-z0-9_]*)|(\d+)|(.))")


@dataclass(frozen=True)
class HiveType:
    """A parsed Hive type: a name, numeric parameters, and children (fields for structs)."""

    name: str
    params: tuple[int, ...] = ()
    children: tuple[HiveType, ...] = ()
    fields: tuple[str, ...] = ()

    def __str__(self) -> str:
        if self.name == "array":
            return f"array<{self.children[0]}>"
        if self.name == "map":
            return f"map<{self.children[0]},{self.children[1]}>"
        if self.name == "struct":
            inner = ",".join(f"{f}:{c}" for f, c in zip(self.fields, self.children, strict=True))
            return f"struct<{inner}>"
        if self.params:
            return f"{self.name}({','.join(str(p) for p in self.params)})"
        return self.name


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = [m.group(m.lastindex or 0) for m in _TOKEN.finditer(text) if m.lastindex]
        self.pos = 0

    def fail(self, why: str) -> ValidationError:
        return ValidationError(
            f"Invalid column type {self.text!r}: {why}. Use Hive types such as string, bigint, "
            "int, double, boolean, date, timestamp, decimal(p,s), array<t>, map<k,v>, "
            "struct<name:t,...>",
            aws_code="InvalidInputException",
            details={"type": self.text},
        )

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token.lower() != expected):
            raise self.fail(f"expected {expected or 'more'} at token {self.pos + 1}")
        self.pos += 1
        return token

    def number(self) -> int:
        token = self.take()
        if not token.isdigit():
            raise self.fail(f"expected a number, got {token!r}")
        return int(token)

    def parse(self) -> HiveType:
        name = self.take().lower()
        if name == "array":
            self.take("<")
            child = self.parse()
            self.take(">")
            return HiveType("array", children=(child,))
        if name == "map":
            self.take("<")
            key = self.parse()
            self.take(",")
            value = self.parse()
            self.take(">")
            return HiveType("map", children=(key, value))
        if name == "struct":
            self.take("<")
            fields: list[str] = []
            children: list[HiveType] = []
            while True:
                fields.append(self.take().lower())
                self.take(":")
                children.append(self.parse())
                if self.peek() != ",":
                    break
                self.take(",")
            self.take(">")
            return HiveType("struct", children=tuple(children), fields=tuple(fields))
        if name not in _PRIMITIVES:
            raise self.fail(f"unknown type {name!r}")
        params: list[int] = []
        if self.peek() == "(":
            self.take("(")
            params.append(self.number())
            while self.peek() == ",":
                self.take(",")
                params.append(self.number())
            self.take(")")
        if name == "decimal":
            precision = params[0] if params else 10
            scale = params[1] if len(params) > 1 else 0
            if len(params) > 2 or not 1 <= precision <= 38 or not 0 <= scale <= precision:
                raise self.fail("decimal takes a precision 1-38 and a scale 0-precision")
            return HiveType("decimal", (precision, scale))
        if name in ("varchar", "char"):
            if len(params) != 1 or params[0] < 1:
                raise self.fail(f"{name} takes one positive length")
        elif params:
            raise self.fail(f"{name} takes no parameters")
        return HiveType("int" if name == "integer" else name, tuple(params))


def parse_type(text: str) -> HiveType:
    """Parse a Hive/Athena column type.

    Raises:
        ValidationError: Not a type Lakeworks understands (``InvalidInputException``).
    """
    if not isinstance(text, str) or not text.strip():
        raise ValidationError("A column type must not be empty", aws_code="InvalidInputException")
    parser = _Parser(text)
    result = parser.parse()
    if parser.peek() is not None:
        raise parser.fail(f"unexpected {parser.peek()!r}")
    return result


def to_duckdb(hive: HiveType | str) -> str:
    """The DuckDB type that reads values of a Hive type."""
    if isinstance(hive, str):
        hive = parse_type(hive)
    if hive.name == "array":
        return f"{to_duckdb(hive.children[0])}[]"
    if hive.name == "map":
        return f"MAP({to_duckdb(hive.children[0])}, {to_duckdb(hive.children[1])})"
    if hive.name == "struct":
        inner = ", ".join(
            f'"{f}" {to_duckdb(c)}' for f, c in zip(hive.fields, hive.children, strict=True)
        )
        return f"STRUCT({inner})"
    if hive.name == "decimal":
        return f"DECIMAL({hive.params[0]},{hive.params[1]})"
    return _PRIMITIVES[hive.name]


_DUCK_TO_ATHENA = {
    "VARCHAR": "varchar",
    "TINYINT": "tinyint",
    "SMALLINT": "smallint",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "HUGEINT": "bigint",
    "UTINYINT": "smallint",
    "USMALLINT": "integer",
    "UINTEGER": "bigint",
    "UBIGINT": "bigint",
    "FLOAT": "float",
    "DOUBLE": "double",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP_NS": "timestamp",
    "TIMESTAMP_MS": "timestamp",
    "TIMESTAMP_S": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamp with time zone",
    "TIME": "time",
    "BLOB": "varbinary",
    "INTERVAL": "interval day to second",
    "UUID": "uuid",
    "JSON": "json",
}


def athena_result_type(duckdb_type: str) -> tuple[str, int, int]:
    """Athena's name, precision and scale for a result column of DuckDB type ``duckdb_type``."""
    text = duckdb_type.upper()
    decimal = re.match(r"^DECIMAL\((\d+),\s*(\d+)\)$", text)
    if decimal:
        return "decimal", int(decimal.group(1)), int(decimal.group(2))
    if text.endswith("]"):
        return "array", 0, 0
    if text.startswith("STRUCT"):
        return "row", 0, 0
    if text.startswith("MAP"):
        return "map", 0, 0
    name = _DUCK_TO_ATHENA.get(text, "varchar")
    precision = {"varchar": 2147483647, "bigint": 19, "integer": 10, "double": 17}.get(name, 0)
    return name, precision, 0


_DUCK_TO_HIVE = {
    "VARCHAR": "string",
    "TINYINT": "tinyint",
    "SMALLINT": "smallint",
    "INTEGER": "int",
    "BIGINT": "bigint",
    "HUGEINT": "bigint",
    "UTINYINT": "smallint",
    "USMALLINT": "int",
    "UINTEGER": "bigint",
    "UBIGINT": "bigint",
    "FLOAT": "float",
    "DOUBLE": "double",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP_NS": "timestamp",
    "TIMESTAMP_MS": "timestamp",
    "TIMESTAMP_S": "timestamp",
    "BLOB": "binary",
}


def duckdb_to_hive(duckdb_type: str) -> str:
    """The Hive type of a DuckDB column type (``string`` for what Hive cannot name)."""
    text = duckdb_type.upper()
    decimal = re.match(r"^DECIMAL\((\d+),\s*(\d+)\)$", text)
    if decimal:
        return f"decimal({decimal.group(1)},{decimal.group(2)})"
    if text.endswith("[]"):
        return f"array<{duckdb_to_hive(duckdb_type[:-2])}>"
    return _DUCK_TO_HIVE.get(text, "string")


def arrow_to_hive(dtype: pa.DataType) -> str:
    """The Hive type of an Arrow type (a Parquet file's schema)."""
    if pa.types.is_dictionary(dtype):
        return arrow_to_hive(dtype.value_type)
    simple = [
        (pa.types.is_boolean, "boolean"),
        (pa.types.is_int8, "tinyint"),
        (pa.types.is_int16, "smallint"),
        (pa.types.is_int32, "int"),
        (pa.types.is_int64, "bigint"),
        (pa.types.is_uint8, "smallint"),
        (pa.types.is_uint16, "int"),
        (pa.types.is_unsigned_integer, "bigint"),
        (pa.types.is_float16, "float"),
        (pa.types.is_float32, "float"),
        (pa.types.is_float64, "double"),
        (pa.types.is_date, "date"),
        (pa.types.is_timestamp, "timestamp"),
        (pa.types.is_binary, "binary"),
        (pa.types.is_large_binary, "binary"),
        (pa.types.is_fixed_size_binary, "binary"),
    ]
    for check, name in simple:
        if check(dtype):
            return name
    if pa.types.is_decimal(dtype):
        return f"decimal({min(dtype.precision, 38)},{dtype.scale})"
    if pa.types.is_list(dtype) or pa.types.is_large_list(dtype):
        return f"array<{arrow_to_hive(dtype.value_type)}>"
    if pa.types.is_map(dtype):
        return f"map<{arrow_to_hive(dtype.key_type)},{arrow_to_hive(dtype.item_type)}>"
    if pa.types.is_struct(dtype):
        inner = ",".join(
            f"{dtype.field(i).name.lower()}:{arrow_to_hive(dtype.field(i).type)}"
            for i in range(dtype.num_fields)
        )
        return f"struct<{inner}>"
    return "string"


_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,9})?$")
_INT64 = 2**63
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def infer_value(text: str) -> str | None:
    """The narrowest Athena type of one text value; ``None`` for an empty value.

    Order: boolean, bigint, double, date, timestamp, string.
    """
    value = text.strip()
    if not value:
        return None
    lowered = value.lower()
    if lowered in ("true", "false"):
        return "boolean"
    if _INT.match(value):
        return "bigint" if -_INT64 <= int(value) < _INT64 else "double"
    if _FLOAT.match(value) or lowered in ("nan", "infinity", "-infinity"):
        return "double"
    if _DATE.match(value) and _valid_date(value):
        return "date"
    if _TIMESTAMP.match(value) and _valid_date(value[:10]):
        return "timestamp"
    return "string"


def _valid_date(text: str) -> bool:
    month, day = int(text[5:7]), int(text[8:10])
    return 1 <= month <= 12 and 1 <= day <= 31


_WIDER = {
    frozenset({"bigint", "double"}): "double",
    frozenset({"int", "bigint"}): "bigint",
    frozenset({"int", "double"}): "double",
    frozenset({"float", "double"}): "double",
    frozenset({"date", "timestamp"}): "timestamp",
}


def merge_types(old: str | None, new: str | None) -> str | None:
    """The type that holds values of both types; ``None`` when only ``string`` would.

    An unknown side (``None`` from empty values) yields the other side.
    """
    if old is None or old == new:
        return new
    if new is None:
        return old
    return _WIDER.get(frozenset({old, new}))


def json_value_type(value: Any) -> str | None:
    """The Hive type of a JSON value (``None`` for null); objects become structs."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "bigint" if -_INT64 <= value < _INT64 else "double"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        inner: str | None = None
        for item in value:
            item_type = json_value_type(item)
            merged = merge_types(inner, item_type)
            inner = merged if merged is not None else "string"
        return f"array<{inner or 'string'}>"
    if isinstance(value, dict):
        if not value or not all(_FIELD.match(str(k)) for k in value):
            return "string"  # keys that are no identifiers cannot be struct fields
        parts = [f"{str(k).lower()}:{json_value_type(v) or 'string'}" for k, v in value.items()]
        return f"struct<{','.join(parts)}>"
    return "string"
