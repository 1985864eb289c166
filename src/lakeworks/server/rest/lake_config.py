"""Bucket configuration, versions and object tags on the native API.

Versioning (``/buckets/{b}/versioning``), the version listing (``/buckets/{b}/versions``),
bucket tags (``/buckets/{b}/tags``), object tags (``/buckets/{b}/tagging/{key}``, with
``version_id``), default encryption (``/buckets/{b}/encryption``), the bucket policy
(``/buckets/{b}/policy``) and lifecycle rules (``/buckets/{b}/lifecycle``); ``POST
/lifecycle/runs`` applies lifecycle rules at once (admin). Each is the same lake service call
the S3 front door makes.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response

from lakeworks.core.context import RequestContext
from lakeworks.schemas.lake import (
    BucketEncryption,
    BucketPolicy,
    BucketVersioning,
    LifecycleConfiguration,
    LifecycleReport,
    PolicyUpdate,
    Tagging,
    TagSet,
    VersioningUpdate,
    VersionListing,
)
from lakeworks.server.auth import authenticated, platform_of
from lakeworks.server.platform import Platform

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["lake"])

Ctx = Depends(authenticated)
Services = Depends(platform_of)


# -- versioning ------------------------------------------------------------------------------------


@router.get("/buckets/{bucket}/versioning")
def get_bucket_versioning(
    bucket: str, ctx: RequestContext = Ctx, platform: Platform = Services
) -> BucketVersioning:
    """The bucket's versioning status (null if never enabled)."""
    return platform.lake.get_bucket_versioning(ctx, bucket)


@router.put("/buckets/{bucket}/versioning")
def put_bucket_versioning(
    bucket: str, spec: VersioningUpdate, ctx: RequestContext = Ctx, platform: Platform = Services
) -> BucketVersioning:
    """Enable or suspend versioning."""
    return platform.lake.put_bucket_versioning(ctx, bucket, spec.status)


@router.get("/buckets/{bucket}/versions")
def list_object_versions(
    bucket: str,
    prefix: str = "",
    delimiter: str | None = None,
    key_marker: str | None = None,
    version_id_marker: str | None = None,
    max_keys: int = Query(1000, ge=1, le=1000),
    ctx: RequestContext = Ctx,
    platform: Platform = Services,
) -> VersionListing:
    """One page of versions and delete markers; pass the next markers back for more."""
    return platform.lake.list_object_versions(
        ctx,
        bucket,
        prefix=prefix,
        delimiter=delimiter,
        key_marker=key_marker,
        version_id_marker=version_id_marker,
        max_keys=max_keys,
    )


# -- tags ------------------------------------------------------------------------------------------


@router.get("/buckets/{bucket}/tags")
def get_bucket_tagging(
    bucket: str, ctx: RequestContext = Ctx, platform: Platform = Services
) -> TagSet:
    """The bucket's tags (404 NoSuchTagSet when it has none)."""
    return platform.lake.get_bucket_tagging(ctx, bucket)


@router.put("/buckets/{bucket}/tags")
def put_bucket_tagging(
    bucket: str, spec: Tagging, ctx: RequestContext = Ctx, platform: Platform = Services
) -> TagSet:
    """Replace the bucket's tags."""
    return platform.lake.put_bucket_tagging(ctx, bucket, spec.tags)


@router.delete("/buckets/{bucket}/tags", status_code=204)
def delete_bucket_tagging(
    bucket: str, ctx: RequestContext = Ctx, platform: Platform = Services
) -> Response:
    """Remove the bucket's tags."""
    platform.lake.delete_bucket_tagging(ctx, bucket)
    return Response(status_code=204)


@router.get("/buckets/{bucket}/tagging/{key:path}")
def get_object_tagging(
    bucket: str,
    key: str,
    version_id: str | None = None,
    ctx: RequestContext = Ctx,
    platform: Platform = Services,
) -> TagSet:
    """An object's (or a version's) tags."""
    return platform.lake.get_object_tagging(ctx, bucket, key, version_id=version_id)


@router.put("/buckets/{bucket}/tagging/{key:path}")
def put_object_tagging(
    bucket: str,
    key: str,
    spec: Tagging,
    version_id: str | None = None,
    ctx: RequestContext = Ctx,
    platform: Platform = Services,
) -> TagSet:
    """Replace an object's (or a version's) tags."""
    return platform.lake.put_object_tagging(ctx, bucket, key, spec.tags, version_id=version_id)


