"""Request bodies verified while they stream: limits, hashes, checksums, spooling."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import zlib
from pathlib import Path
from typing import Any

import pytest
from botocore.httpchecksum import AwsChunkedWrapper, Crc32Checksum

from lakeworks.core.errors import PayloadTooLarge, ValidationError
from lakeworks.server.aws import sigv4
from lakeworks.server.aws.payload import Payload
from lakeworks.server.aws.request import AwsRequest


def _request(body: bytes, headers: dict[str, str] | None = None, piece: int = 1000) -> AwsRequest:
    pieces = [body[i : i + piece] for i in range(0, len(body), piece)] or [b""]
    messages = [
        {"type": "http.request", "body": p, "more_body": i < len(pieces) - 1}
        for i, p in enumerate(pieces)
    ]

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    scope = {
        "type": "http",
        "method": "PUT",
        "path": "/b/k",
        "raw_path": b"/b/k",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
    }
    return AwsRequest(scope, receive)


def _read(payload: Payload, limit: int = 10**9) -> bytes:
    return asyncio.run(payload.read_all(limit))


def test_signed_body_hash_is_checked() -> None:
    body = b"x" * 5000
    good = Payload(_request(body), hashlib.sha256(body).hexdigest())
    assert _read(good) == body
    bad = Payload(_request(body), hashlib.sha256(b"other").hexdigest())
    with pytest.raises(ValidationError) as caught:
        _read(bad)
    assert caught.value.aws_code == "XAmzContentSHA256Mismatch"


def test_unsigned_payload_passes_through() -> None:
    assert _read(Payload(_request(b"abc"), sigv4.UNSIGNED_PAYLOAD)) == b"abc"


def test_invalid_payload_hash_value_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        Payload(_request(b""), "not-a-hash")
    assert caught.value.aws_code == "InvalidArgument"


def test_limits_apply_to_declared_and_counted_sizes() -> None:
    declared = _request(b"x" * 100, {"Content-Length": "100"})
    with pytest.raises(PayloadTooLarge) as caught:
        _read(Payload(declared, sigv4.UNSIGNED_PAYLOAD), limit=10)
    assert caught.value.aws_code == "EntityTooLarge"
    undeclared = _request(b"x" * 100)
    with pytest.raises(PayloadTooLarge):
        _read(Payload(undeclared, sigv4.UNSIGNED_PAYLOAD), limit=10)


def test_header_checksums_are_verified() -> None:
    body = b"checksummed" * 100
    crc = base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
    sha = base64.b64encode(hashlib.sha256(body).digest()).decode()
    headers = {"x-amz-checksum-crc32": crc, "x-amz-checksum-sha256": sha}
    assert _read(Payload(_request(body, headers), sigv4.UNSIGNED_PAYLOAD)) == body
    wrong = {"x-amz-checksum-crc32": base64.b64encode(b"\0\0\0\0").decode()}
    with pytest.raises(ValidationError) as caught:
        _read(Payload(_request(body, wrong), sigv4.UNSIGNED_PAYLOAD))
    assert caught.value.aws_code == "BadDigest"
    with pytest.raises(ValidationError) as caught:
        _read(Payload(_request(body, {"x-amz-checksum-crc32c": "AAAAAA=="}), "UNSIGNED-PAYLOAD"))
    assert caught.value.aws_code == "InvalidRequest"


def test_content_md5_of_small_documents() -> None:
    body = b"<Delete/>"
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    assert _read(Payload(_request(body, {"Content-MD5": md5}), sigv4.UNSIGNED_PAYLOAD)) == body
    for value, code in [
        ("!!!", "InvalidDigest"),
        (base64.b64encode(b"0" * 16).decode(), "BadDigest"),
    ]:
        with pytest.raises(ValidationError) as caught:
            _read(Payload(_request(body, {"Content-MD5": value}), sigv4.UNSIGNED_PAYLOAD))
        assert caught.value.aws_code == code


def _trailer_body(data: bytes) -> bytes:
    wrapper = AwsChunkedWrapper(
        io.BytesIO(data), checksum_cls=Crc32Checksum, checksum_name="x-amz-checksum-crc32"
    )
    return bytes(wrapper.read())


def test_unsigned_trailer_body_and_its_decoded_length() -> None:
    data = b"trailer" * 3000
    headers = {
        "x-amz-trailer": "x-amz-checksum-crc32",
        "x-amz-decoded-content-length": str(len(data)),
    }
    request = _request(_trailer_body(data), headers)
    assert _read(Payload(request, sigv4.STREAMING_UNSIGNED_TRAILER)) == data
    headers["x-amz-decoded-content-length"] = str(len(data) + 1)
    lying = _request(_trailer_body(data), headers)
    with pytest.raises(ValidationError) as caught:
        _read(Payload(lying, sigv4.STREAMING_UNSIGNED_TRAILER))
    assert caught.value.aws_code == "IncompleteBody"


def test_spool_yields_a_verified_file_and_always_cleans_up(tmp_path: Path) -> None:
    body = b"spooled" * 500_000  # several write batches

    async def spool(payload: Payload) -> bytes:
        async with payload.spool(tmp_path, 10**9) as file:
            assert list(tmp_path.iterdir())
            return file.read()

    good = Payload(_request(body, piece=65536), hashlib.sha256(body).hexdigest())
    assert asyncio.run(spool(good)) == body
    assert list(tmp_path.iterdir()) == []
    bad = Payload(_request(body, piece=65536), hashlib.sha256(b"x").hexdigest())
    with pytest.raises(ValidationError):
        asyncio.run(spool(bad))
    assert list(tmp_path.iterdir()) == []


def test_a_body_can_be_read_once() -> None:
    payload = Payload(_request(b"once"), sigv4.UNSIGNED_PAYLOAD)
    assert _read(payload) == b"once"
    with pytest.raises(RuntimeError):
        _read(payload)
