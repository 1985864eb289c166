"""SageMaker training-job actions: Create/Describe/List/StopTrainingJob, and tags."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool

from lakeworks.core.errors import ValidationError
from lakeworks.schemas.training import TrainingJobCreate
from lakeworks.server.aws.sagemaker_shapes import (
    dump,
    optional_int,
    optional_str,
    optional_time,
    parse_shape,
    required_str,
)
from lakeworks.server.aws.service import AwsCall

__all__ = [
    "create_training_job",
    "describe_training_job",
    "list_training_jobs",
    "stop_training_job",
]

_STATUSES = ("InProgress", "Completed", "Failed", "Stopping", "Stopped")


async def create_training_job(call: AwsCall) -> dict[str, Any]:
    """CreateTrainingJob → ``{"TrainingJobArn"}``."""
    request = parse_shape(TrainingJobCreate, call.params)
    if request.role_arn is None:
        raise ValidationError(
            "RoleArn is required (any IAM role ARN; Lakeworks does not assume it)"
        )
    info = await run_in_threadpool(call.platform.training.create_training_job, call.ctx, request)
    return {"TrainingJobArn": info.training_job_arn}


async def describe_training_job(call: AwsCall) -> dict[str, Any]:
    """DescribeTrainingJob."""
    name = required_str(call.params, "TrainingJobName")
    info = await run_in_threadpool(call.platform.training.describe_training_job, call.ctx, name)
    return dump(info)


async def stop_training_job(call: AwsCall) -> dict[str, Any]:
    """StopTrainingJob (no output)."""
    name = required_str(call.params, "TrainingJobName")
    await run_in_threadpool(call.platform.training.stop_training_job, call.ctx, name)
    return {}


def _choice(params: dict[str, Any], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = optional_str(params, name) or default
    if value not in allowed:
        raise ValidationError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value


async def list_training_jobs(call: AwsCall) -> dict[str, Any]:
    """ListTrainingJobs with SageMaker's filters, sorting and paging."""
    params = call.params
    for unsupported in ("LastModifiedTimeAfter", "LastModifiedTimeBefore"):
        if params.get(unsupported) is not None:
            raise ValidationError(
                f"{unsupported} is not supported by Lakeworks; filter by CreationTimeAfter/Before"
            )
    if params.get("WarmPoolStatusEquals") or params.get("TrainingPlanArnEquals"):
        return {"TrainingJobSummaries": []}  # no warm pools or training plans here
    status = optional_str(params, "StatusEquals")
    if status is not None and status not in _STATUSES:
        raise ValidationError(f"StatusEquals must be one of {', '.join(_STATUSES)}, got {status!r}")
    max_results = optional_int(params, "MaxResults") or 10
    page = await run_in_threadpool(
        lambda: call.platform.training.list_training_jobs(
            call.ctx,
            status_equals=status,  # type: ignore[arg-type]
            name_contains=optional_str(params, "NameContains"),
            creation_time_after=optional_time(params, "CreationTimeAfter"),
            creation_time_before=optional_time(params, "CreationTimeBefore"),
            sort_by=_choice(params, "SortBy", ("Name", "CreationTime", "Status"), "CreationTime"),  # type: ignore[arg-type]
            sort_order=_choice(params, "SortOrder", ("Ascending", "Descending"), "Descending"),  # type: ignore[arg-type]
            max_results=max_results,
            next_token=optional_str(params, "NextToken"),
        )
    )
    result: dict[str, Any] = {"TrainingJobSummaries": [dump(item) for item in page.items]}
    if page.next_token:
        result["NextToken"] = page.next_token
    return result
