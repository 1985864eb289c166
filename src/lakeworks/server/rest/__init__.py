"""Native REST routers, one module per domain, all under ``/api/v1``."""

from __future__ import annotations

from fastapi import APIRouter

from lakeworks.server.rest import catalog, iam, jobs, lake, system

__all__ = ["ROUTERS"]

#: Every native router, in the order they are mounted.
ROUTERS: tuple[APIRouter, ...] = (
    system.router,
    iam.router,
    lake.router,
    jobs.router,
    catalog.router,
)
