"""Encryption at rest: the frame format alone, then sealed objects on every store kind."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest
from sqlalchemy import select

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import NotFound, ValidationError
from lakeworks.lake.encryption import (
    HEADER_SIZE,
    TAG_SIZE,
    CorruptObject,
    Encryptor,
    Sealing,
    cipher_range,
    cipher_size,
    decrypt_frames,
    decrypt_range,
    parse_header,
    plain_size,
)
from lakeworks.lake.multipart import MIN_PART_BYTES
from lakeworks.lake.service import LakeService
from lakeworks.lake.store import DataKeyRecord
from lakeworks.schemas.lake import BucketEncryption

from .conftest import backing_client

FRAME = 64  # small frames keep the format tests fast and exercise many frames
KEY = Sealing("AES256", None, b"k" * 16, bytes(range(32)))


def seal(data: bytes, *, frame: int = FRAME, sealing: Sealing = KEY) -> bytes:
    out = io.BytesIO()
    sealer = Encryptor(out.write, sealing, frame_size=frame)
    for start in range(0, len(data), 7):  # odd chunk sizes on purpose
        sealer.write(data[start : start + 7])
    assert sealer.finish() == len(out.getvalue())
    return out.getvalue()


def unseal(stored: bytes, size: int, first: int, last: int, key: bytes = KEY.key) -> bytes:
    header = parse_header(stored)
    _, start, end = cipher_range(first, last, size, header.frame_size)
    chunks = decrypt_frames(header, key, size, first, last, iter([stored[start : end + 1]]))
    return b"".join(chunks)


# -- the frame format ----------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, FRAME - 1, FRAME, FRAME + 1, 3 * FRAME, 3 * FRAME + 5])
def test_round_trip_and_sizes(size: int) -> None:
    data = os.urandom(size)
    stored = seal(data)
    assert len(stored) == cipher_size(size, FRAME)
    assert plain_size(len(stored), FRAME) == size
    assert unseal(stored, size, 0, size - 1) == data
    if size >= 16:  # a byte or two of plaintext turns up in random ciphertext by chance
        assert data not in stored


def test_every_range_decrypts_only_its_frames() -> None:
    data = os.urandom(3 * FRAME + 10)
    stored = seal(data)
    for first in range(0, len(data), 13):
        for last in range(first, len(data), 17):
            assert unseal(stored, len(data), first, last) == data[first : last + 1]
    # a range inside one frame reads exactly one frame
    _, start, end = cipher_range(FRAME + 1, FRAME + 2, len(data), FRAME)
    assert (start, end) == (
        HEADER_SIZE + FRAME + TAG_SIZE,
        HEADER_SIZE + 2 * (FRAME + TAG_SIZE) - 1,
    )


def test_same_plaintext_seals_differently() -> None:
    data = b"same bytes" * 20
    assert seal(data) != seal(data)  # a fresh salt, so a fresh object key, every time


@pytest.mark.parametrize(
    "tamper",
    [
        lambda b: b[:100] + bytes([b[100] ^ 1]) + b[101:],  # a flipped bit in a frame
        lambda b: b[:-1],  # truncated
        lambda b: b[: HEADER_SIZE + FRAME + TAG_SIZE] + b[HEADER_SIZE + 2 * (FRAME + TAG_SIZE) :],
        lambda b: (
            b[:HEADER_SIZE]  # frames swapped
            + b[HEADER_SIZE + FRAME + TAG_SIZE : HEADER_SIZE + 2 * (FRAME + TAG_SIZE)]
            + b[HEADER_SIZE : HEADER_SIZE + FRAME + TAG_SIZE]
            + b[HEADER_SIZE + 2 * (FRAME + TAG_SIZE) :]
        ),
        lambda b: b[:30] + bytes([b[30] ^ 1]) + b[31:],  # the header's salt
    ],
)
def test_tampering_is_detected(tamper: object) -> None:
    data = os.urandom(3 * FRAME + 10)
    stored = tamper(seal(data))  # type: ignore[operator]
    with pytest.raises(CorruptObject) as caught:
        unseal(stored, len(data), 0, len(data) - 1)
    assert caught.value.status == 500
    assert "integrity" in caught.value.message


def test_wrong_key_and_bad_headers_are_refused() -> None:
    stored = seal(b"secret" * 30)
    with pytest.raises(CorruptObject):
        unseal(stored, 180, 0, 179, key=bytes(32))
    with pytest.raises(CorruptObject):
        parse_header(b"PLAIN" + stored[5:])
    with pytest.raises(CorruptObject):
        plain_size(HEADER_SIZE + 3)


def test_decrypt_range_fails_before_the_first_chunk_is_served() -> None:
    stored = bytearray(seal(os.urandom(2 * FRAME)))
    stored[HEADER_SIZE] ^= 1
    header = parse_header(bytes(stored))
    with pytest.raises(CorruptObject):
        decrypt_range(
            header, KEY.key, 2 * FRAME, 0, 10, lambda s, e: iter([bytes(stored[s : e + 1])])
        )


# -- sealed objects in the lake --------------------------------------------------------------


def body(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)


def read(lake: LakeService, ctx: RequestContext, bucket: str, key: str, **kwargs: object) -> bytes:
    return b"".join(lake.get_object(ctx, bucket, key, **kwargs)[3])  # type: ignore[arg-type]


def raw_at_rest(lake: LakeService, bucket: str, key: str) -> bytes:
    """The bytes the store keeps for ``key``, read behind the lake's back."""
    uri = lake.store.uri(bucket, key)
    if uri.startswith("file://"):
        return Path(uri[len("file://") :]).read_bytes()
    backing, _, path = uri[len("s3://") :].partition("/")
    endpoint = lake.settings.storage.endpoint_url
    assert endpoint is not None
    return bytes(backing_client(endpoint).get_object(Bucket=backing, Key=path)["Body"].read())


