"""Object select, natively: ``POST /api/v1/buckets/{bucket}/select/{key}``.

The same evaluation as S3's SelectObjectContent (:mod:`lakeworks.lake.select`), answered as one
JSON document with the serialized records and the statistics. The native answer is buffered,
so it is capped at :data:`MAX_NATIVE_OUTPUT` bytes; the S3 face streams any size.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import ValidationError
from lakeworks.lake.select import select_object
from lakeworks.schemas.lake_select import SelectRequest, SelectResult
from lakeworks.server.auth import authenticated, platform_of
from lakeworks.server.platform import Platform

__all__ = ["MAX_NATIVE_OUTPUT", "router"]

#: Most output bytes one native select returns (add a LIMIT, or use the S3 face, for more).
MAX_NATIVE_OUTPUT = 64 * 1024 * 1024

router = APIRouter(prefix="/api/v1", tags=["lake"])


def _run(
    platform: Platform, ctx: RequestContext, bucket: str, key: str, spec: SelectRequest
) -> SelectResult:
    scratch = platform.settings.home / "tmp" / "select"
    selection = select_object(platform.lake, ctx, bucket, key, spec, scratch)
    try:
        out = bytearray()
        for chunk in selection.chunks():
            out += chunk
            if len(out) > MAX_NATIVE_OUTPUT:
                raise ValidationError(
                    f"The select returns more than {MAX_NATIVE_OUTPUT} bytes; add a LIMIT or "
                    "use S3 SelectObjectContent, which streams",
                    aws_code="OverMaxRecordSize",
                )
        return SelectResult(records=out.decode("utf-8", "replace"), stats=selection.stats)
    finally:
        selection.close()


@router.post("/buckets/{bucket}/select/{key:path}")
async def select_object_content(
    bucket: str,
    key: str,
    spec: SelectRequest,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> SelectResult:
    """Run an S3 Select SQL expression over one object (needs ``s3:GetObject`` on it)."""
    return await run_in_threadpool(_run, platform, ctx, bucket, key, spec)
