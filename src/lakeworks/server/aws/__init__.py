"""The AWS-compatible front door: boto3, the aws CLI and SDKs work unchanged against Lakeworks.

:func:`is_aws_request` tells the server's front door which requests are AWS's (signed with
SigV4, targeted with ``X-Amz-Target``, or addressed outside the native prefixes, as S3 paths
are); :func:`create_aws_app` builds the ASGI app that serves them. Each AWS service is one module
with an action table (``s3.py``, ``sts.py``); to add one, write its module and list its
``SERVICE`` in :data:`SERVICES`.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Scope

from lakeworks.server.aws import (
    application_autoscaling,
    athena,
    cloudwatch,
    featurestore_runtime,
    firehose,
    glue,
    lakeformation,
    lambda_,
    logs,
    s3,
    sagemaker,
    sagemaker_runtime,
    sts,
)
from lakeworks.server.aws.dispatch import AwsFrontDoor
from lakeworks.server.aws.service import AwsService, ServiceRegistry
from lakeworks.server.platform import Platform

__all__ = ["NATIVE_PREFIXES", "SERVICES", "create_aws_app", "is_aws_request"]

#: Paths the native app serves; anything else is an S3 path.
NATIVE_PREFIXES = ("/api/", "/healthz", "/openapi.json", "/docs", "/metrics")

#: Every AWS service the front door speaks.
SERVICES: tuple[AwsService, ...] = (
    s3.SERVICE,
    sts.SERVICE,
    sagemaker.SERVICE,
    sagemaker_runtime.SERVICE,
    logs.SERVICE,
    glue.SERVICE,
    athena.SERVICE,
    lambda_.SERVICE,
    featurestore_runtime.SERVICE,
    application_autoscaling.SERVICE,
    firehose.SERVICE,
    lakeformation.SERVICE,
    cloudwatch.SERVICE,
)

_PRESIGN_PARAMS = frozenset({"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature"})


def _is_native_path(path: str) -> bool:
    return any(path == p.rstrip("/") or path.startswith(p) for p in NATIVE_PREFIXES)


def is_aws_request(scope: Scope) -> bool:
    """Whether an HTTP request belongs to the AWS front door.

    It does if it is SigV4-signed (header or presigned query), names an ``X-Amz-Target``, or
    its path lies outside the native prefixes (``/api/``, ``/healthz``, ``/openapi.json``,
    ``/docs``).
    """
    for name, value in scope.get("headers", []):
        lower = bytes(name).lower()
        if lower == b"authorization" and bytes(value).lstrip().startswith(b"AWS4-HMAC-SHA256"):
            return True
        if lower == b"x-amz-target":
            return True
    query = bytes(scope.get("query_string", b""))
    if b"X-Amz-" in query:
        names = {name for name, _ in parse_qsl(query.decode("latin-1"), keep_blank_values=True)}
        if names & _PRESIGN_PARAMS:
            return True
    return not _is_native_path(str(scope.get("path", "")))


def create_aws_app(platform: Platform) -> ASGIApp:
    """The ASGI app of the AWS front door, serving :data:`SERVICES` with ``platform``."""
    return AwsFrontDoor(platform, ServiceRegistry(SERVICES))