PLAINTEXT = b"account,balance\nalice,1000000\n" * 2000


def test_default_encryption_seals_new_objects(
    lake: LakeService, admin: RequestContext, bucket: str
) -> None:
    with pytest.raises(NotFound) as caught:
        lake.get_bucket_encryption(admin, bucket)
    assert caught.value.aws_code == "ServerSideEncryptionConfigurationNotFoundError"
    lake.put_object(admin, bucket, "plain.csv", body(PLAINTEXT))
    assert not lake.is_encrypted(bucket)  # nothing sealed yet
    lake.put_bucket_encryption(admin, bucket, BucketEncryption(algorithm="AES256"))
    assert lake.get_bucket_encryption(admin, bucket).algorithm == "AES256"
    assert lake.is_encrypted(bucket)
    info = lake.put_object(admin, bucket, "sealed.csv", body(PLAINTEXT), content_type="text/csv")
    assert info.server_side_encryption == "AES256"
    assert info.etag == hashlib.md5(PLAINTEXT).hexdigest()  # SSE-S3: the plaintext's MD5
    assert info.size == len(PLAINTEXT)

    at_rest = raw_at_rest(lake, bucket, "sealed.csv")
    assert b"alice" not in at_rest
    assert len(at_rest) > len(PLAINTEXT)
    assert raw_at_rest(lake, bucket, "plain.csv") == PLAINTEXT  # written before: unchanged

    assert read(lake, admin, bucket, "sealed.csv") == PLAINTEXT
    head = lake.head_object(admin, bucket, "sealed.csv")
    assert (head.size, head.etag, head.server_side_encryption) == (
        len(PLAINTEXT),
        info.etag,
        "AES256",
    )
    listed = {i.key: i for i in lake.list_objects(admin, bucket).items}
    assert (listed["sealed.csv"].size, listed["sealed.csv"].etag) == (len(PLAINTEXT), info.etag)
    # the catalog reads through the store directly: it gets plaintext too
    assert b"".join(lake.store.get(bucket, "sealed.csv")[3]) == PLAINTEXT

    lake.delete_bucket_encryption(admin, bucket)
    assert lake.put_object(admin, bucket, "after.csv", body(b"x")).server_side_encryption is None
    assert read(lake, admin, bucket, "sealed.csv") == PLAINTEXT  # still readable


def test_ranges_of_sealed_objects(lake: LakeService, admin: RequestContext, bucket: str) -> None:
    data = os.urandom(2 * 1024 * 1024 + 123)  # three 1 MiB frames
    lake.put_object(admin, bucket, "big", body(data), sse="AES256")
    for first, last in [(0, 0), (5, 1048575), (1048575, 1048577), (2 * 1048576, None), (None, 7)]:
        info, start, end, chunks = lake.get_object(admin, bucket, "big", byte_range=(first, last))
        assert b"".join(chunks) == data[start : end + 1]
        assert info.size == len(data)


