"""Lifecycle rules: checking and deciding with a pinned clock, then sweeps on every store kind."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import NotFound, ValidationError
from lakeworks.db import Database
from lakeworks.lake.lifecycle import (
    VersionFacts,
    check_rules,
    due,
    expires_current,
    lone_marker_expires,
    noncurrent_to_expire,
    upload_expires,
)
from lakeworks.lake.service import LakeService
from lakeworks.schemas.lake import LifecycleRule

T0 = datetime(2024, 1, 15, 10, 30, tzinfo=UTC)


def rule(**fields: Any) -> LifecycleRule:
    return LifecycleRule.model_validate(fields)


# -- checking --------------------------------------------------------------------------------


def test_valid_rules_get_ids() -> None:
    checked = check_rules(
        [
            rule(expiration={"days": 30}),
            rule(
                id="old",
                filter={"prefix": "logs/"},
                noncurrent_version_expiration={"noncurrent_days": 1},
            ),
            rule(expiration={"date": "2030-01-01T00:00:00"}),  # a date without zone is UTC
        ]
    )
    assert [r.id for r in checked] == ["rule-1", "old", "rule-3"]
    assert checked[2].expiration is not None
    assert checked[2].expiration.date == datetime(2030, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("rules", "code", "words"),
    [
        ([], "MalformedXML", "at least one"),
        (
            [rule(id="a", expiration={"days": 1}), rule(id="a", expiration={"days": 2})],
            "InvalidArgument",
            "unique",
        ),
        ([rule(status="On", expiration={"days": 1})], "MalformedXML", "Enabled or Disabled"),
        ([rule()], "InvalidArgument", "at least one action"),
        ([rule(expiration={"days": 0})], "InvalidArgument", "positive"),
        (
            [rule(expiration={"days": 1, "expired_object_delete_marker": True})],
            "MalformedXML",
            "exactly one",
        ),
        ([rule(expiration={"date": "2030-01-01T12:00:00Z"})], "InvalidArgument", "midnight"),
        (
            [rule(noncurrent_version_expiration={"noncurrent_days": -1})],
            "InvalidArgument",
            "positive",
        ),
        (
            [
                rule(
                    noncurrent_version_expiration={
                        "noncurrent_days": 1,
                        "newer_noncurrent_versions": 101,
                    }
                )
            ],
            "InvalidArgument",
            "1 to 100",
        ),
        (
            [
                rule(
                    filter={"tags": {"a": "b"}},
                    abort_incomplete_multipart_upload={"days_after_initiation": 1},
                )
            ],
            "InvalidArgument",
            "tags",
        ),
        (
            [
                rule(
                    filter={"object_size_greater_than": 10, "object_size_less_than": 5},
                    expiration={"days": 1},
                )
            ],
            "InvalidArgument",
            "less than",
        ),
        ([rule(filter={"tags": {"aws:x": "b"}}, expiration={"days": 1})], "InvalidTag", "aws:"),
    ],
)
def test_bad_rules_say_why(rules: list[LifecycleRule], code: str, words: str) -> None:
    with pytest.raises(ValidationError) as caught:
        check_rules(rules)
    assert caught.value.aws_code == code
    assert words.lower() in caught.value.message.lower()


# -- deciding --------------------------------------------------------------------------------


def test_due_rounds_up_to_the_next_midnight() -> None:
    assert due(T0, 3) == datetime(2024, 1, 19, tzinfo=UTC)
    midnight = datetime(2024, 1, 15, tzinfo=UTC)
    assert due(midnight, 1) == datetime(2024, 1, 16, tzinfo=UTC)


def test_current_expiration_filters() -> None:
    rules = check_rules(
        [
            rule(
                filter={"prefix": "logs/", "tags": {"keep": "no"}, "object_size_greater_than": 10},
                expiration={"days": 3},
            ),
            rule(status="Disabled", expiration={"days": 1}),
        ]
    )
    later = datetime(2024, 1, 19, tzinfo=UTC)
    assert expires_current(rules, "logs/a", 11, T0, {"keep": "no"}, later)
    assert not expires_current(
        rules, "logs/a", 11, T0, {"keep": "no"}, later - timedelta(seconds=1)
    )
    assert not expires_current(rules, "data/a", 11, T0, {"keep": "no"}, later)
    assert not expires_current(rules, "logs/a", 10, T0, {"keep": "no"}, later)
    assert not expires_current(rules, "logs/a", 11, T0, {"keep": "yes"}, later)
    assert not expires_current(rules, "logs/a", 11, T0, None, later)  # tags unknown


def test_noncurrent_versions_and_lone_markers() -> None:
    rules = check_rules(
        [
            rule(
                noncurrent_version_expiration={
                    "noncurrent_days": 1,
                    "newer_noncurrent_versions": 1,
                },
                expiration={"expired_object_delete_marker": True},
            )
        ]
    )

    def version(vid: str, since: datetime | None, latest: bool = False) -> VersionFacts:
        return VersionFacts(vid, 1, False, latest, since)

    versions = [
        version("v4", None, latest=True),
        version("v3", T0),
        version("v2", T0),
        version("v1", T0 + timedelta(days=5)),
    ]
    now = T0 + timedelta(days=2)
    # v3 is the newest noncurrent version (kept); v1 is not due yet
    assert noncurrent_to_expire(rules, "k", versions, now) == ["v2"]
    assert noncurrent_to_expire(rules, "k", versions, T0) == []
    marker = [VersionFacts("m", 0, True, True, None)]
    assert lone_marker_expires(rules, "k", marker)
    assert not lone_marker_expires(rules, "k", [*marker, version("v1", T0)])
    aborts = check_rules([rule(abort_incomplete_multipart_upload={"days_after_initiation": 2})])
    assert upload_expires(aborts, "k", T0, T0 + timedelta(days=3))
    assert not upload_expires(aborts, "k", T0, T0 + timedelta(days=1))


# -- sweeps ----------------------------------------------------------------------------------


def body(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)


def keys_and_versions(
    lake: LakeService, ctx: RequestContext, bucket: str
) -> list[tuple[str, bool]]:
    return [(v.key, v.delete_marker) for v in lake.list_object_versions(ctx, bucket).versions]


def test_noncurrent_versions_expire(lake: LakeService, admin: RequestContext, bucket: str) -> None:
    lake.put_bucket_versioning(admin, bucket, "Enabled")
    for n in range(4):
        lake.put_object(admin, bucket, "doc", body(b"v%d" % n))
    lake.put_object(admin, bucket, "other/doc", body(b"untouched"))
    lake.put_object(admin, bucket, "other/doc", body(b"untouched 2"))
    lake.put_bucket_lifecycle(
        admin,
        bucket,
        [
            rule(
                id="trim",
                filter={"prefix": "doc"},
                noncurrent_version_expiration={
                    "noncurrent_days": 1,
                    "newer_noncurrent_versions": 1,
                },
            ),
        ],
    )
    assert lake.apply_lifecycle().expired_versions == 0  # not due yet
    report = lake.apply_lifecycle(now=datetime.now(UTC) + timedelta(days=3))
    assert report.expired_versions == 2
    listing = lake.list_object_versions(admin, bucket, prefix="doc")
    assert len(listing.versions) == 2  # the current one and the newest noncurrent one
    assert b"".join(lake.get_object(admin, bucket, "doc")[3]) == b"v3"
    old = listing.versions[1].version_id
    assert b"".join(lake.get_object(admin, bucket, "doc", version_id=old)[3]) == b"v2"
    assert len(lake.list_object_versions(admin, bucket, prefix="other/").versions) == 2


def test_current_objects_expire_then_lone_markers_go(
    lake: LakeService, admin: RequestContext, bucket: str
) -> None:
    lake.put_bucket_versioning(admin, bucket, "Enabled")
    lake.put_object(admin, bucket, "tmp/a", body(b"a"), tags={"scratch": "yes"})
    lake.put_object(admin, bucket, "tmp/b", body(b"b"))
    lake.put_bucket_lifecycle(
        admin,
        bucket,
        [
            rule(
                id="expire",
                filter={"prefix": "tmp/", "tags": {"scratch": "yes"}},
                expiration={"days": 1},
            ),
            rule(
                id="clean",
                filter={"prefix": "tmp/"},
                noncurrent_version_expiration={"noncurrent_days": 5},
                expiration={"expired_object_delete_marker": True},
            ),
        ],
    )
    later = datetime.now(UTC) + timedelta(days=3)
    first = lake.apply_lifecycle(now=later)
    assert first.expired_objects == 1  # only the tagged one
    with pytest.raises(NotFound) as caught:
        lake.get_object(admin, bucket, "tmp/a")
    assert caught.value.details.get("delete_marker") is True
    second = lake.apply_lifecycle(now=later + timedelta(days=5))
    assert second.expired_versions == 1
    assert second.expired_delete_markers == 1
    assert keys_and_versions(lake, admin, bucket) == [("tmp/b", False)]


def test_unversioned_expiration_and_stale_uploads(
    lake: LakeService, admin: RequestContext, bucket: str
) -> None:
    lake.put_object(admin, bucket, "logs/old", body(b"x"))
    lake.put_object(admin, bucket, "keep/me", body(b"x"))
    upload = lake.create_multipart_upload(admin, bucket, "logs/big")
    lake.put_bucket_lifecycle(
        admin,
        bucket,
        [
            rule(
                filter={"prefix": "logs/"},
                expiration={"days": 2},
                abort_incomplete_multipart_upload={"days_after_initiation": 1},
            ),
        ],
    )
    report = lake.apply_lifecycle(now=datetime.now(UTC) + timedelta(days=4))
    assert (report.expired_objects, report.aborted_uploads) == (1, 1)
    assert [i.key for i in lake.list_objects(admin, bucket).items] == ["keep/me"]
    assert lake.list_multipart_uploads(admin, bucket) == []
    assert upload.upload_id
    config = lake.get_bucket_lifecycle(admin, bucket)
    assert config.rules[0].expiration is not None
    assert config.rules[0].expiration.days == 2
    lake.delete_bucket_lifecycle(admin, bucket)
    with pytest.raises(NotFound) as caught:
        lake.get_bucket_lifecycle(admin, bucket)
    assert caught.value.aws_code == "NoSuchLifecycleConfiguration"


def test_the_sweeper_runs_in_the_background(
    make_lake_settings: Any, tmp_path: Path, admin: RequestContext
) -> None:
    settings = make_lake_settings(tmp_path / "home", "local")
    db = Database(settings.database_url)
    db.upgrade()
    lake = LakeService(settings, db, lifecycle_interval=0.05)
    try:
        lake.create_bucket(admin, "swept")
        lake.put_object(admin, "swept", "gone", body(b"x"))
        lake.put_bucket_lifecycle(
            admin, "swept", [rule(expiration={"date": "2020-01-01T00:00:00Z"})]
        )
        lake.start()
        lake.start()  # idempotent
        deadline = time.monotonic() + 30
        while lake.list_objects(admin, "swept").items and time.monotonic() < deadline:
            time.sleep(0.05)
        assert lake.list_objects(admin, "swept").items == []
    finally:
        lake.close()
        db.dispose()
