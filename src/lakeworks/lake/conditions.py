"""Conditional requests, as S3 evaluates them (pure logic, no I/O).

Reads (GET, HEAD) honour ``If-Match``, ``If-None-Match``, ``If-Modified-Since`` and
``If-Unmodified-Since``: a failed ``If-Match``/``If-Unmodified-Since`` is 412 Precondition
Failed, a current client copy (``If-None-Match`` matches, or not modified since) is 304 Not
Modified. ``If-Match`` that holds makes S3 ignore ``If-Unmodified-Since``, and ``If-None-Match``
that is present decides alone over ``If-Modified-Since``.

Writes (PUT, CompleteMultipartUpload, DELETE) honour ``If-None-Match: *`` (412 when the key
exists) and ``If-Match: <etag>`` (412 when the current object differs, 404 ``NoSuchKey`` when
there is none); the lake checks them atomically with the write. Copies honour the
``x-amz-copy-source-if-*`` headers on the source, where every failure is a 412.

Dates compare at whole seconds, the precision of HTTP dates; unparseable dates are ignored, as
S3 and HTTP do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from lakeworks.core.errors import LakeworksError, NotFound, PreconditionFailed
from lakeworks.schemas.lake import ObjectInfo

__all__ = [
    "Conditions",
    "NotModified",
    "UnsupportedCondition",
    "check_copy_source",
    "check_read",
    "check_write",
    "etag_matches",
    "parse_http_date",
]


class NotModified(LakeworksError):
    """The client's copy is current (304); adapters answer without a body.

    ``details`` holds the object's ``etag`` and ``last_modified`` for the response headers.
    """

    status = 304
    code = "NotModified"


class UnsupportedCondition(LakeworksError):
    """A conditional header S3 does not implement for this operation (501)."""

    status = 501
    code = "NotImplemented"


@dataclass(frozen=True)
class Conditions:
    """The conditional headers of one request, as sent (``None`` when absent)."""

    if_match: str | None = None
    if_none_match: str | None = None
    if_modified_since: str | None = None
    if_unmodified_since: str | None = None

    @property
    def present(self) -> bool:
        """Whether any condition was sent."""
        return any(
            value is not None
            for value in (
                self.if_match,
                self.if_none_match,
                self.if_modified_since,
                self.if_unmodified_since,
            )
        )


def parse_http_date(value: str | None) -> datetime | None:
    """An HTTP date as an aware UTC datetime; ``None`` if absent or unparseable."""
    if value is None:
        return None
    try:
        parsed = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def etag_matches(header: str, etag: str) -> bool:
    """Whether an ``If-Match``/``If-None-Match`` list names ``etag`` (or is ``*``).

    ETags may be quoted or weak (``W/"..."``); S3 compares them strongly by value.
    """
    wanted = {item.strip().removeprefix("W/").strip('"') for item in header.split(",")}
    return "*" in wanted or etag in wanted


def _failed(what: str) -> PreconditionFailed:
    return PreconditionFailed(
        f"At least one of the pre-conditions you specified did not hold ({what})",
        aws_code="PreconditionFailed",
        details={"condition": what},
    )


def _seconds(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(microsecond=0)


def check_read(conditions: Conditions, info: ObjectInfo) -> None:
    """Apply a read's conditions to the object it would return.

    Raises:
        PreconditionFailed: ``If-Match`` or ``If-Unmodified-Since`` does not hold (412).
        NotModified: The client's copy is current (304).
    """
    modified = _seconds(info.last_modified)
    if conditions.if_match is not None:
        if not etag_matches(conditions.if_match, info.etag):
            raise _failed("If-Match")
    else:
        since = parse_http_date(conditions.if_unmodified_since)
        if since is not None and modified > since:
            raise _failed("If-Unmodified-Since")
    if conditions.if_none_match is not None:
        if etag_matches(conditions.if_none_match, info.etag):
            raise _not_modified(info)
        return
    since = parse_http_date(conditions.if_modified_since)
    if since is not None and modified <= since:
        raise _not_modified(info)


def _not_modified(info: ObjectInfo) -> NotModified:
    return NotModified(
        "Not Modified",
        details={
            "etag": info.etag,
            "last_modified": info.last_modified.isoformat(),
            "version_id": info.version_id,
        },
    )


def check_write(conditions: Conditions, current: ObjectInfo | None, *, key: str) -> None:
    """Apply a write's conditions to the key's current object (``None``: there is none).

    Raises:
        PreconditionFailed: ``If-None-Match: *`` and the key exists, or ``If-Match`` names
            another ETag (412).
        NotFound: ``If-Match`` and the key does not exist (``NoSuchKey``).
        UnsupportedCondition: ``If-None-Match`` with anything but ``*``, or date conditions
            (S3 implements neither for writes).
    """
    if conditions.if_modified_since is not None or conditions.if_unmodified_since is not None:
        raise UnsupportedCondition(
            "Writes support only If-Match and If-None-Match: *; date conditions are not "
            "implemented for writes"
        )
    if conditions.if_none_match is not None:
        if conditions.if_none_match.strip() != "*":
            raise UnsupportedCondition(
                "A write supports If-None-Match only with the value '*' (create if absent)"
            )
        if current is not None:
            raise _failed("If-None-Match")
    if conditions.if_match is not None:
        if current is None:
            raise NotFound(
                f"No object {key!r} to match If-Match against",
                aws_code="NoSuchKey",
                details={"key": key},
            )
        if not etag_matches(conditions.if_match, current.etag):
            raise _failed("If-Match")


def check_copy_source(conditions: Conditions, info: ObjectInfo) -> None:
    """Apply ``x-amz-copy-source-if-*`` to a copy's source; every failure is a 412.

    As S3 does: a holding ``if-match`` overrides a failing ``if-unmodified-since``, and a
    present ``if-none-match`` decides alone over ``if-modified-since``.

    Raises:
        PreconditionFailed: A condition does not hold.
    """
    try:
        check_read(conditions, info)
    except NotModified:
        raise _failed("x-amz-copy-source-if-none-match or -if-modified-since") from None
