"""The lake service on a real (SQLite) database, on every store kind."""

from __future__ import annotations

import base64
import hashlib
import io
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import (
    AccessDenied,
    AlreadyExists,
    LakeworksError,
    NotFound,
    PayloadTooLarge,
    ResourceInUse,
    ValidationError,
)
from lakeworks.lake.multipart import MIN_PART_BYTES
from lakeworks.lake.service import LakeService, parse_s3_uri


def body(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)


def read(lake: LakeService, ctx: RequestContext, bucket: str, key: str) -> bytes:
    return b"".join(lake.get_object(ctx, bucket, key)[3])


def keys(lake: LakeService, ctx: RequestContext, bucket: str) -> list[str]:
    return [item.key for item in lake.list_objects(ctx, bucket).items]


def raises(error: type[LakeworksError], code: str, call: Callable[[], object]) -> LakeworksError:
    with pytest.raises(error) as caught:
        call()
    assert caught.value.aws_code == code, caught.value
    return caught.value


# -- buckets -------------------------------------------------------------------------------


def test_bucket_lifecycle(lake: LakeService, admin: RequestContext) -> None:
    created = lake.create_bucket(admin, "life.cycle-1", tags={"team": "ml"})
    assert created.arn == "arn:aws:s3:::life.cycle-1"
    assert (created.owner, created.tags) == ("system", {"team": "ml"})
    assert lake.describe_bucket(admin, "life.cycle-1") == created
    assert "life.cycle-1" in [b.name for b in lake.list_buckets(admin)]

    again = raises(
        AlreadyExists, "BucketAlreadyOwnedByYou", lambda: lake.create_bucket(admin, "life.cycle-1")
    )
    assert again.status == 409
    other = RequestContext(principal="someone", scopes=frozenset({"read", "write"}))
    raises(AlreadyExists, "BucketAlreadyExists", lambda: lake.create_bucket(other, "life.cycle-1"))

    lake.put_object(admin, "life.cycle-1", "k", body(b"v"))
    raises(ResourceInUse, "BucketNotEmpty", lambda: lake.delete_bucket(admin, "life.cycle-1"))
    lake.delete_object(admin, "life.cycle-1", "k")
    upload = lake.create_multipart_upload(admin, "life.cycle-1", "big")
    raises(ResourceInUse, "BucketNotEmpty", lambda: lake.delete_bucket(admin, "life.cycle-1"))
    lake.abort_multipart_upload(admin, "life.cycle-1", "big", upload.upload_id)

    lake.delete_bucket(admin, "life.cycle-1")
    raises(NotFound, "NoSuchBucket", lambda: lake.describe_bucket(admin, "life.cycle-1"))
    raises(NotFound, "NoSuchBucket", lambda: lake.delete_bucket(admin, "life.cycle-1"))
    assert "life.cycle-1" not in [b.name for b in lake.list_buckets(admin)]


@pytest.mark.parametrize("name", ["Upper", "ab", "under_score", "10.0.0.1", "-lead", "api", "a..b"])
def test_bad_bucket_names_create_nothing(
    lake: LakeService, admin: RequestContext, name: str
) -> None:
    before = lake.list_buckets(admin)
    error = raises(ValidationError, "InvalidBucketName", lambda: lake.create_bucket(admin, name))
    assert error.status == 400
    assert lake.list_buckets(admin) == before


def test_bad_tags_create_nothing(lake: LakeService, admin: RequestContext) -> None:
    with pytest.raises(ValidationError):
        lake.create_bucket(admin, "tagged-badly", tags={"aws:reserved": "x"})
    raises(NotFound, "NoSuchBucket", lambda: lake.describe_bucket(admin, "tagged-badly"))


def test_everything_in_a_missing_bucket_is_no_such_bucket(
    lake: LakeService, admin: RequestContext
) -> None:
    calls: list[Callable[[], object]] = [
        lambda: lake.put_object(admin, "nowhere", "k", body(b"v")),
        lambda: lake.get_object(admin, "nowhere", "k"),
        lambda: lake.head_object(admin, "nowhere", "k"),
        lambda: lake.delete_object(admin, "nowhere", "k"),
        lambda: lake.list_objects(admin, "nowhere"),
        lambda: lake.create_multipart_upload(admin, "nowhere", "k"),
        lambda: lake.list_multipart_uploads(admin, "nowhere"),
        lambda: lake.copy_object(admin, "nowhere", "k", "nowhere", "k2"),
    ]
    for call in calls:
        assert raises(NotFound, "NoSuchBucket", call).status == 404


