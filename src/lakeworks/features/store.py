"""Tables of the feature store; nothing outside this module touches them.

``feature_groups`` holds each group's definition; ``feature_online_records`` is the online store:
the latest record per (group, record identifier), by event time. A soft delete keeps the row
with ``is_deleted`` set, so a late write older than the deletion stays ignored.

``feature_offline_pending`` holds offline-store rows not yet written to the lake. A write's
pending row is inserted in the same transaction as its online upsert, so it is durable when the
write is acknowledged; the offline flusher claims rows as a batch (a random id recorded on the
rows), writes the batch's Parquet under names derived from it, then deletes it. A batch claimed
but not deleted (a crash, a lake refusing writes) is written again under the same names.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    Index,
    Integer,
    String,
    bindparam,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from lakeworks.db import Base, Database

__all__ = [
    "FeatureGroupRecord",
    "OfflinePendingRecord",
    "OfflineWrite",
    "OnlineRecord",
    "OnlineWrite",
    "PendingRow",
    "StoredRecord",
    "append_offline",
    "claim_offline_batch",
    "claimed_offline_batches",
    "delete_group_records",
    "delete_offline_batch",
    "hard_delete_online",
    "offline_pending_groups",
    "read_offline_batch",
    "read_online",
    "write_online",
]


class FeatureGroupRecord(Base):
    """One feature group: its definition (SageMaker's create request) and where data goes."""

    __tablename__ = "feature_groups"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    arn: Mapped[str] = mapped_column(String(256))
    #: The create request by SageMaker's names, features added by updates included.
    spec: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16))
    #: ``s3://…/offline-store/<name>-<ts>/data`` or ``None`` without an offline store.
    offline_uri: Mapped[str | None] = mapped_column(String(1024))
    catalog_database: Mapped[str | None] = mapped_column(String(255))
    catalog_table: Mapped[str | None] = mapped_column(String(255))
    principal: Mapped[str] = mapped_column(String(128))
    creation_time: Mapped[datetime]
    last_modified_time: Mapped[datetime]


class OnlineRecord(Base):
    """The latest record of one identifier in a group's online store."""

    __tablename__ = "feature_online_records"

    feature_group: Mapped[str] = mapped_column(String(64), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(512), primary_key=True)
    #: Event time as epoch seconds (what "latest" compares).
    event_time: Mapped[float] = mapped_column(Float)
    #: Feature name → value as string (SageMaker's wire form).
    values: Mapped[dict[str, Any]]
    #: Epoch seconds after which reads treat the record as absent; ``None``: never.
    expires_at: Mapped[float | None] = mapped_column(Float)
    is_deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    write_time: Mapped[datetime]


