"""Buckets and objects through the SDK against the in-process server."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest

from lakeworks.core.errors import (
    AlreadyExists,
    NotFound,
    RangeNotSatisfiable,
    ResourceInUse,
    ValidationError,
)
from lakeworks.sdk.client import Client
from lakeworks.sdk.lake import CHUNK_SIZE


@pytest.fixture
def bucket(lake_client: Client, request: pytest.FixtureRequest) -> str:
    """A fresh, empty bucket named after the test."""
    digest = hashlib.sha1(request.node.name.encode()).hexdigest()[:12]
    name = f"sdk-{digest}"
    lake_client.buckets.create(name)
    return name


def test_bucket_lifecycle(lake_client: Client) -> None:
    created = lake_client.buckets.create("sdk-lifecycle", tags={"team": "ml"})
    assert created.name == "sdk-lifecycle"
    assert created.tags == {"team": "ml"}
    assert created.arn.endswith("sdk-lifecycle")
    assert "sdk-lifecycle" in [b.name for b in lake_client.buckets.list()]
    assert lake_client.buckets.get("sdk-lifecycle").creation_time == created.creation_time

    with pytest.raises(AlreadyExists) as again:
        lake_client.buckets.create("sdk-lifecycle")
    assert again.value.status == 409

    lake_client.buckets.delete("sdk-lifecycle")
    with pytest.raises(NotFound):
        lake_client.buckets.get("sdk-lifecycle")
    assert "sdk-lifecycle" not in [b.name for b in lake_client.buckets.list()]


@pytest.mark.parametrize("name", ["Upper", "a", "has_underscore", "192.168.1.1", "api"])
def test_bad_bucket_names_are_refused_and_create_nothing(lake_client: Client, name: str) -> None:
    before = [b.name for b in lake_client.buckets.list()]
    with pytest.raises(ValidationError) as caught:
        lake_client.buckets.create(name)
    assert caught.value.status == 400
    assert [b.name for b in lake_client.buckets.list()] == before


def test_put_get_head_with_type_and_metadata(lake_client: Client, bucket: str) -> None:
    body = b"a,b\n1,2\n"
    info = lake_client.objects.put(
        bucket, "data/train.csv", body, content_type="text/csv", metadata={"source": "unit"}
    )
    assert info.size == len(body)
    assert info.etag == hashlib.md5(body).hexdigest()

    assert lake_client.objects.get(bucket, "data/train.csv") == body
    head = lake_client.objects.head(bucket, "data/train.csv")
    assert head.size == len(body)
    assert head.etag == info.etag
    assert head.content_type.startswith("text/csv")
    assert head.metadata == {"source": "unit"}


def test_byte_ranges(lake_client: Client, bucket: str) -> None:
    lake_client.objects.put(bucket, "digits", b"0123456789")
    assert lake_client.objects.get(bucket, "digits", byte_range=(2, 5)) == b"2345"
    with pytest.raises(RangeNotSatisfiable):
        lake_client.objects.get(bucket, "digits", byte_range=(50, 60))


@pytest.mark.parametrize("key", ["with space.txt", "ünï/cödé.bin", "q?x#y%z+&=.txt", "a//b"])
def test_keys_round_trip_whatever_their_characters(
    lake_client: Client, bucket: str, key: str
) -> None:
    lake_client.objects.put(bucket, key, key.encode())
    assert lake_client.objects.get(bucket, key) == key.encode()
    assert key in [o.key for o in lake_client.objects.list(bucket)]


def test_streamed_upload_and_download_of_a_file(
    lake_client: Client, bucket: str, tmp_path: Path
) -> None:
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(2 * CHUNK_SIZE + 123))
    info = lake_client.objects.put(bucket, "big.bin", source)
    assert info.size == source.stat().st_size

    target = tmp_path / "out" / "copy.bin"
    target.parent.mkdir()
    got = lake_client.objects.download(bucket, "big.bin", target)
    assert target.read_bytes() == source.read_bytes()
    assert got.size == source.stat().st_size
    assert [p.name for p in target.parent.iterdir()] == ["copy.bin"], "no temp file left"


def test_upload_from_file_objects(lake_client: Client, bucket: str) -> None:
    seekable = io.BytesIO(b"skip-me|keep-me")
    seekable.seek(len(b"skip-me|"))
    assert lake_client.objects.put(bucket, "from-position", seekable).size == len(b"keep-me")
    assert lake_client.objects.get(bucket, "from-position") == b"keep-me"

    class Pipe(io.RawIOBase):
        """A readable stream that cannot seek: sent chunked, length unknown."""

        def __init__(self, data: bytes) -> None:
            self._data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            chunk = self._data.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    data = b"x" * (CHUNK_SIZE + 10)
    assert lake_client.objects.put(bucket, "from-pipe", io.BufferedReader(Pipe(data))).size == len(
        data
    )
    assert lake_client.objects.get(bucket, "from-pipe") == data


def test_listing_pages_and_prefixes(lake_client: Client, bucket: str) -> None:
    keys = ["a/1", "a/2", "b/1", "c", "d", "e"]
    for key in keys:
        lake_client.objects.put(bucket, key, b"-")
    assert [o.key for o in lake_client.objects.list(bucket)] == keys
    assert [o.key for o in lake_client.objects.list(bucket, prefix="a/")] == ["a/1", "a/2"]

    pages = list(lake_client.objects.listings(bucket, max_keys=2))
    assert len(pages) >= 3
    assert [o.key for page in pages for o in page.items] == keys

    folders = list(lake_client.objects.listings(bucket, delimiter="/"))
    assert [p for page in folders for p in page.common_prefixes] == ["a/", "b/"]
    assert [o.key for page in folders for o in page.items] == ["c", "d", "e"]


def test_delete_object_and_bucket(lake_client: Client, bucket: str) -> None:
    lake_client.objects.put(bucket, "k", b"v")
    with pytest.raises(ResourceInUse):
        lake_client.buckets.delete(bucket)
    lake_client.objects.delete(bucket, "k")
    with pytest.raises(NotFound):
        lake_client.objects.head(bucket, "k")
    lake_client.buckets.delete(bucket)


def test_missing_things_are_not_found_and_nothing_is_written(
    lake_client: Client, bucket: str, tmp_path: Path
) -> None:
    with pytest.raises(NotFound):
        lake_client.objects.get(bucket, "missing")
    with pytest.raises(NotFound) as head:
        lake_client.objects.head(bucket, "missing")
    assert head.value.status == 404
    with pytest.raises(NotFound):
        lake_client.objects.put("no-such-bucket-here", "k", b"v")
    with pytest.raises(NotFound):
        lake_client.objects.list("no-such-bucket-here").__next__()

    target = tmp_path / "never.bin"
    with pytest.raises(NotFound):
        lake_client.objects.download(bucket, "missing", target)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("key", ["../escape", "a/./b", "/absolute"])
def test_bad_keys_are_refused(lake_client: Client, bucket: str, key: str) -> None:
    with pytest.raises(ValidationError):
        lake_client.objects.put(bucket, key, b"v")
    assert list(lake_client.objects.list(bucket)) == []


def test_uploading_a_missing_path_is_a_validation_error(
    lake_client: Client, bucket: str, tmp_path: Path
) -> None:
    with pytest.raises(ValidationError) as caught:
        lake_client.objects.put(bucket, "k", tmp_path / "nope.csv")
    assert "nope.csv" in caught.value.message
    with pytest.raises(ValidationError):
        lake_client.objects.put(bucket, "k", "just some text")
