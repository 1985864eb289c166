"""Delivery streams (Kinesis Data Firehose compatible): the wire contract.

Field names are Firehose's, snake_cased. A stream takes records by direct put and delivers them,
buffered by size and interval, to an S3 destination in the lake.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Base64Bytes, Field

from lakeworks.schemas.common import RequestModel, ResponseModel

__all__ = [
    "DELIVERY_STREAM_NAME",
    "MAX_BATCH_BYTES",
    "MAX_BATCH_RECORDS",
    "MAX_RECORD_BYTES",
    "BufferingHints",
    "DataFormatConversion",
    "DeliveryStream",
    "DeliveryStreamCreate",
    "RecordsPut",
    "RecordsPutResult",
    "S3Destination",
    "SchemaConfiguration",
]

#: Firehose's stream names: 1-64 letters, digits, ``_``, ``.`` and ``-``.
DELIVERY_STREAM_NAME = r"^[a-zA-Z0-9_.-]{1,64}$"
#: Most records in one PutRecordBatch.
MAX_BATCH_RECORDS = 500
#: Largest record (1,000 KiB), before base64.
MAX_RECORD_BYTES = 1_024_000
#: Largest PutRecordBatch (4 MiB of record data).
MAX_BATCH_BYTES = 4 * 1024 * 1024


class BufferingHints(RequestModel):
    """When a buffer is delivered: at ``size_in_mbs`` MiB or ``interval_in_seconds``, first hit."""

    size_in_mbs: int = Field(5, ge=1, le=128)
    interval_in_seconds: int = Field(300, ge=0, le=900)


class SchemaConfiguration(RequestModel):
    """The catalog table whose columns give the Parquet schema."""

    database_name: str = Field(min_length=1, max_length=255)
    table_name: str = Field(min_length=1, max_length=255)


class DataFormatConversion(RequestModel):
    """Convert JSON records to Parquet with a catalog table's schema."""

    enabled: bool = True
    schema_configuration: SchemaConfiguration
    output_format: Literal["parquet"] = "parquet"


class S3Destination(RequestModel):
    """Where and how a stream delivers.

    ``prefix`` and ``error_output_prefix`` may hold ``!{timestamp:<pattern>}`` and
    ``!{firehose:random-string}`` expressions; ``error_output_prefix`` also
    ``!{firehose:error-output-type}``. A prefix without expressions gets ``YYYY/MM/DD/HH/``.
    """

    bucket_arn: str = Field(pattern=r"^arn:[^:]+:s3:::[A-Za-z0-9_.\-]{1,255}$")
    role_arn: str | None = Field(None, description="Kept for Firehose compatibility; not used")
    prefix: str = Field("", max_length=1024)
    error_output_prefix: str = Field("", max_length=1024)
    buffering_hints: BufferingHints = Field(default_factory=BufferingHints)
    compression_format: Literal["UNCOMPRESSED", "GZIP"] = "UNCOMPRESSED"
    data_format_conversion: DataFormatConversion | None = None

    @property
    def bucket(self) -> str:
        """The bucket name in ``bucket_arn``."""
        return self.bucket_arn.rsplit(":", 1)[1]


class DeliveryStreamCreate(RequestModel):
    """Create a delivery stream (direct put to an S3 destination)."""

    delivery_stream_name: str = Field(pattern=DELIVERY_STREAM_NAME)
    delivery_stream_type: Literal["DirectPut"] = "DirectPut"
    s3_destination: S3Destination
    extended: bool = Field(
        True, description="Configured as ExtendedS3Destination (else S3Destination)"
    )
    tags: dict[str, str] = Field(default_factory=dict)


class DeliveryStream(ResponseModel):
    """A delivery stream and its delivery progress."""

    delivery_stream_name: str
    delivery_stream_arn: str
    delivery_stream_status: Literal["CREATING", "ACTIVE", "DELETING"]
    delivery_stream_type: str = "DirectPut"
    version_id: str
    create_timestamp: datetime
    s3_destination: S3Destination
    extended: bool = True
    destination_id: str = "destinationId-000000000001"
    records_acknowledged: int = Field(0, description="Records durably accepted since creation")
    records_delivered: int = Field(0, description="Records written to the destination")
    failure_description: str | None = None


class RecordsPut(RequestModel):
    """Records to append to a stream (base64 in JSON), at most 500 and 4 MiB."""

    records: list[Base64Bytes] = Field(min_length=1)


class RecordsPutResult(ResponseModel):
    """The ids of the records appended, in order; all are on disk."""

    record_ids: list[str]
