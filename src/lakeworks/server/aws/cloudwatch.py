"""CloudWatch alarms (``monitoring``; JSON 1.0, which boto3 prefers to CBOR): the action table.

``PutMetricAlarm``, ``DescribeAlarms`` and ``DeleteAlarms`` over the endpoint metrics Lakeworks
keeps (namespace ``AWS/SageMaker``), backed by
:class:`~lakeworks.hosting.alarm_service.AlarmService`; ``UpdateEndpoint``'s
``AutoRollbackConfiguration`` names these alarms. Errors carry CloudWatch's query-protocol codes
(``InvalidParameterValue``, ``ResourceNotFound``).
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool

from lakeworks.core.errors import ValidationError
from lakeworks.schemas.hosting_deployments import MetricAlarmPut
from lakeworks.server.aws.sagemaker_shapes import dump, parse_shape
from lakeworks.server.aws.service import AwsCall, AwsService, Handler

__all__ = ["ACTIONS", "SERVICE"]

_STATES = ("OK", "ALARM", "INSUFFICIENT_DATA")


def _names(params: dict[str, Any]) -> list[str]:
    names = params.get("AlarmNames") or []
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ValidationError(
            "AlarmNames must be a list of alarm names", aws_code="InvalidParameterValue"
        )
    if len(names) > 100:
        raise ValidationError(
            f"AlarmNames lists {len(names)} alarms; at most 100 are allowed",
            aws_code="InvalidParameterValue",
        )
    return names


async def put_metric_alarm(call: AwsCall) -> dict[str, Any]:
    """PutMetricAlarm (no output)."""
    try:
        spec = parse_shape(MetricAlarmPut, call.params)
    except ValidationError as exc:
        raise ValidationError(exc.message, aws_code="InvalidParameterValue") from None
    await run_in_threadpool(call.platform.hosting.alarms.put_metric_alarm, call.ctx, spec)
    return {}


async def describe_alarms(call: AwsCall) -> dict[str, Any]:
    """DescribeAlarms: by AlarmNames, AlarmNamePrefix and StateValue (metric alarms only)."""
    params = call.params
    names = _names(params)
    prefix = params.get("AlarmNamePrefix")
    if names and prefix:
        raise ValidationError(
            "give AlarmNames or AlarmNamePrefix, not both", aws_code="InvalidParameterCombination"
        )
    state = params.get("StateValue")
    if state is not None and state not in _STATES:
        raise ValidationError(
            f"StateValue must be one of {', '.join(_STATES)}, got {state!r}",
            aws_code="InvalidParameterValue",
        )
    types = params.get("AlarmTypes") or ["MetricAlarm"]
    alarms = []
    if "MetricAlarm" in types:
        alarms = await run_in_threadpool(
            lambda: call.platform.hosting.alarms.describe_alarms(
                call.ctx, names=names, prefix=prefix, state=state
            )
        )
    return {"MetricAlarms": [dump(a) for a in alarms], "CompositeAlarms": []}


async def delete_alarms(call: AwsCall) -> dict[str, Any]:
    """DeleteAlarms (no output; every alarm named must exist)."""
    names = _names(call.params)
    if not names:
        raise ValidationError(
            "AlarmNames must name at least one alarm", aws_code="MissingParameter"
        )
    await run_in_threadpool(call.platform.hosting.alarms.delete_alarms, call.ctx, names)
    return {}


ACTIONS: dict[str, Handler] = {
    "PutMetricAlarm": put_metric_alarm,
    "DescribeAlarms": describe_alarms,
    "DeleteAlarms": delete_alarms,
}

SERVICE = AwsService(
    name="cloudwatch",
    protocol="json",
    signing_name="monitoring",
    target_prefix="GraniteServiceVersion20100801",
    json_version="1.0",
    actions=ACTIONS,
)
