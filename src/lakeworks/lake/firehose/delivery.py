"""Delivering one batch of a stream's records to its S3 destination.

A batch is a range of the stream's write-ahead log. Its object name and key derive only from the
range and the records' arrival times, so delivering the same range twice (a replay after a crash)
overwrites the same object instead of adding a second one. With Parquet conversion, records that
do not convert go to the error prefix as Firehose's error documents, and the schema table's
location and partitions follow what was written.
"""

from __future__ import annotations

import gzip
import io
import json
import logging
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from lakeworks.core.context import RequestContext
from lakeworks.lake.catalog.formats import PARQUET_INPUT, PARQUET_OUTPUT, PARQUET_SERDE
from lakeworks.lake.catalog.service import CatalogService
from lakeworks.lake.firehose.convert import ParquetConverter, error_document
from lakeworks.lake.firehose.prefixes import KeyLayout, object_name
from lakeworks.lake.firehose.wal import Batch, LogRecord, WriteAheadLog
from lakeworks.lake.service import LakeService
from lakeworks.schemas.catalog import PartitionInput, SerDeInfo, StorageDescriptor, TableInput
from lakeworks.schemas.firehose import S3Destination

__all__ = ["StreamRuntime", "deliver"]

log = logging.getLogger("lakeworks.lake.firehose")


@dataclass
class StreamRuntime:
    """A live stream: its configuration, its log and its delivery state.

    Attributes:
        next_attempt: Monotonic time before which the flusher leaves the stream alone (backoff
            after a failed delivery).
        failure: The last delivery error, until a delivery succeeds.
    """

    name: str
    stream_id: str
    version: str
    destination: S3Destination
    ctx: RequestContext
    wal: WriteAheadLog
    layout: KeyLayout = field(init=False)
    next_attempt: float = 0.0
    failures: int = 0
    failure: str | None = None
    converter: ParquetConverter | None = None
    partitions: set[tuple[str, ...]] = field(default_factory=set)
    #: Held while delivering, so the flusher and an explicit flush never deliver twice.
    delivering: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.layout = KeyLayout(self.destination.prefix, self.destination.error_output_prefix)


def _put(lake: LakeService, runtime: StreamRuntime, key: str, body: bytes, kind: str) -> None:
    lake.put_object(
        runtime.ctx, runtime.destination.bucket, key, io.BytesIO(body), content_type=kind
    )


def deliver(
    runtime: StreamRuntime, batch: Batch, lake: LakeService, catalog: CatalogService
) -> list[str]:
    """Write ``batch`` to the destination; the keys written.

    Raises:
        LakeworksError: The lake or catalog refused (missing bucket, access); retried later.
    """
    when = datetime.fromtimestamp(batch.records[0].arrival_ms / 1000, UTC)
    token = uuid.uuid5(uuid.UUID(runtime.stream_id), f"{batch.first}-{batch.last}")
    name = object_name(runtime.name, runtime.version, when, token)
    destination = runtime.destination
    if destination.data_format_conversion is None or not destination.data_format_conversion.enabled:
        body = b"".join(r.data for r in batch.records)
        if destination.compression_format == "GZIP":
            key = runtime.layout.data_prefix(when, token) + name + ".gz"
            _put(lake, runtime, key, gzip.compress(body, mtime=0), "application/gzip")
        else:
            key = runtime.layout.data_prefix(when, token) + name
            _put(lake, runtime, key, body, "application/octet-stream")
        return [key]
    converter = runtime.converter or _converter(runtime, catalog)
    data, failed = converter.convert(batch.records)
    keys = []
    if data is not None:
        prefix = runtime.layout.data_prefix(when, token)
        _put(lake, runtime, prefix + name, data, "application/vnd.apache.parquet")
        _sync_partition(runtime, catalog, prefix)
        keys.append(prefix + name)
    if failed:
        keys.append(_write_errors(runtime, lake, failed, when, token, name))
    return keys


