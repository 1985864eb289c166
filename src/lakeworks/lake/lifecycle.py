"""Lifecycle rules: checking them and deciding what expires (pure logic; the clock is passed in).

A rule applies to the objects its filter matches (key prefix, tags, size bounds — all must
match) and, when ``Enabled``, may:

* expire current versions ``days`` after they were written or on a ``date``: an unversioned
  bucket deletes them, a versioned one adds a delete marker (as a plain DELETE would);
* remove *expired object delete markers* — a delete marker that is a key's only remaining
  version — when it says ``expired_object_delete_marker`` or expires by days or date;
* delete noncurrent versions ``noncurrent_days`` after they stopped being current, keeping the
  ``newer_noncurrent_versions`` newest noncurrent ones;
* abort multipart uploads ``days_after_initiation`` days after they started.

Like S3, a due time is the start time plus the days, rounded up to the next midnight UTC, and
a rule never acts before it is due. The lake's sweeper (``lakeworks.lake.sweeper``) applies the
decisions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from lakeworks.core.errors import ValidationError
from lakeworks.lake.tagging import validate_object_tags
from lakeworks.schemas.lake import LifecycleFilter, LifecycleRule

__all__ = [
    "MAX_RULES",
    "VersionFacts",
    "check_rules",
    "due",
    "expires_current",
    "filter_matches",
    "lone_marker_expires",
    "noncurrent_to_expire",
    "upload_expires",
    "wants_tags",
]

MAX_RULES = 1000
MAX_NEWER_NONCURRENT = 100


def _invalid(message: str) -> ValidationError:
    return ValidationError(message, aws_code="InvalidArgument", details={"field": "lifecycle"})


def _malformed(message: str) -> ValidationError:
    return ValidationError(
        f"The XML you provided was not well-formed or did not validate against our published "
        f"schema: {message}",
        aws_code="MalformedXML",
        details={"field": "lifecycle"},
    )


def _positive(value: int | None, what: str) -> None:
    if value is not None and (isinstance(value, bool) or value <= 0):
        raise _invalid(f"'{what}' must be a positive integer, got {value!r}")


def check_rules(rules: Sequence[LifecycleRule]) -> list[LifecycleRule]:
    """Check a lifecycle configuration the way S3 does.

    Returns:
        The rules, each with an ``id`` (a generated one where none was given).

    Raises:
        ValidationError: ``MalformedXML`` (no rules, a bad status, an empty expiration) or
            ``InvalidArgument`` (duplicate ids, non-positive days, forbidden combinations).
    """
    if not rules:
        raise _malformed("a lifecycle configuration needs at least one Rule")
    if len(rules) > MAX_RULES:
        raise _invalid(f"A lifecycle configuration can have at most {MAX_RULES} rules")
    checked: list[LifecycleRule] = []
    seen: set[str] = set()
    for number, rule in enumerate(rules, 1):
        rule_id = rule.id if rule.id else f"rule-{number}"
        if len(rule_id) > 255:
            raise _invalid("A rule ID must be at most 255 characters")
        if rule_id in seen:
            raise _invalid(f"Rule ID must be unique; {rule_id!r} is used by more than one rule")
        seen.add(rule_id)
        if rule.status not in ("Enabled", "Disabled"):
            raise _malformed(f"Status of rule {rule_id!r} must be Enabled or Disabled")
        _check_filter(rule.filter, rule_id)
        expiration = rule.expiration
        if expiration is not None and expiration.date is not None:
            # a date without a zone is UTC, as in S3's XML
            date = expiration.date
            date = date.astimezone(UTC) if date.tzinfo else date.replace(tzinfo=UTC)
            rule = rule.model_copy(
                update={"expiration": expiration.model_copy(update={"date": date})}
            )
        _check_actions(rule, rule_id)
        checked.append(rule.model_copy(update={"id": rule_id}))
    return checked


def _check_filter(rule_filter: LifecycleFilter, rule_id: str) -> None:
    validate_object_tags(dict(rule_filter.tags))
    low, high = rule_filter.object_size_greater_than, rule_filter.object_size_less_than
    for value, what in ((low, "ObjectSizeGreaterThan"), (high, "ObjectSizeLessThan")):
        if value is not None and value < 0:
            raise _invalid(f"{what} of rule {rule_id!r} must not be negative")
    if low is not None and high is not None and low >= high:
        raise _invalid(
            f"ObjectSizeGreaterThan of rule {rule_id!r} must be less than ObjectSizeLessThan"
        )


def _check_actions(rule: LifecycleRule, rule_id: str) -> None:
    expiration = rule.expiration
    noncurrent = rule.noncurrent_version_expiration
    abort = rule.abort_incomplete_multipart_upload
    if expiration is None and noncurrent is None and abort is None:
        raise _invalid(f"Rule {rule_id!r} needs at least one action")
    if expiration is not None:
        given = [
            expiration.days is not None,
            expiration.date is not None,
            expiration.expired_object_delete_marker is not None,
        ]
        if sum(given) != 1:
            raise _malformed(
                f"Expiration of rule {rule_id!r} needs exactly one of Days, Date or "
                "ExpiredObjectDeleteMarker"
            )
        _positive(expiration.days, "Days")
        if expiration.date is not None and expiration.date.time() != time(0):
            raise _invalid(f"'Date' of rule {rule_id!r} must be at midnight GMT")
        if expiration.expired_object_delete_marker and rule.filter.tags:
            raise _invalid("ExpiredObjectDeleteMarker cannot be specified with tags")
    if noncurrent is not None:
        _positive(noncurrent.noncurrent_days, "NoncurrentDays")
        newer = noncurrent.newer_noncurrent_versions
        if newer is not None and not 1 <= newer <= MAX_NEWER_NONCURRENT:
            raise _invalid(
                f"'NewerNoncurrentVersions' must be from 1 to {MAX_NEWER_NONCURRENT}, got {newer}"
            )
    if abort is not None:
        _positive(abort.days_after_initiation, "DaysAfterInitiation")
        if rule.filter.tags:
            raise _invalid("AbortIncompleteMultipartUpload cannot be specified with tags")


# -- decisions -------------------------------------------------------------------------------------


def due(start: datetime, days: int) -> datetime:
    """``start`` plus ``days``, rounded up to the next midnight UTC (S3's rule)."""
    moment = start.astimezone(UTC) + timedelta(days=days)
    midnight = datetime.combine(moment.date(), time(0), tzinfo=UTC)
    return midnight if moment == midnight else midnight + timedelta(days=1)


def wants_tags(rules: Sequence[LifecycleRule]) -> bool:
    """Whether any enabled rule filters on tags (the sweeper then reads objects' tags)."""
    return any(rule.status == "Enabled" and rule.filter.tags for rule in rules)


def filter_matches(
    rule_filter: LifecycleFilter, key: str, size: int, tags: Mapping[str, str] | None
) -> bool:
    """Whether an object is in a rule's scope (``tags`` ``None``: not known, so tag filters
    do not match)."""
    if not key.startswith(rule_filter.prefix):
        return False
    low, high = rule_filter.object_size_greater_than, rule_filter.object_size_less_than
    if (low is not None and size <= low) or (high is not None and size >= high):
        return False
    if rule_filter.tags:
        return tags is not None and all(tags.get(k) == v for k, v in rule_filter.tags.items())
    return True


def _enabled(rules: Sequence[LifecycleRule]) -> list[LifecycleRule]:
    return [rule for rule in rules if rule.status == "Enabled"]


def expires_current(
    rules: Sequence[LifecycleRule],
    key: str,
    size: int,
    written: datetime,
    tags: Mapping[str, str] | None,
    now: datetime,
) -> bool:
    """Whether a current version written at ``written`` has expired by ``now``."""
    for rule in _enabled(rules):
        expiration = rule.expiration
        if expiration is None or not filter_matches(rule.filter, key, size, tags):
            continue
        if expiration.days is not None and now >= due(written, expiration.days):
            return True
        if expiration.date is not None and now >= expiration.date:
            return True
    return False


@dataclass(frozen=True)
class VersionFacts:
    """What lifecycle needs to know of one version (or delete marker) of a key."""

    version_id: str
    size: int
    delete_marker: bool
    is_latest: bool
    noncurrent_since: datetime | None
    tags: Mapping[str, str] | None = None


def noncurrent_to_expire(
    rules: Sequence[LifecycleRule], key: str, versions: Sequence[VersionFacts], now: datetime
) -> list[str]:
    """The noncurrent versions of ``key`` that are due for permanent deletion.

    Args:
        versions: Every version of the key, newest first.

    Returns:
        Their version ids (newest first).
    """
    chosen: list[str] = []
    noncurrent = [v for v in versions if not v.is_latest]
    for rule in _enabled(rules):
        action = rule.noncurrent_version_expiration
        if action is None:
            continue
        keep = action.newer_noncurrent_versions or 0
        for position, version in enumerate(noncurrent):
            if position < keep or version.version_id in chosen:
                continue  # one of the newest noncurrent versions the rule keeps
            if not filter_matches(rule.filter, key, version.size, version.tags):
                continue
            since = version.noncurrent_since
            if since is not None and now >= due(since, action.noncurrent_days):
                chosen.append(version.version_id)
    order = {v.version_id: i for i, v in enumerate(versions)}
    return sorted(chosen, key=order.__getitem__)


def lone_marker_expires(
    rules: Sequence[LifecycleRule], key: str, versions: Sequence[VersionFacts]
) -> bool:
    """Whether ``key``'s versions are a single delete marker that a rule removes."""
    if len(versions) != 1 or not versions[0].delete_marker:
        return False
    for rule in _enabled(rules):
        expiration = rule.expiration
        if expiration is None or not filter_matches(rule.filter, key, 0, None):
            continue
        if expiration.expired_object_delete_marker or expiration.days or expiration.date:
            return True
    return False


def upload_expires(
    rules: Sequence[LifecycleRule], key: str, initiated: datetime, now: datetime
) -> bool:
    """Whether a multipart upload started at ``initiated`` is due to be aborted."""
    for rule in _enabled(rules):
        action = rule.abort_incomplete_multipart_upload
        if action is None or not key.startswith(rule.filter.prefix):
            continue
        if now >= due(initiated, action.days_after_initiation):
            return True
    return False
