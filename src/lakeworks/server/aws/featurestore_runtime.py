"""SageMaker Feature Store Runtime (REST-JSON, signing name ``sagemaker``).

``PUT /FeatureGroup/{name}`` PutRecord, ``GET`` GetRecord (``RecordIdentifierValueAsString``,
repeated ``FeatureName``, ``ExpirationTimeResponse`` in the query), ``DELETE`` DeleteRecord
(``EventTime``, ``DeletionMode``, ``TargetStores``) and ``POST /BatchGetRecord``. It shares the
signing name with SageMaker Runtime; the registry tells them apart by these paths.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from starlette.concurrency import run_in_threadpool

from lakeworks.core.errors import ValidationError
from lakeworks.core.settings import Settings
from lakeworks.server.aws.protocol import Unsupported
from lakeworks.server.aws.request import AwsRequest
from lakeworks.server.aws.service import AwsCall, AwsService

__all__ = ["SERVICE"]

_GROUP = "/FeatureGroup/"
_ROUTES = {"PUT": "PutRecord", "GET": "GetRecord", "DELETE": "DeleteRecord"}


def _resolve(request: AwsRequest, settings: Settings) -> str:
    """The action a Feature Store Runtime request names."""
    path, method = request.raw_path, request.method
    if path.startswith(_GROUP) and "/" not in path[len(_GROUP) :] and method in _ROUTES:
        return _ROUTES[method]
    if path == "/BatchGetRecord" and method == "POST":
        return "BatchGetRecord"
    raise Unsupported(
        f"The Feature Store Runtime operation {method} {path} is not implemented by Lakeworks "
        "(supported: PutRecord, GetRecord, BatchGetRecord, DeleteRecord)"
    )


def _invalid(message: str) -> ValidationError:
    return ValidationError(message, aws_code="ValidationError")


def _group(call: AwsCall) -> str:
    return unquote(call.request.raw_path[len(_GROUP) :])


def _query(call: AwsCall, name: str, *, required: bool = True) -> str | None:
    values = [v for k, v in call.request.query_items if k == name]
    if not values:
        if required:
            raise _invalid(f"{name} is required")
        return None
    return values[-1]


def _expiry(value: Any) -> bool:
    if value not in (None, "Enabled", "Disabled"):
        raise _invalid(f"ExpirationTimeResponse must be Enabled or Disabled, got {value!r}")
    return bool(value == "Enabled")


def _list(body: dict[str, Any], name: str) -> list[str] | None:
    value = body.get(name)
    if value is not None and (
        not isinstance(value, list) or not all(isinstance(v, str) for v in value)
    ):
        raise _invalid(f"{name} must be a list of strings")
    return value


async def put_record(call: AwsCall) -> dict[str, Any]:
    """PutRecord (no output)."""
    body = await call.json_body()
    unknown = sorted(set(body) - {"Record", "TargetStores", "TtlDuration"})
    if unknown:
        raise _invalid(f"Unknown PutRecord parameters: {', '.join(unknown)}")
    ttl = body.get("TtlDuration")
    if ttl is not None and not isinstance(ttl, dict):
        raise _invalid("TtlDuration must be an object with Unit and Value")
    await run_in_threadpool(
        lambda: call.platform.features.put_record(
            call.ctx,
            _group(call),
            body.get("Record"),
            target_stores=_list(body, "TargetStores"),
            ttl=ttl,
        )
    )
    return {}


async def get_record(call: AwsCall) -> dict[str, Any]:
    """GetRecord: ``{"Record": [...]}``, or ``{}`` when there is no such record."""
    record_id = _query(call, "RecordIdentifierValueAsString")
    assert record_id is not None
    names = [v for k, v in call.request.query_items if k == "FeatureName"]
    expiry = _expiry(_query(call, "ExpirationTimeResponse", required=False))
    return await run_in_threadpool(
        lambda: call.platform.features.get_record(
            call.ctx, _group(call), record_id, feature_names=names or None, expiration_time=expiry
        )
    )


async def batch_get_record(call: AwsCall) -> dict[str, Any]:
    """BatchGetRecord: Records, Errors and (always empty) UnprocessedIdentifiers."""
    body = await call.json_body()
    expiry = _expiry(body.get("ExpirationTimeResponse"))
    return await run_in_threadpool(
        lambda: call.platform.features.batch_get_record(
            call.ctx, body.get("Identifiers"), expiration_time=expiry
        )
    )


async def delete_record(call: AwsCall) -> dict[str, Any]:
    """DeleteRecord (no output)."""
    record_id = _query(call, "RecordIdentifierValueAsString")
    event_time = _query(call, "EventTime")
    assert record_id is not None
    assert event_time is not None
    stores = [v for k, v in call.request.query_items if k == "TargetStores"]
    mode = _query(call, "DeletionMode", required=False) or "SoftDelete"
    await run_in_threadpool(
        lambda: call.platform.features.delete_record(
            call.ctx,
            _group(call),
            record_id,
            event_time,
            target_stores=stores or None,
            deletion_mode=mode,
        )
    )
    return {}


SERVICE = AwsService(
    name="sagemaker-featurestore-runtime",
    protocol="rest-json",
    signing_name="sagemaker",
    actions={
        "PutRecord": put_record,
        "GetRecord": get_record,
        "BatchGetRecord": batch_get_record,
        "DeleteRecord": delete_record,
    },
    resolve=_resolve,
    path_prefixes=(_GROUP, "/BatchGetRecord", "/BatchWriteRecord"),
)
