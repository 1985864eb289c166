"""aws-chunked bodies: AWS's published signed-chunk example, botocore's trailer encoder."""

from __future__ import annotations

import base64
import hashlib
import io
import zlib

import pytest
from botocore.httpchecksum import AwsChunkedWrapper, Crc32Checksum, Sha256Checksum

from lakeworks.core.errors import InvalidSignature, ValidationError
from lakeworks.server.aws import sigv4
from lakeworks.server.aws.chunked import AwsChunkedDecoder, ChunkSigner

# The example of AWS's "Transferring payload in multiple chunks" page: 64 KiB + 1 KiB of 'a'.
EXAMPLE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
EXAMPLE_CREDENTIAL = sigv4.Credential("AKIAIOSFODNN7EXAMPLE", "20130524", "us-east-1", "s3")
EXAMPLE_TIME = "20130524T000000Z"
EXAMPLE_SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
EXAMPLE_CHUNK_SIGNATURES = [
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
]


def _example_signer() -> ChunkSigner:
    key = sigv4.signing_key(EXAMPLE_SECRET, EXAMPLE_CREDENTIAL)
    return ChunkSigner(key, EXAMPLE_TIME, EXAMPLE_CREDENTIAL, EXAMPLE_SEED)


def _example_body() -> bytes:
    chunks = [b"a" * 65536, b"a" * 1024, b""]
    out = b""
    for data, signature in zip(chunks, EXAMPLE_CHUNK_SIGNATURES, strict=True):
        out += f"{len(data):x};chunk-signature={signature}\r\n".encode() + data + b"\r\n"
    return out


def _decode(decoder: AwsChunkedDecoder, body: bytes, step: int = 1000) -> bytes:
    out = b""
    for start in range(0, len(body), step):
        out += b"".join(decoder.feed(body[start : start + step]))
    decoder.finish()
    return out


def test_aws_example_seed_signature_is_reproduced() -> None:
    headers = (
        ("host", "s3.amazonaws.com"),
        ("x-amz-date", EXAMPLE_TIME),
        ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        ("x-amz-content-sha256", sigv4.STREAMING_SIGNED),
        ("content-encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", "66560"),
        ("content-length", "66824"),
    )
    parts = sigv4.RequestParts("PUT", "/examplebucket/chunkObject.txt", "", headers)
    signed = tuple(sorted(name for name, _ in headers))
    info = sigv4.SignatureInfo(EXAMPLE_CREDENTIAL, signed, EXAMPLE_SEED, EXAMPLE_TIME)
    canonical = sigv4.canonical_request(parts, info, sigv4.STREAMING_SIGNED, s3=True)
    key = sigv4.signing_key(EXAMPLE_SECRET, EXAMPLE_CREDENTIAL)
    assert sigv4.sign(key, sigv4.string_to_sign(EXAMPLE_TIME, EXAMPLE_CREDENTIAL, canonical)) == (
        EXAMPLE_SEED
    )


@pytest.mark.parametrize("step", [1, 7, 1000, 70000])
def test_aws_example_signed_chunks_decode(step: int) -> None:
    body = _example_body()
    assert len(body) == 66824
    decoder = AwsChunkedDecoder(signer=_example_signer())
    assert _decode(decoder, body, step) == b"a" * 66560


def test_tampered_chunk_data_fails_its_signature() -> None:
    body = bytearray(_example_body())
    body[5000] = ord("b")
    with pytest.raises(InvalidSignature) as caught:
        _decode(AwsChunkedDecoder(signer=_example_signer()), bytes(body))
    assert caught.value.aws_code == "SignatureDoesNotMatch"


def test_wrong_seed_fails_the_first_chunk() -> None:
    signer = _example_signer()
    signer.seed_signature = "0" * 64
    with pytest.raises(InvalidSignature):
        _decode(AwsChunkedDecoder(signer=signer), _example_body())


def test_dropped_chunk_breaks_the_chain() -> None:
    body = _example_body()
    second = body.index(b"400;chunk-signature=")
    final = body.index(b"0;chunk-signature=" + EXAMPLE_CHUNK_SIGNATURES[2].encode())
    with pytest.raises(InvalidSignature):
        _decode(AwsChunkedDecoder(signer=_example_signer()), body[:second] + body[final:])


def test_truncated_body_is_incomplete() -> None:
    with pytest.raises(ValidationError) as caught:
        _decode(AwsChunkedDecoder(signer=_example_signer()), _example_body()[:-40])
    assert caught.value.aws_code == "IncompleteBody"


