"""Bucket event notifications: configurations and the delivery history (the wire contract)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from lakeworks.schemas.common import RequestModel, ResponseModel

__all__ = [
    "EVENT_NAMES",
    "DeliveryInfo",
    "DeliveryStatus",
    "FilterRule",
    "LambdaFunctionConfiguration",
    "NotificationConfiguration",
    "WebhookConfiguration",
]

#: The S3 event types Lakeworks emits (and the wildcards that cover them).
EVENT_NAMES = (
    "s3:ObjectCreated:*",
    "s3:ObjectCreated:Put",
    "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload",
    "s3:ObjectRemoved:*",
    "s3:ObjectRemoved:Delete",
    "s3:ObjectRemoved:DeleteMarkerCreated",
)

#: Where a delivery stands: queued or retrying, sent, or out of attempts.
DeliveryStatus = Literal["Pending", "Delivered", "Failed"]


class FilterRule(RequestModel):
    """A key filter: the key must start (``prefix``) or end (``suffix``) with ``value``."""

    name: Literal["prefix", "suffix"]
    value: str = Field(max_length=1024)


class _Target(RequestModel):
    id: str | None = Field(None, max_length=256)
    events: list[str] = Field(min_length=1, max_length=len(EVENT_NAMES))
    filter_rules: list[FilterRule] = Field(default_factory=list, max_length=2)


class LambdaFunctionConfiguration(_Target):
    """Invoke a function (asynchronously, with the S3 event) for matching events."""

    lambda_function_arn: str = Field(min_length=1, max_length=256)


class WebhookConfiguration(_Target):
    """POST the S3 event as JSON to an HTTP(S) URL for matching events (native only)."""

    url: str = Field(pattern=r"^https?://", max_length=2048)


class NotificationConfiguration(RequestModel):
    """A bucket's whole notification configuration (replaced as a whole, as S3 does)."""

    lambda_function_configurations: list[LambdaFunctionConfiguration] = Field(
        default_factory=list, max_length=100
    )
    webhook_configurations: list[WebhookConfiguration] = Field(default_factory=list, max_length=100)


class DeliveryInfo(ResponseModel):
    """One queued delivery of an event (or an async function invocation) and its history."""

    delivery_id: str
    bucket: str | None
    target_type: str
    target: str
    status: DeliveryStatus
    attempts: int
    max_attempts: int
    next_attempt_time: datetime | None
    creation_time: datetime
    last_error: str | None = None
    history: list[dict[str, Any]] = Field(default_factory=list)
    payload: dict[str, Any] = Field(default_factory=dict)
