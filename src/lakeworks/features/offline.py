"""The offline store: every write appended to Parquet in the lake, in SageMaker's layout.

Rows are buffered in memory per feature group and written by a background thread every
``features.offline_flush_seconds`` (sooner when ``features.offline_flush_rows`` are waiting),
one Parquet file per hour of event time, under
``<S3Uri>/<account>/sagemaker/<region>/offline-store/<group>-<ts>/data/year=YYYY/month=MM/
day=DD/hour=HH/<YYYYMMDDTHHMMSSZ>_<id>.parquet``. Each row carries the features plus
``write_time``, ``api_invocation_time`` and ``is_deleted``, as in AWS. A new hour partition is
added to the group's catalog table, so Athena SQL sees it.

Rows still buffered when the server dies are lost (as with AWS, the offline store is eventually
consistent; the online store is the system of record for the latest values).
"""

from __future__ import annotations

import io
import logging
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from lakeworks.core.clock import utcnow
from lakeworks.core.context import RequestContext
from lakeworks.core.errors import LakeworksError
from lakeworks.features.records import FeatureSchema
from lakeworks.lake.catalog.service import CatalogService
from lakeworks.lake.service import LakeService, parse_s3_uri
from lakeworks.schemas.catalog import PartitionInput

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
#: Buffered rows past which the oldest are dropped while the lake refuses writes.
_MAX_BUFFERED = 1_000_000


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


@dataclass
class _Pending:
    target: OfflineTarget
    rows: list[tuple[float, dict[str, Any]]] = field(default_factory=list)


class OfflineStore:
    """The buffer and writer of every group's offline rows.

    Args:
        lake: Where Parquet files are written.
        catalog: Where partitions are registered.
        interval: Seconds between flushes.
        max_rows: Buffered rows that trigger a flush before the interval ends.
    """

    def __init__(
        self, lake: LakeService, catalog: CatalogService, interval: float, max_rows: int
    ) -> None:
        self.lake = lake
        self.catalog = catalog
        self.interval = interval
        self.max_rows = max_rows
        self.ctx = RequestContext.system()
        self._pending: dict[str, _Pending] = {}
        self._count = 0
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._known: dict[str, set[tuple[str, ...]]] = {}
        #: Group → why its last flush failed (cleared by the next success).
        self.blocked: dict[str, str] = {}

    def start(self) -> None:
        """Start the background flusher."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run, name="feature-offline-flush", daemon=True
            )
            self._thread.start()

    def close(self) -> None:
        """Stop the flusher after writing what is buffered."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        self.flush()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # the thread must outlive one bad flush
                log.exception("offline store flush failed")

    def append(self, target: OfflineTarget, event_time: float, row: dict[str, Any]) -> None:
        """Buffer one row (typed values, ``api_invocation_time`` and ``is_deleted`` set)."""
        with self._lock:
            pending = self._pending.get(target.name)
            if pending is None:
                pending = self._pending[target.name] = _Pending(target)
            pending.target = target  # the latest definition (features may have been added)
            pending.rows.append((event_time, row))
            self._count += 1
            full = self._count >= self.max_rows
        if full:
            self._wake.set()

    def discard(self, name: str) -> None:
        """Forget a group's buffered rows (the group is deleted)."""
        with self._lock:
            pending = self._pending.pop(name, None)
            if pending is not None:
                self._count -= len(pending.rows)
        self._known.pop(name, None)
        self.blocked.pop(name, None)

    def flush(self, name: str | None = None) -> int:
        """Write buffered rows now (of one group, or of all); the number written."""
        with self._flush_lock:
            with self._lock:
                names = [name] if name is not None else list(self._pending)
                taken = [self._pending.pop(n) for n in names if n in self._pending]
                self._count -= sum(len(p.rows) for p in taken)
            written = 0
            for pending in taken:
                try:
                    written += self._write(pending)
                    self.blocked.pop(pending.target.name, None)
                except LakeworksError as exc:
                    self._requeue(pending, exc.message)
                except OSError as exc:
                    self._requeue(pending, str(exc))
            return written

    def _requeue(self, pending: _Pending, reason: str) -> None:
        name = pending.target.name
        log.error("offline store of %s not written (kept for retry): %s", name, reason)
        self.blocked[name] = reason
        with self._lock:
            current = self._pending.setdefault(name, _Pending(pending.target))
            current.rows[:0] = pending.rows
            self._count += len(pending.rows)
            overflow = len(current.rows) - _MAX_BUFFERED
            if overflow > 0:
                del current.rows[:overflow]
                self._count -= overflow

    def _write(self, pending: _Pending) -> int:
        target = pending.target
        schema = arrow_schema(target.schema)
        now = utcnow().replace(tzinfo=None)
        by_hour: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for event_time, row in pending.rows:
            at = datetime.fromtimestamp(event_time, UTC)
            key = (f"{at.year:04d}", f"{at.month:02d}", f"{at.day:02d}", f"{at.hour:02d}")
            by_hour.setdefault(key, []).append({**row, "write_time": now})
        bucket, prefix = parse_s3_uri(target.uri)
        stamp = now.strftime("%Y%m%dT%H%M%SZ")
        new_partitions: list[tuple[str, ...]] = []
        known = self._known.setdefault(target.name, set())
        for values, rows in by_hour.items():
            table = pa.Table.from_pylist(rows, schema=schema)
            buffer = io.BytesIO()
            pq.write_table(table, buffer, compression="snappy")
            buffer.seek(0)
            path = "/".join(f"{k}={v}" for k, v in zip(PARTITION_KEYS, values, strict=True))
            name = f"{prefix.rstrip('/')}/{path}/{stamp}_{uuid.uuid4().hex[:16]}.parquet"
            self.lake.put_object(
                self.ctx, bucket, name, buffer, content_type="application/octet-stream"
            )
            if values not in known:
                new_partitions.append(values)
        if target.database and target.table and new_partitions:
            self._register(target, new_partitions)
        known.update(new_partitions)
        return len(pending.rows)

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
