"""Native REST routers, one module per domain, all under ``/api/v1``."""

from __future__ import annotations

from fastapi import APIRouter

from lakeworks.server.rest import (
    catalog,
    hosting,
    iam,
    jobs,
    lake,
    lake_config,
    metrics,
    processing,
    recipes,
    system,
    training,
    tuning,
)

__all__ = ["ROUTERS"]

#: Every native router, in the order they are mounted.
ROUTERS: tuple[APIRouter, ...] = (
    system.router,
    iam.router,
    lake.router,
    lake_config.router,
    jobs.router,
    catalog.router,
    training.router,
    tuning.router,
    hosting.router,
    metrics.router,
    processing.router,
    recipes.router,
)
