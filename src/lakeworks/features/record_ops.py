"""Record operations of the feature store runtime: PutRecord, GetRecord, BatchGetRecord,
DeleteRecord. A mixin of :class:`~lakeworks.features.service.FeatureStoreService`.

Online semantics follow SageMaker: a write whose event time is older than the stored record's
is not applied online (it still lands in the offline store); a record past its expiry
(event time + TtlDuration) reads as absent; a soft delete hides the record until a write with a
later event time. Errors use the runtime's codes (``ValidationError``, ``ResourceNotFound``).
"""

from __future__ import annotations

import abc
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from lakeworks.core.clock import utcnow
from lakeworks.core.context import RequestContext
from lakeworks.core.errors import NotFound, ValidationError
from lakeworks.features import store
from lakeworks.features.records import parse_event_time, ttl_seconds
from lakeworks.features.store import OfflineWrite, OnlineWrite, StoredRecord

if TYPE_CHECKING:
    from lakeworks.db import Database
    from lakeworks.features.offline import OfflineStore
    from lakeworks.features.service import FeatureGroup

__all__ = ["STORES", "RecordOps"]

STORES = ("OnlineStore", "OfflineStore")
DeletionMode = Literal["SoftDelete", "HardDelete"]


def _invalid(message: str) -> ValidationError:
    return ValidationError(message, aws_code="ValidationError")


def _stores(target_stores: list[str] | None, group: FeatureGroup) -> tuple[bool, bool]:
    """Whether to write online and offline, from TargetStores and what the group has."""
    wanted = set(target_stores or STORES)
    bad = sorted(wanted - set(STORES))
    if bad:
        raise _invalid(f"TargetStores must name {' or '.join(STORES)}, got {', '.join(bad)}")
    for name, present in (("OnlineStore", group.online), ("OfflineStore", bool(group.offline))):
        if target_stores and name in wanted and not present:
            raise _invalid(f"TargetStores names {name}, which feature group {group.name} lacks")
    return group.online and "OnlineStore" in wanted, bool(
        group.offline
    ) and "OfflineStore" in wanted


