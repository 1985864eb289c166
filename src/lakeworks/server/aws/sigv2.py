"""Signature Version 2 presigned S3 URLs (``?AWSAccessKeyId=…&Expires=…&Signature=…``).

boto3's ``generate_presigned_url`` still signs S3 URLs with version 2 when the client talks to a
custom endpoint and no ``signature_version`` is configured, so code that runs unchanged against
Lakeworks hands out such URLs. Only this query form is accepted; version 2 ``Authorization``
headers are refused (``sigv4.parse_signature``). The string to sign follows AWS's "REST
authentication" specification and botocore's ``HmacV1QueryAuth``.
"""

from __future__ import annotations

import base64
import dataclasses
import hmac
from dataclasses import dataclass
from datetime import datetime
from hashlib import sha1
from urllib.parse import unquote

from starlette.concurrency import run_in_threadpool

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import AccessDenied, InvalidSignature, ValidationError
from lakeworks.iam.service import IamService
from lakeworks.server.aws import sigv4
from lakeworks.server.aws.payload import Payload
from lakeworks.server.aws.request import AwsRequest

__all__ = ["V2Signature", "authenticate_v2", "parse_v2", "string_to_sign_v2"]

#: Query parameters that are part of the signed resource (botocore's ``QSAOfInterest``).
SIGNED_SUBRESOURCES = frozenset(
    {
        "accelerate", "acl", "analytics", "cors", "defaultObjectAcl", "delete", "inventory",
        "lifecycle", "location", "logging", "metrics", "notification", "object-lock",
        "partNumber", "policy", "replication", "requestPayment", "response-cache-control",
        "response-content-disposition", "response-content-encoding", "response-content-language",
        "response-content-type", "response-expires", "restore", "select", "select-type",
        "storageClass", "tagging", "torrent", "uploadId", "uploads", "versionId", "versioning",
        "versions", "website",
    }
)  # fmt: skip


@dataclass(frozen=True)
class V2Signature:
    """A parsed version 2 presigned URL."""

    access_key_id: str
    expires: int
    signature: str


def parse_v2(query: dict[str, str]) -> V2Signature | None:
    """The version 2 presigned signature in ``query``, or ``None`` if there is none.

    Raises:
        ValidationError: ``Expires`` is not a Unix time.
    """
    if "AWSAccessKeyId" not in query or "Signature" not in query:
        return None
    expires = query.get("Expires", "")
    if not expires.isdigit():
        raise ValidationError(
            f"A version 2 presigned URL needs Expires as seconds since 1970, got {expires!r}",
            aws_code="InvalidArgument",
        )
    return V2Signature(query["AWSAccessKeyId"], int(expires), query["Signature"])


def _resource(resource_path: str, raw_query: str) -> str:
    kept: list[tuple[str, str | None]] = []
    for item in raw_query.split("&"):
        name, sep, value = item.partition("=")
        if name in SIGNED_SUBRESOURCES:
            kept.append((name, unquote(value) if sep else None))
    if not kept:
        return resource_path
    kept.sort(key=lambda pair: pair[0])
    joined = "&".join(name if value is None else f"{name}={value}" for name, value in kept)
    return f"{resource_path}?{joined}"


def string_to_sign_v2(request: AwsRequest, expires: int, resource_path: str) -> str:
    """The StringToSign of a version 2 presigned request.

    ``Content-MD5``, ``Content-Type`` and ``x-amz-*`` values come from the query, where
    botocore puts them when presigning, or else from the request's headers.

    Args:
        request: The request.
        expires: Its ``Expires`` value (it stands where a Date header would).
        resource_path: The path including the bucket (``/bucket/key``) as sent, encoded.
    """
    query = request.query

    def value(name: str) -> str:
        return (query.get(name) or request.header(name) or "").strip()

    amz = {
        name.lower(): v.strip() for name, v in query.items() if name.lower().startswith("x-amz-")
    }
    for name, header_value in request.headers:
        if name.startswith("x-amz-") and name not in amz:
            amz[name] = header_value.strip()
    lines = [request.method, value("content-md5"), value("content-type"), str(expires)]
    lines += [f"{name}:{amz[name]}" for name in sorted(amz)]
    lines.append(_resource(resource_path, request.raw_query))
    return "\n".join(lines)


async def authenticate_v2(
    request: AwsRequest,
    info: V2Signature,
    iam: IamService,
    now: datetime,
    resource_path: str,
    request_id: str,
) -> tuple[RequestContext, Payload]:
    """Verify a version 2 presigned request; its body is unsigned, as with SigV4 presigning.

    Raises:
        Unauthenticated: ``InvalidAccessKeyId``.
        AccessDenied: The URL expired.
        InvalidSignature: ``SignatureDoesNotMatch``.
    """
    if now.timestamp() > info.expires:
        raise AccessDenied("Request has expired", aws_code="AccessDenied")
    secret, ctx = await run_in_threadpool(iam.access_key_secret, info.access_key_id)
    to_sign = string_to_sign_v2(request, info.expires, resource_path)
    digest = hmac.new(secret.encode(), to_sign.encode("utf-8"), sha1).digest()
    expected = base64.b64encode(digest).decode()
    if not hmac.compare_digest(expected.encode(), info.signature.encode()):
        raise InvalidSignature(
            "The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method."
        )
    payload = Payload(request, sigv4.UNSIGNED_PAYLOAD)
    return dataclasses.replace(ctx, request_id=request_id), payload
