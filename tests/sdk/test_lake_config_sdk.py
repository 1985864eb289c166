"""Bucket configuration, object versions and tags through the SDK (in-process server)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from lakeworks.core.errors import NotFound, ValidationError
from lakeworks.sdk.client import Client

_names = itertools.count()


@pytest.fixture
def bucket(lake_client: Client) -> str:
    name = f"sdk-conf-{next(_names)}"
    lake_client.buckets.create(name)
    return name


def test_versions(lake_client: Client, bucket: str, tmp_path: Path) -> None:
    c = lake_client
    assert c.buckets.versioning.get(bucket).status is None
    assert c.buckets.versioning.enable(bucket).status == "Enabled"
    v1 = c.objects.put(bucket, "doc", b"one").version_id
    v2 = c.objects.put(bucket, "doc", b"two").version_id
    assert v1
    assert v2
    assert v1 != v2
    assert c.objects.versions.get(bucket, "doc", v1) == b"one"
    assert c.objects.versions.head(bucket, "doc", v1).version_id == v1
    info = c.objects.versions.download(bucket, "doc", v1, tmp_path / "old")
    assert (tmp_path / "old").read_bytes() == b"one"
    assert info.version_id == v1
    c.objects.delete(bucket, "doc")  # a delete marker
    versions = list(c.objects.versions.list(bucket))
    assert [v.delete_marker for v in versions] == [True, False, False]
    assert [v.version_id for v in versions[1:]] == [v2, v1]
    pages = list(c.objects.versions.listings(bucket, max_keys=1))
    assert len(pages) == 3  # followed the markers
    gone = c.objects.versions.delete(bucket, "doc", versions[0].version_id)
    assert gone.version_id == versions[0].version_id
    assert c.objects.get(bucket, "doc") == b"two"  # the marker is gone: v2 is current again
    assert c.buckets.versioning.suspend(bucket).status == "Suspended"


def test_versions_bad_input(lake_client: Client, bucket: str, tmp_path: Path) -> None:
    c = lake_client
    with pytest.raises(ValidationError, match="On"):
        c.buckets.versioning.put(bucket, "On")
    assert c.buckets.versioning.get(bucket).status is None  # nothing changed
    c.buckets.versioning.enable(bucket)
    c.objects.put(bucket, "k", b"v")
    with pytest.raises(NotFound):
        c.objects.versions.get(bucket, "k", "0123456789abcdef")
    with pytest.raises(NotFound):
        c.objects.versions.download(bucket, "k", "0123456789abcdef", tmp_path / "x")
    assert not (tmp_path / "x").exists()
    with pytest.raises(NotFound):
        list(c.objects.versions.list("no-such-bucket"))


def test_tags(lake_client: Client, bucket: str) -> None:
    c = lake_client
    with pytest.raises(NotFound):
        c.buckets.tags.get(bucket)
    assert c.buckets.tags.put(bucket, {"team": "ml"}) == {"team": "ml"}
    assert c.buckets.tags.get(bucket) == {"team": "ml"}
    c.buckets.tags.delete(bucket)
    with pytest.raises(NotFound):
        c.buckets.tags.get(bucket)

    info = c.objects.put(bucket, "dir/a b.csv", b"x", tags={"stage": "raw data"})
    assert info.key == "dir/a b.csv"
    assert c.objects.tags.get(bucket, "dir/a b.csv").tags == {"stage": "raw data"}
    assert c.objects.tags.put(bucket, "dir/a b.csv", {"k": "v"}).tags == {"k": "v"}
    assert c.objects.tags.delete(bucket, "dir/a b.csv").tags == {}
    with pytest.raises(ValidationError):
        c.objects.tags.put(bucket, "dir/a b.csv", {"aws:x": "1"})
    assert c.objects.tags.get(bucket, "dir/a b.csv").tags == {}
    with pytest.raises(NotFound):
        c.objects.tags.get(bucket, "missing")


def test_encryption_policy_lifecycle(lake_client: Client, bucket: str) -> None:
    c = lake_client
    with pytest.raises(NotFound):
        c.buckets.encryption.get(bucket)
    with pytest.raises(ValidationError):
        c.buckets.encryption.put(bucket, algorithm="ROT13")
    kms = c.buckets.encryption.put(bucket, algorithm="aws:kms", kms_key_id="team-key")
    assert kms.kms_key_id == "team-key"
    assert c.buckets.encryption.get(bucket).algorithm == "aws:kms"
    assert c.objects.put(bucket, "secret", b"v").kms_key_id == "team-key"
    assert c.objects.put(bucket, "plain", b"v", server_side_encryption="AES256").kms_key_id is None
    c.buckets.encryption.delete(bucket)
    with pytest.raises(NotFound):
        c.buckets.encryption.get(bucket)

    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Sealed",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/sealed/*",
            }
        ],
    }
    with pytest.raises(ValidationError, match="valid JSON"):
        c.buckets.policy.put(bucket, '{"Statement": [')
    with pytest.raises(NotFound):
        c.buckets.policy.get(bucket)
    c.buckets.policy.put(bucket, document)
    assert json.loads(c.buckets.policy.get(bucket)) == document
    c.buckets.policy.delete(bucket)
    with pytest.raises(NotFound):
        c.buckets.policy.get(bucket)

    with pytest.raises(ValidationError):
        c.buckets.lifecycle.put(bucket, [{"expiration": {"days": 0}}])
    with pytest.raises(NotFound):
        c.buckets.lifecycle.get(bucket)
    rules = c.buckets.lifecycle.put(
        bucket, [{"id": "tmp", "filter": {"prefix": "tmp/"}, "expiration": {"days": 7}}]
    )
    assert [r.id for r in rules] == ["tmp"]
    assert c.buckets.lifecycle.get(bucket)[0].filter.prefix == "tmp/"
    assert c.buckets.lifecycle.run().expired_objects == 0
    c.buckets.lifecycle.delete(bucket)
    with pytest.raises(NotFound):
        c.buckets.lifecycle.get(bucket)
