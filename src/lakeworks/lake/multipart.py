"""Multipart upload rules, the same for every store kind (pure logic, no I/O).

S3's rules, which clients such as boto3's transfer manager rely on: parts are numbered 1-10000;
a completion names parts in strictly ascending order, each with the ETag its upload returned;
every named part but the last holds at least 5 MiB; the object's ETag is
``hex(md5(md5(part 1) + md5(part 2) + ...))-<number of parts>``.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable, Mapping

from lakeworks.core.errors import NotFound, ValidationError
from lakeworks.schemas.lake import PartInfo

__all__ = [
    "MAX_PART_NUMBER",
    "MIN_PART_BYTES",
    "multipart_etag",
    "new_upload_id",
    "select_parts",
    "validate_part_number",
    "validate_upload_id",
]

MIN_PART_BYTES = 5 * 1024 * 1024
MAX_PART_NUMBER = 10_000
_UPLOAD_ID = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
_ETAG = re.compile(r"^[0-9a-f]{32}$")


def new_upload_id() -> str:
    """A fresh, unguessable upload id (URL- and file-name-safe)."""
    return secrets.token_urlsafe(32)


def validate_upload_id(upload_id: str) -> str:
    """Check that ``upload_id`` has the shape of one of ours (it names a staging directory).

    Raises:
        NotFound: With S3's ``NoSuchUpload`` code; a malformed id cannot name an upload.
    """
    if not isinstance(upload_id, str) or not _UPLOAD_ID.match(upload_id):
        raise NotFound(f"No multipart upload with id {upload_id!r}", aws_code="NoSuchUpload")
    return upload_id


def validate_part_number(part_number: int) -> int:
    """Check a part number (1-10000).

    Raises:
        ValidationError: With S3's ``InvalidArgument`` code.
    """
    if isinstance(part_number, bool) or not 1 <= part_number <= MAX_PART_NUMBER:
        raise ValidationError(
            f"Part number must be an integer from 1 to {MAX_PART_NUMBER}, got {part_number!r}",
            aws_code="InvalidArgument",
            details={"field": "part_number", "min": 1, "max": MAX_PART_NUMBER},
        )
    return part_number


def multipart_etag(part_etags: Iterable[str]) -> str:
    """AWS's ETag of a multipart object from its parts' hex MD5 ETags.

    Example:
        >>> multipart_etag(["0cc175b9c0f1b6a831c399e269772661"])
        'b6ff9a06b7e20bcb2858c5b8ff744aea-1'
    """
    digests = [bytes.fromhex(etag) for etag in part_etags]
    return f"{hashlib.md5(b''.join(digests)).hexdigest()}-{len(digests)}"  # noqa: S324


def select_parts(
    requested: list[tuple[int, str]], uploaded: Mapping[int, PartInfo]
) -> list[PartInfo]:
    """Check a completion request against the uploaded parts and return the parts to join.

    Args:
        requested: ``(part_number, etag)`` pairs as the client sent them (ETags with or
            without quotes).
        uploaded: The parts uploaded so far, by part number.

    Returns:
        The named parts, in order.

    Raises:
        ValidationError: ``MalformedXML`` for an empty list, ``InvalidPartOrder`` when numbers
            do not strictly ascend, ``InvalidPart`` for an unknown part or a wrong ETag,
            ``EntityTooSmall`` when a part other than the last is under 5 MiB.
    """
    if not requested:
        raise ValidationError(
            "A multipart completion must name at least one part", aws_code="MalformedXML"
        )
    chosen: list[PartInfo] = []
    previous = 0
    for number, etag in requested:
        validate_part_number(number)
        if number <= previous:
            raise ValidationError(
                f"Parts must be listed in strictly ascending order of part number; "
                f"part {number} follows part {previous}",
                aws_code="InvalidPartOrder",
                details={"part_number": number},
            )
        previous = number
        part = uploaded.get(number)
        clean = etag.strip().strip('"').lower()
        if part is None or not _ETAG.match(clean) or part.etag != clean:
            raise ValidationError(
                f"Part {number} was not uploaded, or its ETag is not {etag!r}; "
                "list the parts to see their ETags",
                aws_code="InvalidPart",
                details={"part_number": number},
            )
        chosen.append(part)
    for part in chosen[:-1]:
        if part.size < MIN_PART_BYTES:
            raise ValidationError(
                f"Part {part.part_number} is {part.size} bytes; every part but the last must "
                f"be at least {MIN_PART_BYTES} bytes (5 MiB)",
                aws_code="EntityTooSmall",
                details={"part_number": part.part_number, "min_bytes": MIN_PART_BYTES},
            )
    return chosen
