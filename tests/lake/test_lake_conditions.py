"""Conditional requests: S3's rules alone, then atomic conditional writes on every store kind."""

from __future__ import annotations

import io
import threading
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import NotFound, PreconditionFailed
from lakeworks.lake.conditions import (
    Conditions,
    NotModified,
    UnsupportedCondition,
    check_copy_source,
    check_read,
    check_write,
    etag_matches,
)
from lakeworks.lake.multipart import MIN_PART_BYTES
from lakeworks.lake.service import LakeService
from lakeworks.schemas.lake import ObjectInfo

WHEN = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
INFO = ObjectInfo(bucket="b", key="k", size=1, etag="abc", last_modified=WHEN)


def http(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


BEFORE, AFTER = http(WHEN - timedelta(hours=1)), http(WHEN + timedelta(hours=1))


@pytest.mark.parametrize(
    ("conditions", "outcome"),
    [
        (Conditions(if_match='"abc"'), None),
        (Conditions(if_match='W/"x", "abc"'), None),
        (Conditions(if_match="*"), None),
        (Conditions(if_match='"nope"'), 412),
        (Conditions(if_none_match='"abc"'), 304),
        (Conditions(if_none_match='"other"'), None),
        (Conditions(if_modified_since=AFTER), 304),
        (Conditions(if_modified_since=BEFORE), None),
        (Conditions(if_unmodified_since=BEFORE), 412),
        (Conditions(if_unmodified_since=AFTER), None),
        (Conditions(if_modified_since="not a date"), None),  # ignored, as HTTP says
        # If-Match that holds overrides a failing If-Unmodified-Since (S3's rule)
        (Conditions(if_match='"abc"', if_unmodified_since=BEFORE), None),
        # If-None-Match decides alone over If-Modified-Since
        (Conditions(if_none_match='"other"', if_modified_since=AFTER), None),
        (Conditions(if_none_match='"abc"', if_modified_since=BEFORE), 304),
    ],
)
def test_read_conditions(conditions: Conditions, outcome: int | None) -> None:
    if outcome is None:
        check_read(conditions, INFO)
        return
    with pytest.raises((PreconditionFailed, NotModified)) as caught:
        check_read(conditions, INFO)
    assert caught.value.status == outcome


def test_write_and_copy_conditions() -> None:
    check_write(Conditions(if_none_match="*"), None, key="k")
    with pytest.raises(PreconditionFailed):
        check_write(Conditions(if_none_match="*"), INFO, key="k")
    check_write(Conditions(if_match='"abc"'), INFO, key="k")
    with pytest.raises(PreconditionFailed):
        check_write(Conditions(if_match='"zzz"'), INFO, key="k")
    with pytest.raises(NotFound) as caught:
        check_write(Conditions(if_match='"abc"'), None, key="k")
    assert caught.value.aws_code == "NoSuchKey"
    for unsupported in (Conditions(if_none_match='"abc"'), Conditions(if_modified_since=AFTER)):
        with pytest.raises(UnsupportedCondition) as refused:
            check_write(unsupported, INFO, key="k")
        assert refused.value.status == 501
    with pytest.raises(PreconditionFailed):  # a copy source is never "not modified": 412
        check_copy_source(Conditions(if_none_match='"abc"'), INFO)
    assert etag_matches('"a", "b"', "b")
    assert not etag_matches('"a"', "b")


# -- the service -----------------------------------------------------------------------------


def body(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)


def test_conditional_reads(lake: LakeService, admin: RequestContext, bucket: str) -> None:
    info = lake.put_object(admin, bucket, "c", body(b"v1"))
    etag = f'"{info.etag}"'
    assert b"".join(lake.get_object(admin, bucket, "c", conditions=Conditions(if_match=etag))[3])
    with pytest.raises(NotModified) as caught:
        lake.get_object(admin, bucket, "c", conditions=Conditions(if_none_match=etag))
    assert caught.value.details["etag"] == info.etag
    with pytest.raises(PreconditionFailed):
        lake.head_object(admin, bucket, "c", conditions=Conditions(if_match='"x"'))
    future = http(datetime.now(UTC) + timedelta(days=1))
    with pytest.raises(NotModified):
        lake.head_object(admin, bucket, "c", conditions=Conditions(if_modified_since=future))


def test_create_only_if_absent(lake: LakeService, admin: RequestContext, bucket: str) -> None:
    create = Conditions(if_none_match="*")
    lake.put_object(admin, bucket, "once", body(b"first"), conditions=create)
    with pytest.raises(PreconditionFailed) as caught:
        lake.put_object(admin, bucket, "once", body(b"second"), conditions=create)
    assert caught.value.status == 412
    assert caught.value.aws_code == "PreconditionFailed"
    assert b"".join(lake.get_object(admin, bucket, "once")[3]) == b"first"  # nothing written
    with pytest.raises(NotFound):
        lake.put_object(admin, bucket, "absent", body(b"x"), conditions=Conditions(if_match='"a"'))
    with pytest.raises(NotFound):
        lake.head_object(admin, bucket, "absent")
    # a key whose latest version is a delete marker has no current object
    lake.put_bucket_versioning(admin, bucket, "Enabled")
    lake.delete_object(admin, bucket, "once")
    lake.put_object(admin, bucket, "once", body(b"again"), conditions=create)


def test_only_one_of_racing_creators_wins(
    lake: LakeService, admin: RequestContext, bucket: str
) -> None:
    winners: list[int] = []
    losers: list[int] = []

    def create(n: int) -> None:
        try:
            lake.put_object(
                admin, bucket, "race", body(b"%d" % n), conditions=Conditions(if_none_match="*")
            )
        except PreconditionFailed:
            losers.append(n)
        else:
            winners.append(n)

    threads = [threading.Thread(target=create, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1
    assert len(losers) == 5
    assert b"".join(lake.get_object(admin, bucket, "race")[3]) == b"%d" % winners[0]


def test_conditional_copy_delete_and_complete(
    lake: LakeService, admin: RequestContext, bucket: str
) -> None:
    src = lake.put_object(admin, bucket, "src", body(b"source"))
    with pytest.raises(PreconditionFailed):
        lake.copy_object(
            admin, bucket, "src", bucket, "dst", source_conditions=Conditions(if_match='"x"')
        )
    lake.copy_object(
        admin,
        bucket,
        "src",
        bucket,
        "dst",
        source_conditions=Conditions(if_match=f'"{src.etag}"'),
    )
    with pytest.raises(PreconditionFailed):
        lake.delete_object(admin, bucket, "dst", conditions=Conditions(if_match='"x"'))
    lake.delete_object(admin, bucket, "dst", conditions=Conditions(if_match=f'"{src.etag}"'))

    upload = lake.create_multipart_upload(admin, bucket, "src")
    part = lake.upload_part(admin, bucket, "src", upload.upload_id, 1, body(b"x" * MIN_PART_BYTES))
    with pytest.raises(PreconditionFailed):
        lake.complete_multipart_upload(
            admin,
            bucket,
            "src",
            upload.upload_id,
            [(1, part.etag)],
            conditions=Conditions(if_none_match="*"),
        )
    assert b"".join(lake.get_object(admin, bucket, "src")[3]) == b"source"
    # the upload stays open after a failed condition, so it can still complete
    done = lake.complete_multipart_upload(
        admin,
        bucket,
        "src",
        upload.upload_id,
        [(1, part.etag)],
        conditions=Conditions(if_match=f'"{src.etag}"'),
    )
    assert done.size == MIN_PART_BYTES
