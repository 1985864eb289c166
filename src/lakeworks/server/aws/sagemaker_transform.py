"""SageMaker batch transform actions: Create/Describe/List/StopTransformJob.

Merged into the SageMaker action table (:data:`lakeworks.server.aws.sagemaker.ACTIONS`). An
unknown model on create is a ``ValidationException`` (``Could not find model "arn:…"``), as
SageMaker answers; an unknown job on describe or stop is ``ResourceNotFound``.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool

from lakeworks.core.errors import ValidationError
from lakeworks.schemas.transform import TransformJobCreate
from lakeworks.server.aws.sagemaker_hosting import _list_args, _page
from lakeworks.server.aws.sagemaker_shapes import optional_str, parse_shape, required_str
from lakeworks.server.aws.service import AwsCall, Handler

__all__ = ["ACTIONS"]

_STATUSES = ("InProgress", "Completed", "Failed", "Stopping", "Stopped")
#: Lakeworks additions left out of SageMaker's answer.
_NATIVE_ONLY = {"outputs", "records"}


async def create_transform_job(call: AwsCall) -> dict[str, Any]:
    """CreateTransformJob → ``{"TransformJobArn"}`` (the job is InProgress)."""
    request = parse_shape(TransformJobCreate, call.params)
    info = await run_in_threadpool(call.platform.transform.create_transform_job, call.ctx, request)
    return {"TransformJobArn": info.transform_job_arn}


async def describe_transform_job(call: AwsCall) -> dict[str, Any]:
    """DescribeTransformJob."""
    name = required_str(call.params, "TransformJobName")
    info = await run_in_threadpool(call.platform.transform.describe_transform_job, call.ctx, name)
    return info.model_dump(by_alias=True, exclude_none=True, exclude=_NATIVE_ONLY)


async def list_transform_jobs(call: AwsCall) -> dict[str, Any]:
    """ListTransformJobs with SageMaker's filters, sorting and paging."""
    params = call.params
    status: Any = optional_str(params, "StatusEquals")
    if status is not None and status not in _STATUSES:
        raise ValidationError(f"StatusEquals must be one of {', '.join(_STATUSES)}, got {status!r}")
    args = _list_args(params, ("Name", "CreationTime", "Status"))
    page = await run_in_threadpool(
        lambda: call.platform.transform.list_transform_jobs(call.ctx, status_equals=status, **args)
    )
    return _page("TransformJobSummaries", page)


async def stop_transform_job(call: AwsCall) -> dict[str, Any]:
    """StopTransformJob (no output; the job goes Stopping, then Stopped)."""
    name = required_str(call.params, "TransformJobName")
    await run_in_threadpool(call.platform.transform.stop_transform_job, call.ctx, name)
    return {}


#: The batch transform actions, merged into the SageMaker action table.
ACTIONS: dict[str, Handler] = {
    "CreateTransformJob": create_transform_job,
    "DescribeTransformJob": describe_transform_job,
    "ListTransformJobs": list_transform_jobs,
    "StopTransformJob": stop_transform_job,
}
