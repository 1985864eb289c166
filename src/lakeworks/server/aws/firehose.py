"""Amazon Data Firehose (JSON 1.1, ``Firehose_20150804``): delivery streams to the lake.

CreateDeliveryStream (DirectPut to an S3 or extended S3 destination), DescribeDeliveryStream,
ListDeliveryStreams, DeleteDeliveryStream, PutRecord, PutRecordBatch and stream tags, each a thin
mapping onto :class:`~lakeworks.lake.firehose.service.FirehoseService`. Record data arrives
base64-encoded, as the JSON protocol sends blobs.
"""

from __future__ import annotations

import binascii
import json
from typing import Any

from pydantic import ValidationError as PydanticValidationError
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from lakeworks.core.errors import ValidationError
from lakeworks.schemas.firehose import (
    DeliveryStream,
    DeliveryStreamCreate,
    S3Destination,
)
from lakeworks.server.aws.glue import aws_int, aws_str
from lakeworks.server.aws.service import AwsCall, AwsService

__all__ = ["SERVICE"]

_DESTINATIONS = ("ExtendedS3DestinationConfiguration", "S3DestinationConfiguration")


def _invalid(message: str) -> ValidationError:
    return ValidationError(message, aws_code="InvalidArgumentException")


def _name(params: dict[str, Any]) -> str:
    value = aws_str(params, "DeliveryStreamName")
    assert value is not None
    return value


def _destination(config: dict[str, Any]) -> dict[str, Any]:
    """Firehose's destination configuration in the native schema's names."""
    out: dict[str, Any] = {
        "bucket_arn": config.get("BucketARN"),
        "role_arn": config.get("RoleARN"),
        "prefix": config.get("Prefix") or "",
        "error_output_prefix": config.get("ErrorOutputPrefix") or "",
        "compression_format": config.get("CompressionFormat") or "UNCOMPRESSED",
    }
    hints = config.get("BufferingHints")
    if isinstance(hints, dict):
        out["buffering_hints"] = {
            k: v
            for k, v in (
                ("size_in_mbs", hints.get("SizeInMBs")),
                ("interval_in_seconds", hints.get("IntervalInSeconds")),
            )
            if v is not None
        }
    conversion = config.get("DataFormatConversionConfiguration")
    if isinstance(conversion, dict) and conversion.get("Enabled", True):
        serializer = (conversion.get("OutputFormatConfiguration") or {}).get("Serializer") or {}
        if "OrcSerDe" in serializer:
            raise _invalid("Lakeworks converts records to Parquet only (ParquetSerDe), not ORC")
        schema = conversion.get("SchemaConfiguration") or {}
        out["data_format_conversion"] = {
            "schema_configuration": {
                "database_name": schema.get("DatabaseName"),
                "table_name": schema.get("TableName"),
            }
        }
    return out


async def create_delivery_stream(call: AwsCall) -> dict[str, Any]:
    """CreateDeliveryStream."""
    params = call.params
    kind = params.get("DeliveryStreamType") or "DirectPut"
    if kind != "DirectPut":
        raise _invalid(f"DeliveryStreamType {kind!r} is not supported; Lakeworks takes DirectPut")
    present = [k for k in params if k.endswith("DestinationConfiguration")]
    unsupported = [k for k in present if k not in _DESTINATIONS]
    if unsupported or len(present) != 1:
        raise _invalid(
            "Exactly one destination is required, ExtendedS3DestinationConfiguration or "
            f"S3DestinationConfiguration; got {present or 'none'}"
        )
    config = params[present[0]]
    if not isinstance(config, dict):
        raise _invalid(f"{present[0]} must be an object")
    tags = params.get("Tags") or []
    try:
        spec = DeliveryStreamCreate(
            delivery_stream_name=params.get("DeliveryStreamName"),
            s3_destination=S3Destination.model_validate(_destination(config)),
            extended=present[0] == _DESTINATIONS[0],
            tags={t.get("Key"): t.get("Value", "") for t in tags if isinstance(t, dict)},
        )
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise _invalid(f"{where}: {first['msg']}") from None
    stream = await run_in_threadpool(call.platform.firehose.create_delivery_stream, call.ctx, spec)
    return {"DeliveryStreamARN": stream.delivery_stream_arn}


