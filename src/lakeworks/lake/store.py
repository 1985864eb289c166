"""Tables of the lake domain; nothing outside this module touches them.

The database is the source of truth for which buckets exist and how they are configured
(versioning, default encryption, policy, lifecycle; the object store only holds their objects),
for multipart uploads in progress and their parts, for the versions of keys in buckets whose
versioning was ever enabled, and for the wrapped data keys that seal encrypted objects.

Version records are ordered by their ``seq`` (an increasing integer): within a key, a higher
``seq`` is a newer version. Keys compare as UTF-8 bytes (SQLite's BINARY collation; ``"C"`` on
PostgreSQL), the order of S3 listings.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    delete,
    false,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from lakeworks.db import Base

__all__ = [
    "BucketRecord",
    "DataKeyRecord",
    "PartRecord",
    "UploadRecord",
    "VersionRecord",
    "count_uploads",
    "count_versions",
    "data_keys_of",
    "get_bucket",
    "get_data_key",
    "get_data_key_by_id",
    "get_upload",
    "get_version",
    "latest_version",
    "list_buckets",
    "list_parts",
    "list_uploads",
    "page_versions",
    "put_part",
    "versions_of",
]


class BucketRecord(Base):
    """A bucket: its name, owner principal, creation time and tags."""

    __tablename__ = "lake_buckets"

    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    owner: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]
    tags: Mapped[dict[str, Any]]
    #: ``None`` (never enabled), ``Enabled`` or ``Suspended``.
    versioning: Mapped[str | None] = mapped_column(String(16))
    #: Default encryption: ``{"algorithm": "AES256" | "aws:kms", "kms_key_id": ...}``.
    encryption: Mapped[dict[str, Any] | None]
    #: The bucket policy document as the client sent it (JSON text).
    policy: Mapped[str | None] = mapped_column(Text)
    #: Lifecycle rules (``LifecycleRule`` dumps).
    lifecycle: Mapped[list[Any] | None]
    #: Whether an encrypted object was ever written (listings then describe objects exactly).
    sealed: Mapped[bool] = mapped_column(default=False, server_default=false())


class UploadRecord(Base):
    """A multipart upload in progress, with what the completed object will carry."""

    __tablename__ = "lake_uploads"

    upload_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    bucket: Mapped[str] = mapped_column(ForeignKey("lake_buckets.name"), index=True)
    key: Mapped[str] = mapped_column(String(1024))
    owner: Mapped[str] = mapped_column(String(128))
    initiated: Mapped[datetime]
    content_type: Mapped[str] = mapped_column(String(256))
    user_metadata: Mapped[dict[str, Any]]
    #: The backing store's id for the upload ("" for the local store).
    backing_id: Mapped[str] = mapped_column(String(1024), default="")
    #: How the object will be sealed: ``{"algorithm", "kms_key_id", "key_id"}``, or ``None``.
    sse: Mapped[dict[str, Any] | None]
    #: Tags the completed object gets (``x-amz-tagging`` of CreateMultipartUpload).
    tags: Mapped[dict[str, Any] | None]


class PartRecord(Base):
    """The latest upload of one part number."""

    __tablename__ = "lake_upload_parts"

    upload_id: Mapped[str] = mapped_column(
        ForeignKey("lake_uploads.upload_id", ondelete="CASCADE"), primary_key=True
    )
    part_number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    etag: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    last_modified: Mapped[datetime]


class VersionRecord(Base):
    """One version of a key, or a delete marker, in a bucket whose versioning was ever enabled.

    The latest version that is not a delete marker lives at the key's natural place in the
    object store (``archive`` is ``None``); older versions live in the store's hidden version
    area under ``archive``.
    """

    __tablename__ = "lake_object_versions"
    __table_args__ = (
        UniqueConstraint("bucket", "key", "version_id"),
        Index("ix_lake_object_versions_bucket_key_seq", "bucket", "key", "seq"),
    )

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    bucket: Mapped[str] = mapped_column(ForeignKey("lake_buckets.name"))
    key: Mapped[str] = mapped_column(String(1024))
    version_id: Mapped[str] = mapped_column(String(64))
    is_latest: Mapped[bool]
    delete_marker: Mapped[bool]
    size: Mapped[int] = mapped_column(BigInteger)
    etag: Mapped[str] = mapped_column(String(64))
    last_modified: Mapped[datetime]
    #: When a newer version (or delete marker) took this one's place; ``None`` while latest.
    noncurrent_since: Mapped[datetime | None]
    #: Where the store keeps this version's bytes when it is not at the natural place.
    archive: Mapped[str | None] = mapped_column(String(64))
    owner: Mapped[str] = mapped_column(String(128))


class DataKeyRecord(Base):
    """A data key that seals a bucket's objects, wrapped by the server's master key."""

    __tablename__ = "lake_data_keys"
    __table_args__ = (UniqueConstraint("bucket", "label"),)

    #: Hex of the 16-byte id written into every object the key seals.
    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    bucket: Mapped[str] = mapped_column(String(63))
    #: ``""`` for SSE-S3 (AES256), else the ``aws:kms`` key id the client named.
    label: Mapped[str] = mapped_column(String(512))
    wrapped: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


def get_bucket(session: Session, name: str) -> BucketRecord | None:
    """The bucket named ``name``, if any."""
    return session.get(BucketRecord, name)


def list_buckets(session: Session) -> list[BucketRecord]:
    """Every bucket, by name."""
    return list(session.scalars(select(BucketRecord).order_by(BucketRecord.name)))


def get_upload(session: Session, upload_id: str) -> UploadRecord | None:
    """The upload with id ``upload_id``, if any."""
    return session.get(UploadRecord, upload_id)


def list_uploads(session: Session, bucket: str) -> list[UploadRecord]:
    """The bucket's uploads in progress, by key and then start time."""
    query = (
        select(UploadRecord)
        .where(UploadRecord.bucket == bucket)
        .order_by(UploadRecord.key, UploadRecord.initiated, UploadRecord.upload_id)
    )
    return list(session.scalars(query))


