"""Delivery streams (Kinesis Data Firehose): the operations every adapter calls, and the flusher.

:meth:`FirehoseService.put_record_batch` appends a request's records to the stream's
write-ahead log (:mod:`~lakeworks.lake.firehose.wal`) and answers once they are on disk. A
flusher thread delivers each stream's durable records when its buffer reaches ``size_in_mbs`` or
its oldest record is ``interval_in_seconds`` old (:mod:`~lakeworks.lake.firehose.delivery`),
then marks them delivered; on start every undelivered record is delivered again, exactly once.
A failed delivery (a missing bucket, say) is retried with backoff and shown by
:meth:`~FirehoseService.describe_delivery_stream` as ``failure_description``.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lakeworks.core.clock import utcnow
from lakeworks.core.context import RequestContext
from lakeworks.core.errors import AlreadyExists, LakeworksError, NotFound, ValidationError
from lakeworks.core.names import arn, validate_tags
from lakeworks.core.settings import Settings
from lakeworks.db import Database
from lakeworks.lake.catalog.service import CatalogService
from lakeworks.lake.firehose.convert import ParquetConverter
from lakeworks.lake.firehose.delivery import StreamRuntime, deliver, pending_deadline
from lakeworks.lake.firehose.prefixes import KeyLayout
from lakeworks.lake.firehose.store import DeliveryStreamRecord
from lakeworks.lake.firehose.wal import WriteAheadLog
from lakeworks.lake.service import LakeService
from lakeworks.schemas.firehose import (
    MAX_BATCH_BYTES,
    MAX_BATCH_RECORDS,
    MAX_RECORD_BYTES,
    DeliveryStream,
    DeliveryStreamCreate,
    S3Destination,
)

__all__ = ["FirehoseService"]

log = logging.getLogger("lakeworks.lake.firehose")

#: Longest wait between flusher passes, and the backoff bounds after a failed delivery.
_TICK = 1.0
_BACKOFF_MIN, _BACKOFF_MAX = 1.0, 60.0


def _not_found(name: str) -> NotFound:
    return NotFound(
        f"Firehose {name} under account is not found.", aws_code="ResourceNotFoundException"
    )


def record_id(stream_id: str, seq: int) -> str:
    """A record's id: unique across streams and stable for the record."""
    return f"{seq:024x}{stream_id}"