def test_copy_multipart_and_versions_of_sealed_objects(
    lake: LakeService, admin: RequestContext, bucket: str
) -> None:
    lake.put_object(admin, bucket, "plain", body(PLAINTEXT))
    copied = lake.copy_object(
        admin, bucket, "plain", bucket, "sealed-copy", sse="aws:kms", kms_key_id="team-key"
    )
    assert (copied.server_side_encryption, copied.kms_key_id) == ("aws:kms", "team-key")
    assert b"alice" not in raw_at_rest(lake, bucket, "sealed-copy")
    back = lake.copy_object(admin, bucket, "sealed-copy", bucket, "plain-again")
    assert back.server_side_encryption is None
    assert raw_at_rest(lake, bucket, "plain-again") == PLAINTEXT

    upload = lake.create_multipart_upload(admin, bucket, "parts", sse="AES256")
    assert upload.server_side_encryption == "AES256"
    first = os.urandom(MIN_PART_BYTES) + b"alice"
    second = b"alice, the last part"
    e1 = lake.upload_part(admin, bucket, "parts", upload.upload_id, 1, body(first)).etag
    e2 = lake.upload_part(admin, bucket, "parts", upload.upload_id, 2, body(second)).etag
    done = lake.complete_multipart_upload(
        admin, bucket, "parts", upload.upload_id, [(1, e1), (2, e2)]
    )
    assert done.etag.endswith("-2")
    assert done.server_side_encryption == "AES256"
    assert read(lake, admin, bucket, "parts") == first + second
    assert read(lake, admin, bucket, "parts", byte_range=(MIN_PART_BYTES - 2, None)) == (
        first[-7:] + second
    )
    assert b"alice, the last" not in raw_at_rest(lake, bucket, "parts")

    lake.put_bucket_versioning(admin, bucket, "Enabled")
    v1 = lake.put_object(admin, bucket, "doc", body(b"version one, sealed"), sse="AES256")
    v2 = lake.put_object(admin, bucket, "doc", body(b"version two, sealed"), sse="AES256")
    assert read(lake, admin, bucket, "doc", version_id=v1.version_id) == b"version one, sealed"
    assert read(lake, admin, bucket, "doc", version_id=v2.version_id) == b"version two, sealed"
    lake.delete_object(admin, bucket, "doc", version_id=v2.version_id)
    assert read(lake, admin, bucket, "doc") == b"version one, sealed"  # restored, still sealed
    assert b"version one" not in raw_at_rest(lake, bucket, "doc")


def test_data_keys_are_stored_wrapped(
    lake: LakeService, admin: RequestContext, bucket: str
) -> None:
    sealing = lake.keyring.sealing(bucket, "AES256", None)
    with lake.db.session() as session:
        records = list(session.scalars(select(DataKeyRecord).where(DataKeyRecord.bucket == bucket)))
    assert records
    assert all(sealing.key.hex() not in r.wrapped for r in records)
    assert lake.keyring.sealing(bucket, "AES256", None).key_id == sealing.key_id  # one per bucket
    assert lake.keyring.sealing(bucket, "aws:kms", "other").key_id != sealing.key_id
    assert "key=" not in repr(sealing)  # reprs never show the key


@pytest.mark.parametrize(
    ("algorithm", "key_id", "code"),
    [("DES", None, "InvalidArgument"), ("AES256", "some-key", "InvalidArgument")],
)
def test_bad_encryption_requests_write_nothing(
    lake: LakeService,
    admin: RequestContext,
    bucket: str,
    algorithm: str,
    key_id: str | None,
    code: str,
) -> None:
    with pytest.raises(ValidationError) as caught:
        lake.put_object(admin, bucket, "never", body(b"x"), sse=algorithm, kms_key_id=key_id)
    assert caught.value.aws_code == code
    with pytest.raises(ValidationError):
        lake.put_bucket_encryption(
            admin, bucket, BucketEncryption(algorithm=algorithm, kms_key_id=key_id)
        )
    with pytest.raises(NotFound):
        lake.head_object(admin, bucket, "never")
    with pytest.raises(NotFound):
        lake.get_bucket_encryption(admin, bucket)


def test_a_tampered_object_is_refused_not_served(
    lake: LakeService, admin: RequestContext, bucket: str
) -> None:
    if lake.store.kind != "local":
        pytest.skip("tampering with the local file is enough to test detection")
    lake.put_object(admin, bucket, "victim", body(PLAINTEXT), sse="AES256")
    path = Path(lake.store.uri(bucket, "victim")[len("file://") :])
    stat = path.stat()
    raw = bytearray(path.read_bytes())
    raw[HEADER_SIZE + 10] ^= 0xFF
    path.write_bytes(bytes(raw))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same size and time: sidecar matches
    with pytest.raises(CorruptObject):
        lake.get_object(admin, bucket, "victim")


def test_a_sealed_object_that_lost_its_sidecar_is_still_read(
    lake: LakeService, admin: RequestContext, bucket: str
) -> None:
    if lake.store.kind != "local":
        pytest.skip("only the local store keeps sidecars")
    info = lake.put_object(admin, bucket, "orphan", body(PLAINTEXT), sse="AES256")
    sidecars = Path(lake.store.uri(bucket)[len("file://") :]).parent / ".meta" / bucket
    for sidecar in sidecars.glob("*orphan"):
        sidecar.unlink()
    again = lake.head_object(admin, bucket, "orphan")  # rebuilt from the bytes
    assert (again.size, again.etag, again.server_side_encryption) == (
        len(PLAINTEXT),
        info.etag,
        "AES256",
    )
    assert read(lake, admin, bucket, "orphan") == PLAINTEXT
