"""Matching object events against notification filters, and the S3 event shape."""

from __future__ import annotations

from datetime import UTC, datetime

from lakeworks.lake.events import ObjectEvent, matches, s3_event
from lakeworks.schemas.notifications import FilterRule

EVENT = ObjectEvent(
    name="ObjectCreated:Put",
    bucket="b",
    key="glue-in/my wine.csv",
    size=10,
    etag="abc",
    version_id=None,
    time=datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
    sequencer="0A",
)


def test_matches_wildcards_and_filters() -> None:
    rules = [FilterRule(name="prefix", value="glue-in/"), FilterRule(name="suffix", value=".csv")]
    assert matches(EVENT, ["s3:ObjectCreated:*"], rules)
    assert matches(EVENT, ["s3:ObjectCreated:Put"], [])
    assert not matches(EVENT, ["s3:ObjectCreated:Copy"], [])
    assert not matches(EVENT, ["s3:ObjectRemoved:*"], [])
    assert not matches(EVENT, ["s3:ObjectCreated:*"], [FilterRule(name="suffix", value=".txt")])


def test_s3_event_shape() -> None:
    record = s3_event(EVENT, region="us-east-1", configuration_id="c", principal="admin")
    one = record["Records"][0]  # type: ignore[index]
    assert one["eventVersion"] == "2.1"
    assert one["eventTime"] == "2024-01-02T03:04:05.678Z"
    assert one["s3"]["bucket"]["arn"] == "arn:aws:s3:::b"
    assert one["s3"]["object"] == {
        "key": "glue-in/my+wine.csv",
        "size": 10,
        "eTag": "abc",
        "sequencer": "0A",
    }
