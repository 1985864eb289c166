"""Tables of the lake domain; nothing outside this module touches them.

The database is the source of truth for which buckets exist (the object store only holds their
objects) and for multipart uploads in progress and their parts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from lakeworks.db import Base

__all__ = [
    "BucketRecord",
    "PartRecord",
    "UploadRecord",
    "count_uploads",
    "get_bucket",
    "get_upload",
    "list_buckets",
    "list_parts",
    "list_uploads",
    "put_part",
]


class BucketRecord(Base):
    """A bucket: its name, owner principal, creation time and tags."""

    __tablename__ = "lake_buckets"

    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    owner: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]
    tags: Mapped[dict[str, Any]]


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