def count_uploads(session: Session, bucket: str) -> int:
    """How many uploads are in progress in ``bucket``."""
    query = select(func.count()).select_from(UploadRecord).where(UploadRecord.bucket == bucket)
    return int(session.scalar(query) or 0)


def list_parts(session: Session, upload_id: str) -> list[PartRecord]:
    """An upload's parts by part number."""
    query = (
        select(PartRecord).where(PartRecord.upload_id == upload_id).order_by(PartRecord.part_number)
    )
    return list(session.scalars(query))


def put_part(session: Session, record: PartRecord) -> None:
    """Record a part, replacing an earlier upload of the same number."""
    session.execute(
        delete(PartRecord).where(
            PartRecord.upload_id == record.upload_id,
            PartRecord.part_number == record.part_number,
        )
    )
    session.add(record)


# -- versions ------------------------------------------------------------------------------------


def _key_order(session: Session) -> ColumnElement[str]:
    """The key column compared as UTF-8 bytes on every dialect."""
    column = VersionRecord.key
    if session.get_bind().dialect.name == "postgresql":
        return column.collate("C")
    return column.expression


def latest_version(session: Session, bucket: str, key: str) -> VersionRecord | None:
    """The version (or delete marker) of ``key`` marked latest, if any."""
    query = select(VersionRecord).where(
        VersionRecord.bucket == bucket, VersionRecord.key == key, VersionRecord.is_latest
    )
    return session.scalars(query).first()


def versions_of(session: Session, bucket: str, key: str) -> list[VersionRecord]:
    """Every version and delete marker of ``key``, newest first."""
    query = (
        select(VersionRecord)
        .where(VersionRecord.bucket == bucket, VersionRecord.key == key)
        .order_by(VersionRecord.seq.desc())
    )
    return list(session.scalars(query))


def get_version(session: Session, bucket: str, key: str, version_id: str) -> VersionRecord | None:
    """The version ``version_id`` of ``key``, if any."""
    query = select(VersionRecord).where(
        VersionRecord.bucket == bucket,
        VersionRecord.key == key,
        VersionRecord.version_id == version_id,
    )
    return session.scalars(query).first()


def count_versions(session: Session, bucket: str) -> int:
    """How many versions and delete markers ``bucket`` holds."""
    query = select(func.count()).select_from(VersionRecord).where(VersionRecord.bucket == bucket)
    return int(session.scalar(query) or 0)


def page_versions(
    session: Session,
    bucket: str,
    *,
    prefix: str = "",
    after: tuple[str, int | None] | None = None,
    limit: int = 1000,
    noncurrent_only: bool = False,
) -> list[VersionRecord]:
    """Versions in listing order (key ascending, newest first within a key).

    Args:
        prefix: Only keys at or after it; the caller stops at the first key without it.
        after: ``(key, seq)``: only entries after that one (``seq`` ``None``: after every
            version of ``key``).
        limit: At most this many rows.
        noncurrent_only: Only versions that are not the latest.
    """
    key = _key_order(session)
    conditions: list[ColumnElement[bool]] = [VersionRecord.bucket == bucket]
    if prefix:
        conditions.append(key >= prefix)
    if after is not None:
        after_key, after_seq = after
        if after_seq is None:
            conditions.append(key > after_key)
        else:
            conditions.append(
                or_(
                    key > after_key,
                    and_(VersionRecord.key == after_key, VersionRecord.seq < after_seq),
                )
            )
    if noncurrent_only:
        conditions.append(VersionRecord.is_latest == false())
    query = (
        select(VersionRecord)
        .where(*conditions)
        .order_by(key, VersionRecord.seq.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


# -- data keys -----------------------------------------------------------------------------------


def get_data_key(session: Session, bucket: str, label: str) -> DataKeyRecord | None:
    """The data key of ``bucket`` for ``label``, if one was made."""
    query = select(DataKeyRecord).where(
        DataKeyRecord.bucket == bucket, DataKeyRecord.label == label
    )
    return session.scalars(query).first()


def data_keys_of(session: Session, bucket: str) -> list[DataKeyRecord]:
    """Every data key of ``bucket``."""
    return list(session.scalars(select(DataKeyRecord).where(DataKeyRecord.bucket == bucket)))


def get_data_key_by_id(session: Session, key_id: str) -> DataKeyRecord | None:
    """The data key with hex id ``key_id``, if any."""
    return session.get(DataKeyRecord, key_id)