def _destination_description(stream: DeliveryStream) -> dict[str, Any]:
    dest = stream.s3_destination
    out: dict[str, Any] = {
        "RoleARN": dest.role_arn or "",
        "BucketARN": dest.bucket_arn,
        "Prefix": dest.prefix,
        "ErrorOutputPrefix": dest.error_output_prefix,
        "BufferingHints": {
            "SizeInMBs": dest.buffering_hints.size_in_mbs,
            "IntervalInSeconds": dest.buffering_hints.interval_in_seconds,
        },
        "CompressionFormat": dest.compression_format,
        "EncryptionConfiguration": {"NoEncryptionConfig": "NoEncryption"},
    }
    if not stream.extended:
        return {"S3DestinationDescription": out}
    conversion = dest.data_format_conversion
    if conversion is not None:
        out["DataFormatConversionConfiguration"] = {
            "Enabled": conversion.enabled,
            "SchemaConfiguration": {
                "DatabaseName": conversion.schema_configuration.database_name,
                "TableName": conversion.schema_configuration.table_name,
            },
            "InputFormatConfiguration": {"Deserializer": {"OpenXJsonSerDe": {}}},
            "OutputFormatConfiguration": {"Serializer": {"ParquetSerDe": {}}},
        }
    return {"ExtendedS3DestinationDescription": out}


async def describe_delivery_stream(call: AwsCall) -> dict[str, Any]:
    """DescribeDeliveryStream."""
    name = _name(call.params)
    stream = await run_in_threadpool(
        call.platform.firehose.describe_delivery_stream, call.ctx, name
    )
    description: dict[str, Any] = {
        "DeliveryStreamName": stream.delivery_stream_name,
        "DeliveryStreamARN": stream.delivery_stream_arn,
        "DeliveryStreamStatus": stream.delivery_stream_status,
        "DeliveryStreamType": stream.delivery_stream_type,
        "VersionId": stream.version_id,
        "CreateTimestamp": stream.create_timestamp,
        "Destinations": [
            {"DestinationId": stream.destination_id, **_destination_description(stream)}
        ],
        "HasMoreDestinations": False,
        "DeliveryStreamEncryptionConfiguration": {"Status": "DISABLED"},
    }
    if stream.failure_description:
        description["FailureDescription"] = {
            "Type": "S3_DELIVERY_FAILED" if "S3" in stream.failure_description else "UNKNOWN_ERROR",
            "Details": stream.failure_description,
        }
    return {"DeliveryStreamDescription": description}


async def list_delivery_streams(call: AwsCall) -> dict[str, Any]:
    """ListDeliveryStreams (only DirectPut streams exist)."""
    params = call.params
    limit = aws_int(params, "Limit", 10)
    start = aws_str(params, "ExclusiveStartDeliveryStreamName", required=False)
    kind = params.get("DeliveryStreamType")
    if kind not in (None, "DirectPut"):
        return {"DeliveryStreamNames": [], "HasMoreDeliveryStreams": False}
    names, more = await run_in_threadpool(
        lambda: call.platform.firehose.list_delivery_streams(
            call.ctx, limit=limit, exclusive_start=start
        )
    )
    return {"DeliveryStreamNames": names, "HasMoreDeliveryStreams": more}


async def delete_delivery_stream(call: AwsCall) -> dict[str, Any]:
    """DeleteDeliveryStream."""
    name = _name(call.params)
    await run_in_threadpool(call.platform.firehose.delete_delivery_stream, call.ctx, name)
    return {}


