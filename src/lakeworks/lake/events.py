"""S3 event notifications, the pure part: which configurations an event matches, and the
event document S3 sends (``{"Records": [...]}``, event version 2.1).

The lake calls its listeners with an :class:`ObjectEvent` after an object was created or
removed; :mod:`lakeworks.lake.notifications` matches it against the bucket's configuration
with :func:`matches` and queues :func:`s3_event` documents for delivery.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote_plus

from lakeworks.core.errors import ValidationError
from lakeworks.schemas.notifications import EVENT_NAMES, FilterRule

__all__ = ["ObjectEvent", "check_events", "check_filter", "matches", "s3_event"]


@dataclass(frozen=True)
class ObjectEvent:
    """An object was created or removed.

    Attributes:
        name: The S3 event name without ``s3:`` (``ObjectCreated:Put``, ``ObjectRemoved:Delete``).
        bucket: The bucket.
        key: The key (not encoded).
        size: Its size in bytes (0 for removals).
        etag: Its unquoted ETag ("" for removals).
        version_id: Its version id, if the bucket is versioned.
        time: When it happened (UTC).
        sequencer: Orders events of one key (hex, increasing).
    """

    name: str
    bucket: str
    key: str
    size: int
    etag: str
    version_id: str | None
    time: datetime
    sequencer: str


def check_events(events: list[str]) -> list[str]:
    """Check event names against the ones Lakeworks emits.

    Raises:
        ValidationError: An unknown event name (``InvalidArgument``), naming the allowed ones.
    """
    for event in events:
        if event not in EVENT_NAMES:
            raise ValidationError(
                f"The event {event!r} is not supported; use one of {', '.join(EVENT_NAMES)}",
                aws_code="InvalidArgument",
            )
    return events


def check_filter(rules: list[FilterRule]) -> None:
    """At most one prefix and one suffix rule, as S3 allows.

    Raises:
        ValidationError: Two rules of the same name (``InvalidArgument``).
    """
    names = [rule.name for rule in rules]
    if len(names) != len(set(names)):
        raise ValidationError(
            "A filter may have at most one prefix rule and one suffix rule",
            aws_code="InvalidArgument",
        )


def matches(event: ObjectEvent, events: list[str], rules: list[FilterRule]) -> bool:
    """Whether ``event`` is one of ``events`` (wildcards allowed) and its key passes ``rules``."""
    full = f"s3:{event.name}"
    family = full.rsplit(":", 1)[0] + ":*"
    if full not in events and family not in events:
        return False
    for rule in rules:
        if rule.name == "prefix" and not event.key.startswith(rule.value):
            return False
        if rule.name == "suffix" and not event.key.endswith(rule.value):
            return False
    return True


def s3_event(
    event: ObjectEvent, *, region: str, configuration_id: str | None, principal: str
) -> dict[str, object]:
    """The S3 notification document for ``event`` (one record), as AWS sends it.

    The key is URL-encoded as S3 encodes it (spaces become ``+``).
    """
    obj: dict[str, object] = {"key": quote_plus(event.key, safe="/"), "sequencer": event.sequencer}
    if event.name.startswith("ObjectCreated"):
        obj.update({"size": event.size, "eTag": event.etag})
    if event.version_id is not None:
        obj["versionId"] = event.version_id
    stamp = event.time.strftime("%Y-%m-%dT%H:%M:%S.") + f"{event.time.microsecond // 1000:03d}Z"
    record = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": stamp,
        "eventName": event.name,
        "userIdentity": {"principalId": principal},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": configuration_id or "",
            "bucket": {
                "name": event.bucket,
                "ownerIdentity": {"principalId": principal},
                "arn": f"arn:aws:s3:::{event.bucket}",
            },
            "object": obj,
        },
    }
    return {"Records": [record]}
