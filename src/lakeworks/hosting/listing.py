"""Listing records as SageMaker's List* calls do: filter, sort, page with opaque tokens.

A ``NextToken`` encodes the offset and a fingerprint of the filters, so a token only continues
the listing that handed it out. Lists are small (models, configs, endpoints of one platform), so
they are sorted in memory.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from lakeworks.core.errors import ValidationError
from lakeworks.schemas.common import Page

__all__ = ["fingerprint", "in_window", "page", "sort_key"]

T = TypeVar("T")
R = TypeVar("R")


def page(
    rows: Sequence[R],
    *,
    key: Callable[[R], Any],
    descending: bool,
    max_results: int,
    next_token: str | None,
    fingerprint: str,
    convert: Callable[[R], T],
) -> Page[T]:
    """One page of ``rows`` sorted by ``key``.

    Raises:
        ValidationError: ``MaxResults`` outside 1-100, or a token of another listing.
    """
    if not 1 <= max_results <= 100:
        raise ValidationError(f"MaxResults must be 1-100, got {max_results}")
    offset = _decode_token(next_token, fingerprint) if next_token else 0
    ordered = sorted(rows, key=key, reverse=descending)
    chunk = ordered[offset : offset + max_results]
    more = offset + max_results < len(ordered)
    token = _encode_token(offset + max_results, fingerprint) if more else None
    return Page(items=[convert(r) for r in chunk], next_token=token)


def sort_key(sort_by: str) -> Callable[[Any], Any]:
    """The key of SageMaker's SortBy (``Name``, ``CreationTime``, ``Status``); names break ties."""
    if sort_by == "Name":
        return lambda r: r.name
    if sort_by == "Status":
        return lambda r: (r.status, r.name)
    return lambda r: (r.creation_time, r.name)


def in_window(
    row: Any, name_contains: str | None, after: datetime | None, before: datetime | None
) -> bool:
    """Whether a record matches NameContains (any case) and CreationTimeAfter/Before."""
    after, before = _utc(after), _utc(before)
    return (
        (name_contains or "").lower() in row.name.lower()
        and (after is None or row.creation_time > after)
        and (before is None or row.creation_time < before)
    )


def fingerprint(*parts: Any) -> str:
    """A short digest of a listing's filters."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _encode_token(offset: int, digest: str) -> str:
    raw = json.dumps({"o": offset, "f": digest}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str, digest: str) -> int:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        offset, same = data["o"], data["f"] == digest
    except (binascii.Error, ValueError, KeyError, TypeError):
        offset, same = None, False
    if not same or not isinstance(offset, int) or offset < 0:
        raise ValidationError(
            "Invalid NextToken: pass back the token of the previous page, with the same filters"
        )
    return offset