@router.delete("/buckets/{bucket}/tagging/{key:path}")
def delete_object_tagging(
    bucket: str,
    key: str,
    version_id: str | None = None,
    ctx: RequestContext = Ctx,
    platform: Platform = Services,
) -> TagSet:
    """Remove an object's (or a version's) tags."""
    return platform.lake.delete_object_tagging(ctx, bucket, key, version_id=version_id)


# -- encryption ------------------------------------------------------------------------------------


@router.get("/buckets/{bucket}/encryption")
def get_bucket_encryption(
    bucket: str, ctx: RequestContext = Ctx, platform: Platform = Services
) -> BucketEncryption:
    """The bucket's default encryption (404 when it has none)."""
    return platform.lake.get_bucket_encryption(ctx, bucket)


@router.put("/buckets/{bucket}/encryption")
def put_bucket_encryption(
    bucket: str, spec: BucketEncryption, ctx: RequestContext = Ctx, platform: Platform = Services
) -> BucketEncryption:
    """Encrypt new objects of the bucket at rest by default."""
    return platform.lake.put_bucket_encryption(ctx, bucket, spec)


@router.delete("/buckets/{bucket}/encryption", status_code=204)
def delete_bucket_encryption(
    bucket: str, ctx: RequestContext = Ctx, platform: Platform = Services
) -> Response:
    """Stop encrypting new objects by default."""
    platform.lake.delete_bucket_encryption(ctx, bucket)
    return Response(status_code=204)


# -- policy ----------------------------------------------------------------------------------------


@router.get("/buckets/{bucket}/policy")
def get_bucket_policy(
    bucket: str, ctx: RequestContext = Ctx, platform: Platform = Services
) -> BucketPolicy:
    """The bucket policy's JSON text (404 NoSuchBucketPolicy when none)."""
    return platform.lake.get_bucket_policy(ctx, bucket)


@router.put("/buckets/{bucket}/policy")
def put_bucket_policy(
    bucket: str, spec: PolicyUpdate, ctx: RequestContext = Ctx, platform: Platform = Services
) -> BucketPolicy:
    """Set the bucket policy (400 MalformedPolicy with the reason)."""
    return platform.lake.put_bucket_policy(ctx, bucket, spec.policy)


@router.delete("/buckets/{bucket}/policy", status_code=204)
def delete_bucket_policy(
    bucket: str, ctx: RequestContext = Ctx, platform: Platform = Services
) -> Response:
    """Remove the bucket policy."""
    platform.lake.delete_bucket_policy(ctx, bucket)
    return Response(status_code=204)


# -- lifecycle -------------------------------------------------------------------------------------


@router.get("/buckets/{bucket}/lifecycle")
def get_bucket_lifecycle(
    bucket: str, ctx: RequestContext = Ctx, platform: Platform = Services
) -> LifecycleConfiguration:
    """The bucket's lifecycle rules (404 NoSuchLifecycleConfiguration when none)."""
    return platform.lake.get_bucket_lifecycle(ctx, bucket)


@router.put("/buckets/{bucket}/lifecycle")
def put_bucket_lifecycle(
    bucket: str,
    spec: LifecycleConfiguration,
    ctx: RequestContext = Ctx,
    platform: Platform = Services,
) -> LifecycleConfiguration:
    """Replace the bucket's lifecycle rules."""
    return platform.lake.put_bucket_lifecycle(ctx, bucket, spec.rules)


@router.delete("/buckets/{bucket}/lifecycle", status_code=204)
def delete_bucket_lifecycle(
    bucket: str, ctx: RequestContext = Ctx, platform: Platform = Services
) -> Response:
    """Remove the bucket's lifecycle rules."""
    platform.lake.delete_bucket_lifecycle(ctx, bucket)
    return Response(status_code=204)


@router.post("/lifecycle/runs")
def run_lifecycle(ctx: RequestContext = Ctx, platform: Platform = Services) -> LifecycleReport:
    """Apply every bucket's lifecycle rules now (admin)."""
    return platform.lake.run_lifecycle(ctx)
