"""Resource names and ARNs, validated the way AWS validates them."""

from __future__ import annotations

import re

from lakeworks.core.errors import ValidationError

__all__ = [
    "NAME_PATTERN",
    "arn",
    "validate_bucket_name",
    "validate_key",
    "validate_name",
    "validate_tags",
]

NAME_PATTERN = r"^[a-zA-Z0-9](-*[a-zA-Z0-9])*$"
_NAME = re.compile(NAME_PATTERN)
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IPV4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
_TAG_CHARS = re.compile(r"^[\w\s.:/=+\-@]*$", re.UNICODE)

#: Paths the native server keeps for itself; no bucket may shadow them in path-style addressing.
RESERVED_BUCKETS = frozenset({"api", "healthz", "openapi.json", "docs", "console", "static"})


def validate_name(name: str, kind: str, *, max_length: int = 63) -> str:
    """Check a SageMaker-style resource name (1–63 chars, letters, digits, inner hyphens).

    Args:
        name: The name to check.
        kind: What is named, for the message ("training job").
        max_length: AWS's limit for this kind.

    Returns:
        The name, unchanged.

    Raises:
        ValidationError: The name breaks the rule; the message states the rule.
    """
    if not isinstance(name, str) or not 1 <= len(name) <= max_length or not _NAME.match(name):
        raise ValidationError(
            f"Invalid {kind} name {name!r}: use 1-{max_length} letters, digits and hyphens, "
            "starting and ending with a letter or digit",
            details={"field": "name", "pattern": NAME_PATTERN, "max_length": max_length},
        )
    return name


def validate_bucket_name(name: str) -> str:
    """Check an S3 bucket name (3–63 lowercase letters, digits, dots, hyphens; not an IP).

    Raises:
        ValidationError: With S3's ``InvalidBucketName`` code.
    """
    ok = (
        isinstance(name, str)
        and bool(_BUCKET.match(name))
        and ".." not in name
        and ".-" not in name
        and "-." not in name
        and not _IPV4.match(name)
        and not name.startswith("xn--")
        and not name.endswith("-s3alias")
    )
    if not ok:
        raise ValidationError(
            f"Invalid bucket name {name!r}: use 3-63 lowercase letters, digits, dots and hyphens, "
            "starting and ending with a letter or digit, not formatted as an IP address",
            aws_code="InvalidBucketName",
            details={"field": "bucket"},
        )
    if name in RESERVED_BUCKETS:
        raise ValidationError(
            f"Bucket name {name!r} is reserved by Lakeworks; reserved: {sorted(RESERVED_BUCKETS)}",
            aws_code="InvalidBucketName",
            details={"field": "bucket"},
        )
    return name


def validate_key(key: str) -> str:
    """Check an object key: 1–1024 UTF-8 bytes, no NUL, not absolute, no ``.``/``..`` segment.

    AWS allows ``..`` segments in keys; Lakeworks refuses them because keys map to paths in the
    local store and the same key must be valid on every store kind. Containment is still checked
    separately by resolving inside the bucket root.

    Raises:
        ValidationError: With S3's ``KeyTooLongError`` or ``InvalidArgument`` code.
    """
    if not isinstance(key, str) or key == "":
        raise ValidationError("Object key must not be empty", aws_code="InvalidArgument")
    if len(key.encode("utf-8", "surrogatepass")) > 1024:
        raise ValidationError(
            "Object key is longer than 1024 bytes in UTF-8", aws_code="KeyTooLongError"
        )
    if "\x00" in key:
        raise ValidationError("Object key must not contain NUL", aws_code="InvalidArgument")
    if key.startswith("/") or "\\" in key:
        raise ValidationError(
            f"Object key {key!r} must not start with '/' or contain '\\'",
            aws_code="InvalidArgument",
        )
    if any(part in (".", "..") for part in key.split("/")):
        raise ValidationError(
            f"Object key {key!r} must not contain '.' or '..' path segments",
            aws_code="InvalidArgument",
        )
    return key


def validate_tags(tags: dict[str, str], *, max_tags: int = 50) -> dict[str, str]:
    """Check AWS tag rules: at most 50, keys 1–128 chars, values 0–256, no ``aws:`` prefix.

    Raises:
        ValidationError: A tag breaks a rule.
    """
    if len(tags) > max_tags:
        raise ValidationError(f"At most {max_tags} tags are allowed, got {len(tags)}")
    for key, value in tags.items():
        if not 1 <= len(key) <= 128 or not _TAG_CHARS.match(key):
            raise ValidationError(
                f"Invalid tag key {key!r}: 1-128 letters, digits, spaces, _.:/=+-@"
            )
        if key.lower().startswith("aws:"):
            raise ValidationError(f"Tag key {key!r} uses the reserved prefix 'aws:'")
        if len(value) > 256 or not _TAG_CHARS.match(value):
            raise ValidationError(
                f"Invalid value for tag {key!r}: up to 256 letters, digits, spaces, _.:/=+-@"
            )
    return tags


def arn(service: str, resource: str, *, account_id: str, region: str) -> str:
    """Build an ARN in AWS format: ``arn:aws:sagemaker:us-east-1:000000000000:training-job/x``.

    SageMaker lower-cases resource names inside ARNs; callers pass the resource part as AWS shows
    it (``training-job/name``).
    """
    return f"arn:aws:{service}:{region}:{account_id}:{resource}"
