"""Bucket notifications on the native API: the configuration (``/buckets/{b}/notifications``:
function and webhook targets) and the delivery history (``/buckets/{b}/deliveries``).

Webhook targets are a Lakeworks extension: the S3 front door's
Get/PutBucketNotificationConfiguration carry only function targets. Each delivery is retried
with backoff; the history shows every attempt.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from lakeworks.core.context import RequestContext
from lakeworks.schemas.common import Page
from lakeworks.schemas.notifications import DeliveryInfo, DeliveryStatus, NotificationConfiguration
from lakeworks.server.auth import authenticated, platform_of
from lakeworks.server.platform import Platform

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["lake"])

Ctx = Depends(authenticated)
Services = Depends(platform_of)


@router.get("/buckets/{bucket}/notifications")
def get_bucket_notifications(
    bucket: str, ctx: RequestContext = Ctx, platform: Platform = Services
) -> NotificationConfiguration:
    """The bucket's notification configuration (empty lists when none is set)."""
    return platform.notifications.get_configuration(ctx, bucket)


@router.put("/buckets/{bucket}/notifications")
def put_bucket_notifications(
    bucket: str,
    spec: NotificationConfiguration,
    ctx: RequestContext = Ctx,
    platform: Platform = Services,
) -> NotificationConfiguration:
    """Replace the bucket's notification configuration as a whole (empty lists remove it)."""
    platform.notifications.put_configuration(ctx, bucket, spec)
    return platform.notifications.get_configuration(ctx, bucket)


@router.get("/buckets/{bucket}/deliveries")
def list_bucket_deliveries(
    bucket: str,
    status: DeliveryStatus | None = None,
    target: str | None = Query(None, max_length=2048),
    max_results: int = Query(100, ge=1, le=1000),
    next_token: str | None = Query(None, max_length=1024),
    ctx: RequestContext = Ctx,
    platform: Platform = Services,
) -> Page[DeliveryInfo]:
    """Deliveries of the bucket's events, newest first: target, status, attempts, last error."""
    return platform.notifications.list_deliveries(
        ctx,
        bucket=bucket,
        target=target,
        status=status,
        max_results=max_results,
        next_token=next_token,
    )


@router.get("/buckets/{bucket}/deliveries/{delivery_id}")
def describe_bucket_delivery(
    bucket: str, delivery_id: str, ctx: RequestContext = Ctx, platform: Platform = Services
) -> DeliveryInfo:
    """One delivery of the bucket's events, with every attempt and the event sent."""
    return platform.notifications.describe_delivery(ctx, delivery_id, bucket=bucket)
