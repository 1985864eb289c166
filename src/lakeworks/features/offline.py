"""The offline store: every write appended to Parquet in the lake, in SageMaker's layout.

Rows wait in the metadata database (``feature_offline_pending``, inserted in the transaction of
the write's online upsert, so an acknowledged write survives a crash) and a background thread
writes them every ``features.offline_flush_seconds`` (sooner when ``features.offline_flush_rows``
are waiting), one Parquet file per hour of event time and flush batch, under
``<S3Uri>/<account>/sagemaker/<region>/offline-store/<group>-<ts>/data/year=YYYY/month=MM/
day=DD/hour=HH/<YYYYMMDDTHHMMSSZ>_<id>.parquet``. Each row carries the features plus
``write_time``, ``api_invocation_time`` and ``is_deleted``, as in AWS. A new hour partition is
added to the group's catalog table, so Athena SQL sees it.

A flush claims a batch of pending rows, writes its files and then deletes the batch. File names
derive from the batch (``<time>`` is its first row's arrival, ``<id>`` its id), so a batch
written again after a crash or a refused write overwrites what was written before: each row lands
exactly once. Pending rows left by a dead server are written when the next one starts.
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from lakeworks.core.clock import utcnow
from lakeworks.core.context import RequestContext
from lakeworks.core.errors import LakeworksError
from lakeworks.features import store
from lakeworks.features.records import FeatureSchema
from lakeworks.lake.catalog.service import CatalogService
from lakeworks.lake.service import LakeService, parse_s3_uri
from lakeworks.schemas.catalog import PartitionInput

if TYPE_CHECKING:
    from lakeworks.db import Database

__all__ = ["ARROW_TYPES", "GLUE_TYPES", "OfflineStore", "OfflineTarget", "arrow_schema"]

log = logging.getLogger("lakeworks.features")

#: Feature type → Parquet/Arrow type and Glue column type.
ARROW_TYPES: dict[str, pa.DataType] = {
    "Integral": pa.int64(),
    "Fractional": pa.float64(),
    "String": pa.string(),
}
GLUE_TYPES = {"Integral": "bigint", "Fractional": "double", "String": "string"}
PARTITION_KEYS = ("year", "month", "day", "hour")


def arrow_schema(schema: FeatureSchema) -> pa.Schema:
    """The Parquet schema of a group's offline files."""
    fields = [pa.field(name, ARROW_TYPES[kind]) for name, kind in schema.types.items()]
    fields += [
        pa.field("write_time", pa.timestamp("us")),
        pa.field("api_invocation_time", pa.timestamp("us")),
        pa.field("is_deleted", pa.bool_()),
    ]
    return pa.schema(fields)


@dataclass
class OfflineTarget:
    """Where one group's offline rows go.

    Attributes:
        name: The feature group.
        schema: Its features.
        uri: ``s3://…/data`` (partitions go below it).
        database: Catalog database of its table, or ``None`` when no table was created.
        table: The catalog table.
    """

    name: str
    schema: FeatureSchema
    uri: str
    database: str | None = None
    table: str | None = None


def _naive(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None)


