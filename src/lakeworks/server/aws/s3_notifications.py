"""S3 ``?notification``: Put/GetBucketNotificationConfiguration.

``CloudFunctionConfiguration``/``LambdaFunctionConfiguration`` elements become function
targets; queue (SQS), topic (SNS) and EventBridge targets are refused with a message saying
that only Lambda functions are supported here (webhooks are configured natively).
"""

from __future__ import annotations

from xml.etree import ElementTree

from pydantic import ValidationError as PydanticValidationError
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from lakeworks.schemas.notifications import (
    FilterRule,
    LambdaFunctionConfiguration,
    NotificationConfiguration,
)
from lakeworks.server.aws import s3_xml
from lakeworks.server.aws.s3_routing import bucket_of
from lakeworks.server.aws.s3_xml import add, children, document, text_of
from lakeworks.server.aws.service import AwsCall

__all__ = ["get_bucket_notification", "parse_notification", "put_bucket_notification"]

_REFUSED = ("QueueConfiguration", "TopicConfiguration", "EventBridgeConfiguration")


def _rules(item: ElementTree.Element) -> list[FilterRule]:
    rules: list[FilterRule] = []
    for flt in children(item, "Filter"):
        for key in children(flt, "S3Key"):
            for rule in children(key, "FilterRule"):
                name = (text_of(rule, "Name") or "").strip().lower()
                if name not in ("prefix", "suffix"):
                    raise s3_xml.malformed(
                        f"FilterRule Name must be prefix or suffix, not {name!r}"
                    )
                rules.append(FilterRule(name=name, value=text_of(rule, "Value") or ""))
    return rules


def parse_notification(body: bytes) -> NotificationConfiguration:
    """A ``NotificationConfiguration`` document as the native configuration.

    Raises:
        ValidationError: Malformed XML, or a queue/topic/EventBridge target.
    """
    root = s3_xml.parse(body, "NotificationConfiguration")
    for tag in _REFUSED:
        if children(root, tag):
            raise s3_xml.malformed(
                f"{tag} is not supported by Lakeworks: notifications go to Lambda functions "
                "(LambdaFunctionConfiguration) or, natively, to webhooks"
            )
    targets = []
    for tag in ("CloudFunctionConfiguration", "LambdaFunctionConfiguration"):
        for item in children(root, tag):
            fn = text_of(item, "CloudFunction") or text_of(item, "Function") or ""
            events = [(e.text or "").strip() for e in children(item, "Event")]
            try:
                targets.append(
                    LambdaFunctionConfiguration(
                        id=text_of(item, "Id"),
                        lambda_function_arn=fn.strip(),
                        events=events,
                        filter_rules=_rules(item),
                    )
                )
            except PydanticValidationError as exc:
                first = exc.errors()[0]
                raise s3_xml.malformed(
                    f"{tag}.{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
                ) from None
    return NotificationConfiguration(lambda_function_configurations=targets)


async def put_bucket_notification(call: AwsCall) -> Response:
    """PutBucketNotificationConfiguration: replaces the function targets, keeps native webhooks."""
    bucket = bucket_of(call)
    config = parse_notification(await call.payload.read_all(call.settings.server.max_body_bytes))
    await run_in_threadpool(
        lambda: call.platform.notifications.put_configuration(
            call.ctx, bucket, config, keep_webhooks=True
        )
    )
    return Response(status_code=200)


async def get_bucket_notification(call: AwsCall) -> Response:
    """GetBucketNotificationConfiguration (function targets; webhooks are native only)."""
    config = await run_in_threadpool(
        call.platform.notifications.get_configuration, call.ctx, bucket_of(call)
    )
    root = document("NotificationConfiguration")
    for item in config.lambda_function_configurations:
        element = add(root, "CloudFunctionConfiguration")
        if item.id:
            add(element, "Id", item.id)
        add(element, "CloudFunction", item.lambda_function_arn)
        for event in item.events:
            add(element, "Event", event)
        if item.filter_rules:
            key = add(add(element, "Filter"), "S3Key")
            for rule in item.filter_rules:
                r = add(key, "FilterRule")
                add(r, "Name", rule.name)
                add(r, "Value", rule.value)
    return s3_xml.xml_response(root)