# -- objects -------------------------------------------------------------------------------


def test_put_get_head_delete(lake: LakeService, admin: RequestContext, bucket: str) -> None:
    info = lake.put_object(
        admin, bucket, "a/b.csv", body(b"1,2\n"), content_type="text/csv", metadata={"Origin": "t"}
    )
    assert info.metadata == {"origin": "t"}  # names are lower-cased, like S3
    assert info.etag == hashlib.md5(b"1,2\n").hexdigest()
    assert read(lake, admin, bucket, "a/b.csv") == b"1,2\n"
    head = lake.head_object(admin, bucket, "a/b.csv")
    assert (head.content_type, head.metadata, head.size) == ("text/csv", {"origin": "t"}, 4)
    lake.delete_object(admin, bucket, "a/b.csv")
    lake.delete_object(admin, bucket, "a/b.csv")  # idempotent
    raises(NotFound, "NoSuchKey", lambda: lake.head_object(admin, bucket, "a/b.csv"))
    assert lake.put_object(admin, bucket, "x", body(b"")).content_type == "binary/octet-stream"


@pytest.mark.parametrize(
    ("content_type", "metadata", "code"),
    [
        ("text/plain\r\nX-Injected: 1", None, "InvalidArgument"),
        ("t" * 300, None, "InvalidArgument"),
        (None, {"bad name": "v"}, "InvalidArgument"),
        (None, {"name": "line\nbreak"}, "InvalidArgument"),
        (None, {"name": "ünicode"}, "InvalidArgument"),
        (None, {"big": "x" * 2048}, "MetadataTooLarge"),
    ],
)
def test_bad_types_and_metadata_are_refused(
    lake: LakeService,
    admin: RequestContext,
    bucket: str,
    content_type: str | None,
    metadata: dict[str, str] | None,
    code: str,
) -> None:
    put = lambda: lake.put_object(  # noqa: E731
        admin, bucket, "k", body(b"v"), content_type=content_type, metadata=metadata
    )
    assert raises(ValidationError, code, put).status == 400
    upload = lambda: lake.create_multipart_upload(  # noqa: E731
        admin, bucket, "k", content_type=content_type, metadata=metadata
    )
    raises(ValidationError, code, upload)
    assert keys(lake, admin, bucket) == []
    assert lake.list_multipart_uploads(admin, bucket) == []


def test_content_md5(lake: LakeService, admin: RequestContext, bucket: str) -> None:
    raises(
        ValidationError,
        "InvalidDigest",
        lambda: lake.put_object(admin, bucket, "k", body(b"v"), content_md5="nope"),
    )
    wrong = base64.b64encode(hashlib.md5(b"w").digest()).decode()
    raises(
        ValidationError,
        "BadDigest",
        lambda: lake.put_object(admin, bucket, "k", body(b"v"), content_md5=wrong),
    )
    assert keys(lake, admin, bucket) == []
    right = base64.b64encode(hashlib.md5(b"v").digest()).decode()
    lake.put_object(admin, bucket, "k", body(b"v"), content_md5=right)


def test_object_size_limit(lake: LakeService, admin: RequestContext, bucket: str) -> None:
    small = lake.settings.model_copy(
        update={"server": lake.settings.server.model_copy(update={"max_object_bytes": 10})}
    )
    limited = LakeService(small, lake.db, lake.store)
    error = raises(
        PayloadTooLarge,
        "EntityTooLarge",
        lambda: limited.put_object(admin, bucket, "k", body(b"x" * 11)),
    )
    assert error.status == 413
    assert keys(lake, admin, bucket) == []
    limited.put_object(admin, bucket, "k", body(b"x" * 10))


def test_scopes(
    lake: LakeService, admin: RequestContext, reader: RequestContext, bucket: str
) -> None:
    lake.put_object(admin, bucket, "k", body(b"v"))
    assert read(lake, reader, bucket, "k") == b"v"
    assert keys(lake, reader, bucket) == ["k"]
    assert lake.describe_bucket(reader, bucket).name == bucket
    writes: list[Callable[[], object]] = [
        lambda: lake.create_bucket(reader, "reader-bucket"),
        lambda: lake.delete_bucket(reader, bucket),
        lambda: lake.put_object(reader, bucket, "k2", body(b"v")),
        lambda: lake.delete_object(reader, bucket, "k"),
        lambda: lake.copy_object(reader, bucket, "k", bucket, "k3"),
        lambda: lake.create_multipart_upload(reader, bucket, "k4"),
    ]
    for call in writes:
        with pytest.raises(AccessDenied) as caught:
            call()
        assert caught.value.status == 403
    assert keys(lake, admin, bucket) == ["k"]
    nobody = RequestContext(principal="nobody", scopes=frozenset())
    with pytest.raises(AccessDenied):
        lake.list_objects(nobody, bucket)


