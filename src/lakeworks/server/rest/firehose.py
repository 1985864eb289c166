"""Delivery streams (``/api/v1/delivery-streams``): create, list, describe, delete, put records,
flush."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from lakeworks.core.context import RequestContext
from lakeworks.schemas.common import Page
from lakeworks.schemas.firehose import (
    DeliveryStream,
    DeliveryStreamCreate,
    RecordsPut,
    RecordsPutResult,
)
from lakeworks.server.auth import authenticated, platform_of
from lakeworks.server.platform import Platform

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["firehose"])


@router.post("/delivery-streams", status_code=201, response_model_by_alias=False)
def create_delivery_stream(
    request: DeliveryStreamCreate,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> DeliveryStream:
    """Create a delivery stream to an S3 destination in the lake."""
    return platform.firehose.create_delivery_stream(ctx, request)


@router.get("/delivery-streams", response_model_by_alias=False)
def list_delivery_streams(
    max_results: int = Query(100, ge=1, le=10000),
    next_token: str | None = Query(None, description="The last name of the previous page"),
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> Page[DeliveryStream]:
    """Delivery streams by name, with their delivery progress."""
    names, more = platform.firehose.list_delivery_streams(
        ctx, limit=max_results, exclusive_start=next_token
    )
    items = [platform.firehose.describe_delivery_stream(ctx, n) for n in names]
    return Page[DeliveryStream](items=items, next_token=names[-1] if more else None)


@router.get("/delivery-streams/{name}", response_model_by_alias=False)
def describe_delivery_stream(
    name: str,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> DeliveryStream:
    """One stream: destination, records acknowledged and delivered, last delivery failure."""
    return platform.firehose.describe_delivery_stream(ctx, name)


@router.delete("/delivery-streams/{name}", status_code=204)
def delete_delivery_stream(
    name: str,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> None:
    """Delete a stream (what it holds is delivered first when the destination takes it)."""
    platform.firehose.delete_delivery_stream(ctx, name)


@router.post("/delivery-streams/{name}/records", response_model_by_alias=False)
def put_records(
    name: str,
    request: RecordsPut,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> RecordsPutResult:
    """Append records; answered once they are on disk."""
    ids = platform.firehose.put_record_batch(ctx, name, request.records)
    return RecordsPutResult(record_ids=ids)


@router.post("/delivery-streams/{name}/flush", response_model_by_alias=False)
def flush_delivery_stream(
    name: str,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> DeliveryStream:
    """Deliver everything the stream holds now, whatever its buffering hints."""
    return platform.firehose.flush(ctx, name)
