"""Object and bucket tags: S3's limits and the ``x-amz-tagging`` header form (pure logic).

S3 allows at most 10 tags per object version and 50 per bucket; keys are 1-128 characters,
values 0-256, both of letters, digits, spaces and ``+ - = . _ : / @``; the ``aws:`` prefix is
reserved for AWS. Every violation is ``InvalidTag`` (400), as S3 answers.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, quote

from lakeworks.core.errors import ValidationError
from lakeworks.core.names import validate_tags

__all__ = [
    "MAX_BUCKET_TAGS",
    "MAX_OBJECT_TAGS",
    "encode_tagging",
    "invalid_tag",
    "pairs_to_tags",
    "parse_tagging",
    "validate_bucket_tags",
    "validate_object_tags",
]

MAX_OBJECT_TAGS = 10
MAX_BUCKET_TAGS = 50


def invalid_tag(message: str) -> ValidationError:
    """The error S3 answers for a bad tag set."""
    return ValidationError(message, aws_code="InvalidTag", details={"field": "tags"})


def _validate(tags: dict[str, str], limit: int, what: str) -> dict[str, str]:
    if not isinstance(tags, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in tags.items()
    ):
        raise invalid_tag("Tags must map text keys to text values")
    if len(tags) > limit:
        raise invalid_tag(f"{what} can have at most {limit} tags; got {len(tags)}")
    try:
        validate_tags(tags, max_tags=limit)
    except ValidationError as exc:
        raise invalid_tag(exc.message) from None
    return dict(tags)


def validate_object_tags(tags: dict[str, str]) -> dict[str, str]:
    """Check an object's tags (at most 10).

    Raises:
        ValidationError: ``InvalidTag`` with what is wrong.
    """
    return _validate(tags, MAX_OBJECT_TAGS, "An object")


def validate_bucket_tags(tags: dict[str, str]) -> dict[str, str]:
    """Check a bucket's tags (at most 50).

    Raises:
        ValidationError: ``InvalidTag`` with what is wrong.
    """
    return _validate(tags, MAX_BUCKET_TAGS, "A bucket")


def pairs_to_tags(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Tags from ``(key, value)`` pairs, refusing a key given twice.

    Raises:
        ValidationError: ``InvalidTag`` for a repeated key.
    """
    tags: dict[str, str] = {}
    for key, value in pairs:
        if key in tags:
            raise invalid_tag(f"Cannot provide multiple tags with the same key {key!r}")
        tags[key] = value
    return tags


def parse_tagging(header: str | None) -> dict[str, str] | None:
    """Read ``x-amz-tagging`` (URL query form, ``k1=v1&k2=v2``); ``None`` if absent.

    Raises:
        ValidationError: ``InvalidTag`` for a repeated key or a tag breaking S3's limits.
    """
    if header is None:
        return None
    pairs = parse_qsl(header, keep_blank_values=True)
    return validate_object_tags(pairs_to_tags(pairs))


def encode_tagging(tags: dict[str, str]) -> str:
    """Tags in ``x-amz-tagging`` form (the inverse of :func:`parse_tagging`)."""
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in tags.items())
