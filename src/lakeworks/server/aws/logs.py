"""CloudWatch Logs (JSON 1.1, ``Logs_20140328``): training and transform jobs', functions' and
Glue runs' logs.

Functions' groups (``/aws/lambda/<name>``), Glue's (``/aws-glue/python-jobs/output``) and
transform jobs' (``/aws/sagemaker/TransformJobs``) are served by
:mod:`lakeworks.server.aws.logs_text`; the rest of this docstring is about training.

Enough of CloudWatch Logs for the SageMaker SDK's ``logs_for_job`` (what ``Estimator.fit()``
streams by default) and for ``aws logs get-log-events``/``filter-log-events``: log group
``/aws/sagemaker/TrainingJobs``, one stream per training job. See
:mod:`lakeworks.training.logs` for timestamps and token semantics.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool

from lakeworks.core.errors import ValidationError
from lakeworks.server.aws import logs_text
from lakeworks.server.aws.service import AwsCall, AwsService

__all__ = ["SERVICE"]


def _str(params: dict[str, Any], name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{name} must be a string", aws_code="InvalidParameterException")
    return value


def _required(params: dict[str, Any], name: str) -> str:
    value = _str(params, name)
    if not value:
        raise ValidationError(f"{name} is required", aws_code="InvalidParameterException")
    return value


def _int(params: dict[str, Any], name: str) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{name} must be an integer", aws_code="InvalidParameterException")
    return value


def _bool(params: dict[str, Any], name: str, default: bool) -> bool:
    value = params.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ValidationError(f"{name} must be a boolean", aws_code="InvalidParameterException")
    return value


async def describe_log_groups(call: AwsCall) -> dict[str, Any]:
    """DescribeLogGroups: the training jobs' group (if it matches the prefix)."""
    prefix = _str(call.params, "logGroupNamePrefix")
    groups = await run_in_threadpool(call.platform.training.describe_log_groups, call.ctx, prefix)
    more = await run_in_threadpool(logs_text.groups, call.platform, call.ctx, prefix)
    return {"logGroups": sorted(groups + more, key=lambda g: str(g["logGroupName"]))}


async def describe_log_streams(call: AwsCall) -> dict[str, Any]:
    """DescribeLogStreams: one stream per training job that has logged."""
    params = call.params
    group = _required(params, "logGroupName")
    if logs_text.owns(group):
        return await run_in_threadpool(
            lambda: logs_text.describe(
                call.platform,
                call.ctx,
                group,
                prefix=_str(params, "logStreamNamePrefix"),
                descending=_bool(params, "descending", False),
                limit=_int(params, "limit"),
            )
        )
    return await run_in_threadpool(
        lambda: call.platform.training.describe_log_streams(
            call.ctx,
            group,
            prefix=_str(params, "logStreamNamePrefix"),
            order_by=_str(params, "orderBy") or "LogStreamName",
            descending=_bool(params, "descending", False),
            limit=_int(params, "limit"),
            next_token=_str(params, "nextToken"),
        )
    )


async def get_log_events(call: AwsCall) -> dict[str, Any]:
    """GetLogEvents: a page of one stream's events, forward or backward."""
    params = call.params
    group = _required(params, "logGroupName")
    stream = _required(params, "logStreamName")
    if logs_text.owns(group):
        return await run_in_threadpool(
            lambda: logs_text.events(
                call.platform,
                call.ctx,
                group,
                stream,
                next_token=_str(params, "nextToken"),
                limit=_int(params, "limit"),
                start_from_head=_bool(params, "startFromHead", False),
                start_time=_int(params, "startTime"),
                end_time=_int(params, "endTime"),
            )
        )
    return await run_in_threadpool(
        lambda: call.platform.training.get_log_events(
            call.ctx,
            group,
            stream,
            start_time=_int(params, "startTime"),
            end_time=_int(params, "endTime"),
            next_token=_str(params, "nextToken"),
            limit=_int(params, "limit"),
            start_from_head=_bool(params, "startFromHead", False),
        )
    )


async def filter_log_events(call: AwsCall) -> dict[str, Any]:
    """FilterLogEvents: events of several streams matching a term pattern."""
    params = call.params
    group = _required(params, "logGroupName")
    names = params.get("logStreamNames")
    if names is not None and (
        not isinstance(names, list) or not all(isinstance(n, str) for n in names)
    ):
        raise ValidationError(
            "logStreamNames must be a list of strings", aws_code="InvalidParameterException"
        )
    if logs_text.owns(group):
        return await run_in_threadpool(
            lambda: logs_text.filter_events(
                call.platform,
                call.ctx,
                group,
                stream_names=names,
                stream_prefix=_str(params, "logStreamNamePrefix"),
                filter_pattern=_str(params, "filterPattern"),
                start_time=_int(params, "startTime"),
                end_time=_int(params, "endTime"),
                limit=_int(params, "limit"),
            )
        )
    return await run_in_threadpool(
        lambda: call.platform.training.filter_log_events(
            call.ctx,
            group,
            stream_names=names,
            stream_prefix=_str(params, "logStreamNamePrefix"),
            start_time=_int(params, "startTime"),
            end_time=_int(params, "endTime"),
            filter_pattern=_str(params, "filterPattern"),
            next_token=_str(params, "nextToken"),
            limit=_int(params, "limit"),
        )
    )


SERVICE = AwsService(
    name="logs",
    protocol="json",
    signing_name="logs",
    target_prefix="Logs_20140328",
    json_version="1.1",
    actions={
        "DescribeLogGroups": describe_log_groups,
        "DescribeLogStreams": describe_log_streams,
        "GetLogEvents": get_log_events,
        "FilterLogEvents": filter_log_events,
    },
)