class FirehoseService:
    """Delivery streams, their logs and the flusher.

    Args:
        settings: The settings tree (home for the logs, account and region for ARNs).
        db: The metadata database.
        lake: Where streams deliver.
        catalog: Schema tables for Parquet conversion.
    """

    def __init__(
        self, settings: Settings, db: Database, lake: LakeService, catalog: CatalogService
    ) -> None:
        self.settings = settings
        self.db = db
        self.lake = lake
        self.catalog = catalog
        self.root = settings.home / "firehose"
        self._streams: dict[str, StreamRuntime] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        """Open every stream's log (replaying what was not delivered) and start the flusher."""
        self.root.mkdir(parents=True, exist_ok=True)
        with self.db.session() as session:
            records = list(session.scalars(select(DeliveryStreamRecord)))
        known = {r.stream_id for r in records}
        for orphan in self.root.iterdir():  # a stream deleted mid-way
            if orphan.is_dir() and orphan.name not in known:
                shutil.rmtree(orphan, ignore_errors=True)
        for record in records:
            self._runtime_of(record)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="firehose-flusher", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the flusher and close the logs; what is undelivered stays in them."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        with self._lock:
            runtimes, self._streams = list(self._streams.values()), {}
        for runtime in runtimes:
            runtime.wal.close()

    def _runtime_of(self, record: DeliveryStreamRecord) -> StreamRuntime:
        with self._lock:
            runtime = self._streams.get(record.name)
            if runtime is None or runtime.stream_id != record.stream_id:
                runtime = StreamRuntime(
                    name=record.name,
                    stream_id=record.stream_id,
                    version=str(record.version),
                    destination=S3Destination.model_validate(record.destination),
                    ctx=RequestContext(principal=record.principal, scopes=frozenset(record.scopes)),
                    wal=WriteAheadLog(self.root / record.stream_id),
                )
                self._streams[record.name] = runtime
            return runtime

    def _runtime(self, name: str) -> StreamRuntime:
        runtime = self._streams.get(name)
        if runtime is not None:
            return runtime
        with self.db.session() as session:
            record = session.get(DeliveryStreamRecord, name)
            if record is None:
                raise _not_found(name)
            session.expunge(record)
        return self._runtime_of(record)

    # -- streams ---------------------------------------------------------------------------------

    def create_delivery_stream(
        self, ctx: RequestContext, spec: DeliveryStreamCreate
    ) -> DeliveryStream:
        """Create a stream delivering to ``spec.s3_destination``.

        Raises:
            ResourceInUse: The name is taken (``ResourceInUseException``).
            NotFound: The destination bucket or the schema table does not exist.
            ValidationError: Bad prefixes, tags, or a conversion Lakeworks cannot do
                (``InvalidArgumentException``).
        """
        ctx.require("write")
        destination = spec.s3_destination
        KeyLayout(destination.prefix, destination.error_output_prefix)
        self.lake.describe_bucket(ctx, destination.bucket)
        conversion = destination.data_format_conversion
        if conversion is not None and conversion.enabled:
            if destination.compression_format != "UNCOMPRESSED":
                raise ValidationError(
                    "CompressionFormat must be UNCOMPRESSED when data format conversion is "
                    "enabled (Parquet compresses itself)",
                    aws_code="InvalidArgumentException",
                )
            schema = conversion.schema_configuration
            table = self.catalog.get_table(ctx, schema.database_name, schema.table_name)
            columns = table.storage_descriptor.columns if table.storage_descriptor else []
            ParquetConverter([(c.name, c.type) for c in columns])
        tags = validate_tags(spec.tags)
        record = DeliveryStreamRecord(
            name=spec.delivery_stream_name,
            stream_id=uuid.uuid4().hex,
            arn=arn(
                "firehose",
                f"deliverystream/{spec.delivery_stream_name}",
                account_id=self.settings.aws.account_id,
                region=self.settings.aws.region,
            ),
            destination=destination.model_dump(mode="json"),
            extended=spec.extended,
            tags=tags,
            version=1,
            principal=ctx.principal,
            scopes=sorted(ctx.scopes),
            create_time=utcnow(),
        )
        try:
            with self.db.session() as session:
                if session.get(DeliveryStreamRecord, record.name) is not None:
                    raise self._exists(record.name)
                session.add(record)
                session.flush()
                session.expunge(record)
        except IntegrityError:
            raise self._exists(record.name) from None
        runtime = self._runtime_of(record)
        return self._describe(record, runtime)

    @staticmethod
    def _exists(name: str) -> AlreadyExists:
        return AlreadyExists(
            f"Firehose {name} under account already exists.", aws_code="ResourceInUseException"
        )

    def _describe(self, record: DeliveryStreamRecord, runtime: StreamRuntime) -> DeliveryStream:
        return DeliveryStream(
            delivery_stream_name=record.name,
            delivery_stream_arn=record.arn,
            delivery_stream_status="ACTIVE",
            version_id=str(record.version),
            create_timestamp=record.create_time,
            s3_destination=S3Destination.model_validate(record.destination),
            extended=record.extended,
            records_acknowledged=runtime.wal.acknowledged,
            records_delivered=runtime.wal.delivered + 1,
            failure_description=runtime.failure,
        )

    def _record(self, name: str) -> DeliveryStreamRecord:
        with self.db.session() as session:
            record = session.get(DeliveryStreamRecord, name)
            if record is None:
                raise _not_found(name)
            session.expunge(record)
            return record

    def describe_delivery_stream(self, ctx: RequestContext, name: str) -> DeliveryStream:
        """A stream, with how many records it acknowledged and delivered.

        Raises:
            NotFound: No such stream (``ResourceNotFoundException``).
        """
        ctx.require("read")
        record = self._record(name)
        return self._describe(record, self._runtime_of(record))

    def list_delivery_streams(
        self, ctx: RequestContext, *, limit: int = 10, exclusive_start: str | None = None
    ) -> tuple[list[str], bool]:
        """Stream names in order after ``exclusive_start``, at most ``limit``; and whether more."""
        ctx.require("read")
        if not 1 <= limit <= 10000:
            raise ValidationError(
                "Limit must be between 1 and 10000", aws_code="InvalidArgumentException"
            )
        query = select(DeliveryStreamRecord.name).order_by(DeliveryStreamRecord.name)
        if exclusive_start:
            query = query.where(DeliveryStreamRecord.name > exclusive_start)
        with self.db.session() as session:
            names = list(session.scalars(query.limit(limit + 1)))
        return names[:limit], len(names) > limit

    def delete_delivery_stream(self, ctx: RequestContext, name: str) -> None:
        """Delete a stream and its log; records not yet delivered are delivered first if the
        destination takes them, else dropped (as Firehose does).

        Raises:
            NotFound: No such stream.
        """
        ctx.require("write")
        runtime = self._runtime(name)
        with self.db.session() as session:
            record = session.get(DeliveryStreamRecord, name)
            if record is not None:
                session.delete(record)
        with self._lock:
            self._streams.pop(name, None)
        try:
            self._flush(runtime, force=True)
        except LakeworksError as exc:
            log.warning("stream %s deleted with undelivered records: %s", name, exc)
        runtime.wal.close()
        shutil.rmtree(runtime.wal.directory, ignore_errors=True)

    # -- tags ------------------------------------------------------------------------------------

    def tag_delivery_stream(self, ctx: RequestContext, name: str, tags: dict[str, str]) -> None:
        """Add or replace tags (at most 50 in all).

        Raises:
            NotFound: No such stream.
            ValidationError: Bad keys or values, or too many tags.
        """
        ctx.require("write")
        with self.db.session() as session:
            record = session.get(DeliveryStreamRecord, name)
            if record is None:
                raise _not_found(name)
            record.tags = validate_tags({**record.tags, **tags})

    def untag_delivery_stream(self, ctx: RequestContext, name: str, keys: list[str]) -> None:
        """Remove tags by key (missing keys are ignored)."""
        ctx.require("write")
        with self.db.session() as session:
            record = session.get(DeliveryStreamRecord, name)
            if record is None:
                raise _not_found(name)
            record.tags = {k: v for k, v in record.tags.items() if k not in set(keys)}

    def list_tags(self, ctx: RequestContext, name: str) -> dict[str, str]:
        """A stream's tags."""
        ctx.require("read")
        return dict(self._record(name).tags)

    # -- records ---------------------------------------------------------------------------------

    def put_record_batch(
        self, ctx: RequestContext, name: str, records: Sequence[bytes]
    ) -> list[str]:
        """Append up to 500 records durably; their record ids, in order.

        The batch is all or nothing: it is acknowledged once every record is on disk, so no
        record fails alone (``FailedPutCount`` is 0).

        Raises:
            NotFound: No such stream (``ResourceNotFoundException``).
            ValidationError: No records, more than 500, a record over 1,000 KiB
                (``ValidationException``) or more than 4 MiB in all
                (``InvalidArgumentException``).
        """
        ctx.require("write")
        check_batch(records)
        runtime = self._runtime(name)
        first = runtime.wal.append(records, int(time.time() * 1000))
        hints = runtime.destination.buffering_hints
        if hints.interval_in_seconds == 0 or runtime.wal.pending_bytes >= hints.size_in_mbs << 20:
            self._wake.set()
        return [record_id(runtime.stream_id, first + i) for i in range(len(records))]

    def put_record(self, ctx: RequestContext, name: str, data: bytes) -> str:
        """Append one record durably; its id (see :meth:`put_record_batch`)."""
        return self.put_record_batch(ctx, name, [data])[0]

    # -- the flusher -----------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                runtimes = list(self._streams.values())
            deadline = time.time() + _TICK
            for runtime in runtimes:
                if self._stop.is_set():
                    return
                try:
                    due = self._flush(runtime)
                except Exception as exc:  # any failure: back off, keep the records, retry
                    self._failed(runtime, exc)
                    continue
                if due is not None:
                    deadline = min(deadline, due)
            self._wake.wait(max(0.0, deadline - time.time()))
            self._wake.clear()

    def _failed(self, runtime: StreamRuntime, exc: Exception) -> None:
        runtime.failures += 1
        runtime.failure = f"{type(exc).__name__}: {exc}"
        delay = min(_BACKOFF_MAX, _BACKOFF_MIN * 2 ** (runtime.failures - 1))
        runtime.next_attempt = time.monotonic() + delay
        runtime.converter = None  # the schema table may have changed
        log.warning("stream %s: delivery failed (retry in %.0fs): %s", runtime.name, delay, exc)

    def _flush(self, runtime: StreamRuntime, *, force: bool = False) -> float | None:
        """Deliver every due buffer of ``runtime``; when the next one falls due (epoch s)."""
        hints = runtime.destination.buffering_hints
        max_bytes = hints.size_in_mbs * 1024 * 1024
        if not force and time.monotonic() < runtime.next_attempt:
            return time.time() + (runtime.next_attempt - time.monotonic())
        with runtime.delivering:
            return self._deliver_due(runtime, max_bytes, hints.interval_in_seconds, force)

    def _deliver_due(
        self, runtime: StreamRuntime, max_bytes: int, interval: int, force: bool
    ) -> float | None:
        while True:
            due = pending_deadline(runtime.wal, interval)
            full = runtime.wal.pending_bytes >= max_bytes
            if due is None:
                return None
            if not (force or full or runtime.wal.inflight or due <= time.time()):
                return due
            batch = runtime.wal.next_batch(max_bytes)
            if batch is None:
                return None
            deliver(runtime, batch, self.lake, self.catalog)
            runtime.wal.mark_delivered(batch)
            runtime.failures, runtime.failure = 0, None

    def flush(self, ctx: RequestContext, name: str) -> DeliveryStream:
        """Deliver everything the stream holds now, regardless of its buffering hints."""
        ctx.require("write")
        runtime = self._runtime(name)
        self._flush(runtime, force=True)
        return self.describe_delivery_stream(ctx, name)


def check_batch(records: Sequence[bytes]) -> None:
    """Check a PutRecordBatch's limits (AWS's messages and codes).

    Raises:
        ValidationError: See :meth:`FirehoseService.put_record_batch`.
    """
    if not records:
        raise ValidationError(
            "1 validation error detected: Value at 'records' failed to satisfy constraint: "
            "Member must have length greater than or equal to 1"
        )
    if len(records) > MAX_BATCH_RECORDS:
        raise ValidationError(
            f"1 validation error detected: Value at 'records' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_BATCH_RECORDS} "
            f"(got {len(records)} records)"
        )
    total = 0
    for index, data in enumerate(records):
        if len(data) > MAX_RECORD_BYTES:
            raise ValidationError(
                f"1 validation error detected: Value at 'records.{index + 1}.member.data' "
                f"failed to satisfy constraint: Member must have length less than or equal to "
                f"{MAX_RECORD_BYTES} (the record has {len(data)} bytes)"
            )
        total += len(data)
    if total > MAX_BATCH_BYTES:
        raise ValidationError(
            f"Records size exceeds 4 MB limit ({total} bytes in {len(records)} records)",
            aws_code="InvalidArgumentException",
        )
