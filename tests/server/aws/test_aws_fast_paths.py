"""The request path's shortcuts change nothing a client can see: with every cache warm (verified
credentials, derived signing keys, the already-hashed body) each request's signature is still
checked, expired credentials are still refused, and the pure helpers agree with the slow
definitions they replace."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import ValidationError
from lakeworks.schemas.iam import AccessKeyCreate, TokenCreate
from lakeworks.server.aws import sigv4
from lakeworks.server.aws.request import AwsRequest
from lakeworks.testing import InProcessServer

BASE = "http://127.0.0.1:8600"
LIST_STREAMS = {
    "Content-Type": "application/x-amz-json-1.1",
    "X-Amz-Target": "Firehose_20150804.ListDeliveryStreams",
}


def _signed(
    key_id: str, secret: str, body: bytes, headers: dict[str, str] = LIST_STREAMS
) -> dict[str, str]:
    request = AWSRequest(method="POST", url=BASE + "/", data=body, headers=dict(headers))
    SigV4Auth(Credentials(key_id, secret), "firehose", "us-east-1").add_auth(request)
    return {k: str(v) for k, v in request.headers.items()}


def _post(server: InProcessServer, headers: dict[str, str], body: bytes) -> httpx.Response:
    # the signed Authorization header replaces the client's bearer token
    return server.client.post("/", content=body, headers=headers)


def _key(
    server: InProcessServer,
    expires_in_seconds: int | None = None,
    scopes: tuple[str, ...] = ("read",),
) -> tuple[str, str]:
    info = server.platform.iam.create_access_key(
        RequestContext.system(),
        AccessKeyCreate.model_validate(
            {"principal": "fast", "scopes": scopes, "expires_in_seconds": expires_in_seconds}
        ),
    )
    assert info.secret_access_key is not None
    return info.access_key_id, info.secret_access_key


def test_every_request_is_verified_with_warm_caches(server: InProcessServer) -> None:
    key_id, secret = _key(server)
    body = b'{"Limit": 1}'
    good = _signed(key_id, secret, body)
    for _ in range(3):  # warms the credential cache and the signing-key cache
        assert _post(server, good, body).status_code == 200
    wrong_secret = _signed(key_id, secret[:-2] + "xx", body)
    refused = _post(server, wrong_secret, body)
    assert refused.status_code == 403
    assert refused.json()["__type"] == "InvalidSignatureException"
    # JSON services send no x-amz-content-sha256: the body read to hash it is the body used
    tampered = _post(server, good, b'{"Limit": 2}')
    assert tampered.status_code == 403
    assert tampered.json()["__type"] == "InvalidSignatureException"


def test_an_expired_access_key_is_refused_though_cached(server: InProcessServer) -> None:
    key_id, secret = _key(server, expires_in_seconds=1)
    body = b"{}"
    assert _post(server, _signed(key_id, secret, body), body).status_code == 200
    assert _post(server, _signed(key_id, secret, body), body).status_code == 200  # cached
    time.sleep(1.2)
    refused = _post(server, _signed(key_id, secret, body), body)
    assert refused.status_code == 403
    assert refused.json()["__type"] == "UnrecognizedClientException"
    assert "expired" in refused.json()["message"]


def test_an_expired_token_is_refused_though_cached(server: InProcessServer) -> None:
    info = server.platform.iam.create_token(
        RequestContext.system(), TokenCreate(principal="brief", expires_in_seconds=1)
    )
    assert info.token is not None
    headers = {"Authorization": f"Bearer {info.token}"}
    for _ in range(2):
        assert server.client.get("/api/v1/whoami", headers=headers).status_code == 200
    assert server.platform.iam.cached_token_context(info.token) is not None
    time.sleep(1.2)
    assert server.platform.iam.cached_token_context(info.token) is None
    assert server.client.get("/api/v1/whoami", headers=headers).status_code == 401


def test_cached_token_context_knows_only_verified_tokens(server: InProcessServer) -> None:
    iam = server.platform.iam
    info = iam.create_token(RequestContext.system(), TokenCreate(principal="later"))
    assert info.token is not None
    assert iam.cached_token_context(info.token) is None  # never verified yet
    assert iam.cached_token_context("not-a-token") is None
    iam.authenticate_token(info.token)
    first, second = iam.cached_token_context(info.token), iam.cached_token_context(info.token)
    assert first is not None
    assert second is not None
    assert (first.principal, first.scopes) == ("later", second.scopes)
    assert first.request_id != second.request_id
    iam.revoke_token(RequestContext.system(), info.token_id)
    assert iam.cached_token_context(info.token) is None


def test_signing_key_cache_matches_the_derivation_and_follows_the_secret() -> None:
    credential = sigv4.Credential("AKIDEXAMPLE", "20150830", "us-east-1", "iam")
    secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    # AWS's documented example key (SigV4 test suite)
    expected = "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
    assert sigv4.signing_key(secret, credential).hex() == expected
    assert sigv4.signing_key(secret, credential).hex() == expected  # from the cache
    assert sigv4.signing_key(secret + "x", credential).hex() != expected
    next_day = sigv4.Credential("AKIDEXAMPLE", "20150831", "us-east-1", "iam")
    assert sigv4.signing_key(secret, next_day).hex() != expected


@pytest.mark.parametrize(
    "value", ["20240230T000000Z", "20241301T120000Z", "20240101T246000Z", "2024010T1200000Z"]
)
def test_impossible_timestamps_are_malformed(value: str) -> None:
    parts = sigv4.RequestParts("GET", "/", "", (("x-amz-date", value), ("host", "h")))
    header = (
        "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/s3/aws4_request, "
        f"SignedHeaders=host;x-amz-date, Signature={'0' * 64}"
    )
    parts = sigv4.RequestParts("GET", "/", "", (*parts.headers, ("authorization", header)))
    with pytest.raises(ValidationError) as caught:
        sigv4.parse_signature(parts, {})
    assert caught.value.aws_code == "AuthorizationHeaderMalformed"
    assert "YYYYMMDDTHHMMSSZ" in caught.value.message


def test_signing_time_matches_strptime() -> None:
    header = (
        "AWS4-HMAC-SHA256 Credential=AKID/20241231/us-east-1/s3/aws4_request, "
        f"SignedHeaders=host, Signature={'a' * 64}"
    )
    parts = sigv4.RequestParts(
        "GET", "/", "", (("x-amz-date", "20241231T235959Z"), ("authorization", header))
    )
    info = sigv4.parse_signature(parts, {})
    assert info is not None
    expected = datetime.strptime("20241231T235959Z", "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert info.time == expected


def test_request_headers_first_value_any_case() -> None:
    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "headers": [(b"X-Amz-Meta-A", b"1"), (b"x-amz-meta-a", b"2"), (b"Host", b"h:1")],
    }
    request = AwsRequest(scope, _no_body)
    assert request.header("X-AMZ-META-A") == "1"
    assert request.header("missing", "default") == "default"
    assert request.host == "h"
    assert request.parts().headers == (
        ("x-amz-meta-a", "1"),
        ("x-amz-meta-a", "2"),
        ("host", "h:1"),
    )
    assert sigv4.canonical_headers(request.parts(), ("x-amz-meta-a", "host")) == (
        "host:h:1\nx-amz-meta-a:1,2\n"
    )


async def _no_body() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


def test_json_body_still_parsed_after_the_hash_shortcut(server: InProcessServer) -> None:
    key_id, secret = _key(server)
    body = json.dumps({"Limit": "many"}).encode()
    refused = _post(server, _signed(key_id, secret, body), body)
    assert refused.status_code == 400  # the handler saw the body: Limit must be a number
    assert "Limit" in refused.json()["message"]


@pytest.mark.parametrize(
    ("data", "why"), [("YW Jj", "not valid base64"), ("YWJ", "not valid base64"), (7, "Data")]
)
def test_firehose_record_data_must_be_strict_base64(
    server: InProcessServer, data: object, why: str
) -> None:
    body = json.dumps(
        {"DeliveryStreamName": "any", "Records": [{"Data": "YWJj"}, {"Data": data}]}
    ).encode()
    target = {**LIST_STREAMS, "X-Amz-Target": "Firehose_20150804.PutRecordBatch"}
    refused = _post(server, _signed(*_key(server, scopes=("write",)), body, target), body)
    assert refused.status_code == 400, refused.text
    assert why in refused.json()["message"]
