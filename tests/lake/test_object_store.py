"""The object-store contract, run on every store kind (a directory, and S3 through moto)."""

from __future__ import annotations

import base64
import hashlib
import io
import os
from pathlib import Path

import pytest

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import (
    NotFound,
    PayloadTooLarge,
    RangeNotSatisfiable,
    ResourceInUse,
    ValidationError,
)
from lakeworks.lake.multipart import MIN_PART_BYTES
from lakeworks.lake.objects import CHUNK_SIZE, ObjectStore
from lakeworks.lake.service import LakeService

LIMIT = 64 * 1024 * 1024


@pytest.fixture
def store(lake: LakeService) -> ObjectStore:
    return lake.store


def put(store: ObjectStore, bucket: str, key: str, data: bytes, **kw: object) -> None:
    store.put(
        bucket,
        key,
        io.BytesIO(data),
        content_type=str(kw.get("content_type", "binary/octet-stream")),
        metadata=dict(kw.get("metadata", {})),  # type: ignore[call-overload]
        max_bytes=int(kw.get("max_bytes", LIMIT)),  # type: ignore[call-overload]
    )


def read(store: ObjectStore, bucket: str, key: str) -> bytes:
    _, _, _, chunks = store.get(bucket, key)
    return b"".join(chunks)


def all_keys(store: ObjectStore, bucket: str, **kw: object) -> list[str]:
    keys: list[str] = []
    token = None
    while True:
        page = store.list(bucket, continuation_token=token, **kw)  # type: ignore[arg-type]
        keys += [item.key for item in page.items]
        token = page.next_token
        if token is None:
            return keys


class FailingBody(io.RawIOBase):
    """A body that breaks after ``good`` bytes, like a client that disconnects."""

    def __init__(self, good: int) -> None:
        self.left = good

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:  # type: ignore[override]
        if self.left <= 0:
            raise ConnectionResetError("client went away")
        chunk = b"z" * min(self.left, size if size > 0 else self.left)
        self.left -= len(chunk)
        return chunk


def test_put_get_head_keep_bytes_type_and_metadata(store: ObjectStore, bucket: str) -> None:
    data = os.urandom(2 * CHUNK_SIZE + 17)  # several chunks, not a multiple of one
    info = store.put(
        bucket,
        "data/x.bin",
        io.BytesIO(data),
        content_type="application/x-test",
        metadata={"origin": "unit"},
        max_bytes=LIMIT,
    )
    assert info.etag == hashlib.md5(data).hexdigest()
    assert info.size == len(data)

    got, first, last, chunks = store.get(bucket, "data/x.bin")
    pieces = list(chunks)
    assert b"".join(pieces) == data
    assert max(len(p) for p in pieces) <= CHUNK_SIZE
    assert (first, last) == (0, len(data) - 1)
    head = store.head(bucket, "data/x.bin")
    for described in (got, head):
        assert described.etag == info.etag
        assert described.size == len(data)
        assert described.content_type == "application/x-test"
        assert described.metadata == {"origin": "unit"}


def test_a_put_replaces_the_object(store: ObjectStore, bucket: str) -> None:
    put(store, bucket, "k", b"old", metadata={"v": "1"})
    put(store, bucket, "k", b"new!", metadata={"v": "2"})
    assert read(store, bucket, "k") == b"new!"
    assert store.head(bucket, "k").metadata == {"v": "2"}
    assert all_keys(store, bucket) == ["k"]


def test_empty_objects(store: ObjectStore, bucket: str) -> None:
    put(store, bucket, "empty", b"")
    info, first, last, chunks = store.get(bucket, "empty")
    assert (info.size, first, last, b"".join(chunks)) == (0, 0, -1, b"")
    assert info.etag == hashlib.md5(b"").hexdigest()
    with pytest.raises(RangeNotSatisfiable):
        store.get(bucket, "empty", byte_range=(0, 0))


@pytest.mark.parametrize(
    ("byte_range", "expected"),
    [
        ((2, 5), b"2345"),
        ((7, None), b"789"),
        ((None, 3), b"789"),
        ((0, 10**9), b"0123456789"),
        ((None, 50), b"0123456789"),
        ((9, 9), b"9"),
    ],
)
def test_byte_ranges(
    store: ObjectStore,
    bucket: str,
    byte_range: tuple[int | None, int | None],
    expected: bytes,
) -> None:
    put(store, bucket, "digits", b"0123456789")
    info, first, last, chunks = store.get(bucket, "digits", byte_range=byte_range)
    assert b"".join(chunks) == expected
    assert last - first + 1 == len(expected)
    assert info.size == 10


@pytest.mark.parametrize("byte_range", [(10, None), (10, 20), (None, 0)])
def test_ranges_outside_the_object_are_unsatisfiable(
    store: ObjectStore, bucket: str, byte_range: tuple[int | None, int | None]
) -> None:
    put(store, bucket, "digits", b"0123456789")
    with pytest.raises(RangeNotSatisfiable) as caught:
        store.get(bucket, "digits", byte_range=byte_range)
    assert caught.value.status == 416
    assert caught.value.aws_code == "InvalidRange"


