"""``GET /metrics``: the Prometheus text exposition of the server's metrics.

Authenticated like every route (a scraper sends ``Authorization: Bearer <token>``; Prometheus'
``authorization`` scrape setting does). Today it carries the hosting metrics: invocations,
4xx/5xx, model errors, ModelLatency and OverheadLatency histograms (µs) per endpoint, variant and
target model, and instance counts.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from lakeworks.core.context import RequestContext
from lakeworks.server.auth import authenticated, platform_of
from lakeworks.server.platform import Platform

router = APIRouter(tags=["system"])

#: The content type Prometheus expects for the text format.
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


@router.get("/metrics")
def metrics(
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> Response:
    """Every metric in the Prometheus text format."""
    return Response(platform.hosting.prometheus_metrics(ctx), media_type=PROMETHEUS_TEXT)
