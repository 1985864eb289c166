"""Names in the catalog: databases, tables, columns, crawlers and workgroups (pure logic).

Glue lower-cases database and table names. Lakeworks also keeps them to letters, digits, ``_``
and ``-`` so that every name is a valid, unambiguous identifier in SQL (Athena itself only
accepts ``[a-z0-9_]`` names in queries without quoting).
"""

from __future__ import annotations

import hashlib
import re

from lakeworks.core.errors import ValidationError

__all__ = [
    "CATALOG_NAME_PATTERN",
    "catalog_name",
    "column_name",
    "crawler_name",
    "sanitize_name",
    "workgroup_name",
]

CATALOG_NAME_PATTERN = r"^[a-z0-9_][a-z0-9_-]*$"
_CATALOG = re.compile(CATALOG_NAME_PATTERN)
_WORKGROUP = re.compile(r"^[a-zA-Z0-9._-]{1,128}$")
_CRAWLER = re.compile(r"^[A-Za-z0-9_.-][A-Za-z0-9 _.-]*$")
_UNSAFE = re.compile(r"[^a-z0-9_]+")
MAX_NAME = 255


def catalog_name(name: object, kind: str) -> str:
    """Check a database or table name and return it lower-cased, as Glue stores it.

    Args:
        name: The name given.
        kind: ``database`` or ``table``, for the message.

    Raises:
        ValidationError: Not 1-255 letters, digits, ``_`` and ``-`` (``InvalidInputException``).
    """
    if isinstance(name, str):
        lowered = name.lower()
        if 1 <= len(lowered) <= MAX_NAME and _CATALOG.match(lowered):
            return lowered
    raise ValidationError(
        f"Invalid {kind} name {name!r}: use 1-{MAX_NAME} letters, digits, '_' and '-', "
        "not starting with '-' (names are stored lower-cased)",
        aws_code="InvalidInputException",
        details={"field": "name", "pattern": CATALOG_NAME_PATTERN, "max_length": MAX_NAME},
    )


def column_name(name: object) -> str:
    """Check a column name: 1-255 characters without control characters; lower-cased.

    Raises:
        ValidationError: Empty, too long or with control characters.
    """
    if (
        isinstance(name, str)
        and 1 <= len(name) <= MAX_NAME
        and name.strip() == name
        and all(ch.isprintable() for ch in name)
    ):
        return name.lower()
    raise ValidationError(
        f"Invalid column name {name!r}: use 1-{MAX_NAME} printable characters without "
        "leading or trailing spaces",
        aws_code="InvalidInputException",
        details={"field": "columns"},
    )


def crawler_name(name: object) -> str:
    """Check a crawler name (1-255 letters, digits, spaces, ``_``, ``.`` and ``-``).

    Raises:
        ValidationError: The name breaks the rule.
    """
    if isinstance(name, str) and 1 <= len(name) <= MAX_NAME and _CRAWLER.match(name):
        return name
    raise ValidationError(
        f"Invalid crawler name {name!r}: use 1-{MAX_NAME} letters, digits, spaces, '_', '.' "
        "and '-'",
        aws_code="InvalidInputException",
        details={"field": "name"},
    )


def workgroup_name(name: object) -> str:
    """Check a workgroup name (Athena: 1-128 letters, digits, ``.``, ``_`` and ``-``).

    Raises:
        ValidationError: The name breaks the rule (``InvalidRequestException``).
    """
    if isinstance(name, str) and _WORKGROUP.match(name):
        return name
    raise ValidationError(
        f"Invalid workgroup name {name!r}: use 1-128 letters, digits, '.', '_' and '-'",
        aws_code="InvalidRequestException",
        details={"field": "workgroup"},
    )


def sanitize_name(raw: str, *, prefix: str = "") -> str:
    """Turn a folder name into a table name the way Glue's crawler does.

    Lower-cases it and replaces every run of characters other than letters, digits and ``_``
    with ``_``. A name that would be empty or too long gets a short hash of the original.
    """
    name = _UNSAFE.sub("_", (prefix + raw).lower()).strip("_") or "table"
    if len(name) > MAX_NAME - 9:
        digest = hashlib.sha256(raw.encode("utf-8")).hexdigest()[:8]
        name = f"{name[: MAX_NAME - 9]}_{digest}"
    return name