def test_copy_object(lake: LakeService, admin: RequestContext, bucket: str) -> None:
    lake.put_object(admin, bucket, "src", body(b"data"), content_type="text/a", metadata={"a": "1"})
    raises(
        ValidationError,
        "InvalidRequest",
        lambda: lake.copy_object(admin, bucket, "src", bucket, "src"),
    )
    same = lake.copy_object(
        admin, bucket, "src", bucket, "src", replace_metadata=True, metadata={"b": "2"}
    )
    assert (same.metadata, same.content_type) == ({"b": "2"}, "binary/octet-stream")
    lake.create_bucket(admin, f"{bucket}-copy")
    kept = lake.copy_object(admin, bucket, "src", f"{bucket}-copy", "dst")
    assert kept.metadata == {"b": "2"}
    assert read(lake, admin, f"{bucket}-copy", "dst") == b"data"
    raises(NotFound, "NoSuchKey", lambda: lake.copy_object(admin, bucket, "no", bucket, "x"))


def test_list_objects_arguments(lake: LakeService, admin: RequestContext, bucket: str) -> None:
    for bad in (0, 1001, -1):
        error = raises(
            ValidationError,
            "InvalidArgument",
            lambda: lake.list_objects(admin, bucket, max_keys=bad),  # noqa: B023 - called at once
        )
        assert error.details["field"] == "max_keys"
    for key in ("a/1", "a/2", "b"):
        lake.put_object(admin, bucket, key, body(b"-"))
    listing = lake.list_objects(admin, bucket, delimiter="/", max_keys=1)
    assert listing.common_prefixes == ["a/"]
    rest = lake.list_objects(admin, bucket, delimiter="/", continuation_token=listing.next_token)
    assert [i.key for i in rest.items] == ["b"]
    assert rest.next_token is None


# -- multipart -----------------------------------------------------------------------------


def test_multipart_upload_through_the_service(
    lake: LakeService, admin: RequestContext, bucket: str
) -> None:
    upload = lake.create_multipart_upload(
        admin, bucket, "big.bin", content_type="app/x", metadata={"m": "1"}
    )
    assert [u.upload_id for u in lake.list_multipart_uploads(admin, bucket)] == [upload.upload_id]
    first = os.urandom(MIN_PART_BYTES)
    p1 = lake.upload_part(admin, bucket, "big.bin", upload.upload_id, 1, body(first))
    stale = lake.upload_part(admin, bucket, "big.bin", upload.upload_id, 2, body(b"old tail"))
    p2 = lake.upload_part(admin, bucket, "big.bin", upload.upload_id, 2, body(b"new tail"))
    listed = lake.list_parts(admin, bucket, "big.bin", upload.upload_id)
    assert [(p.part_number, p.etag, p.size) for p in listed] == [
        (1, p1.etag, MIN_PART_BYTES),
        (2, p2.etag, 8),
    ]
    uid = upload.upload_id
    raises(
        ValidationError,
        "InvalidPart",
        lambda: lake.complete_multipart_upload(
            admin, bucket, "big.bin", uid, [(1, p1.etag), (2, stale.etag)]
        ),
    )
    raises(
        ValidationError,
        "InvalidPartOrder",
        lambda: lake.complete_multipart_upload(
            admin, bucket, "big.bin", uid, [(2, p2.etag), (1, p1.etag)]
        ),
    )
    raises(
        NotFound,
        "NoSuchUpload",
        lambda: lake.complete_multipart_upload(admin, bucket, "other-key", uid, [(1, p1.etag)]),
    )
    assert keys(lake, admin, bucket) == []  # nothing visible before completion

    info = lake.complete_multipart_upload(
        admin, bucket, "big.bin", uid, [(1, f'"{p1.etag}"'), (2, p2.etag)]
    )
    digests = hashlib.md5(first).digest() + hashlib.md5(b"new tail").digest()
    assert info.etag == hashlib.md5(digests).hexdigest() + "-2"
    assert read(lake, admin, bucket, "big.bin") == first + b"new tail"
    head = lake.head_object(admin, bucket, "big.bin")
    assert (head.content_type, head.metadata) == ("app/x", {"m": "1"})
    assert lake.list_multipart_uploads(admin, bucket) == []
    raises(
        NotFound,
        "NoSuchUpload",
        lambda: lake.complete_multipart_upload(admin, bucket, "big.bin", uid, [(1, p1.etag)]),
    )


