"""Versioning rules that hold for every store kind (pure logic, no I/O).

A bucket's versioning is never enabled (no status), ``Enabled`` or ``Suspended``, and once
enabled never returns to the first state. While ``Enabled`` every write makes a new version with
a fresh id and a DELETE without a version id adds a *delete marker*; while ``Suspended`` writes
and such deletes replace the key's ``null`` version (S3's name for "no version id"). Objects
written before versioning was first enabled are ``null`` versions.

Listings of versions (S3's ListObjectVersions) run in key order and, within a key, newest first;
:func:`page_of_versions` cuts a page and its next markers from such a stream.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from lakeworks.core.errors import ValidationError
from lakeworks.schemas.lake import ObjectVersion, VersionListing

__all__ = [
    "NULL_VERSION",
    "STATUSES",
    "VersionMarker",
    "check_status",
    "check_version_id",
    "new_archive_name",
    "new_version_id",
    "page_of_versions",
]

NULL_VERSION = "null"
STATUSES = ("Enabled", "Suspended")
_VERSION_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def new_version_id() -> str:
    """A fresh, unguessable version id (URL-safe, 32 characters)."""
    return secrets.token_urlsafe(24)


def new_archive_name() -> str:
    """A fresh name for a version's bytes in a store's hidden version area."""
    return secrets.token_hex(16)


def check_version_id(version_id: str) -> str:
    """Check the shape of a version id a client sent (``null`` or one of ours).

    Raises:
        ValidationError: ``InvalidArgument`` ("Invalid version id specified"), as S3 answers.
    """
    if not isinstance(version_id, str) or not (
        version_id == NULL_VERSION or _VERSION_ID.match(version_id)
    ):
        raise ValidationError(
            f"Invalid version id specified: {version_id!r}",
            aws_code="InvalidArgument",
            details={"field": "version_id"},
        )
    return version_id


def check_status(status: str | None) -> str:
    """Check a requested versioning status.

    Raises:
        ValidationError: ``IllegalVersioningConfigurationException`` when it is missing,
            ``MalformedXML`` when it is neither ``Enabled`` nor ``Suspended``.
    """
    if status is None or status == "":
        raise ValidationError(
            "The versioning configuration must name a Status: Enabled or Suspended",
            aws_code="IllegalVersioningConfigurationException",
            details={"field": "status"},
        )
    if status not in STATUSES:
        raise ValidationError(
            f"The XML you provided was not well-formed or did not validate against our "
            f"published schema: versioning Status {status!r} is not Enabled or Suspended",
            aws_code="MalformedXML",
            details={"field": "status", "allowed": list(STATUSES)},
        )
    return status


@dataclass(frozen=True)
class VersionMarker:
    """Where a version listing resumes: after ``key``'s version ``version_id`` (or after all
    of ``key`` when ``version_id`` is ``None``; after every key under it when it is a common
    prefix)."""

    key: str
    version_id: str | None = None


def page_of_versions(
    bucket: str,
    prefix: str,
    delimiter: str | None,
    max_keys: int,
    entries: Iterable[ObjectVersion | str],
) -> VersionListing:
    """Cut one page from ``entries`` (versions and common prefixes, in listing order).

    A common prefix met again (once per version under it) counts once. The next markers are
    those of the page's last entry, set only when another entry follows.
    """
    versions: list[ObjectVersion] = []
    prefixes: list[str] = []
    last: ObjectVersion | str | None = None
    truncated = False
    for entry in entries:
        if isinstance(entry, str) and entry == last:
            continue
        if len(versions) + len(prefixes) >= max_keys:
            truncated = True
            break
        if isinstance(entry, str):
            prefixes.append(entry)
        else:
            versions.append(entry)
        last = entry
    next_key = next_version = None
    if truncated and last is not None:
        if isinstance(last, str):
            next_key = last
        else:
            next_key, next_version = last.key, last.version_id
    return VersionListing(
        bucket=bucket,
        prefix=prefix,
        delimiter=delimiter,
        versions=versions,
        common_prefixes=prefixes,
        is_truncated=truncated,
        next_key_marker=next_key,
        next_version_id_marker=next_version,
    )
