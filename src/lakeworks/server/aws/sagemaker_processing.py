"""SageMaker processing-job actions: Create/Describe/List/StopProcessingJob."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool

from lakeworks.core.errors import ValidationError
from lakeworks.schemas.processing import ProcessingJobCreate, ProcessingJobInfo
from lakeworks.server.aws.sagemaker_shapes import (
    dump,
    optional_int,
    optional_str,
    optional_time,
    parse_shape,
    required_str,
)
from lakeworks.server.aws.service import AwsCall, Handler

__all__ = ["ACTIONS"]

_STATUSES = ("InProgress", "Completed", "Failed", "Stopping", "Stopped")
#: Lakeworks additions left out of SageMaker's answer (botocore ignores them, but be exact).
_NATIVE_ONLY = {"builtin", "outputs", "secondary_status"}


def _describe(info: ProcessingJobInfo) -> dict[str, Any]:
    return info.model_dump(by_alias=True, exclude_none=True, exclude=_NATIVE_ONLY)


async def create_processing_job(call: AwsCall) -> dict[str, Any]:
    """CreateProcessingJob → ``{"ProcessingJobArn"}``."""
    request = parse_shape(ProcessingJobCreate, call.params)
    if request.role_arn is None:
        raise ValidationError(
            "RoleArn is required (any IAM role ARN; Lakeworks does not assume it)"
        )
    info = await run_in_threadpool(
        call.platform.processing.create_processing_job, call.ctx, request
    )
    return {"ProcessingJobArn": info.processing_job_arn}


async def describe_processing_job(call: AwsCall) -> dict[str, Any]:
    """DescribeProcessingJob."""
    name = required_str(call.params, "ProcessingJobName")
    info = await run_in_threadpool(call.platform.processing.describe_processing_job, call.ctx, name)
    return _describe(info)


async def stop_processing_job(call: AwsCall) -> dict[str, Any]:
    """StopProcessingJob (no output)."""
    name = required_str(call.params, "ProcessingJobName")
    await run_in_threadpool(call.platform.processing.stop_processing_job, call.ctx, name)
    return {}


def _choice(params: dict[str, Any], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = optional_str(params, name) or default
    if value not in allowed:
        raise ValidationError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value


async def list_processing_jobs(call: AwsCall) -> dict[str, Any]:
    """ListProcessingJobs with SageMaker's filters, sorting and paging."""
    params = call.params
    for unsupported in ("LastModifiedTimeAfter", "LastModifiedTimeBefore"):
        if params.get(unsupported) is not None:
            raise ValidationError(
                f"{unsupported} is not supported by Lakeworks; filter by CreationTimeAfter/Before"
            )
    status = optional_str(params, "StatusEquals")
    if status is not None and status not in _STATUSES:
        raise ValidationError(f"StatusEquals must be one of {', '.join(_STATUSES)}, got {status!r}")
    page = await run_in_threadpool(
        lambda: call.platform.processing.list_processing_jobs(
            call.ctx,
            status_equals=status,  # type: ignore[arg-type]
            name_contains=optional_str(params, "NameContains"),
            creation_time_after=optional_time(params, "CreationTimeAfter"),
            creation_time_before=optional_time(params, "CreationTimeBefore"),
            sort_by=_choice(params, "SortBy", ("Name", "CreationTime", "Status"), "CreationTime"),  # type: ignore[arg-type]
            sort_order=_choice(params, "SortOrder", ("Ascending", "Descending"), "Descending"),  # type: ignore[arg-type]
            max_results=optional_int(params, "MaxResults") or 10,
            next_token=optional_str(params, "NextToken"),
        )
    )
    result: dict[str, Any] = {"ProcessingJobSummaries": [dump(item) for item in page.items]}
    if page.next_token:
        result["NextToken"] = page.next_token
    return result


#: The processing actions, merged into the SageMaker action table.
ACTIONS: dict[str, Handler] = {
    "CreateProcessingJob": create_processing_job,
    "DescribeProcessingJob": describe_processing_job,
    "ListProcessingJobs": list_processing_jobs,
    "StopProcessingJob": stop_processing_job,
}
