"""Authenticate a front-door request: SigV4 against the principal's stored access-key secret."""

from __future__ import annotations

import dataclasses
import hashlib
import logging

from starlette.concurrency import run_in_threadpool

from lakeworks.core.clock import utcnow
from lakeworks.core.context import RequestContext
from lakeworks.core.errors import AccessDenied, InvalidSignature, PayloadTooLarge, ValidationError
from lakeworks.core.settings import Settings
from lakeworks.iam.service import IamService
from lakeworks.server.aws import sigv4
from lakeworks.server.aws.chunked import ChunkSigner
from lakeworks.server.aws.payload import Payload
from lakeworks.server.aws.request import AwsRequest

__all__ = ["anonymous_error", "authenticate"]

log = logging.getLogger("lakeworks.server.aws")


def anonymous_error() -> AccessDenied:
    """The error for a request that carries no signature at all."""
    return AccessDenied(
        "Anonymous access is not allowed: sign requests with SigV4 (AWS4-HMAC-SHA256) using a "
        "Lakeworks access key (see 'lakeworks env' or <home>/credentials.json)",
        aws_code="MissingAuthenticationToken",
    )


async def _read_limited(request: AwsRequest, limit: int) -> bytes:
    length = request.content_length
    if length is not None and length > limit:
        raise PayloadTooLarge(
            f"Request body is larger than the limit of {limit} bytes (setting "
            "server.max_body_bytes)",
            details={"limit": limit},
        )
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(
                f"Request body is larger than the limit of {limit} bytes (setting "
                "server.max_body_bytes)",
                details={"limit": limit},
            )
        parts.append(chunk)
    return b"".join(parts)


async def authenticate(
    request: AwsRequest,
    info: sigv4.SignatureInfo,
    iam: IamService,
    settings: Settings,
    request_id: str,
) -> tuple[RequestContext, Payload]:
    """Verify the request's signature and return the caller and the (still unread) body.

    S3 signs the path as sent and always states the payload hash in ``x-amz-content-sha256``
    (``UNSIGNED-PAYLOAD`` for presigned URLs). Other services may omit that header; then the
    signature covers the body's SHA-256 and the body (bounded by ``server.max_body_bytes``) is
    read here to compute it.

    Args:
        request: The request.
        info: Its parsed signature.
        iam: Resolves the access key to its secret and principal.
        settings: Clock skew and body limits.
        request_id: Id of this request, carried into the context.

    Returns:
        The caller's context and the body, to be verified as it is read.

    Raises:
        Unauthenticated: ``InvalidAccessKeyId``.
        InvalidSignature: ``SignatureDoesNotMatch`` or ``RequestTimeTooSkewed``.
        AccessDenied: An expired presigned URL.
        ValidationError: Malformed signature parts or a missing S3 payload hash.
    """
    sigv4.check_time(info, utcnow(), settings.aws.max_clock_skew_seconds)
    key_id = info.credential.access_key_id
    # A key verified a moment ago needs no database, so no thread hop either.
    found = iam.cached_access_key_secret(key_id)
    if found is None:
        found = await run_in_threadpool(iam.access_key_secret, key_id)
    secret, ctx = found
    s3 = info.credential.service == "s3"
    buffered: bytes | None = None
    header_hash = request.header("x-amz-content-sha256")
    if info.presigned and s3:
        payload_hash = request.query.get("X-Amz-Content-Sha256", sigv4.UNSIGNED_PAYLOAD)
    elif header_hash is not None:
        payload_hash = header_hash.strip()
    elif s3:
        raise ValidationError(
            "Missing required header for this request: x-amz-content-sha256",
            aws_code="InvalidRequest",
        )
    else:
        buffered = await _read_limited(request, settings.server.max_body_bytes)
        payload_hash = hashlib.sha256(buffered).hexdigest()
    key = sigv4.signing_key(secret, info.credential)
    canonical = sigv4.canonical_request(request.parts(), info, payload_hash, s3=s3)
    expected = sigv4.sign(key, sigv4.string_to_sign(info.timestamp, info.credential, canonical))
    try:
        sigv4.verify(expected, info.signature)
    except InvalidSignature:
        # The canonical request holds no secret; it is what a client author compares with.
        log.debug("SigV4 mismatch; the canonical request was:\n%s", canonical)
        raise
    signer = ChunkSigner(key, info.timestamp, info.credential, info.signature)
    payload = Payload(request, payload_hash, signer=signer, buffered=buffered)
    return dataclasses.replace(ctx, request_id=request_id), payload
