"""Versions of objects: how writes, deletes and reads keep them (part of the lake service).

Buckets whose versioning was never enabled keep no version records and behave as before. Once a
bucket's versioning is enabled, its version records (``lake_object_versions``) are the source of
truth for its versions; the latest version that is not a delete marker stays at the key's natural
place in the store (in-place readers see it), older ones move to the store's version area:

* a write first archives the current object (unless it is the ``null`` version a suspended
  bucket replaces), then writes the new one at the natural place, then records both;
* a DELETE without a version id archives the current object, removes it from the natural place
  and records a delete marker;
* deleting a version permanently removes its bytes; deleting the latest version restores the
  next newer one to the natural place (or leaves the key without a current object when that is
  a delete marker).

Writes to one key run under that key's lock, so their archive/write/record steps never
interleave in this process. Objects written before versioning was enabled become ``null``
versions: all of them when versioning is first enabled, and any found later (say, a file put in
place by hand) when its key is next written. A crash between a store write and its record leaves
the natural object ahead of the records; reads then label it with the newest recorded version
whose ETag it has.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from lakeworks.core.clock import utcnow
from lakeworks.core.context import RequestContext
from lakeworks.core.errors import LakeworksError, NotFound, ValidationError
from lakeworks.lake import store
from lakeworks.lake.base import LakeBase
from lakeworks.lake.conditions import Conditions, check_write
from lakeworks.lake.objects import ByteRange
from lakeworks.lake.store import BucketRecord, VersionRecord
from lakeworks.lake.versioning import (
    NULL_VERSION,
    check_status,
    check_version_id,
    new_archive_name,
    new_version_id,
)
from lakeworks.schemas.lake import (
    BucketVersioning,
    DeleteResult,
    ObjectInfo,
)

__all__ = ["DeleteMarkerVersion", "VersionOps"]

Opened = tuple[ObjectInfo, int, int, Iterator[bytes]]


class DeleteMarkerVersion(LakeworksError):
    """A GET or HEAD named a version that is a delete marker (405, S3's ``MethodNotAllowed``)."""

    status = 405
    code = "MethodNotAllowed"


def _no_version(bucket: str, key: str, version_id: str) -> NotFound:
    return NotFound(
        f"No version {version_id!r} of key {key!r} in bucket {bucket!r}",
        aws_code="NoSuchVersion",
        details={"bucket": bucket, "key": key, "version_id": version_id},
    )


def _no_key(bucket: str, key: str, marker: VersionRecord | None = None) -> NotFound:
    details: dict[str, object] = {"bucket": bucket, "key": key}
    if marker is not None:
        details.update(delete_marker=True, version_id=marker.version_id)
    return NotFound(
        f"No object {key!r} in bucket {bucket!r}"
        + (" (its latest version is a delete marker)" if marker is not None else ""),
        aws_code="NoSuchKey",
        details=details,
    )


class VersionOps(LakeBase):
    """Versioning configuration, version-keeping writes and deletes, reads by version."""

    # -- configuration -------------------------------------------------------------------------

    def get_bucket_versioning(self, ctx: RequestContext, bucket: str) -> BucketVersioning:
        """The bucket's versioning status (``None`` if it was never enabled)."""
        record = self._bucket_for(ctx, bucket, "s3:GetBucketVersioning", "read")
        return BucketVersioning(status=record.versioning)

    def put_bucket_versioning(
        self, ctx: RequestContext, bucket: str, status: str | None
    ) -> BucketVersioning:
        """Enable or suspend versioning; objects already there become ``null`` versions.

        Raises:
            ValidationError: ``IllegalVersioningConfigurationException`` (no status) or
                ``MalformedXML`` (neither ``Enabled`` nor ``Suspended``).
        """
        record = self._bucket_for(ctx, bucket, "s3:PutBucketVersioning", "write")
        checked = check_status(status)
        self._update_bucket(bucket, versioning=checked)
        if record.versioning is None:
            self._adopt_all(record)
        return BucketVersioning(status=checked)

    def _adopt_all(self, record: BucketRecord) -> None:
        """Record every object already in the bucket as its key's ``null`` version."""
        token: str | None = None
        while True:
            page = self.store.list(
                record.name, continuation_token=token, max_keys=1000, exact=record.sealed
            )
            for item in page.items:
                with self.key_lock(record.name, item.key), self.db.session() as session:
                    if store.latest_version(session, record.name, item.key) is None:
                        session.add(
                            self._row(record.name, item.key, NULL_VERSION, item, record.owner)
                        )
            token = page.next_token
            if token is None:
                return

    @staticmethod
    def _row(
        bucket: str,
        key: str,
        version_id: str,
        info: ObjectInfo,
        owner: str,
        *,
        latest: bool = True,
        marker: bool = False,
        archive: str | None = None,
        noncurrent_since: datetime | None = None,
    ) -> VersionRecord:
        return VersionRecord(
            bucket=bucket,
            key=key,
            version_id=version_id,
            is_latest=latest,
            delete_marker=marker,
            size=info.size,
            etag=info.etag,
            last_modified=info.last_modified,
            noncurrent_since=noncurrent_since,
            archive=archive,
            owner=owner,
        )

    # -- writes --------------------------------------------------------------------------------

    def _rows(self, bucket: str, key: str) -> list[VersionRecord]:
        with self.db.session() as session:
            return store.versions_of(session, bucket, key)

    def _current(self, record: BucketRecord, key: str) -> ObjectInfo | None:
        """The key's current object (``None`` if none, or its latest version is a marker)."""
        if record.versioning is not None:
            rows = self._rows(record.name, key)
            latest = next((row for row in rows if row.is_latest), None)
            if latest is not None:
                return None if latest.delete_marker else self._as_info(record.name, latest)
        try:
            return self.store.head(record.name, key)
        except NotFound:
            return None

    @staticmethod
    def _as_info(bucket: str, row: VersionRecord) -> ObjectInfo:
        return ObjectInfo(
            bucket=bucket,
            key=row.key,
            size=row.size,
            etag=row.etag,
            last_modified=row.last_modified,
            version_id=row.version_id,
        )

    def _guarded_write(
        self,
        bucket: str,
        key: str,
        owner: str,
        write: Callable[[], ObjectInfo],
        conditions: Conditions | None = None,
    ) -> ObjectInfo:
        """Run a store write of ``key`` (put, copy, completion) under the key's lock: check the
        write's conditions, keep the current version if the bucket keeps versions, record both.
        """
        with self.key_lock(bucket, key):
            record = self._require_bucket(bucket)  # read under the lock: the status is current
            if conditions is not None and conditions.present:
                check_write(conditions, self._current(record, key), key=key)
            if record.versioning is None:
                return write()
            vid = new_version_id() if record.versioning == "Enabled" else NULL_VERSION
            _, adopted, archive = self._keep_current(bucket, key, vid)
            try:
                info = write()
            except BaseException:
                if archive is not None:
                    with contextlib.suppress(LakeworksError):
                        self.store.delete_archived(bucket, archive)
                raise
            self._record_version(bucket, key, owner, vid, info, archive, adopted, marker=False)
            return info.model_copy(update={"version_id": vid})

    def _keep_current(
        self, bucket: str, key: str, vid: str
    ) -> tuple[list[VersionRecord], ObjectInfo | None, str | None]:
        """Archive the key's current object before a new version or marker ``vid`` replaces it.

        Returns:
            The key's records, the current object if it has no record yet (to be adopted as
            the ``null`` version), and the archive name (``None`` if nothing was archived).
        """
        rows = self._rows(bucket, key)
        latest = next((row for row in rows if row.is_latest), None)
        adopted: ObjectInfo | None = None
        if not rows:
            with contextlib.suppress(NotFound):
                adopted = self.store.head(bucket, key)
        keep = (
            latest is not None
            and not latest.delete_marker
            and latest.archive is None
            and latest.version_id != vid
        ) or (adopted is not None and vid != NULL_VERSION)
        archive: str | None = None
        if keep:
            archive = new_archive_name()
            if not self.store.archive(bucket, key, archive):
                archive = None  # the record's object is gone (removed behind our back)
        return rows, adopted, archive

    def _record_version(
        self,
        bucket: str,
        key: str,
        owner: str,
        vid: str,
        info: ObjectInfo,
        archive: str | None,
        adopted: ObjectInfo | None,
        *,
        marker: bool,
    ) -> None:
        """Record a new latest version (or marker) ``vid``; the old latest becomes noncurrent
        (kept as ``archive``) and a ``null`` version that ``vid`` replaces goes."""
        now = info.last_modified
        stale: list[str] = []
        with self.db.session() as session:
            rows = store.versions_of(session, bucket, key)
            for row in rows:
                if row.version_id == vid:  # the null version being replaced
                    if row.archive is not None:
                        stale.append(row.archive)
                    session.delete(row)
                elif row.is_latest:
                    row.is_latest = False
                    row.noncurrent_since = now
                    if not row.delete_marker and row.archive is None:
                        if archive is None:
                            session.delete(row)  # its bytes are gone: nothing to keep
                        else:
                            row.archive = archive
            if not rows and adopted is not None and archive is not None:
                session.add(
                    self._row(bucket, key, NULL_VERSION, adopted, owner, latest=False,
                              archive=archive, noncurrent_since=now)
                )  # fmt: skip
            session.flush()  # the deletes first: a replaced null version frees its id
            session.add(self._row(bucket, key, vid, info, owner, marker=marker))
        for name in stale:
            with contextlib.suppress(LakeworksError):
                self.store.delete_archived(bucket, name)

    # -- deletes -------------------------------------------------------------------------------

    def _remove(
        self,
        record: BucketRecord,
        key: str,
        owner: str,
        version_id: str | None,
        conditions: Conditions | None = None,
    ) -> DeleteResult:
        """Delete ``key`` (adding a delete marker if the bucket keeps versions) or one version.

        Raises:
            ValidationError: A malformed version id, or one for a bucket without versioning.
        """
        bucket = record.name
        if version_id is not None:
            check_version_id(version_id)
        with self.key_lock(bucket, key):
            record = self._require_bucket(bucket)
            if conditions is not None and conditions.present:
                check_write(conditions, self._current(record, key), key=key)
            if record.versioning is None:
                if version_id not in (None, NULL_VERSION):
                    raise ValidationError(
                        f"Invalid version id specified: bucket {bucket!r} has no versions",
                        aws_code="InvalidArgument",
                    )
                self.store.delete(bucket, key)
                return DeleteResult(bucket=bucket, key=key)
            if version_id is not None:
                return self._remove_version(bucket, key, version_id)
            vid = new_version_id() if record.versioning == "Enabled" else NULL_VERSION
            _, adopted, archive = self._keep_current(bucket, key, vid)
            self.store.delete(bucket, key)
            marker = ObjectInfo(bucket=bucket, key=key, size=0, etag="", last_modified=utcnow())
            self._record_version(bucket, key, owner, vid, marker, archive, adopted, marker=True)
            return DeleteResult(bucket=bucket, key=key, version_id=vid, delete_marker=True)

    def _remove_version(self, bucket: str, key: str, vid: str) -> DeleteResult:
        rows = self._rows(bucket, key)
        row = next((r for r in rows if r.version_id == vid), None)
        if row is None:
            if not rows and vid == NULL_VERSION:
                self.store.delete(bucket, key)  # an object with no record is the null version
            return DeleteResult(bucket=bucket, key=key, version_id=vid)
        successor = next((r for r in rows if r.seq < row.seq), None)
        if row.is_latest:
            if successor is not None and not successor.delete_marker and successor.archive:
                self.store.restore(bucket, key, successor.archive)  # replaces the current
            elif not row.delete_marker:
                self.store.delete(bucket, key)
        elif row.archive is not None:
            self.store.delete_archived(bucket, row.archive)
        with self.db.session() as session:
            gone = session.get(VersionRecord, row.seq)
            if gone is not None:
                session.delete(gone)
            if row.is_latest and successor is not None:
                promoted = session.get(VersionRecord, successor.seq)
                if promoted is not None:
                    promoted.is_latest = True
                    promoted.noncurrent_since = None
                    promoted.archive = None
        return DeleteResult(bucket=bucket, key=key, version_id=vid, delete_marker=row.delete_marker)

    # -- reads ---------------------------------------------------------------------------------

    def _labelled(self, bucket: str, key: str, info: ObjectInfo) -> ObjectInfo:
        """The natural object's info with its version id, recorded time and ETag.

        It is the newest recorded version with its ETag (a writer may be between its store
        write and its record), else the latest version (a store that re-tags what it copies
        back from its version area); an object without records is the ``null`` version.
        """
        rows = self._rows(bucket, key)
        match = next((r for r in rows if not r.delete_marker and r.etag == info.etag), None)
        if match is None:
            match = next((r for r in rows if r.is_latest and not r.delete_marker), None)
        if match is None:
            return info.model_copy(update={"version_id": NULL_VERSION})
        return info.model_copy(update=self._recorded(match))

    @staticmethod
    def _recorded(row: VersionRecord) -> dict[str, Any]:
        """What a version's record says of it (a version's ETag and time never change, even
        when a store's copy into or out of its version area re-tags the bytes)."""
        return {"version_id": row.version_id, "last_modified": row.last_modified, "etag": row.etag}

    def _missing(self, bucket: str, key: str) -> NotFound:
        """``NoSuchKey``, saying whether the key's latest version is a delete marker."""
        rows = self._rows(bucket, key)
        latest = next((r for r in rows if r.is_latest), None)
        return _no_key(bucket, key, latest if latest is not None and latest.delete_marker else None)

    def _version(self, bucket: str, key: str, version_id: str) -> VersionRecord | None:
        """The record of ``version_id``; ``None`` for the ``null`` version of an unrecorded
        object. Raises ``NoSuchVersion`` or, for a delete marker, ``MethodNotAllowed``."""
        rows = self._rows(bucket, key)
        row = next((r for r in rows if r.version_id == version_id), None)
        if row is None:
            if not rows and version_id == NULL_VERSION:
                return None
            raise _no_version(bucket, key, version_id)
        if row.delete_marker:
            raise DeleteMarkerVersion(
                f"Version {version_id!r} of {key!r} is a delete marker; it has no content",
                details={
                    "delete_marker": True,
                    "version_id": version_id,
                    "last_modified": row.last_modified.isoformat(),
                },
            )
        return row

    def _open(
        self,
        record: BucketRecord,
        key: str,
        version_id: str | None,
        byte_range: ByteRange | None,
    ) -> Opened:
        """Open the current object or a version of it, labelled with its version id."""
        bucket = record.name
        if version_id is not None:
            check_version_id(version_id)
        if record.versioning is None:
            if version_id not in (None, NULL_VERSION):
                raise ValidationError(
                    f"Invalid version id specified: bucket {bucket!r} has no versions",
                    aws_code="InvalidArgument",
                )
            return self.store.get(bucket, key, byte_range=byte_range)
        if version_id is None:
            try:
                info, first, last, chunks = self.store.get(bucket, key, byte_range=byte_range)
            except NotFound as exc:
                if exc.aws_code == "NoSuchKey":
                    raise self._missing(bucket, key) from None
                raise
            return self._labelled(bucket, key, info), first, last, chunks
        row = self._version(bucket, key, version_id)
        if row is None or row.archive is None:
            # the current version: open it under the key's lock so no write moves it meanwhile
            # (the open file, or the ETag-pinned GET, then serves exactly those bytes)
            with self.key_lock(bucket, key):
                row = self._version(bucket, key, version_id)
                if row is None or row.archive is None:
                    info, first, last, chunks = self.store.get(bucket, key, byte_range=byte_range)
                    update = self._recorded(row) if row is not None else {"version_id": version_id}
                    return info.model_copy(update=update), first, last, chunks
        info, first, last, chunks = self.store.get_archived(
            bucket, key, row.archive, byte_range=byte_range
        )
        return info.model_copy(update=self._recorded(row)), first, last, chunks

    def _describe(self, record: BucketRecord, key: str, version_id: str | None) -> ObjectInfo:
        """The metadata of the current object or of a version of it."""
        bucket = record.name
        if record.versioning is None or version_id is None:
            if version_id is not None:
                self._open(record, key, version_id, None)  # refuses the id, never opens
            try:
                info = self.store.head(bucket, key)
            except NotFound as exc:
                if record.versioning is not None and exc.aws_code == "NoSuchKey":
                    raise self._missing(bucket, key) from None
                raise
            return info if record.versioning is None else self._labelled(bucket, key, info)
        check_version_id(version_id)
        row = self._version(bucket, key, version_id)
        if row is None or row.archive is None:
            with self.key_lock(bucket, key):  # as in _open: nothing moves it meanwhile
                row = self._version(bucket, key, version_id)
                if row is None or row.archive is None:
                    info = self.store.head(bucket, key)
                    update = self._recorded(row) if row is not None else {"version_id": version_id}
                    return info.model_copy(update=update)
        info = self.store.head_archived(bucket, key, row.archive)
        return info.model_copy(update=self._recorded(row))
