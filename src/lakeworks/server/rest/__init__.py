"""Native REST routers, one module per domain, all under ``/api/v1``."""

from __future__ import annotations

from fastapi import APIRouter

from lakeworks.server.rest import (
    alarms,
    autoscaling,
    catalog,
    catalog_grants,
    etl,
    features,
    firehose,
    functions,
    hosting,
    hosting_async,
    iam,
    jobs,
    lake,
    lake_config,
    lake_select,
    metrics,
    notifications,
    processing,
    recipes,
    recommender,
    system,
    training,
    transform,
    triggers,
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
    hosting_async.router,
    autoscaling.router,
    metrics.router,
    processing.router,
    recipes.router,
    functions.router,
    etl.router,
    triggers.router,
    transform.router,
    alarms.router,
    features.router,
    firehose.router,
    lake_select.router,
    notifications.router,
    catalog_grants.router,
    recommender.router,
)