def test_missing_objects(store: ObjectStore, bucket: str) -> None:
    for call in (lambda: store.get(bucket, "nope"), lambda: store.head(bucket, "nope")):
        with pytest.raises(NotFound) as caught:
            call()
        assert caught.value.aws_code == "NoSuchKey"
    store.delete(bucket, "nope")  # idempotent


KEYS = sorted(
    [
        "a",
        "a/b",
        "a//c",
        "a-b",
        "a0",
        "dir/",
        "dir/x",
        ".lw~odd",
        "ünïcode/ö",
        "space here/x y",
        "L" * 300,
        "M" * 260 + "/inner",
        "z" * 1000,
    ]
)


def test_awkward_keys_round_trip_and_list_in_byte_order(store: ObjectStore, bucket: str) -> None:
    for key in KEYS:
        put(store, bucket, key, key.encode())
    for key in KEYS:
        assert read(store, bucket, key) == key.encode(), key
    assert all_keys(store, bucket) == sorted(KEYS, key=lambda k: k.encode())
    assert all_keys(store, bucket, max_keys=3) == sorted(KEYS, key=lambda k: k.encode())
    # deleting the object under a prefix leaves the object named like the prefix
    store.delete(bucket, "a/b")
    store.delete(bucket, "a//c")
    assert read(store, bucket, "a") == b"a"
    assert "a/b" not in all_keys(store, bucket)


def test_listing_with_prefix_delimiter_and_pages(store: ObjectStore, bucket: str) -> None:
    for key in ["a/1", "a/2", "a/x/3", "b", "c/1", "c/2", "d"]:
        put(store, bucket, key, b"-")
    page = store.list(bucket, prefix="a/")
    assert [i.key for i in page.items] == ["a/1", "a/2", "a/x/3"]

    page = store.list(bucket, delimiter="/")
    assert [i.key for i in page.items] == ["b", "d"]
    assert page.common_prefixes == ["a/", "c/"]
    assert page.next_token is None

    page = store.list(bucket, prefix="a/", delimiter="/")
    assert [i.key for i in page.items] == ["a/1", "a/2"]
    assert page.common_prefixes == ["a/x/"]

    seen: list[str] = []
    token = None
    while True:  # one entry per page: a common prefix is one entry and never repeats
        page = store.list(bucket, delimiter="/", max_keys=1, continuation_token=token)
        entries = [i.key for i in page.items] + page.common_prefixes
        assert len(entries) == 1
        seen += entries
        token = page.next_token
        if token is None:
            break
    assert seen == ["a/", "b", "c/", "d"]

    assert all_keys(store, bucket, start_after="b") == ["c/1", "c/2", "d"]
    assert all_keys(store, bucket, prefix="c") == ["c/1", "c/2"]
    assert all_keys(store, bucket, prefix="nothing") == []


def test_listing_items_carry_size_and_etag(store: ObjectStore, bucket: str) -> None:
    put(store, bucket, "k", b"hello")
    (item,) = store.list(bucket).items
    assert (item.key, item.size, item.etag) == ("k", 5, hashlib.md5(b"hello").hexdigest())


def test_a_bad_continuation_token_is_refused(store: ObjectStore, bucket: str) -> None:
    with pytest.raises(ValidationError) as caught:
        store.list(bucket, continuation_token="not-a-token")
    assert caught.value.aws_code == "InvalidArgument"


def test_failed_streaming_put_leaves_the_old_object(store: ObjectStore, bucket: str) -> None:
    put(store, bucket, "kept", b"original")
    for key in ("kept", "fresh"):
        with pytest.raises(ConnectionResetError):
            store.put(
                bucket,
                key,
                FailingBody(CHUNK_SIZE + 100),
                content_type="x/y",
                metadata={},
                max_bytes=LIMIT,
            )
    assert read(store, bucket, "kept") == b"original"
    with pytest.raises(NotFound):
        store.head(bucket, "fresh")
    assert all_keys(store, bucket) == ["kept"]


def test_size_limit_is_enforced_while_streaming(store: ObjectStore, bucket: str) -> None:
    with pytest.raises(PayloadTooLarge) as caught:
        put(store, bucket, "big", b"x" * 2000, max_bytes=1000)
    assert caught.value.aws_code == "EntityTooLarge"
    assert caught.value.status == 413
    assert all_keys(store, bucket) == []


def test_content_md5_is_checked(store: ObjectStore, bucket: str) -> None:
    good = base64.b64encode(hashlib.md5(b"body").digest()).decode()
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with pytest.raises(ValidationError) as caught:
        store.put(
            bucket,
            "k",
            io.BytesIO(b"body"),
            content_type="a/b",
            metadata={},
            max_bytes=LIMIT,
            content_md5=wrong,
        )
    assert caught.value.aws_code == "BadDigest"
    assert all_keys(store, bucket) == []
    store.put(
        bucket,
        "k",
        io.BytesIO(b"body"),
        content_type="a/b",
        metadata={},
        max_bytes=LIMIT,
        content_md5=good,
    )
    assert read(store, bucket, "k") == b"body"


