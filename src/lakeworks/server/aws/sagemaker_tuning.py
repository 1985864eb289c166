"""SageMaker automatic-model-tuning actions."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool

from lakeworks.core.errors import ValidationError
from lakeworks.schemas.tuning import TuningJobCreate
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
    "create_tuning_job",
    "describe_tuning_job",
    "list_training_jobs_for_tuning_job",
    "list_tuning_jobs",
    "stop_tuning_job",
]

_NAME = "HyperParameterTuningJobName"
_STATUSES = ("InProgress", "Completed", "Failed", "Stopping", "Stopped")


def _choice(params: dict[str, Any], name: str, allowed: tuple[str, ...], default: str) -> Any:
    value = optional_str(params, name) or default
    if value not in allowed:
        raise ValidationError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value


async def create_tuning_job(call: AwsCall) -> dict[str, Any]:
    """CreateHyperParameterTuningJob → ``{"HyperParameterTuningJobArn"}``."""
    request = parse_shape(TuningJobCreate, call.params)
    info = await run_in_threadpool(call.platform.tuning.create_tuning_job, call.ctx, request)
    return {"HyperParameterTuningJobArn": info.hyper_parameter_tuning_job_arn}


async def describe_tuning_job(call: AwsCall) -> dict[str, Any]:
    """DescribeHyperParameterTuningJob."""
    name = required_str(call.params, _NAME)
    info = await run_in_threadpool(call.platform.tuning.describe_tuning_job, call.ctx, name)
    return dump(info)


async def stop_tuning_job(call: AwsCall) -> dict[str, Any]:
    """StopHyperParameterTuningJob (no output)."""
    name = required_str(call.params, _NAME)
    await run_in_threadpool(call.platform.tuning.stop_tuning_job, call.ctx, name)
    return {}


async def list_tuning_jobs(call: AwsCall) -> dict[str, Any]:
    """ListHyperParameterTuningJobs."""
    params = call.params
    for unsupported in ("LastModifiedTimeAfter", "LastModifiedTimeBefore"):
        if params.get(unsupported) is not None:
            raise ValidationError(
                f"{unsupported} is not supported by Lakeworks; filter by CreationTimeAfter/Before"
            )
    status = optional_str(params, "StatusEquals")
    if status is not None and status not in _STATUSES:
        raise ValidationError(f"StatusEquals must be one of {', '.join(_STATUSES)}")
    page = await run_in_threadpool(
        lambda: call.platform.tuning.list_tuning_jobs(
            call.ctx,
            status_equals=status,  # type: ignore[arg-type]  # checked above
            name_contains=optional_str(params, "NameContains"),
            creation_time_after=optional_time(params, "CreationTimeAfter"),
            creation_time_before=optional_time(params, "CreationTimeBefore"),
            sort_by=_choice(params, "SortBy", ("Name", "CreationTime", "Status"), "CreationTime"),
            sort_order=_choice(params, "SortOrder", ("Ascending", "Descending"), "Descending"),
            max_results=optional_int(params, "MaxResults") or 100,
            next_token=optional_str(params, "NextToken"),
        )
    )
    result: dict[str, Any] = {"HyperParameterTuningJobSummaries": [dump(i) for i in page.items]}
    if page.next_token:
        result["NextToken"] = page.next_token
    return result


async def list_training_jobs_for_tuning_job(call: AwsCall) -> dict[str, Any]:
    """ListTrainingJobsForHyperParameterTuningJob."""
    params = call.params
    name = required_str(params, _NAME)
    sorts = ("Name", "CreationTime", "Status", "FinalObjectiveMetricValue")
    status = optional_str(params, "StatusEquals")
    if status is not None and status not in _STATUSES:
        raise ValidationError(f"StatusEquals must be one of {', '.join(_STATUSES)}")
    page = await run_in_threadpool(
        lambda: call.platform.tuning.list_training_jobs_for_tuning_job(
            call.ctx,
            name,
            status_equals=status,
            sort_by=_choice(params, "SortBy", sorts, "Name"),
            sort_order=_choice(params, "SortOrder", ("Ascending", "Descending"), "Ascending"),
            max_results=optional_int(params, "MaxResults") or 10,
            next_token=optional_str(params, "NextToken"),
        )
    )
    result: dict[str, Any] = {"TrainingJobSummaries": [dump(i) for i in page.items]}
    if page.next_token:
        result["NextToken"] = page.next_token
    return result
