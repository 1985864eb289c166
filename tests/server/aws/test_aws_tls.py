"""Over HTTPS, boto3 sends uploads aws-chunked with a trailing checksum
(``STREAMING-UNSIGNED-PAYLOAD-TRAILER``); this runs a TLS server process to prove it works."""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from lakeworks.testing.process import ServerProcess, server_process

pytestmark = pytest.mark.slow

MiB = 1024 * 1024


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Path]]:
    base = tmp_path_factory.mktemp("tls")
    cert, key = _self_signed(base)
    env = {"LAKEWORKS_SERVER_TLS_CERTFILE": str(cert), "LAKEWORKS_SERVER_TLS_KEYFILE": str(key)}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SSL_CERT_FILE", str(cert))  # the health check trusts our certificate
        with server_process(base / "home", env=env) as server:
            yield server, cert


@pytest.fixture(scope="module")
def tls_s3(tls_server: tuple[ServerProcess, Path]) -> Any:
    server, cert = tls_server
    env = server.aws_env()
    assert env["AWS_ENDPOINT_URL"].startswith("https://")
    session = boto3.session.Session(
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name="us-east-1",
    )
    return session.client(
        "s3",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        verify=str(cert),
        config=Config(retries={"max_attempts": 1}),
    )


def test_put_object_with_trailing_checksum(tls_s3: Any) -> None:
    tls_s3.create_bucket(Bucket="secure")
    sent: list[dict[str, str]] = []

    def record(request: Any, **_: Any) -> None:
        sent.append(
            {
                k.lower(): v.decode() if isinstance(v, bytes) else str(v)
                for k, v in request.headers.items()
            }
        )

    tls_s3.meta.events.register("before-send.s3.PutObject", record)
    body = os.urandom(300_000)
    try:
        response = tls_s3.put_object(Bucket="secure", Key="trailer.bin", Body=body)
    finally:
        tls_s3.meta.events.unregister("before-send.s3.PutObject", record)
    assert sent[0]["x-amz-content-sha256"] == "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    assert sent[0]["x-amz-trailer"] == "x-amz-checksum-crc32"
    assert response["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    assert tls_s3.get_object(Bucket="secure", Key="trailer.bin")["Body"].read() == body


def test_multipart_upload_file_with_trailing_checksums(tls_s3: Any, tmp_path: Path) -> None:
    source = tmp_path / "source.bin"
    source.write_bytes(os.urandom(12 * MiB))
    config = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
    tls_s3.upload_file(str(source), "secure", "multi.bin", Config=config)
    target = tmp_path / "target.bin"
    tls_s3.download_file("secure", "multi.bin", str(target))
    assert target.read_bytes() == source.read_bytes()


def test_sha256_trailer(tls_s3: Any) -> None:
    body = b"sha256 trailer" * 1000
    tls_s3.put_object(Bucket="secure", Key="sha.bin", Body=body, ChecksumAlgorithm="SHA256")
    assert tls_s3.get_object(Bucket="secure", Key="sha.bin")["Body"].read() == body