class OfflineStore:
    """The writer of every group's pending offline rows.

    Args:
        db: The metadata database holding pending rows.
        lake: Where Parquet files are written.
        catalog: Where partitions are registered.
        targets: A group's offline target by name; ``None`` when the group is gone or has no
            offline store (its pending rows are then dropped).
        interval: Seconds between flushes.
        max_rows: Pending rows that trigger a flush before the interval ends (also the most rows
            one batch holds).
    """

    def __init__(
        self,
        db: Database,
        lake: LakeService,
        catalog: CatalogService,
        targets: Callable[[str], OfflineTarget | None],
        interval: float,
        max_rows: int,
    ) -> None:
        self.db = db
        self.lake = lake
        self.catalog = catalog
        self.targets = targets
        self.interval = interval
        self.max_rows = max_rows
        self.ctx = RequestContext.system()
        self._count = 0  # rows queued since the last flush began (a trigger, not a ledger)
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._known: dict[str, set[tuple[str, ...]]] = {}
        #: Group → why its last flush failed (cleared by the next success).
        self.blocked: dict[str, str] = {}

    def start(self) -> None:
        """Start the background flusher; it first writes rows a previous server left pending."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run, name="feature-offline-flush", daemon=True
            )
            self._thread.start()

    def close(self) -> None:
        """Stop the flusher after writing what is pending."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        self.flush()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.flush()
            except Exception:  # the thread must outlive one bad flush
                log.exception("offline store flush failed")
            self._wake.wait(self.interval)
            self._wake.clear()

    def queued(self, rows: int = 1) -> None:
        """Note ``rows`` durably queued (by the store, with their write's transaction)."""
        with self._lock:
            self._count += rows
            full = self._count >= self.max_rows
        if full:
            self._wake.set()

    def flush(self, name: str | None = None) -> int:
        """Write pending rows now (of one group, or of all); the number written."""
        with self._flush_lock:
            with self._lock:
                self._count = 0
            names = [name] if name is not None else store.offline_pending_groups(self.db)
            return sum(self._flush_group(n) for n in names)

    def _flush_group(self, name: str) -> int:
        target = self.targets(name)
        written = 0
        batches = store.claimed_offline_batches(self.db, name)
        while True:
            batch = (
                batches.pop(0)
                if batches
                else store.claim_offline_batch(self.db, name, self.max_rows)
            )
            if batch is None:
                return written
            rows = store.read_offline_batch(self.db, name, batch)
            if not rows:
                continue  # deleted meanwhile (the group went)
            if target is None:
                log.warning("dropping %d offline rows of %s: no offline store", len(rows), name)
            else:
                try:
                    self._write(target, batch, rows)
                except (LakeworksError, OSError, ValueError) as exc:
                    reason = exc.message if isinstance(exc, LakeworksError) else str(exc)
                    log.error("offline store of %s not written (kept for retry): %s", name, reason)
                    self.blocked[name] = reason
                    return written
                self.blocked.pop(name, None)
                written += len(rows)
            store.delete_offline_batch(self.db, name, batch)

    def discard(self, name: str) -> None:
        """Forget what is known of a group (it is deleted; its pending rows go with its records)."""
        self._known.pop(name, None)
        self.blocked.pop(name, None)

    def _write(self, target: OfflineTarget, batch: int, rows: list[store.PendingRow]) -> None:
        schema = arrow_schema(target.schema)
        types = target.schema.types
        now = utcnow().replace(tzinfo=None)
        by_hour: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for pending in rows:
            at = datetime.fromtimestamp(pending.event_time, UTC)
            hour = (f"{at.year:04d}", f"{at.month:02d}", f"{at.day:02d}", f"{at.hour:02d}")
            row: dict[str, Any] = {n: target.schema.typed(n, pending.values.get(n)) for n in types}
            row["write_time"] = now
            row["api_invocation_time"] = _naive(pending.api_invocation_time)
            row["is_deleted"] = pending.is_deleted
            by_hour.setdefault(hour, []).append(row)
        bucket, prefix = parse_s3_uri(target.uri)
        # Both parts of the name come from the batch, so writing it again overwrites.
        stamp = _naive(rows[0].api_invocation_time).strftime("%Y%m%dT%H%M%SZ")
        new_partitions: list[tuple[str, ...]] = []
        known = self._known.setdefault(target.name, set())
        for values, hour_rows in by_hour.items():
            table = pa.Table.from_pylist(hour_rows, schema=schema)
            buffer = io.BytesIO()
            pq.write_table(table, buffer, compression="snappy")
            buffer.seek(0)
            path = "/".join(f"{k}={v}" for k, v in zip(PARTITION_KEYS, values, strict=True))
            key = f"{prefix.rstrip('/')}/{path}/{stamp}_{batch:016x}.parquet"
            self.lake.put_object(
                self.ctx, bucket, key, buffer, content_type="application/octet-stream"
            )
            if values not in known:
                new_partitions.append(values)
        if target.database and target.table and new_partitions:
            self._register(target, new_partitions)
        known.update(new_partitions)

    def _register(self, target: OfflineTarget, partitions: list[tuple[str, ...]]) -> None:
        assert target.database is not None
        assert target.table is not None
        for start in range(0, len(partitions), 100):
            specs = [PartitionInput(values=list(v)) for v in partitions[start : start + 100]]
            result = self.catalog.batch_create_partition(
                self.ctx, target.database, target.table, specs
            )
            for error in result.errors:
                if error.error_detail.error_code != "AlreadyExistsException":
                    log.warning(
                        "partition %s of %s.%s not registered: %s",
                        error.partition_values,
                        target.database,
                        target.table,
                        error.error_detail.error_message,
                    )
