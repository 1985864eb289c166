"""The query parameters SageMaker-style list routes share (name and time filters, order, page)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import Query

from lakeworks.jobs.service import SortBy, SortOrder

__all__ = ["JobListing", "ResourceListing"]


class JobListing:
    """Name and time filters, order and page; use as ``listing: JobListing = Depends()``.

    The status filter stays on each route, since each job kind has its own statuses.
    """

    def __init__(
        self,
        name_contains: str | None = Query(None, max_length=63),
        creation_time_after: datetime | None = None,
        creation_time_before: datetime | None = None,
        sort_by: SortBy = "CreationTime",
        sort_order: SortOrder = "Descending",
        max_results: int = Query(10, ge=1, le=100),
        next_token: str | None = Query(None, max_length=1024),
    ) -> None:
        self.kwargs: dict[str, Any] = {
            "name_contains": name_contains,
            "creation_time_after": creation_time_after,
            "creation_time_before": creation_time_before,
            "sort_by": sort_by,
            "sort_order": sort_order,
            "max_results": max_results,
            "next_token": next_token,
        }


class ResourceListing:
    """:class:`JobListing` for resources that have no status to sort by (models, endpoint
    configs): ``listing: ResourceListing = Depends()``."""

    def __init__(
        self,
        name_contains: str | None = Query(None, max_length=63),
        creation_time_after: datetime | None = None,
        creation_time_before: datetime | None = None,
        sort_by: Literal["Name", "CreationTime"] = "CreationTime",
        sort_order: SortOrder = "Descending",
        max_results: int = Query(10, ge=1, le=100),
        next_token: str | None = Query(None, max_length=1024),
    ) -> None:
        self.kwargs: dict[str, Any] = {
            "name_contains": name_contains,
            "creation_time_after": creation_time_after,
            "creation_time_before": creation_time_before,
            "sort_by": sort_by,
            "sort_order": sort_order,
            "max_results": max_results,
            "next_token": next_token,
        }
