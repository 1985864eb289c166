"""Versioning on every store kind: versions, delete markers, suspension, listings, storage."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import LakeworksError, NotFound, ResourceInUse, ValidationError
from lakeworks.lake.service import LakeService
from lakeworks.lake.versioned import DeleteMarkerVersion
from lakeworks.lake.versioning import check_status, check_version_id, page_of_versions
from lakeworks.schemas.lake import ObjectVersion


def body(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)


def read(
    lake: LakeService, ctx: RequestContext, bucket: str, key: str, vid: str | None = None
) -> bytes:
    return b"".join(lake.get_object(ctx, bucket, key, version_id=vid)[3])


def versions(
    lake: LakeService, ctx: RequestContext, bucket: str, prefix: str = ""
) -> list[tuple[str, bool, bool]]:
    """``(key, is_latest, delete_marker)`` of every version, in listing order."""
    listing = lake.list_object_versions(ctx, bucket, prefix=prefix)
    return [(v.key, v.is_latest, v.delete_marker) for v in listing.versions]


# -- pure rules ------------------------------------------------------------------------------


def test_status_and_version_id_checks() -> None:
    assert check_status("Enabled") == "Enabled"
    with pytest.raises(ValidationError) as caught:
        check_status("enabled")
    assert caught.value.aws_code == "MalformedXML"
    with pytest.raises(ValidationError) as caught:
        check_status(None)
    assert caught.value.aws_code == "IllegalVersioningConfigurationException"
    assert check_version_id("null") == "null"
    for bad in ["", "a/b", "../x", "x" * 65]:
        with pytest.raises(ValidationError) as caught:
            check_version_id(bad)
        assert caught.value.aws_code == "InvalidArgument"


def test_page_of_versions_counts_each_prefix_once() -> None:
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    entries: list[ObjectVersion | str] = [
        ObjectVersion(key="a", version_id="2", is_latest=True, last_modified=now),
        ObjectVersion(key="a", version_id="1", is_latest=False, last_modified=now),
        "dir/",
        "dir/",
        ObjectVersion(key="z", version_id="1", is_latest=True, last_modified=now),
    ]
    page = page_of_versions("b", "", "/", 3, entries)
    assert [getattr(v, "version_id", v) for v in page.versions] == ["2", "1"]
    assert page.common_prefixes == ["dir/"]
    assert page.is_truncated
    assert page.next_key_marker == "dir/"
    assert page.next_version_id_marker is None


# -- the service -----------------------------------------------------------------------------


def test_status_transitions(lake: LakeService, admin: RequestContext, bucket: str) -> None:
    assert lake.get_bucket_versioning(admin, bucket).status is None
    assert lake.put_bucket_versioning(admin, bucket, "Enabled").status == "Enabled"
    assert lake.put_bucket_versioning(admin, bucket, "Suspended").status == "Suspended"
    assert lake.get_bucket_versioning(admin, bucket).status == "Suspended"
    with pytest.raises(ValidationError) as caught:
        lake.put_bucket_versioning(admin, bucket, "Disabled")
    assert caught.value.aws_code == "MalformedXML"
    assert lake.get_bucket_versioning(admin, bucket).status == "Suspended"  # unchanged


def test_versions_and_delete_markers(lake: LakeService, admin: RequestContext, bucket: str) -> None:
    lake.put_object(admin, bucket, "before", body(b"written before versioning"))
    assert lake.put_object(admin, bucket, "before2", body(b"x")).version_id is None
    lake.put_bucket_versioning(admin, bucket, "Enabled")
    v1 = lake.put_object(admin, bucket, "doc", body(b"one"))
    v2 = lake.put_object(admin, bucket, "doc", body(b"two"))
    v3 = lake.copy_object(admin, bucket, "doc", bucket, "doc", src_version_id=v1.version_id)
    ids = [v1.version_id, v2.version_id, v3.version_id]
    assert None not in ids
    assert len(set(ids)) == 3
    assert "null" not in ids
    assert read(lake, admin, bucket, "doc") == b"one"  # the copy of v1 is current
    assert read(lake, admin, bucket, "doc", v2.version_id) == b"two"
    head = lake.head_object(admin, bucket, "doc")
    assert head.version_id == v3.version_id
    assert lake.head_object(admin, bucket, "doc", version_id=v1.version_id).last_modified == (
        v1.last_modified
    )
    # the object from before versioning is the null version
    assert lake.head_object(admin, bucket, "before").version_id == "null"
    assert read(lake, admin, bucket, "before", "null") == b"written before versioning"

    marker = lake.delete_object(admin, bucket, "doc")
    assert marker.delete_marker
    assert marker.version_id not in ids
    with pytest.raises(NotFound) as caught:
        lake.get_object(admin, bucket, "doc")
    assert caught.value.aws_code == "NoSuchKey"
    assert caught.value.details["delete_marker"] is True
    assert caught.value.details["version_id"] == marker.version_id
    with pytest.raises(DeleteMarkerVersion) as marked:
        lake.head_object(admin, bucket, "doc", version_id=marker.version_id)
    assert marked.value.status == 405
    assert marked.value.aws_code == "MethodNotAllowed"
    assert "doc" not in [i.key for i in lake.list_objects(admin, bucket).items]
    assert versions(lake, admin, bucket, "doc") == [
        ("doc", True, True),
        ("doc", False, False),
        ("doc", False, False),
        ("doc", False, False),
    ]
    # removing the marker brings the newest version back
    assert lake.delete_object(admin, bucket, "doc", version_id=marker.version_id).delete_marker
    assert read(lake, admin, bucket, "doc") == b"one"
    # deleting the current version restores the one before it
    lake.delete_object(admin, bucket, "doc", version_id=v3.version_id)
    assert read(lake, admin, bucket, "doc") == b"two"
    assert lake.head_object(admin, bucket, "doc").version_id == v2.version_id
    lake.delete_object(admin, bucket, "doc", version_id=v1.version_id)  # a noncurrent one
    with pytest.raises(NotFound) as caught:
        lake.get_object(admin, bucket, "doc", version_id=v1.version_id)
    assert caught.value.aws_code == "NoSuchVersion"
    assert versions(lake, admin, bucket, "doc") == [("doc", True, False)]


def test_unknown_and_malformed_versions(
    lake: LakeService, admin: RequestContext, bucket: str
) -> None:
    lake.put_object(admin, bucket, "k", body(b"v"))
    with pytest.raises(ValidationError) as caught:
        lake.get_object(admin, bucket, "k", version_id="abc")  # the bucket has no versions
    assert caught.value.aws_code == "InvalidArgument"
    assert read(lake, admin, bucket, "k", "null") == b"v"
    lake.put_bucket_versioning(admin, bucket, "Enabled")
    for call in (lake.get_object, lake.head_object):
        with pytest.raises(NotFound) as caught:
            call(admin, bucket, "k", version_id="0123456789abcdef")
        assert caught.value.aws_code == "NoSuchVersion"
    with pytest.raises(ValidationError):
        lake.get_object(admin, bucket, "k", version_id="../../etc")
    # deleting a version that does not exist changes nothing and is not an error
    result = lake.delete_object(admin, bucket, "k", version_id="0123456789abcdef")
    assert not result.delete_marker
    assert read(lake, admin, bucket, "k") == b"v"


def test_suspended_versioning_replaces_the_null_version(
    lake: LakeService, admin: RequestContext, bucket: str
) -> None:
    lake.put_bucket_versioning(admin, bucket, "Enabled")
    kept = lake.put_object(admin, bucket, "s", body(b"kept"))
    lake.put_bucket_versioning(admin, bucket, "Suspended")
    first = lake.put_object(admin, bucket, "s", body(b"null one"))
    second = lake.put_object(admin, bucket, "s", body(b"null two"))
    assert first.version_id == second.version_id == "null"
    assert versions(lake, admin, bucket, "s") == [("s", True, False), ("s", False, False)]
    assert read(lake, admin, bucket, "s", "null") == b"null two"
    assert read(lake, admin, bucket, "s", kept.version_id) == b"kept"
    marker = lake.delete_object(admin, bucket, "s")  # a null delete marker replaces null two
    assert (marker.version_id, marker.delete_marker) == ("null", True)
    assert versions(lake, admin, bucket, "s") == [("s", True, True), ("s", False, False)]
    lake.delete_object(admin, bucket, "s", version_id="null")
    assert read(lake, admin, bucket, "s") == b"kept"


def test_listing_versions_in_pages(lake: LakeService, admin: RequestContext, bucket: str) -> None:
    lake.put_bucket_versioning(admin, bucket, "Enabled")
    for key in ["a", "b/1", "b/2", "c"]:
        for n in range(2):
            lake.put_object(admin, bucket, key, body(f"{key}{n}".encode()))
    lake.delete_object(admin, bucket, "c")
    seen: list[tuple[str, str]] = []
    key_marker = version_marker = None
    while True:
        page = lake.list_object_versions(
            admin, bucket, key_marker=key_marker, version_id_marker=version_marker, max_keys=3
        )
        seen += [(v.key, v.version_id) for v in page.versions]
        if not page.is_truncated:
            break
        key_marker, version_marker = page.next_key_marker, page.next_version_id_marker
    assert [k for k, _ in seen] == ["a", "a", "b/1", "b/1", "b/2", "b/2", "c", "c", "c"]
    assert len(set(seen)) == 9
    rolled = lake.list_object_versions(admin, bucket, delimiter="/", max_keys=10)
    assert rolled.common_prefixes == ["b/"]
    assert [v.key for v in rolled.versions] == ["a", "a", "c", "c", "c"]
    # resuming after a common prefix skips everything under it
    after = lake.list_object_versions(admin, bucket, delimiter="/", key_marker="b/")
    assert [v.key for v in after.versions] == ["c", "c", "c"]
    with pytest.raises(ValidationError):
        lake.list_object_versions(admin, bucket, version_id_marker="x")


def test_unversioned_bucket_lists_null_versions(
    lake: LakeService, admin: RequestContext, bucket: str
) -> None:
    lake.put_object(admin, bucket, "x", body(b"1"))
    listing = lake.list_object_versions(admin, bucket)
    assert [(v.key, v.version_id, v.is_latest) for v in listing.versions] == [("x", "null", True)]


def test_bucket_with_versions_cannot_be_deleted(lake: LakeService, admin: RequestContext) -> None:
    lake.create_bucket(admin, "versioned-gone")
    lake.put_bucket_versioning(admin, "versioned-gone", "Enabled")
    v = lake.put_object(admin, "versioned-gone", "k", body(b"v"))
    marker = lake.delete_object(admin, "versioned-gone", "k")
    with pytest.raises(ResourceInUse) as caught:
        lake.delete_bucket(admin, "versioned-gone")
    assert caught.value.aws_code == "BucketNotEmpty"
    for vid in (v.version_id, marker.version_id):
        assert vid is not None
        lake.delete_object(admin, "versioned-gone", "k", version_id=vid)
    lake.delete_bucket(admin, "versioned-gone")
    with pytest.raises(NotFound):
        lake.describe_bucket(admin, "versioned-gone")


def test_current_versions_stay_at_their_natural_place(
    lake: LakeService, admin: RequestContext, bucket: str
) -> None:
    if lake.store.kind != "local":
        pytest.skip("in-place readers see the local layout; the S3 layout is tested by reads")
    lake.put_bucket_versioning(admin, bucket, "Enabled")
    lake.put_object(admin, bucket, "data/part-0.csv", body(b"old"))
    lake.put_object(admin, bucket, "data/part-0.csv", body(b"new"))
    natural = Path(lake.store.uri(bucket, "data/part-0.csv")[len("file://") :])
    assert natural.read_bytes() == b"new"
    area = natural.parents[2] / ".versions" / bucket
    archived = [p for p in area.rglob("*") if p.is_file() and p.suffix != ".meta"]
    assert [p.read_bytes() for p in archived] == [b"old"]
    lake.delete_object(admin, bucket, "data/part-0.csv")
    assert not natural.exists()


def test_a_reader_cannot_delete_versions(
    lake: LakeService, admin: RequestContext, reader: RequestContext, bucket: str
) -> None:
    lake.put_bucket_versioning(admin, bucket, "Enabled")
    v = lake.put_object(admin, bucket, "k", body(b"v"))
    with pytest.raises(LakeworksError) as caught:
        lake.delete_object(reader, bucket, "k", version_id=v.version_id)
    assert caught.value.status == 403
    with pytest.raises(LakeworksError):
        lake.put_bucket_versioning(reader, bucket, "Suspended")
    assert read(lake, reader, bucket, "k", v.version_id) == b"v"


@pytest.mark.postgres
def test_versions_on_postgres_list_in_byte_order(
    tmp_path: Path, postgres_url: str, admin: RequestContext
) -> None:
    from lakeworks.core.settings import load_settings
    from lakeworks.db import Database

    settings = load_settings(home=tmp_path / "home", database={"url": postgres_url})
    db = Database(settings.database_url)
    db.upgrade()
    lake = LakeService(settings, db)
    try:
        lake.create_bucket(admin, "pg-versions")
        lake.put_bucket_versioning(admin, "pg-versions", "Enabled")
        keys = ["b", "B", "a-1", "a/1", "\u00e9", "a"]
        for key in keys:
            lake.put_object(admin, "pg-versions", key, body(b"1"))
            lake.put_object(admin, "pg-versions", key, body(b"2"))
        listed = [v.key for v in lake.list_object_versions(admin, "pg-versions").versions]
        expected = sorted(keys, key=lambda k: k.encode("utf-8"))
        assert listed == [k for k in expected for _ in range(2)]
        page = lake.list_object_versions(admin, "pg-versions", max_keys=3)
        rest = lake.list_object_versions(
            admin,
            "pg-versions",
            key_marker=page.next_key_marker,
            version_id_marker=page.next_version_id_marker,
        )
        assert [v.key for v in page.versions + rest.versions] == listed
    finally:
        lake.close()
        db.dispose()