def _iso(epoch: float) -> str:
    return (
        datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


class RecordOps(abc.ABC):
    """Runtime operations; the host class provides ``db``, ``offline`` and ``group``."""

    db: Database
    offline: OfflineStore

    @abc.abstractmethod
    def group(self, name_or_arn: str) -> FeatureGroup:
        """The feature group named ``name_or_arn``.

        Raises:
            NotFound: ``ResourceNotFound``: no such group.
        """

    def _offline_write(
        self, group: FeatureGroup, event_time: float, values: dict[str, str], deleted: bool
    ) -> OfflineWrite:
        return OfflineWrite(
            feature_group=group.name,
            event_time=event_time,
            values=values,
            api_invocation_time=time.time(),
            is_deleted=deleted,
        )

    def put_record(
        self,
        ctx: RequestContext,
        name_or_arn: str,
        record: Any,
        *,
        target_stores: list[str] | None = None,
        ttl: dict[str, Any] | None = None,
    ) -> None:
        """PutRecord: write a record to the group's stores.

        Raises:
            NotFound: ``ResourceNotFound``: no such group.
            ValidationError: ``ValidationError`` naming the bad feature or parameter.
        """
        ctx.require("write")
        group = self.group(name_or_arn)
        parsed = group.schema.parse(record)
        online, offline = _stores(target_stores, group)
        lifetime = ttl_seconds(ttl) if ttl is not None else group.ttl
        if ttl is not None and not online:
            raise _invalid("TtlDuration applies to the online store, which this write skips")
        queued = None
        if offline and group.offline is not None:
            queued = self._offline_write(group, parsed.event_time, parsed.values, deleted=False)
        # The offline row commits with the online upsert: durable once this returns.
        if online:
            store.write_online(
                self.db,
                OnlineWrite(
                    feature_group=group.name,
                    record_id=parsed.record_id,
                    event_time=parsed.event_time,
                    values=parsed.values,
                    expires_at=parsed.event_time + lifetime if lifetime else None,
                    is_deleted=False,
                    write_time=utcnow(),
                ),
                queued,
            )
        elif queued is not None:
            store.append_offline(self.db, queued)
        if queued is not None:
            self.offline.queued()

    def _visible(self, row: StoredRecord | None) -> StoredRecord | None:
        if row is None or row.is_deleted:
            return None
        if row.expires_at is not None and row.expires_at <= time.time():
            return None
        return row

    def _answer(
        self, group: FeatureGroup, row: StoredRecord, names: list[str] | None, expiry: bool
    ) -> dict[str, Any]:
        wanted = names if names else list(group.schema.types)
        record = [
            {"FeatureName": n, "ValueAsString": row.values[n]} for n in wanted if n in row.values
        ]
        answer: dict[str, Any] = {"Record": record}
        if expiry and row.expires_at is not None:
            answer["ExpiresAt"] = _iso(row.expires_at)
        return answer

    def _check_names(self, group: FeatureGroup, names: list[str] | None) -> None:
        unknown = [n for n in names or [] if n not in group.schema.types]
        if unknown:
            raise _invalid(
                f"Features {', '.join(unknown)} are not defined in feature group {group.name}; "
                f"defined: {', '.join(group.schema.types)}"
            )

    def _online_group(self, name_or_arn: str) -> FeatureGroup:
        group = self.group(name_or_arn)
        if not group.online:
            raise _invalid(f"Feature group {group.name} has no online store to read from")
        return group

    def get_record(
        self,
        ctx: RequestContext,
        name_or_arn: str,
        record_id: str,
        *,
        feature_names: list[str] | None = None,
        expiration_time: bool = False,
    ) -> dict[str, Any]:
        """GetRecord: the latest visible record, ``{}`` when none (as SageMaker answers).

        Raises:
            NotFound: ``ResourceNotFound``: no such group.
            ValidationError: Unknown feature names, or a group without online store.
        """
        ctx.require("read")
        group = self._online_group(name_or_arn)
        self._check_names(group, feature_names)
        row = store.read_online(self.db, group.name, [record_id]).get(record_id)
        visible = self._visible(row)
        if visible is None:
            return {}
        return self._answer(group, visible, feature_names, expiration_time)

    def batch_get_record(
        self, ctx: RequestContext, identifiers: Any, *, expiration_time: bool = False
    ) -> dict[str, Any]:
        """BatchGetRecord: records of several groups; a bad group or id is an entry of Errors.

        Raises:
            ValidationError: Malformed identifiers.
        """
        ctx.require("read")
        if not isinstance(identifiers, list) or not 1 <= len(identifiers) <= 10:
            raise _invalid("Identifiers must be a list of 1 to 10 BatchGetRecordIdentifier")
        records: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for item in identifiers:
            name = item.get("FeatureGroupName") if isinstance(item, dict) else None
            ids = item.get("RecordIdentifiersValueAsString") if isinstance(item, dict) else None
            if not isinstance(name, str) or not isinstance(ids, list) or not ids:
                raise _invalid(
                    "Each identifier needs FeatureGroupName and a non-empty "
                    "RecordIdentifiersValueAsString list"
                )
            names = item.get("FeatureNames")
            try:
                group = self._online_group(name)
                self._check_names(group, names)
            except (NotFound, ValidationError) as exc:
                errors += [
                    {
                        "FeatureGroupName": name,
                        "RecordIdentifierValueAsString": str(i),
                        "ErrorCode": exc.aws_code,
                        "ErrorMessage": exc.message,
                    }
                    for i in ids
                ]
                continue
            rows = store.read_online(self.db, group.name, [str(i) for i in ids])
            for record_id in ids:
                visible = self._visible(rows.get(str(record_id)))
                if visible is not None:
                    answer = self._answer(group, visible, names, expiration_time)
                    records.append(
                        {
                            "FeatureGroupName": group.name,
                            "RecordIdentifierValueAsString": str(record_id),
                            **answer,
                        }
                    )
        return {"Records": records, "Errors": errors, "UnprocessedIdentifiers": []}

    def delete_record(
        self,
        ctx: RequestContext,
        name_or_arn: str,
        record_id: str,
        event_time: str,
        *,
        target_stores: list[str] | None = None,
        deletion_mode: str = "SoftDelete",
    ) -> None:
        """DeleteRecord: soft (hidden until a later write) or hard (gone from the online store).

        The offline store gets a row with ``is_deleted`` set either way.

        Raises:
            NotFound: ``ResourceNotFound``: no such group.
            ValidationError: A bad event time, deletion mode or target store.
        """
        ctx.require("write")
        if deletion_mode not in ("SoftDelete", "HardDelete"):
            raise _invalid(f"DeletionMode must be SoftDelete or HardDelete, got {deletion_mode!r}")
        group = self.group(name_or_arn)
        schema = group.schema
        at = parse_event_time(event_time, schema.types[schema.event_time], schema.event_time)
        online, offline = _stores(target_stores, group)
        queued = None
        if offline and group.offline is not None:
            try:
                schema.typed(schema.record_identifier, record_id)
            except ValueError:
                raise _invalid(
                    f"RecordIdentifierValueAsString {record_id!r} does not fit the "
                    f"{schema.types[schema.record_identifier]} identifier"
                ) from None
            values = {schema.record_identifier: record_id, schema.event_time: event_time}
            queued = self._offline_write(group, at, values, deleted=True)
        if online and deletion_mode == "HardDelete":
            store.hard_delete_online(self.db, group.name, record_id, queued)
        elif online:
            store.write_online(
                self.db,
                OnlineWrite(
                    feature_group=group.name,
                    record_id=record_id,
                    event_time=at,
                    values={},
                    expires_at=None,
                    is_deleted=True,
                    write_time=utcnow(),
                ),
                queued,
            )
        elif queued is not None:
            store.append_offline(self.db, queued)
        if queued is not None:
            self.offline.queued()