def test_copy_keeps_or_replaces_metadata(store: ObjectStore, bucket: str) -> None:
    put(store, bucket, "src", b"payload", content_type="text/plain", metadata={"a": "1"})
    kept = store.copy(
        bucket, "src", bucket, "dst", content_type=None, metadata=None, max_bytes=LIMIT
    )
    assert (kept.content_type, kept.metadata) == ("text/plain", {"a": "1"})
    assert kept.etag == hashlib.md5(b"payload").hexdigest()
    assert read(store, bucket, "dst") == b"payload"

    new = store.copy(
        bucket, "src", bucket, "dst2", content_type="text/csv", metadata={"b": "2"}, max_bytes=LIMIT
    )
    assert store.head(bucket, "dst2").metadata == {"b": "2"}
    assert new.content_type == "text/csv"
    with pytest.raises(NotFound):
        store.copy(bucket, "nope", bucket, "x", content_type=None, metadata=None, max_bytes=LIMIT)


def test_multipart_etag_is_the_aws_formula(store: ObjectStore, bucket: str) -> None:
    parts = [os.urandom(MIN_PART_BYTES), os.urandom(MIN_PART_BYTES), b"tail"]
    backing = store.create_multipart(
        bucket, "mp/obj", "u" * 20, content_type="text/x", metadata={"m": "v"}
    )
    infos = [
        store.put_part(bucket, "mp/obj", "u" * 20, backing, n, io.BytesIO(data), max_bytes=LIMIT)
        for n, data in enumerate(parts, start=1)
    ]
    assert [p.etag for p in infos] == [hashlib.md5(p).hexdigest() for p in parts]
    info = store.complete_multipart(
        bucket, "mp/obj", "u" * 20, backing, infos, content_type="text/x", metadata={"m": "v"}
    )
    digests = b"".join(hashlib.md5(p).digest() for p in parts)
    assert info.etag == f"{hashlib.md5(digests).hexdigest()}-3"
    assert info.size == sum(map(len, parts))
    assert read(store, bucket, "mp/obj") == b"".join(parts)
    head = store.head(bucket, "mp/obj")
    assert (head.etag, head.content_type, head.metadata) == (info.etag, "text/x", {"m": "v"})


def test_aborted_multipart_leaves_nothing(store: ObjectStore, bucket: str) -> None:
    backing = store.create_multipart(bucket, "k", "v" * 20, content_type="a/b", metadata={})
    store.put_part(bucket, "k", "v" * 20, backing, 1, io.BytesIO(b"part"), max_bytes=LIMIT)
    store.abort_multipart(bucket, "k", "v" * 20, backing)
    store.abort_multipart(bucket, "k", "v" * 20, backing)  # idempotent
    assert all_keys(store, bucket) == []


def test_buckets_empty_and_delete(store: ObjectStore, bucket: str) -> None:
    assert store.is_empty(bucket)
    put(store, bucket, "deep/down/k", b"v")
    assert not store.is_empty(bucket)
    with pytest.raises(ResourceInUse) as caught:
        store.delete_bucket(bucket)
    assert caught.value.aws_code == "BucketNotEmpty"
    store.delete(bucket, "deep/down/k")
    assert store.is_empty(bucket)
    store.delete_bucket(bucket)


def test_uri_names_the_real_location(store: ObjectStore, bucket: str) -> None:
    put(store, bucket, "data/part-0.csv", b"a,b\n")
    uri = store.uri(bucket, "data/part-0.csv")
    if store.kind == "local":
        assert Path(uri.removeprefix("file://")).read_bytes() == b"a,b\n"
    else:
        assert uri.endswith(f"/lake/{bucket}/data/part-0.csv")
        assert uri.startswith("s3://backing-")


BAD_KEYS = ["../escape", "a/../../b", "/absolute", "nul\x00byte", "k" * 1025, "a/./b", ""]


def snapshot(lake: LakeService) -> set[str]:
    """Every file under the home (but the database) or every key in the backing bucket."""
    if lake.store.kind == "s3":
        backing = lake.store.client.list_objects_v2(Bucket=lake.store.backing)  # type: ignore[attr-defined]
        return {item["Key"] for item in backing.get("Contents", [])}
    home = lake.settings.home
    return {
        str(p.relative_to(home))
        for p in home.rglob("*")
        if p.is_file() and not p.name.startswith("lakeworks.db")
    }


@pytest.mark.parametrize("key", BAD_KEYS)
def test_bad_keys_are_refused_and_nothing_is_written(
    lake: LakeService, admin: RequestContext, bucket: str, key: str
) -> None:
    before = snapshot(lake)
    with pytest.raises(ValidationError) as caught:
        lake.put_object(admin, bucket, key, io.BytesIO(b"evil"))
    assert caught.value.status == 400
    with pytest.raises(ValidationError):
        lake.create_multipart_upload(admin, bucket, key)
    with pytest.raises(ValidationError):
        lake.get_object(admin, bucket, key)
    with pytest.raises(ValidationError):
        lake.copy_object(admin, bucket, key, bucket, "fine")
    assert lake.list_objects(admin, bucket).items == []
    assert lake.list_multipart_uploads(admin, bucket) == []
    assert snapshot(lake) == before
