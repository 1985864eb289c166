"""SageMaker (JSON 1.1, ``X-Amz-Target: SageMaker.<Action>``): the action table.

Training jobs in ``sagemaker_training``, automatic model tuning in ``sagemaker_tuning``, tags
here; request and response shapes are the wire models' aliases (``sagemaker_shapes``). Other
domains add their actions (models, endpoints …) with a line each in :data:`ACTIONS`.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool

from lakeworks.core.errors import ValidationError
from lakeworks.server.aws import (
    sagemaker_features,
    sagemaker_hosting,
    sagemaker_processing,
    sagemaker_recommender,
    sagemaker_training,
    sagemaker_transform,
    sagemaker_tuning,
)
from lakeworks.server.aws.sagemaker_shapes import required_str
from lakeworks.server.aws.service import AwsCall, AwsService, Handler

__all__ = ["ACTIONS", "SERVICE"]


async def list_tags(call: AwsCall) -> dict[str, Any]:
    """ListTags of a training or tuning job (the tags it was created with)."""
    resource = required_str(call.params, "ResourceArn")
    kind = resource.rpartition(":")[2].partition("/")[0]
    if kind == "training-job":
        tags = await run_in_threadpool(call.platform.training.tags_of, call.ctx, resource)
    elif kind == "hyper-parameter-tuning-job":
        tags = await run_in_threadpool(call.platform.tuning.tags_of, call.ctx, resource)
    else:
        raise ValidationError(
            f"ListTags: {resource!r} is not the ARN of a training or hyperparameter tuning job"
        )
    return {"Tags": tags}


ACTIONS: dict[str, Handler] = {
    "CreateTrainingJob": sagemaker_training.create_training_job,
    "DescribeTrainingJob": sagemaker_training.describe_training_job,
    "ListTrainingJobs": sagemaker_training.list_training_jobs,
    "StopTrainingJob": sagemaker_training.stop_training_job,
    "CreateHyperParameterTuningJob": sagemaker_tuning.create_tuning_job,
    "DescribeHyperParameterTuningJob": sagemaker_tuning.describe_tuning_job,
    "ListHyperParameterTuningJobs": sagemaker_tuning.list_tuning_jobs,
    "StopHyperParameterTuningJob": sagemaker_tuning.stop_tuning_job,
    "ListTrainingJobsForHyperParameterTuningJob": (
        sagemaker_tuning.list_training_jobs_for_tuning_job
    ),
    "ListTags": list_tags,
    **sagemaker_hosting.ACTIONS,
    **sagemaker_processing.ACTIONS,
    **sagemaker_features.ACTIONS,
    **sagemaker_transform.ACTIONS,
    **sagemaker_recommender.ACTIONS,
}

SERVICE = AwsService(
    name="sagemaker",
    protocol="json",
    signing_name="sagemaker",
    target_prefix="SageMaker",
    json_version="1.1",
    actions=ACTIONS,
)
