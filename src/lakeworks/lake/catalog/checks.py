"""Checks the catalog's operations share: page sizes, locations, storage descriptors."""

from __future__ import annotations

from lakeworks.core.errors import ValidationError
from lakeworks.lake.catalog.names import column_name
from lakeworks.lake.catalog.types import parse_type
from lakeworks.lake.service import parse_s3_uri
from lakeworks.schemas.catalog import StorageDescriptor

__all__ = ["MAX_PAGE", "check_descriptor", "check_location", "page_limit"]

MAX_PAGE = 1000


def page_limit(max_results: int, ceiling: int = MAX_PAGE) -> int:
    """Check a page size (1 to ``ceiling``).

    Raises:
        ValidationError: Out of range (``InvalidInputException``).
    """
    if isinstance(max_results, bool) or not isinstance(max_results, int):
        max_results = 0
    if not 1 <= max_results <= ceiling:
        raise ValidationError(
            f"max_results must be an integer from 1 to {ceiling}, got {max_results!r}",
            aws_code="InvalidInputException",
            details={"field": "max_results"},
        )
    return max_results


def check_location(location: str | None, what: str) -> None:
    """Refuse a location that is not ``s3://bucket/…``."""
    if location:
        try:
            parse_s3_uri(location)
        except ValidationError:
            raise ValidationError(
                f"The {what} location {location!r} must be an s3://bucket/prefix/ URI",
                aws_code="InvalidInputException",
                details={"field": "location"},
            ) from None


def check_descriptor(descriptor: StorageDescriptor | None, what: str) -> list[str]:
    """Validate columns (names, types) and location; return the column names."""
    if descriptor is None:
        return []
    check_location(descriptor.location, what)
    names = []
    for column in descriptor.columns:
        column.name = column_name(column.name)
        parse_type(column.type)
        names.append(column.name)
    return names
