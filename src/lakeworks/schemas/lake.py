"""Wire shapes of buckets and objects."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from lakeworks.schemas.common import RequestModel, ResponseModel

__all__ = [
    "AbortIncompleteMultipartUpload",
    "BucketCreate",
    "BucketEncryption",
    "BucketInfo",
    "BucketPolicy",
    "BucketVersioning",
    "DeleteResult",
    "LifecycleConfiguration",
    "LifecycleExpiration",
    "LifecycleFilter",
    "LifecycleReport",
    "LifecycleRule",
    "NoncurrentVersionExpiration",
    "ObjectInfo",
    "ObjectListing",
    "ObjectVersion",
    "PartInfo",
    "PolicyUpdate",
    "TagSet",
    "Tagging",
    "UploadInfo",
    "VersionListing",
    "VersioningUpdate",
]


class BucketCreate(RequestModel):
    """Create a bucket."""

    name: str = Field(description="3-63 lowercase letters, digits, dots and hyphens")
    tags: dict[str, str] = Field(default_factory=dict)


class BucketInfo(ResponseModel):
    """A bucket."""

    name: str
    arn: str
    creation_time: datetime
    owner: str
    tags: dict[str, str] = Field(default_factory=dict)


class ObjectInfo(ResponseModel):
    """An object's metadata (never its body)."""

    bucket: str
    key: str
    size: int
    etag: str = Field(description="Unquoted: hex MD5, or '<md5-of-md5s>-<parts>' for multipart")
    last_modified: datetime
    content_type: str = "binary/octet-stream"
    metadata: dict[str, str] = Field(default_factory=dict, description="User metadata")
    version_id: str | None = Field(
        None, description="Version id; 'null' for the null version, None if never versioned"
    )
    server_side_encryption: str | None = Field(
        None, description="'AES256' or 'aws:kms' when the object is encrypted at rest"
    )
    kms_key_id: str | None = Field(None, description="The aws:kms key id the object names")
    tag_count: int | None = Field(None, description="Number of object tags, when known")


class ObjectListing(ResponseModel):
    """One page of a bucket listing."""

    bucket: str
    prefix: str = ""
    delimiter: str | None = None
    items: list[ObjectInfo]
    common_prefixes: list[str] = Field(default_factory=list)
    next_token: str | None = None


class UploadInfo(ResponseModel):
    """A multipart upload in progress."""

    bucket: str
    key: str
    upload_id: str
    initiated: datetime
    server_side_encryption: str | None = None
    kms_key_id: str | None = None


class PartInfo(ResponseModel):
    """One uploaded part of a multipart upload."""

    part_number: int
    etag: str
    size: int
    last_modified: datetime
    server_side_encryption: str | None = None
    kms_key_id: str | None = None


# -- versioning ----------------------------------------------------------------------------------


class VersioningUpdate(RequestModel):
    """Enable or suspend versioning."""

    status: str = Field(description="'Enabled' or 'Suspended'")


class BucketVersioning(ResponseModel):
    """A bucket's versioning state; ``status`` is None if versioning was never enabled."""

    status: str | None = None


class ObjectVersion(ResponseModel):
    """One version of a key, or a delete marker."""

    key: str
    version_id: str
    is_latest: bool
    delete_marker: bool = False
    size: int = 0
    etag: str | None = Field(None, description="None for delete markers")
    last_modified: datetime
    owner: str | None = None


class VersionListing(ResponseModel):
    """One page of versions and delete markers, by key and then newest first."""

    bucket: str
    prefix: str = ""
    delimiter: str | None = None
    versions: list[ObjectVersion]
    common_prefixes: list[str] = Field(default_factory=list)
    is_truncated: bool = False
    next_key_marker: str | None = None
    next_version_id_marker: str | None = None


class DeleteResult(ResponseModel):
    """What a delete did: removed a version, or added a delete marker."""

    bucket: str
    key: str
    version_id: str | None = None
    delete_marker: bool = False


# -- tagging -------------------------------------------------------------------------------------


class Tagging(RequestModel):
    """Replace a bucket's or an object's tags."""

    tags: dict[str, str]


class TagSet(ResponseModel):
    """A bucket's or an object version's tags."""

    tags: dict[str, str] = Field(default_factory=dict)
    version_id: str | None = None


# -- encryption ----------------------------------------------------------------------------------


class BucketEncryption(RequestModel):
    """Default encryption of new objects in a bucket."""

    algorithm: str = Field("AES256", description="'AES256' (SSE-S3) or 'aws:kms'")
    kms_key_id: str | None = Field(None, description="Key id for aws:kms (a Lakeworks key label)")
    bucket_key_enabled: bool = False


# -- policies ------------------------------------------------------------------------------------


class PolicyUpdate(RequestModel):
    """Set a bucket policy: the AWS policy document, as JSON text or a JSON object."""

    policy: str | dict[str, Any]


class BucketPolicy(ResponseModel):
    """A bucket policy document as it was set (JSON text)."""

    policy: str


# -- lifecycle -----------------------------------------------------------------------------------


class LifecycleFilter(RequestModel):
    """Which objects a lifecycle rule applies to (all given parts must match)."""

    prefix: str = ""
    tags: dict[str, str] = Field(default_factory=dict)
    object_size_greater_than: int | None = None
    object_size_less_than: int | None = None


class LifecycleExpiration(RequestModel):
    """Expire current versions after ``days`` or on ``date``, or remove lone delete markers."""

    days: int | None = None
    date: datetime | None = None
    expired_object_delete_marker: bool | None = None


class NoncurrentVersionExpiration(RequestModel):
    """Delete versions ``noncurrent_days`` after they stopped being current, keeping the
    ``newer_noncurrent_versions`` newest noncurrent ones."""

    noncurrent_days: int
    newer_noncurrent_versions: int | None = None


class AbortIncompleteMultipartUpload(RequestModel):
    """Abort multipart uploads ``days_after_initiation`` days after they started."""

    days_after_initiation: int


class LifecycleRule(RequestModel):
    """One lifecycle rule (S3's ``Rule``)."""

    id: str | None = None
    status: str = Field("Enabled", description="'Enabled' or 'Disabled'")
    filter: LifecycleFilter = Field(default_factory=LifecycleFilter)
    expiration: LifecycleExpiration | None = None
    noncurrent_version_expiration: NoncurrentVersionExpiration | None = None
    abort_incomplete_multipart_upload: AbortIncompleteMultipartUpload | None = None


class LifecycleConfiguration(RequestModel):
    """A bucket's lifecycle rules."""

    rules: list[LifecycleRule]


class LifecycleReport(ResponseModel):
    """What one lifecycle pass did."""

    expired_objects: int = 0
    expired_versions: int = 0
    expired_delete_markers: int = 0
    aborted_uploads: int = 0