def test_small_parts_and_aborts(lake: LakeService, admin: RequestContext, bucket: str) -> None:
    upload = lake.create_multipart_upload(admin, bucket, "k")
    uid = upload.upload_id
    a = lake.upload_part(admin, bucket, "k", uid, 1, body(b"small"))
    b = lake.upload_part(admin, bucket, "k", uid, 2, body(b"last"))
    raises(
        ValidationError,
        "EntityTooSmall",
        lambda: lake.complete_multipart_upload(admin, bucket, "k", uid, [(1, a.etag), (2, b.etag)]),
    )
    raises(
        ValidationError,
        "InvalidArgument",
        lambda: lake.upload_part(admin, bucket, "k", uid, 10_001, body(b"x")),
    )
    lake.abort_multipart_upload(admin, bucket, "k", uid)
    raises(
        NotFound, "NoSuchUpload", lambda: lake.upload_part(admin, bucket, "k", uid, 3, body(b"x"))
    )
    raises(NotFound, "NoSuchUpload", lambda: lake.abort_multipart_upload(admin, bucket, "k", uid))
    raises(NotFound, "NoSuchUpload", lambda: lake.list_parts(admin, bucket, "k", uid))
    raises(
        NotFound, "NoSuchUpload", lambda: lake.list_parts(admin, bucket, "k", "../../etc/passwd")
    )
    assert keys(lake, admin, bucket) == []
    # a single small part is a complete object
    one = lake.create_multipart_upload(admin, bucket, "one")
    part = lake.upload_part(admin, bucket, "one", one.upload_id, 1, body(b"tiny"))
    lake.complete_multipart_upload(admin, bucket, "one", one.upload_id, [(1, part.etag)])
    assert read(lake, admin, bucket, "one") == b"tiny"


# -- files ---------------------------------------------------------------------------------


def test_upload_file_and_download(
    lake: LakeService, admin: RequestContext, bucket: str, tmp_path: Path
) -> None:
    source = tmp_path / "model.tar.gz"
    source.write_bytes(os.urandom(3000))
    info = lake.upload_file(admin, source, f"s3://{bucket}/out/")
    assert info.key == "out/model.tar.gz"
    lake.upload_file(admin, source, f"s3://{bucket}/out/renamed.bin", content_type="x/y")
    lake.put_object(admin, bucket, "out/sub/", body(b""))  # a folder marker: skipped
    lake.put_object(admin, bucket, "out/sub/deep.txt", body(b"deep"))
    lake.put_object(admin, bucket, "outside", body(b"not under out/"))

    single = tmp_path / "single.bin"
    assert lake.download(admin, f"s3://{bucket}/out/model.tar.gz", single) == 1
    assert single.read_bytes() == source.read_bytes()

    folder = tmp_path / "folder"
    assert lake.download(admin, f"s3://{bucket}/out", folder) == 3
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) == [
        "model.tar.gz",
        "renamed.bin",
        "sub/deep.txt",
    ]
    raises(
        NotFound, "NoSuchKey", lambda: lake.download(admin, f"s3://{bucket}/none/", tmp_path / "n")
    )
    raises(NotFound, "NoSuchBucket", lambda: lake.download(admin, "s3://nowhere/x", tmp_path / "n"))
    assert not (tmp_path / "n").exists()


def test_download_refuses_keys_that_collide_as_files(
    lake: LakeService, admin: RequestContext, bucket: str, tmp_path: Path
) -> None:
    lake.put_object(admin, bucket, "p/a", body(b"file"))
    lake.put_object(admin, bucket, "p/a/b", body(b"under"))
    with pytest.raises(ValidationError):
        lake.download(admin, f"s3://{bucket}/p/", tmp_path / "d")


@pytest.mark.parametrize("uri", ["http://x/y", "s3://", "s3:///key", "bucket/key"])
def test_bad_s3_uris(uri: str) -> None:
    with pytest.raises(ValidationError):
        parse_s3_uri(uri)
