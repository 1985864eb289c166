"""SageMaker Runtime (REST-JSON, signing name ``sagemaker``): ``InvokeEndpoint``.

``POST /endpoints/{EndpointName}/invocations`` with the raw body; ``Content-Type``, ``Accept``
and the ``X-Amzn-SageMaker-*`` headers (CustomAttributes, TargetVariant, TargetModel,
TargetContainerHostname, InferenceId) carry the parameters. The answer is the model's body with
its content type, ``X-Amzn-Invoked-Production-Variant`` and any custom attributes the model set.

``POST /endpoints/{EndpointName}/async-invocations`` (InvokeEndpointAsync) takes its parameters
in ``X-Amzn-SageMaker-*`` headers (InputLocation or an inline body, RequestTTLSeconds,
InvocationTimeoutSeconds …), queues the request and answers 202 with the ``InferenceId`` and the
output and failure locations (:mod:`lakeworks.hosting.async_inference`).

This is the hot path of real-time inference: the handler reads the headers once and hands the
body to :class:`~lakeworks.hosting.runtime.Runtime` without a thread hop. A body over 6 MB is
answered as AWS answers it: status 413 without an error type (boto3 reports the code ``413``).
"""

from __future__ import annotations

import json
from urllib.parse import unquote

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from lakeworks.core.errors import PayloadTooLarge, ValidationError
from lakeworks.core.settings import Settings
from lakeworks.hosting.async_inference import MAX_INLINE_BYTES, AsyncRequest
from lakeworks.hosting.runtime import MAX_PAYLOAD_BYTES, Invocation, payload_too_large
from lakeworks.hosting.serverless import COLD_START_HEADER
from lakeworks.server.aws.request import AwsRequest
from lakeworks.server.aws.service import AwsCall, AwsService

__all__ = ["SERVICE"]

_PREFIX = "/endpoints/"
_ACTIONS = {
    "invocations": "InvokeEndpoint",
    "async-invocations": "InvokeEndpointAsync",
    "invocations-response-stream": "InvokeEndpointWithResponseStream",
}


def _resolve(request: AwsRequest, settings: Settings) -> str:
    """The action a runtime request names (its method and path)."""
    path = request.raw_path
    if request.method == "POST" and path.startswith(_PREFIX):
        _, _, suffix = path[len(_PREFIX) :].partition("/")
        return _ACTIONS.get(suffix, f"POST {path}")
    return f"{request.method} {path}"


def _too_large(error: PayloadTooLarge) -> Response:
    body = json.dumps({"message": error.message}).encode()
    return Response(body, 413, media_type="application/json")


async def invoke_endpoint(call: AwsCall) -> Response:
    """InvokeEndpoint: the model's answer, or AWS's errors (see the module docstring)."""
    request = call.request
    headers = {name.lower(): value for name, value in request.headers}
    length = headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_PAYLOAD_BYTES:
        return _too_large(payload_too_large(int(length)))
    try:
        body = await call.payload.read_all(
            max(call.settings.server.max_body_bytes, MAX_PAYLOAD_BYTES)
        )
    except PayloadTooLarge as exc:
        return _too_large(exc)
    if len(body) > MAX_PAYLOAD_BYTES:
        return _too_large(payload_too_large(len(body)))
    name = unquote(request.raw_path[len(_PREFIX) :].partition("/")[0])
    result = await call.platform.hosting.invoke_endpoint(
        call.ctx,
        Invocation(
            endpoint=name,
            body=body,
            content_type=headers.get("content-type"),
            accept=headers.get("accept"),
            custom_attributes=headers.get("x-amzn-sagemaker-custom-attributes"),
            target_variant=headers.get("x-amzn-sagemaker-target-variant"),
            target_model=headers.get("x-amzn-sagemaker-target-model"),
            target_container=headers.get("x-amzn-sagemaker-target-container-hostname"),
            inference_id=headers.get("x-amzn-sagemaker-inference-id"),
        ),
    )
    response_headers = {
        "Content-Type": result.content_type,
        "x-Amzn-Invoked-Production-Variant": result.variant,
    }
    if result.custom_attributes:
        response_headers["X-Amzn-SageMaker-Custom-Attributes"] = result.custom_attributes
    if result.cold_start_ms is not None:
        response_headers[COLD_START_HEADER] = f"{result.cold_start_ms:.1f}"
    return Response(result.body, 200, response_headers)


def _seconds(headers: dict[str, str], name: str) -> int | None:
    value = headers.get(f"x-amzn-sagemaker-{name.lower()}")
    if value is None:
        return None
    if not value.strip().isdigit():
        raise ValidationError(
            f"{name} must be a whole number of seconds, got {value!r}", aws_code="ValidationError"
        )
    return int(value)


async def invoke_endpoint_async(call: AwsCall) -> Response:
    """InvokeEndpointAsync: 202 with ``{"InferenceId"}`` and the output/failure locations."""
    request = call.request
    headers = {name.lower(): value for name, value in request.headers}
    try:
        body = await call.payload.read_all(MAX_INLINE_BYTES + 1)
    except PayloadTooLarge:
        raise ValidationError(
            f"An inline Body may be at most {MAX_INLINE_BYTES} bytes; upload the payload and "
            "give its InputLocation",
            aws_code="ValidationError",
        ) from None
    name = unquote(request.raw_path[len(_PREFIX) :].partition("/")[0])
    accepted = await run_in_threadpool(
        call.platform.hosting.invoke_endpoint_async,
        call.ctx,
        AsyncRequest(
            endpoint=name,
            input_location=headers.get("x-amzn-sagemaker-inputlocation"),
            body=body or None,
            content_type=headers.get("x-amzn-sagemaker-content-type"),
            accept=headers.get("x-amzn-sagemaker-accept"),
            custom_attributes=headers.get("x-amzn-sagemaker-custom-attributes"),
            inference_id=headers.get("x-amzn-sagemaker-inference-id"),
            request_ttl_seconds=_seconds(headers, "RequestTTLSeconds"),
            invocation_timeout_seconds=_seconds(headers, "InvocationTimeoutSeconds"),
        ),
    )
    response_headers = {"X-Amzn-SageMaker-OutputLocation": accepted.output_location}
    if accepted.failure_location:
        response_headers["X-Amzn-SageMaker-FailureLocation"] = accepted.failure_location
    content = json.dumps({"InferenceId": accepted.inference_id}).encode()
    return Response(content, 202, response_headers, media_type="application/json")


SERVICE = AwsService(
    name="sagemaker-runtime",
    protocol="rest-json",
    signing_name="sagemaker",
    actions={"InvokeEndpoint": invoke_endpoint, "InvokeEndpointAsync": invoke_endpoint_async},
    resolve=_resolve,
)
