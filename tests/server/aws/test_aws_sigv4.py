"""SigV4 verification against requests signed by botocore's own signers."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock
from urllib.parse import parse_qsl, urlsplit

import pytest
from botocore.auth import HmacV1QueryAuth, S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from lakeworks.core.errors import AccessDenied, InvalidSignature, ValidationError
from lakeworks.server.aws import sigv2, sigv4
from lakeworks.server.aws.request import AwsRequest

KEY_ID = "AKIAEXAMPLEEXAMPLE01"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
NOW = datetime(2024, 5, 17, 12, 30, 0, tzinfo=UTC)


def _signed(
    method: str,
    url: str,
    *,
    service: str = "s3",
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    presign: int | None = None,
    secret: str = SECRET,
) -> AWSRequest:
    request = AWSRequest(method=method, url=url, data=body, headers=headers or {})
    credentials = Credentials(KEY_ID, secret)
    if presign is not None:
        signer: SigV4Auth = S3SigV4QueryAuth(credentials, service, "us-east-1", expires=presign)
    elif service == "s3":
        signer = S3SigV4Auth(credentials, service, "us-east-1")
    else:
        signer = SigV4Auth(credentials, service, "us-east-1")
    with mock.patch("botocore.auth.get_current_datetime", return_value=NOW.replace(tzinfo=None)):
        signer.add_auth(request)
    return request


def _parts(request: AWSRequest) -> tuple[sigv4.RequestParts, dict[str, str]]:
    split = urlsplit(request.url)
    headers = [(k.lower(), str(v)) for k, v in request.headers.items()]
    if not any(k == "host" for k, _ in headers):
        headers.append(("host", split.netloc))
    query = dict(parse_qsl(split.query, keep_blank_values=True))
    return sigv4.RequestParts(request.method, split.path, split.query, tuple(headers)), query


def _verify(request: AWSRequest, *, body: bytes = b"", secret: str = SECRET) -> None:
    parts, query = _parts(request)
    info = sigv4.parse_signature(parts, query)
    assert info is not None
    s3 = info.credential.service == "s3"
    if info.presigned and s3:
        payload_hash = sigv4.UNSIGNED_PAYLOAD
    else:
        payload_hash = parts.header("x-amz-content-sha256") or hashlib.sha256(body).hexdigest()
    canonical = sigv4.canonical_request(parts, info, payload_hash, s3=s3)
    key = sigv4.signing_key(secret, info.credential)
    expected = sigv4.sign(key, sigv4.string_to_sign(info.timestamp, info.credential, canonical))
    sigv4.verify(expected, info.signature)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8600/",
        "http://127.0.0.1:8600/bucket",
        "http://127.0.0.1:8600/bucket/plain-key.txt",
        "http://127.0.0.1:8600/bucket/dir/with%20space/%C3%A9t%C3%A9%2B%3D%26.csv",
        "http://127.0.0.1:8600/bucket/a//double/./dots/../key",
        "http://127.0.0.1:8600/bucket?list-type=2&prefix=a%20b%2Fc&encoding-type=url&delimiter=%2F",
        "http://127.0.0.1:8600/bucket/key?uploads",
        "http://127.0.0.1:8600/bucket/key?partNumber=3&uploadId=abc-DEF_123",
        "http://bucket.localhost:8600/key%7Ewith~tilde",
    ],
)
def test_s3_header_signatures_from_botocore_verify(url: str) -> None:
    body = b"hello world"
    request = _signed("PUT", url, body=body, headers={"Content-Type": "text/plain"})
    _verify(request, body=body)


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("POST", "http://127.0.0.1:8600/", b"Action=GetCallerIdentity&Version=2011-06-15"),
        ("POST", "http://127.0.0.1:8600/endpoints/my%20endpoint/invocations", b'{"a": 1}'),
        ("GET", "http://127.0.0.1:8600/a/./b/../c//d/", b""),
        ("GET", "http://127.0.0.1:8600/x?b=2&a=1&a=0&c=%E2%9C%93", b""),
    ],
)
def test_other_service_signatures_from_botocore_verify(method: str, url: str, body: bytes) -> None:
    # Non-S3 services: the path is normalised and encoded twice, the body hash is not a header.
    request = _signed(method, url, service="sagemaker", body=body)
    assert "X-Amz-Content-SHA256" not in request.headers
    _verify(request, body=body)


def test_presigned_url_from_botocore_verifies() -> None:
    request = _signed("GET", "http://127.0.0.1:8600/bucket/some%20key.bin", presign=600)
    _verify(request)
    parts, query = _parts(request)
    info = sigv4.parse_signature(parts, query)
    assert info is not None
    assert info.presigned
    assert info.expires == 600


@pytest.mark.parametrize(
    "tamper",
    ["secret", "header", "path", "query", "method", "payload-hash"],
)
def test_tampered_requests_do_not_verify(tamper: str) -> None:
    request = _signed(
        "PUT",
        "http://127.0.0.1:8600/bucket/key?partNumber=1&uploadId=abc",
        body=b"data",
        headers={"Content-Type": "text/plain"},
    )
    secret = SECRET
    if tamper == "secret":
        secret = SECRET[:-1] + "X"
    elif tamper == "header":
        request.headers.replace_header("Content-Type", "text/html")
    elif tamper == "path":
        request.url = request.url.replace("/key", "/other")
    elif tamper == "query":
        request.url = request.url.replace("partNumber=1", "partNumber=2")
    elif tamper == "method":
        request.method = "POST"
    else:
        request.headers.replace_header("X-Amz-Content-SHA256", hashlib.sha256(b"x").hexdigest())
    with pytest.raises(InvalidSignature) as caught:
        _verify(request, secret=secret)
    assert caught.value.aws_code == "SignatureDoesNotMatch"
    assert caught.value.status == 403


def _parts_with(headers: dict[str, str], query: str = "") -> sigv4.RequestParts:
    pairs = tuple((k.lower(), v) for k, v in {"host": "h", **headers}.items())
    return sigv4.RequestParts("GET", "/", query, pairs)


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        ("AWS AKIAEXAMPLE:c2lnbmF0dXJl", "InvalidRequest"),
        ("AWS4-HMAC-SHA256 Credential=AKID/20240517/us-east-1/s3", "AuthorizationHeaderMalformed"),
        (
            "AWS4-HMAC-SHA256 Credential=AKID/2024-05-17/us-east-1/s3/aws4_request, "
            "SignedHeaders=host, Signature=" + "0" * 64,
            "AuthorizationHeaderMalformed",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKID/20240517/us-east-1/s3/aws4_request, "
            "SignedHeaders=x-amz-date, Signature=" + "0" * 64,
            "AuthorizationHeaderMalformed",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKID/20240517/us-east-1/s3/aws4_request, "
            "SignedHeaders=host, Signature=xyz",
            "AuthorizationHeaderMalformed",
        ),
    ],
)
def test_malformed_authorization_headers_are_refused(authorization: str, code: str) -> None:
    parts = _parts_with({"authorization": authorization, "x-amz-date": "20240517T123000Z"})
    with pytest.raises(ValidationError) as caught:
        sigv4.parse_signature(parts, {})
    assert caught.value.aws_code == code
    assert caught.value.status == 400


@pytest.mark.parametrize("date", ["20241399T999999Z", "2024-05-17T12:30:00Z", ""])
def test_malformed_dates_are_refused(date: str) -> None:
    authorization = (
        "AWS4-HMAC-SHA256 Credential=AKID/20240517/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64
    )
    parts = _parts_with({"authorization": authorization, "x-amz-date": date})
    with pytest.raises(ValidationError) as caught:
        sigv4.parse_signature(parts, {})
    assert caught.value.aws_code == "AuthorizationHeaderMalformed"


def test_unsigned_request_has_no_signature() -> None:
    assert sigv4.parse_signature(_parts_with({}), {}) is None


@pytest.mark.parametrize("expires", ["604801", "0", "-5", "soon"])
def test_presigned_lifetime_must_be_one_second_to_seven_days(expires: str) -> None:
    query = {
        "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
        "X-Amz-Credential": "AKID/20240517/us-east-1/s3/aws4_request",
        "X-Amz-Date": "20240517T123000Z",
        "X-Amz-Expires": expires,
        "X-Amz-SignedHeaders": "host",
        "X-Amz-Signature": "0" * 64,
    }
    with pytest.raises(ValidationError) as caught:
        sigv4.parse_signature(_parts_with({}), query)
    assert caught.value.aws_code == "AuthorizationQueryParametersError"
    assert "604800" in caught.value.message


def _info(
    timestamp: str, *, presigned: bool = False, date: str | None = None
) -> sigv4.SignatureInfo:
    credential = sigv4.Credential(KEY_ID, date or timestamp[:8], "us-east-1", "s3")
    return sigv4.SignatureInfo(
        credential, ("host",), "0" * 64, timestamp, presigned, 300 if presigned else None
    )


def test_clock_skew_is_refused_beyond_the_setting() -> None:
    sigv4.check_time(_info("20240517T122000Z"), NOW, 900)  # 10 minutes: fine
    with pytest.raises(InvalidSignature) as caught:
        sigv4.check_time(_info("20240517T120000Z"), NOW, 900)  # 30 minutes behind
    assert caught.value.aws_code == "RequestTimeTooSkewed"
    with pytest.raises(InvalidSignature):
        sigv4.check_time(_info("20240517T130000Z"), NOW, 900)  # 30 minutes ahead


def test_presigned_urls_expire() -> None:
    sigv4.check_time(_info("20240517T122600Z", presigned=True), NOW, 900)  # 4 of 5 minutes
    with pytest.raises(AccessDenied) as caught:
        sigv4.check_time(_info("20240517T122400Z", presigned=True), NOW, 900)
    assert caught.value.message == "Request has expired"
    assert caught.value.aws_code == "AccessDenied"
    later = (NOW + timedelta(hours=1)).strftime("%Y%m%dT%H%M%SZ")
    with pytest.raises(AccessDenied):
        sigv4.check_time(_info(later, presigned=True), NOW, 900)


def test_credential_date_must_be_the_signing_date() -> None:
    with pytest.raises(ValidationError) as caught:
        sigv4.check_time(_info("20240517T123000Z", date="20240516"), NOW, 900)
    assert caught.value.aws_code == "AuthorizationHeaderMalformed"


def test_canonical_uri_rules() -> None:
    assert sigv4.canonical_uri("/b/a%20b/../c", s3=True) == "/b/a%20b/../c"
    assert sigv4.canonical_uri("/b/a%20b/../c", s3=False) == "/b/c"
    assert sigv4.canonical_uri("/endpoints/a%20b/invocations", s3=False) == (
        "/endpoints/a%2520b/invocations"
    )
    assert sigv4.canonical_uri("", s3=False) == "/"


def test_canonical_query_sorts_and_encodes() -> None:
    raw = "b=2&a=x%20y&a=1&flag&c=%7e~&X-Amz-Signature=abc"
    assert sigv4.canonical_query(raw, exclude=("X-Amz-Signature",)) == (
        "a=1&a=x%20y&b=2&c=~~&flag="
    )


def _aws_request(method: str, url: str, headers: dict[str, str] | None = None) -> AwsRequest:
    split = urlsplit(url)
    scope = {
        "type": "http",
        "method": method,
        "path": split.path,
        "raw_path": split.path.encode(),
        "query_string": split.query.encode(),
        "headers": [
            (k.lower().encode(), v.encode())
            for k, v in {"host": split.netloc, **(headers or {})}.items()
        ],
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    return AwsRequest(scope, receive)


@pytest.mark.parametrize(
    ("url", "auth_path"),
    [
        ("http://127.0.0.1:8600/bucket/dir/a%20b.txt?uploadId=abc&partNumber=2", None),
        ("http://127.0.0.1:8600/bucket/k?response-content-type=text%2Fplain&x-id=GetObject", None),
        ("http://bucket.localhost:8600/k.txt", "/bucket/k.txt"),
    ],
)
def test_version_2_presigned_string_to_sign_matches_botocore(
    url: str, auth_path: str | None
) -> None:
    request = AWSRequest(
        method="PUT", url=url, headers={"Content-Type": "text/csv", "x-amz-meta-a": "1"}
    )
    request.auth_path = auth_path
    HmacV1QueryAuth(Credentials(KEY_ID, SECRET), expires=300).add_auth(request)
    split = urlsplit(request.url)
    query = dict(parse_qsl(split.query, keep_blank_values=True))
    info = sigv2.parse_v2(query)
    assert info is not None
    received = _aws_request("PUT", request.url, {"Content-Type": "text/csv"})
    resource = auth_path or split.path
    to_sign = sigv2.string_to_sign_v2(received, info.expires, resource)
    digest = hmac.new(SECRET.encode(), to_sign.encode(), hashlib.sha1).digest()
    assert base64.b64encode(digest).decode() == info.signature