def test_signed_mode_needs_chunk_signatures() -> None:
    with pytest.raises(ValidationError) as caught:
        _decode(AwsChunkedDecoder(signer=_example_signer()), b"3\r\nabc\r\n0\r\n\r\n")
    assert caught.value.aws_code == "InvalidRequest"


@pytest.mark.parametrize(
    "body",
    [
        b"zz\r\nabc\r\n0\r\n\r\n",  # size not hex
        b"3\r\nabcd\r\n0\r\n\r\n",  # longer than declared
        b"0\r\n\r\nextra",  # bytes after the end
        b"1" * 5000,  # endless chunk header
    ],
)
def test_malformed_framing_is_a_400(body: bytes) -> None:
    with pytest.raises(ValidationError) as caught:
        _decode(AwsChunkedDecoder(), body)
    assert caught.value.status == 400


@pytest.mark.parametrize(
    ("checksum_cls", "name"),
    [(Crc32Checksum, "x-amz-checksum-crc32"), (Sha256Checksum, "x-amz-checksum-sha256")],
)
def test_botocore_trailer_checksums_verify(checksum_cls: type, name: str) -> None:
    data = bytes(range(256)) * 5000
    wrapper = AwsChunkedWrapper(
        io.BytesIO(data), checksum_cls=checksum_cls, checksum_name=name, chunk_size=65536
    )
    body = wrapper.read()
    decoder = AwsChunkedDecoder(trailers=(name,))
    assert _decode(decoder, body, 10000) == data
    assert decoder.decoded_length == len(data)


def test_wrong_trailer_checksum_is_bad_digest() -> None:
    data = b"payload" * 1000
    wrapper = AwsChunkedWrapper(
        io.BytesIO(data), checksum_cls=Crc32Checksum, checksum_name="x-amz-checksum-crc32"
    )
    body = wrapper.read()
    good = base64.b64encode(zlib.crc32(data).to_bytes(4, "big"))
    assert good in body
    tampered = body.replace(good, base64.b64encode((zlib.crc32(data) ^ 1).to_bytes(4, "big")))
    with pytest.raises(ValidationError) as caught:
        _decode(AwsChunkedDecoder(trailers=("x-amz-checksum-crc32",)), tampered)
    assert caught.value.aws_code == "BadDigest"


def test_announced_trailer_must_arrive() -> None:
    with pytest.raises(ValidationError) as caught:
        _decode(AwsChunkedDecoder(trailers=("x-amz-checksum-crc32",)), b"1\r\nx\r\n0\r\n\r\n")
    assert caught.value.aws_code == "InvalidRequest"


@pytest.mark.parametrize("name", ["x-amz-checksum-crc32c", "x-amz-checksum-md7", "x-foo"])
def test_unverifiable_trailers_are_refused(name: str) -> None:
    with pytest.raises(ValidationError) as caught:
        AwsChunkedDecoder(trailers=(name,))
    assert caught.value.aws_code == "InvalidRequest"


def _signed_trailer_body(signer: ChunkSigner, data: bytes, trailer: str) -> bytes:
    previous = signer.seed_signature
    out = b""
    for piece in (data, b""):
        to_sign = sigv4.chunk_string_to_sign(
            signer.timestamp, signer.credential, previous, hashlib.sha256(piece).hexdigest()
        )
        previous = sigv4.sign(signer.key, to_sign)
        out += f"{len(piece):x};chunk-signature={previous}\r\n".encode() + piece
        out += b"\r\n" if piece else b""
    digest = hashlib.sha256(f"{trailer}\n".encode()).hexdigest()
    trailer_signature = sigv4.sign(
        signer.key,
        sigv4.trailer_string_to_sign(signer.timestamp, signer.credential, previous, digest),
    )
    return out + f"{trailer}\r\nx-amz-trailer-signature:{trailer_signature}\r\n\r\n".encode()


def test_signed_trailer_verifies_and_detects_tampering() -> None:
    data = b"signed trailer" * 100
    crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    body = _signed_trailer_body(_example_signer(), data, f"x-amz-checksum-crc32:{crc}")
    decoder = AwsChunkedDecoder(
        signer=_example_signer(), trailers=("x-amz-checksum-crc32",), signed_trailer=True
    )
    assert _decode(decoder, body) == data
    signature = body.rsplit(b"x-amz-trailer-signature:", 1)[1][:64]
    tampered = body.replace(signature, b"0" * 64)
    with pytest.raises(InvalidSignature):
        _decode(
            AwsChunkedDecoder(
                signer=_example_signer(), trailers=("x-amz-checksum-crc32",), signed_trailer=True
            ),
            tampered,
        )
