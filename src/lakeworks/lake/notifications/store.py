"""Tables of bucket notifications and the delivery queue; nothing else touches them.

A delivery row is written in the same request that created or removed the object, before the
response returns, so a restart loses no event: the worker picks pending rows up again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, Text, and_, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from lakeworks.db import Base

__all__ = ["DeliveryRecord", "NotificationConfigRecord", "due_deliveries", "find_deliveries"]


class NotificationConfigRecord(Base):
    """A bucket's notification configuration (``NotificationConfiguration``, snake_case)."""

    __tablename__ = "bucket_notifications"

    bucket: Mapped[str] = mapped_column(String(63), primary_key=True)
    config: Mapped[dict[str, Any]]


class DeliveryRecord(Base):
    """One event (or async invocation) to deliver to one target, with its attempts."""

    __tablename__ = "event_deliveries"

    delivery_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    bucket: Mapped[str | None] = mapped_column(String(63), index=True)
    #: ``function`` or ``webhook``.
    target_type: Mapped[str] = mapped_column(String(16))
    #: A function name or a URL.
    target: Mapped[str] = mapped_column(String(2048))
    payload: Mapped[dict[str, Any]]
    #: Pending, Delivered or Failed.
    status: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_time: Mapped[datetime | None] = mapped_column(index=True)
    creation_time: Mapped[datetime] = mapped_column(index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    #: ``[{"time", "outcome", "error"}]`` per attempt.
    history: Mapped[list[Any]]


def due_deliveries(session: Session, now: datetime, limit: int) -> list[DeliveryRecord]:
    """Pending deliveries whose next attempt is due, oldest first."""
    query = (
        select(DeliveryRecord)
        .where(DeliveryRecord.status == "Pending", DeliveryRecord.next_attempt_time <= now)
        .order_by(DeliveryRecord.creation_time)
        .limit(limit)
    )
    return list(session.scalars(query))


def find_deliveries(
    session: Session,
    *,
    bucket: str | None,
    target: str | None,
    status: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[DeliveryRecord]:
    """Deliveries newest first (by creation time, then id), filtered; ``after`` is the
    ``(creation_time, delivery_id)`` of the last row of the previous page (keyset paging, so
    rows queued meanwhile neither repeat nor shift a page)."""
    query = select(DeliveryRecord).order_by(
        DeliveryRecord.creation_time.desc(), DeliveryRecord.delivery_id.desc()
    )
    if bucket is not None:
        query = query.where(DeliveryRecord.bucket == bucket)
    if target is not None:
        query = query.where(DeliveryRecord.target == target)
    if status is not None:
        query = query.where(DeliveryRecord.status == status)
    if after is not None:
        time, delivery_id = after
        query = query.where(
            or_(
                DeliveryRecord.creation_time < time,
                and_(
                    DeliveryRecord.creation_time == time, DeliveryRecord.delivery_id < delivery_id
                ),
            )
        )
    return list(session.scalars(query.limit(limit)))