class OfflinePendingRecord(Base):
    """An offline-store row acknowledged to its writer and not yet written to the lake."""

    __tablename__ = "feature_offline_pending"
    __table_args__ = (Index("ix_feature_offline_pending_group_batch", "feature_group", "batch"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    feature_group: Mapped[str] = mapped_column(String(64))
    #: Event time as epoch seconds (picks the hour partition).
    event_time: Mapped[float] = mapped_column(Float)
    #: Feature name → value as string (typed when written to Parquet).
    values: Mapped[dict[str, Any]]
    #: When the API call arrived, epoch seconds.
    api_invocation_time: Mapped[float] = mapped_column(Float)
    is_deleted: Mapped[bool] = mapped_column(Boolean)
    #: The flush batch that claimed the row; ``None`` until claimed.
    batch: Mapped[int | None] = mapped_column(BigInteger)


@dataclass(frozen=True)
class OfflineWrite:
    """A row for the offline store: a put, or a deletion when ``is_deleted``."""

    feature_group: str
    event_time: float
    values: dict[str, str]
    api_invocation_time: float
    is_deleted: bool


@dataclass(frozen=True)
class PendingRow:
    """A pending offline row as the flusher reads it."""

    event_time: float
    values: dict[str, str]
    api_invocation_time: float
    is_deleted: bool


def _pending(write: OfflineWrite) -> OfflinePendingRecord:
    return OfflinePendingRecord(
        feature_group=write.feature_group,
        event_time=write.event_time,
        values=write.values,
        api_invocation_time=write.api_invocation_time,
        is_deleted=write.is_deleted,
    )


@dataclass(frozen=True)
class OnlineWrite:
    """A write to the online store: a put, or a soft delete when ``is_deleted``."""

    feature_group: str
    record_id: str
    event_time: float
    values: dict[str, str]
    expires_at: float | None
    is_deleted: bool
    write_time: datetime


def _apply(session: Session, write: OnlineWrite) -> bool:
    row = session.execute(
        select(OnlineRecord)
        .where(
            OnlineRecord.feature_group == write.feature_group,
            OnlineRecord.record_id == write.record_id,
        )
        .with_for_update()
    ).scalar_one_or_none()
    if row is None:
        if write.is_deleted:
            return False  # nothing to delete
        session.add(
            OnlineRecord(
                feature_group=write.feature_group,
                record_id=write.record_id,
                event_time=write.event_time,
                values=write.values,
                expires_at=write.expires_at,
                is_deleted=False,
                write_time=write.write_time,
            )
        )
        return True
    if write.event_time < row.event_time:
        return False  # an older write never replaces a newer one
    row.event_time = write.event_time
    row.is_deleted = write.is_deleted
    row.write_time = write.write_time
    if not write.is_deleted:
        row.values = write.values
        row.expires_at = write.expires_at
    return True


def write_online(db: Database, write: OnlineWrite, offline: OfflineWrite | None = None) -> bool:
    """Apply ``write`` unless the stored record is newer; whether it was applied.

    ``offline``, when given, is queued for the offline store in the same transaction (whether or
    not the online write applies: an older write still lands offline).
    """
    for attempt in range(2):
        try:
            with db.session() as session:
                if offline is not None:
                    session.add(_pending(offline))
                return _apply(session, write)
        except IntegrityError:
            if attempt:
                raise  # a concurrent first insert of the same id won; the retry updates it
    return False  # pragma: no cover - the loop returns or raises


def append_offline(db: Database, offline: OfflineWrite) -> None:
    """Queue a row for the offline store alone (the write skips the online store)."""
    with db.session() as session:
        session.add(_pending(offline))


def hard_delete_online(
    db: Database, feature_group: str, record_id: str, offline: OfflineWrite | None = None
) -> None:
    """Remove a record from the online store entirely (``HardDelete``), queueing ``offline``
    (its deletion row) in the same transaction."""
    with db.session() as session:
        if offline is not None:
            session.add(_pending(offline))
        session.execute(
            delete(OnlineRecord).where(
                OnlineRecord.feature_group == feature_group, OnlineRecord.record_id == record_id
            )
        )


@dataclass(frozen=True)
class StoredRecord:
    """A row of the online store as reads see it."""

    record_id: str
    event_time: float
    values: dict[str, str]
    expires_at: float | None
    is_deleted: bool


_READ_COLUMNS = (
    OnlineRecord.record_id,
    OnlineRecord.event_time,
    OnlineRecord.values,
    OnlineRecord.expires_at,
    OnlineRecord.is_deleted,
)
#: GetRecord's statement, built once: a statement built per call costs more in SQLAlchemy (cache
#: key, result-column adaptation) than SQLite's lookup itself.
_READ_ONE = select(*_READ_COLUMNS).where(
    OnlineRecord.feature_group == bindparam("feature_group"),
    OnlineRecord.record_id == bindparam("record_id"),
)


def read_online(db: Database, feature_group: str, record_ids: list[str]) -> dict[str, StoredRecord]:
    """The stored rows of ``record_ids`` (deleted and expired ones included), by id.

    A Core query on a plain connection: this is GetRecord's hot path, and the ORM's identity
    map would add most of its cost.
    """
    with db.engine.connect() as connection:
        if len(record_ids) == 1:
            params = {"feature_group": feature_group, "record_id": record_ids[0]}
            rows = connection.execute(_READ_ONE, params).all()
        else:
            where = (
                OnlineRecord.feature_group == feature_group,
                OnlineRecord.record_id.in_(record_ids),
            )
            rows = connection.execute(select(*_READ_COLUMNS).where(*where)).all()
    return {row[0]: StoredRecord(*row) for row in rows}


def delete_group_records(db: Database, feature_group: str) -> None:
    """Drop a group's online records and pending offline rows (the group is being deleted)."""
    with db.session() as session:
        session.execute(delete(OnlineRecord).where(OnlineRecord.feature_group == feature_group))
        session.execute(
            delete(OfflinePendingRecord).where(OfflinePendingRecord.feature_group == feature_group)
        )


# -- the offline flusher's queue -------------------------------------------------------------


def offline_pending_groups(db: Database) -> list[str]:
    """Groups with pending offline rows."""
    with db.session() as session:
        column = OfflinePendingRecord.feature_group
        return list(session.execute(select(column).distinct().order_by(column)).scalars())


def claimed_offline_batches(db: Database, feature_group: str) -> list[int]:
    """Batches of ``feature_group`` claimed by a flush that did not finish, oldest first."""
    with db.session() as session:
        rows = session.execute(
            select(OfflinePendingRecord.batch, func.min(OfflinePendingRecord.id))
            .where(
                OfflinePendingRecord.feature_group == feature_group,
                OfflinePendingRecord.batch.is_not(None),
            )
            .group_by(OfflinePendingRecord.batch)
            .order_by(func.min(OfflinePendingRecord.id))
        ).all()
    return [int(batch) for batch, _ in rows if batch is not None]


def claim_offline_batch(db: Database, feature_group: str, limit: int) -> int | None:
    """Claim up to ``limit`` unclaimed rows (oldest first) as a new batch; its id, or ``None``
    when nothing is pending.

    The id is random rather than derived from row ids, so two flushers can never claim different
    rows under one id (and so never write different contents under one object name).
    """
    table = OfflinePendingRecord
    with db.session() as session:
        ids = (
            select(table.id)
            .where(table.feature_group == feature_group, table.batch.is_(None))
            .order_by(table.id)
            .limit(limit)
            .subquery()
        )
        low, high = session.execute(select(func.min(ids.c.id), func.max(ids.c.id))).one()
        if low is None:
            return None
        batch = secrets.randbits(63)
        claimed = session.execute(
            update(table)
            .where(
                table.feature_group == feature_group,
                table.batch.is_(None),
                table.id.between(low, high),
            )
            .values(batch=batch)
        )
        changed: int = claimed.rowcount  # type: ignore[attr-defined]
        return batch if changed else None


def read_offline_batch(db: Database, feature_group: str, batch: int) -> list[PendingRow]:
    """The rows of a claimed batch, in write order."""
    table = OfflinePendingRecord
    with db.engine.connect() as connection:
        rows = connection.execute(
            select(table.event_time, table.values, table.api_invocation_time, table.is_deleted)
            .where(table.feature_group == feature_group, table.batch == batch)
            .order_by(table.id)
        ).all()
    return [PendingRow(*row) for row in rows]


def delete_offline_batch(db: Database, feature_group: str, batch: int) -> int:
    """Forget a batch written to the lake (idempotent); how many rows went."""
    table = OfflinePendingRecord
    with db.session() as session:
        result = session.execute(
            delete(table).where(table.feature_group == feature_group, table.batch == batch)
        )
        deleted: int = result.rowcount  # type: ignore[attr-defined]
        return deleted