def _write_errors(
    runtime: StreamRuntime,
    lake: LakeService,
    failed: list[tuple[LogRecord, str]],
    when: datetime,
    token: uuid.UUID,
    name: str,
) -> str:
    error_type = "format-conversion-failed"
    lines = [
        json.dumps(error_document(record, "DataFormatConversion.MalformedData", message)) + "\n"
        for record, message in failed
    ]
    key = runtime.layout.error_prefix_for(when, token, error_type) + name
    _put(lake, runtime, key, "".join(lines).encode(), "application/json")
    log.info("stream %s: %d records failed conversion → %s", runtime.name, len(failed), key)
    return key


def _schema_table(runtime: StreamRuntime) -> tuple[str, str]:
    conversion = runtime.destination.data_format_conversion
    assert conversion is not None
    schema = conversion.schema_configuration
    return schema.database_name, schema.table_name


def _converter(runtime: StreamRuntime, catalog: CatalogService) -> ParquetConverter:
    """Build the converter from the schema table and point the table at the stream's data."""
    database, name = _schema_table(runtime)
    table = catalog.get_table(runtime.ctx, database, name)
    descriptor = table.storage_descriptor or StorageDescriptor()
    converter = ParquetConverter([(c.name, c.type) for c in descriptor.columns])
    location = f"s3://{runtime.destination.bucket}/{runtime.layout.static_prefix()}"
    if descriptor.location is None or descriptor.input_format != PARQUET_INPUT:
        spec = TableInput.model_validate(table.model_dump(include=set(TableInput.model_fields)))
        spec.storage_descriptor = descriptor.model_copy(
            update={
                "location": descriptor.location or location,
                "input_format": PARQUET_INPUT,
                "output_format": PARQUET_OUTPUT,
                "serde_info": SerDeInfo(
                    serialization_library=PARQUET_SERDE,
                    parameters={"serialization.format": "1"},
                ),
            }
        )
        spec.parameters = {**spec.parameters, "classification": "parquet"}
        catalog.update_table(runtime.ctx, database, spec)
    runtime.converter = converter
    return converter


def _sync_partition(runtime: StreamRuntime, catalog: CatalogService, prefix: str) -> None:
    """Register the partition an object landed in, for tables with partition keys.

    The key's ``name=value`` folders below the table location give the values, as Hive lays
    them out (``year=!{timestamp:yyyy}/month=!{timestamp:MM}/``).
    """
    database, name = _schema_table(runtime)
    table = catalog.get_table(runtime.ctx, database, name)
    keys = [k.name for k in table.partition_keys]
    location = (table.storage_descriptor.location if table.storage_descriptor else None) or ""
    if not keys or not location:
        return
    base = f"s3://{runtime.destination.bucket}/{prefix}"
    if not base.startswith(location.rstrip("/") + "/"):
        return
    pairs = [p.split("=", 1) for p in base[len(location.rstrip("/")) + 1 :].split("/") if p]
    found = {pair[0].lower(): pair[1] for pair in pairs if len(pair) == 2}
    if not all(k in found for k in keys):
        return
    values = tuple(found[k] for k in keys)
    if values in runtime.partitions:
        return
    folder = "/".join(f"{k}={v}" for k, v in zip(keys, values, strict=True))
    descriptor = (table.storage_descriptor or StorageDescriptor()).model_copy(
        update={"location": f"{location.rstrip('/')}/{folder}/"}
    )
    result = catalog.batch_create_partition(
        runtime.ctx,
        database,
        name,
        [PartitionInput(values=list(values), storage_descriptor=descriptor)],
    )
    if result.errors and "AlreadyExists" not in result.errors[0].error_detail.error_code:
        log.warning("stream %s: partition %s: %s", runtime.name, values, result.errors[0])
        return
    runtime.partitions.add(values)


def pending_deadline(wal: WriteAheadLog, interval_s: int) -> float | None:
    """Epoch seconds at which the oldest pending record's interval ends, or ``None``."""
    oldest = wal.oldest_pending_ms()
    return None if oldest is None else oldest / 1000 + interval_s
