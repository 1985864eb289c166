"""SageMaker Inference Recommender actions: Create/Describe/List/Stop InferenceRecommendationsJob
and ListInferenceRecommendationsJobSteps.

Merged into the SageMaker action table (:data:`lakeworks.server.aws.sagemaker.ACTIONS`). An
unknown model or a bad payload archive on create is a ``ValidationException``; an unknown job on
describe, stop or list-steps is ``ResourceNotFound``, as SageMaker answers.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool

from lakeworks.core.errors import ValidationError
from lakeworks.schemas.recommender import RecommendationJobCreate
from lakeworks.server.aws.sagemaker_hosting import _list_args, _page
from lakeworks.server.aws.sagemaker_shapes import (
    optional_int,
    optional_str,
    parse_shape,
    required_str,
)
from lakeworks.server.aws.service import AwsCall, Handler

__all__ = ["ACTIONS"]

_STATUSES = (
    "PENDING",
    "IN_PROGRESS",
    "COMPLETED",
    "FAILED",
    "STOPPING",
    "STOPPED",
    "DELETING",
    "DELETED",
)
#: Lakeworks additions to a benchmark, left out of SageMaker's answer.
_NATIVE_ONLY = {"invocations", "errors", "latency_p50_us", "latency_p99_us", "phases"}


def _status(params: dict[str, Any], name: str) -> Any:
    status = optional_str(params, name)
    if status is not None and status not in _STATUSES:
        raise ValidationError(f"{name} must be one of {', '.join(_STATUSES)}, got {status!r}")
    return status


async def create_job(call: AwsCall) -> dict[str, Any]:
    """CreateInferenceRecommendationsJob → ``{"JobArn"}`` (the job is PENDING)."""
    request = parse_shape(RecommendationJobCreate, call.params)
    info = await run_in_threadpool(
        call.platform.recommender.create_inference_recommendations_job, call.ctx, request
    )
    return {"JobArn": info.job_arn}


async def describe_job(call: AwsCall) -> dict[str, Any]:
    """DescribeInferenceRecommendationsJob."""
    name = required_str(call.params, "JobName")
    info = await run_in_threadpool(
        call.platform.recommender.describe_inference_recommendations_job, call.ctx, name
    )
    return info.model_dump(by_alias=True, exclude_none=True)


async def list_jobs(call: AwsCall) -> dict[str, Any]:
    """ListInferenceRecommendationsJobs with SageMaker's filters, sorting and paging."""
    params = call.params
    if params.get("ModelPackageVersionArnEquals") is not None:
        raise ValidationError(
            "ModelPackageVersionArnEquals: Lakeworks has no model registry yet; filter by "
            "ModelNameEquals"
        )
    status = _status(params, "StatusEquals")
    model = optional_str(params, "ModelNameEquals")
    args = _list_args(params, ("Name", "CreationTime", "Status"))
    page = await run_in_threadpool(
        lambda: call.platform.recommender.list_inference_recommendations_jobs(
            call.ctx, status_equals=status, model_name_equals=model, **args
        )
    )
    return _page("InferenceRecommendationsJobs", page)


async def stop_job(call: AwsCall) -> dict[str, Any]:
    """StopInferenceRecommendationsJob (no output; the job goes STOPPING, then STOPPED)."""
    name = required_str(call.params, "JobName")
    await run_in_threadpool(
        call.platform.recommender.stop_inference_recommendations_job, call.ctx, name
    )
    return {}


async def list_job_steps(call: AwsCall) -> dict[str, Any]:
    """ListInferenceRecommendationsJobSteps (every step is a BENCHMARK)."""
    params = call.params
    name = required_str(params, "JobName")
    step_type = optional_str(params, "StepType")
    if step_type not in (None, "BENCHMARK"):
        raise ValidationError(f"StepType must be BENCHMARK, got {step_type!r}")
    status = _status(params, "Status")
    page = await run_in_threadpool(
        lambda: call.platform.recommender.list_inference_recommendations_job_steps(
            call.ctx,
            name,
            status=status,
            max_results=optional_int(params, "MaxResults") or 50,
            next_token=optional_str(params, "NextToken"),
        )
    )
    steps = [
        step.model_dump(
            by_alias=True,
            exclude_none=True,
            exclude={"inference_benchmark": _NATIVE_ONLY},
        )
        for step in page.items
    ]
    result: dict[str, Any] = {"Steps": steps}
    if page.next_token:
        result["NextToken"] = page.next_token
    return result


#: The inference recommender actions, merged into the SageMaker action table.
ACTIONS: dict[str, Handler] = {
    "CreateInferenceRecommendationsJob": create_job,
    "DescribeInferenceRecommendationsJob": describe_job,
    "ListInferenceRecommendationsJobs": list_jobs,
    "StopInferenceRecommendationsJob": stop_job,
    "ListInferenceRecommendationsJobSteps": list_job_steps,
}
