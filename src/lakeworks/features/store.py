"""Tables of the feature store; nothing outside this module touches them.

``feature_groups`` holds each group's definition; ``feature_online_records`` is the online store:
the latest record per (group, record identifier), by event time. A soft delete keeps the row
with ``is_deleted`` set, so a late write older than the deletion stays ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, String, bindparam, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from lakeworks.db import Base, Database

__all__ = [
    "FeatureGroupRecord",
    "OnlineRecord",
    "OnlineWrite",
    "StoredRecord",
    "delete_group_records",
    "hard_delete_online",
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


def write_online(db: Database, write: OnlineWrite) -> bool:
    """Apply ``write`` unless the stored record is newer; whether it was applied."""
    for attempt in range(2):
        try:
            with db.session() as session:
                return _apply(session, write)
        except IntegrityError:
            if attempt:
                raise  # a concurrent first insert of the same id won; the retry updates it
    return False  # pragma: no cover - the loop returns or raises


def hard_delete_online(db: Database, feature_group: str, record_id: str) -> None:
    """Remove a record from the online store entirely (``HardDelete``)."""
    with db.session() as session:
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
    """Drop a group's online records (the group is being deleted)."""
    with db.session() as session:
        session.execute(delete(OnlineRecord).where(OnlineRecord.feature_group == feature_group))
