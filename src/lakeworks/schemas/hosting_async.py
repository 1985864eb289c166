"""Wire shapes of asynchronous inference (the native face of ``InvokeEndpointAsync``).

Field names are snake_case natively with SageMaker's names accepted as aliases, as in
:mod:`lakeworks.schemas.hosting`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from lakeworks.schemas.training import AwsRequestModel as RequestModel
from lakeworks.schemas.training import AwsResponseModel as ResponseModel

__all__ = ["AsyncInvocationAccepted", "AsyncInvocationCreate", "AsyncInvocationInfo"]


class AsyncInvocationCreate(RequestModel):
    """Queue one async invocation of an endpoint whose config has an AsyncInferenceConfig."""

    input_location: str = Field(
        min_length=1, max_length=1024, description="s3:// URI of the request payload"
    )
    content_type: str | None = Field(None, max_length=1024)
    accept: str | None = Field(None, max_length=1024)
    custom_attributes: str | None = Field(None, max_length=1024)
    inference_id: str | None = Field(None, min_length=1, max_length=64)
    request_ttl_seconds: int | None = Field(
        None, ge=60, le=21_600, alias="RequestTTLSeconds", description="Default 21,600 (6 h)"
    )
    invocation_timeout_seconds: int | None = Field(
        None, ge=1, le=3_600, description="Default 900 (15 min)"
    )


class AsyncInvocationAccepted(ResponseModel):
    """Where the result of a queued invocation will be."""

    inference_id: str
    output_location: str
    failure_location: str | None = None


class AsyncInvocationInfo(ResponseModel):
    """The state of one async invocation."""

    inference_id: str
    endpoint_name: str
    status: Literal["Pending", "InProgress", "Completed", "Failed"]
    output_location: str
    failure_location: str
    failure_reason: str | None = None
    attempts: int
    received_time: datetime
    completed_time: datetime | None = None
