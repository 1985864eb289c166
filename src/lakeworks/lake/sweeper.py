"""The lifecycle sweeper: applies buckets' lifecycle rules (part of the lake service).

:meth:`LifecycleOps.apply_lifecycle` makes one pass over every bucket with enabled rules, using
the decisions of :mod:`lakeworks.lake.lifecycle`: it expires current objects (a delete marker in
a versioned bucket), deletes due noncurrent versions, removes expired object delete markers and
aborts stale multipart uploads. The platform runs it on a background thread every
:data:`LIFECYCLE_INTERVAL_SECONDS` (S3 runs lifecycle about once a day; rules act at whole days,
so an hour is prompt enough); tests call it with their own ``now``.

Expiring a current object is conditional on its ETag (``If-Match``), so an object rewritten
after the pass listed it is never expired by mistake.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import datetime

from lakeworks.core.clock import utcnow
from lakeworks.core.context import RequestContext
from lakeworks.core.errors import LakeworksError, NotFound, PreconditionFailed
from lakeworks.lake import store
from lakeworks.lake.conditions import Conditions
from lakeworks.lake.lifecycle import (
    VersionFacts,
    expires_current,
    lone_marker_expires,
    noncurrent_to_expire,
    upload_expires,
    wants_tags,
)
from lakeworks.lake.store import BucketRecord, VersionRecord
from lakeworks.lake.uploads import MultipartOps
from lakeworks.schemas.lake import LifecycleReport, LifecycleRule

__all__ = ["LIFECYCLE_INTERVAL_SECONDS", "LifecycleOps"]

log = logging.getLogger("lakeworks.lake")

LIFECYCLE_INTERVAL_SECONDS = 3600.0
_BATCH = 500


class LifecycleOps(MultipartOps):
    """Applies lifecycle rules, once or on a background thread."""

    _sweep_interval: float
    _sweep_stop: threading.Event
    _sweep_thread: threading.Thread | None

    def _init_sweeper(self, interval: float) -> None:
        self._sweep_interval = interval
        self._sweep_stop = threading.Event()
        self._sweep_thread = None

    def start_sweeper(self) -> None:
        """Run :meth:`apply_lifecycle` every interval on a daemon thread (idempotent)."""
        if self._sweep_thread is not None:
            return
        self._sweep_stop.clear()
        self._sweep_thread = threading.Thread(
            target=self._sweep_loop, name="lakeworks-lifecycle", daemon=True
        )
        self._sweep_thread.start()

    def stop_sweeper(self) -> None:
        """Stop the sweeper thread, letting a pass in progress finish its current step."""
        self._sweep_stop.set()
        thread, self._sweep_thread = self._sweep_thread, None
        if thread is not None:
            thread.join(timeout=60)

    def _sweep_loop(self) -> None:
        while not self._sweep_stop.wait(self._sweep_interval):
            try:
                report = self.apply_lifecycle()
            except Exception:  # the next pass tries again; a sweeper must not die
                log.exception("lifecycle pass failed")
                continue
            if report != LifecycleReport():
                log.info("lifecycle pass: %s", report.model_dump())

    def run_lifecycle(self, ctx: RequestContext) -> LifecycleReport:
        """Apply lifecycle rules now, without waiting for the sweeper (needs ``admin``)."""
        ctx.require("admin")
        return self.apply_lifecycle()

    def apply_lifecycle(self, *, now: datetime | None = None) -> LifecycleReport:
        """Apply every bucket's enabled lifecycle rules once.

        Args:
            now: The time to decide by (default: the clock).

        Returns:
            What the pass did.
        """
        moment = now or utcnow()
        report = LifecycleReport()
        with self.db.session() as session:
            records = [r for r in store.list_buckets(session) if r.lifecycle]
        for record in records:
            if self._sweep_stop.is_set():
                break
            rules = [LifecycleRule.model_validate(rule) for rule in record.lifecycle or []]
            if not any(rule.status == "Enabled" for rule in rules):
                continue
            try:
                self._sweep_bucket(record, rules, moment, report)
            except NotFound:
                continue  # the bucket went away during the pass
            except LakeworksError as exc:  # one broken bucket must not stall the others
                log.warning("lifecycle pass skipped bucket %s: %s", record.name, exc.message)
        return report

    def _sweep_bucket(
        self,
        record: BucketRecord,
        rules: list[LifecycleRule],
        now: datetime,
        report: LifecycleReport,
    ) -> None:
        if any(r.expiration and (r.expiration.days or r.expiration.date) for r in rules):
            self._expire_current(record, rules, now, report)
        if record.versioning is not None:
            self._expire_versions(record, rules, now, report)
        with self.db.session() as session:
            uploads = store.list_uploads(session, record.name)
        for upload in uploads:
            if upload_expires(rules, upload.key, upload.initiated, now):
                try:
                    self._abort(upload)
                except NotFound:
                    continue
                report.aborted_uploads += 1

    def _tags(self, bucket: str, key: str, archive: str | None = None) -> dict[str, str] | None:
        try:
            return self.store.get_tags(bucket, key, archive=archive)
        except NotFound:
            return None

    def _expire_current(
        self,
        record: BucketRecord,
        rules: list[LifecycleRule],
        now: datetime,
        report: LifecycleReport,
    ) -> None:
        tagged = wants_tags(rules)
        for key, size, written, etag in self._current_objects(record):
            tags = self._tags(record.name, key) if tagged else None
            if not expires_current(rules, key, size, written, tags, now):
                continue
            try:
                self._remove(record, key, record.owner, None, Conditions(if_match=f'"{etag}"'))
            except (PreconditionFailed, NotFound):
                continue  # rewritten or deleted since it was listed
            report.expired_objects += 1

    def _current_objects(self, record: BucketRecord) -> Iterator[tuple[str, int, datetime, str]]:
        """``(key, size, written, etag)`` of every current object of the bucket."""
        if record.versioning is None:
            token: str | None = None
            while True:
                page = self.store.list(record.name, continuation_token=token, exact=record.sealed)
                for item in page.items:
                    yield item.key, item.size, item.last_modified, item.etag
                token = page.next_token
                if token is None:
                    return
        for rows in self._version_groups(record.name):
            latest = rows[0]
            if latest.is_latest and not latest.delete_marker:
                yield latest.key, latest.size, latest.last_modified, latest.etag

    def _version_groups(self, bucket: str) -> Iterator[list[VersionRecord]]:
        """Every key's versions (newest first), key by key."""
        after: tuple[str, int | None] | None = None
        group: list[VersionRecord] = []
        while True:
            with self.db.session() as session:
                rows = store.page_versions(session, bucket, after=after, limit=_BATCH)
            if not rows:
                break
            for row in rows:
                if group and group[0].key != row.key:
                    yield group
                    group = []
                group.append(row)
                after = (row.key, row.seq)
        if group:
            yield group

    def _expire_versions(
        self,
        record: BucketRecord,
        rules: list[LifecycleRule],
        now: datetime,
        report: LifecycleReport,
    ) -> None:
        tagged = wants_tags(rules)
        for rows in list(self._version_groups(record.name)):
            key = rows[0].key
            facts = [
                VersionFacts(
                    version_id=row.version_id,
                    size=row.size,
                    delete_marker=row.delete_marker,
                    is_latest=row.is_latest,
                    noncurrent_since=row.noncurrent_since,
                    tags=(
                        self._tags(record.name, key, row.archive)
                        if tagged and not row.delete_marker and not row.is_latest
                        else None
                    ),
                )
                for row in rows
            ]
            expired = noncurrent_to_expire(rules, key, facts, now)
            for vid in expired:
                if self._remove_quietly(record, key, vid):
                    report.expired_versions += 1
            left = [fact for fact in facts if fact.version_id not in expired]
            if lone_marker_expires(rules, key, left) and self._remove_quietly(
                record, key, left[0].version_id
            ):
                report.expired_delete_markers += 1

    def _remove_quietly(self, record: BucketRecord, key: str, version_id: str) -> bool:
        try:
            self._remove(record, key, record.owner, version_id)
        except LakeworksError as exc:
            log.warning(
                "lifecycle could not delete %s/%s@%s: %s", record.name, key, version_id, exc
            )
            return False
        return True
