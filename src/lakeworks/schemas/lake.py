"""Wire shapes of buckets and objects."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from lakeworks.schemas.common import RequestModel, ResponseModel

__all__ = [
    "BucketCreate",
    "BucketInfo",
    "ObjectInfo",
    "ObjectListing",
    "PartInfo",
    "UploadInfo",
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


class PartInfo(ResponseModel):
    """One uploaded part of a multipart upload."""

    part_number: int
    etag: str
    size: int
    last_modified: datetime