def _data(record: Any, index: int) -> bytes:
    if not isinstance(record, dict) or not isinstance(record.get("Data"), str):
        raise ValidationError(
            f"1 validation error detected: Value at 'records.{index}.member.data' failed to "
            "satisfy constraint: Member must not be null (Data is a base64 blob)"
        )
    try:
        # base64.b64decode(validate=True) without its wrapper: up to 500 of these per request
        return binascii.a2b_base64(record["Data"], strict_mode=True)
    except (binascii.Error, ValueError):
        raise ValidationError(
            f"Record {index}: Data is not valid base64", aws_code="SerializationException"
        ) from None


async def put_record(call: AwsCall) -> dict[str, Any]:
    """PutRecord: acknowledged once the record is in the stream's write-ahead log on disk."""
    name = _name(call.params)
    data = _data(call.params.get("Record"), 1)
    record_id = await run_in_threadpool(call.platform.firehose.put_record, call.ctx, name, data)
    return {"RecordId": record_id, "Encrypted": False}


async def put_record_batch(call: AwsCall) -> Response:
    """PutRecordBatch: up to 500 records, 4 MiB; one fsync for the whole request."""
    name = _name(call.params)
    records = call.params.get("Records")
    if not isinstance(records, list):
        raise ValidationError(
            "1 validation error detected: Value at 'records' failed to satisfy constraint: "
            "Member must not be null"
        )
    firehose = call.platform.firehose

    def put() -> list[str]:
        blobs = [_data(record, i + 1) for i, record in enumerate(records)]
        return firehose.put_record_batch(call.ctx, name, blobs)

    ids = await run_in_threadpool(put)
    body = {
        "FailedPutCount": 0,
        "Encrypted": False,
        "RequestResponses": [{"RecordId": i} for i in ids],
    }
    return Response(
        json.dumps(body).encode(),
        headers={"x-amzn-RequestId": call.ctx.request_id},
        media_type="application/x-amz-json-1.1",
    )


async def tag_delivery_stream(call: AwsCall) -> dict[str, Any]:
    """TagDeliveryStream."""
    name = _name(call.params)
    tags = call.params.get("Tags")
    if not isinstance(tags, list) or not all(isinstance(t, dict) and "Key" in t for t in tags):
        raise _invalid("Tags must be a list of {Key, Value}")
    pairs = {str(t["Key"]): str(t.get("Value", "")) for t in tags}
    await run_in_threadpool(call.platform.firehose.tag_delivery_stream, call.ctx, name, pairs)
    return {}


async def untag_delivery_stream(call: AwsCall) -> dict[str, Any]:
    """UntagDeliveryStream."""
    name = _name(call.params)
    keys = call.params.get("TagKeys")
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise _invalid("TagKeys must be a list of strings")
    await run_in_threadpool(call.platform.firehose.untag_delivery_stream, call.ctx, name, keys)
    return {}


async def list_tags_for_delivery_stream(call: AwsCall) -> dict[str, Any]:
    """ListTagsForDeliveryStream (sorted by key)."""
    name = _name(call.params)
    start = aws_str(call.params, "ExclusiveStartTagKey", required=False)
    limit = aws_int(call.params, "Limit", 50)
    tags = await run_in_threadpool(call.platform.firehose.list_tags, call.ctx, name)
    keys = [k for k in sorted(tags) if start is None or k > start]
    return {
        "Tags": [{"Key": k, "Value": tags[k]} for k in keys[:limit]],
        "HasMoreTags": len(keys) > limit,
    }


SERVICE = AwsService(
    name="firehose",
    protocol="json",
    signing_name="firehose",
    target_prefix="Firehose_20150804",
    actions={
        "CreateDeliveryStream": create_delivery_stream,
        "DescribeDeliveryStream": describe_delivery_stream,
        "ListDeliveryStreams": list_delivery_streams,
        "DeleteDeliveryStream": delete_delivery_stream,
        "PutRecord": put_record,
        "PutRecordBatch": put_record_batch,
        "TagDeliveryStream": tag_delivery_stream,
        "UntagDeliveryStream": untag_delivery_stream,
        "ListTagsForDeliveryStream": list_tags_for_delivery_stream,
    },
)
