"""Authentication at the front door, end to end: bad keys, bad signatures, stale clocks, bodies
that do not match their hash, and signed streaming uploads; nothing is written when a check
fails."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
from botocore.awsrequest import AWSRequest
from botocore.exceptions import ClientError

from lakeworks.server.aws import sigv4
from lakeworks.testing.process import ServerProcess

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bucket(s3: Any) -> str:
    s3.create_bucket(Bucket="guarded")
    return "guarded"


def _send(request: AWSRequest, content: bytes | None = None) -> httpx.Response:
    headers = {k: str(v) for k, v in request.headers.items()}
    body = request.body if content is None else content
    return httpx.request(request.method, request.url, headers=headers, content=body)


def _code(response: httpx.Response) -> str:
    root = ElementTree.fromstring(response.content)
    return root.findtext("Code") or ""


def _keys(s3: Any, bucket: str) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def _spooled(server: ServerProcess) -> list[str]:
    tmp = server.home / "tmp"
    return [p.name for p in tmp.iterdir()] if tmp.exists() else []


def _new_key(server: ServerProcess, principal: str, scopes: list[str]) -> dict[str, str]:
    response = httpx.post(
        f"{server.url}/api/v1/access-keys",
        json={"principal": principal, "scopes": scopes},
        headers={"Authorization": f"Bearer {server.token}"},
    )
    assert response.status_code == 201, response.text
    key: dict[str, str] = response.json()
    return key


def test_wrong_secret_is_signature_does_not_match(client: Any, aws_server: ServerProcess) -> None:
    env = aws_server.aws_env()
    s3 = client("s3", secret=env["AWS_SECRET_ACCESS_KEY"][:-2] + "xx")
    with pytest.raises(ClientError) as caught:
        s3.list_buckets()
    error = caught.value.response
    assert error["Error"]["Code"] == "SignatureDoesNotMatch"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_unknown_key_is_invalid_access_key_id(client: Any) -> None:
    s3 = client("s3", key_id="AKIAUNKNOWNUNKNOWN00", secret="x" * 40)
    with pytest.raises(ClientError) as caught:
        s3.list_buckets()
    assert caught.value.response["Error"]["Code"] == "InvalidAccessKeyId"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_revoked_key_stops_working(client: Any, aws_server: ServerProcess) -> None:
    key = _new_key(aws_server, "temp", ["write"])
    s3 = client("s3", key_id=key["access_key_id"], secret=key["secret_access_key"])
    s3.list_buckets()
    revoked = httpx.delete(
        f"{aws_server.url}/api/v1/access-keys/{key['access_key_id']}",
        headers={"Authorization": f"Bearer {aws_server.token}"},
    )
    assert revoked.status_code == 200, revoked.text
    with pytest.raises(ClientError) as caught:
        s3.list_buckets()
    assert caught.value.response["Error"]["Code"] == "InvalidAccessKeyId"


def test_read_only_principal_cannot_write(
    client: Any, aws_server: ServerProcess, bucket: str
) -> None:
    key = _new_key(aws_server, "reader", ["read"])
    s3 = client("s3", key_id=key["access_key_id"], secret=key["secret_access_key"])
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] >= 0
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="by-reader", Body=b"x" * 1000)
    assert caught.value.response["Error"]["Code"] == "AccessDenied"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert "by-reader" not in _keys(client("s3"), bucket)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_unsigned_requests_are_access_denied(aws_server: ServerProcess, method: str) -> None:
    response = httpx.request(method, f"{aws_server.url}/guarded/key", content=b"")
    assert response.status_code == 403
    assert _code(response) == "AccessDenied"
    assert "Anonymous access is not allowed" in response.text
    assert response.headers["content-type"].startswith("application/xml")


def test_unsigned_json_request_is_missing_authentication_token(aws_server: ServerProcess) -> None:
    response = httpx.post(
        aws_server.url,
        headers={
            "X-Amz-Target": "SageMaker.ListTrainingJobs",
            "Content-Type": "application/x-amz-json-1.1",
        },
        content=b"{}",
    )
    assert response.status_code == 403
    assert response.json()["__type"] == "MissingAuthenticationTokenException"
    assert response.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"


def test_clock_skew_is_refused(aws_server: ServerProcess, sign: Any) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    response = _send(sign("GET", f"{aws_server.url}/", at=now - timedelta(hours=1)))
    assert response.status_code == 403
    assert _code(response) == "RequestTimeTooSkewed"
    ahead = _send(sign("GET", f"{aws_server.url}/", at=now + timedelta(minutes=20)))
    assert _code(ahead) == "RequestTimeTooSkewed"
    near = _send(sign("GET", f"{aws_server.url}/", at=now - timedelta(minutes=5)))
    assert near.status_code == 200


def test_body_not_matching_its_signed_hash_writes_nothing(
    s3: Any, aws_server: ServerProcess, sign: Any, bucket: str
) -> None:
    url = f"{aws_server.url}/{bucket}/tampered"
    response = _send(sign("PUT", url, body=b"the signed body"), content=b"another body!!!")
    assert response.status_code == 400
    assert _code(response) == "XAmzContentSHA256Mismatch"
    assert "tampered" not in _keys(s3, bucket)
    assert _spooled(aws_server) == []
    good = _send(sign("PUT", url, body=b"the signed body"))
    assert good.status_code == 200
    assert s3.get_object(Bucket=bucket, Key="tampered")["Body"].read() == b"the signed body"
    s3.delete_object(Bucket=bucket, Key="tampered")


def test_changed_payload_hash_header_breaks_the_signature(
    aws_server: ServerProcess, sign: Any, bucket: str
) -> None:
    request = sign("PUT", f"{aws_server.url}/{bucket}/k", body=b"abc")
    request.headers.replace_header("X-Amz-Content-SHA256", hashlib.sha256(b"xyz").hexdigest())
    response = _send(request, content=b"xyz")
    assert response.status_code == 403
    assert _code(response) == "SignatureDoesNotMatch"


def test_missing_payload_hash_header_is_refused(
    aws_server: ServerProcess, sign: Any, bucket: str
) -> None:
    request = sign("GET", f"{aws_server.url}/{bucket}")
    del request.headers["X-Amz-Content-SHA256"]
    response = _send(request)
    assert response.status_code == 400
    assert _code(response) == "InvalidRequest"


def test_wrong_header_checksum_is_bad_digest(
    s3: Any, aws_server: ServerProcess, sign: Any, bucket: str
) -> None:
    request = sign(
        "PUT",
        f"{aws_server.url}/{bucket}/crc",
        body=b"data",
        headers={"x-amz-checksum-crc32": "AAAAAA=="},
    )
    response = _send(request)
    assert response.status_code == 400
    assert _code(response) == "BadDigest"
    assert "crc" not in _keys(s3, bucket)


def _signed_chunks(request: AWSRequest, secret: str, pieces: list[bytes]) -> bytes:
    authorization = str(request.headers["Authorization"])
    seed = authorization.rsplit("Signature=", 1)[1]
    credential_text = authorization.split("Credential=", 1)[1].split(",", 1)[0]
    key_id, date, region, service, _ = credential_text.split("/")
    credential = sigv4.Credential(key_id, date, region, service)
    timestamp = str(request.headers["X-Amz-Date"])
    key = sigv4.signing_key(secret, credential)
    previous, out = seed, b""
    for piece in [*pieces, b""]:
        to_sign = sigv4.chunk_string_to_sign(
            timestamp, credential, previous, hashlib.sha256(piece).hexdigest()
        )
        previous = sigv4.sign(key, to_sign)
        out += f"{len(piece):x};chunk-signature={previous}\r\n".encode() + piece + b"\r\n"
    return out


def test_signed_streaming_upload(
    s3: Any, aws_server: ServerProcess, sign: Any, bucket: str
) -> None:
    pieces = [b"a" * 65536, b"b" * 65536, b"c" * 100]
    data = b"".join(pieces)
    headers = {"Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(data))}
    url = f"{aws_server.url}/{bucket}/streamed"
    secret = aws_server.credentials["secret_access_key"]
    request = sign("PUT", url, headers=headers, payload_hash=sigv4.STREAMING_SIGNED)
    tampered = _signed_chunks(request, secret, pieces).replace(b"b" * 10, b"B" * 10, 1)
    refused = _send(request, content=tampered)
    assert refused.status_code == 403
    assert _code(refused) == "SignatureDoesNotMatch"
    assert "streamed" not in _keys(s3, bucket)
    assert _spooled(aws_server) == []
    request = sign("PUT", url, headers=headers, payload_hash=sigv4.STREAMING_SIGNED)
    accepted = _send(request, content=_signed_chunks(request, secret, pieces))
    assert accepted.status_code == 200, accepted.text
    assert s3.get_object(Bucket=bucket, Key="streamed")["Body"].read() == data


def test_virtual_host_addressing(
    s3: Any, aws_server: ServerProcess, sign: Any, bucket: str
) -> None:
    port = aws_server.url.rsplit(":", 1)[1]
    host = f"{bucket}.localhost:{port}"
    request = sign("PUT", f"http://{host}/vhost/key.txt", body=b"vhost")
    headers = {k: str(v) for k, v in request.headers.items()}
    headers["Host"] = host
    response = httpx.put(f"{aws_server.url}/vhost/key.txt", headers=headers, content=b"vhost")
    assert response.status_code == 200, response.text
    assert s3.get_object(Bucket=bucket, Key="vhost/key.txt")["Body"].read() == b"vhost"
