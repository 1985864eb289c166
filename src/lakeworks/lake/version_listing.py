"""Listing object versions (part of the lake service): S3's ListObjectVersions.

Versions come from the version records in key order (UTF-8 bytes) and, within a key, newest
first, read in batches; a bucket that never had versioning lists its objects as ``null``
versions from the store. :func:`lakeworks.lake.versioning.page_of_versions` cuts the page.
"""

from __future__ import annotations

from collections.abc import Iterator

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import ValidationError
from lakeworks.lake import store
from lakeworks.lake.listing import ListQuery
from lakeworks.lake.store import BucketRecord
from lakeworks.lake.versioned import VersionOps
from lakeworks.lake.versioning import NULL_VERSION, page_of_versions
from lakeworks.schemas.lake import ObjectVersion, VersionListing

__all__ = ["VersionListOps"]

#: Sorts after every character a key can hold: ``<prefix>\U0010ffff`` is past all keys under it.
_PAST_PREFIX = "\U0010ffff"
_BATCH = 500


class VersionListOps(VersionOps):
    """ListObjectVersions."""

    def list_object_versions(
        self,
        ctx: RequestContext,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str | None = None,
        key_marker: str | None = None,
        version_id_marker: str | None = None,
        max_keys: int = 1000,
    ) -> VersionListing:
        """One page of versions and delete markers, by key and then newest first (S3's
        ListObjectVersions). A bucket that never had versioning lists its objects as ``null``
        versions.

        Raises:
            NotFound: ``NoSuchBucket``.
            ValidationError: ``max_keys`` outside 1-1000, or a version id marker without a key
                marker (``InvalidArgument``).
        """
        context = {"s3:prefix": prefix, "s3:max-keys": str(max_keys)}
        if delimiter:
            context["s3:delimiter"] = delimiter
        record = self._bucket_for(ctx, bucket, "s3:ListBucketVersions", "read", context=context)
        if isinstance(max_keys, bool) or not isinstance(max_keys, int) or not 1 <= max_keys <= 1000:
            raise ValidationError(
                f"max_keys must be an integer from 1 to 1000, got {max_keys!r}",
                aws_code="InvalidArgument",
            )
        if version_id_marker and not key_marker:
            raise ValidationError(
                "A version-id marker cannot be specified without a key marker",
                aws_code="InvalidArgument",
            )
        query = ListQuery(prefix, delimiter or None)
        marker = key_marker or ""
        rest = marker[len(prefix) :] if marker.startswith(prefix) else ""
        if delimiter and marker and rest.endswith(delimiter) and delimiter in rest:
            marker, version_id_marker = marker + _PAST_PREFIX, None  # resume after the prefix
        if record.versioning is None:
            entries = self._unversioned_entries(record, query, marker or None)
        else:
            entries = self._versioned_entries(bucket, query, marker or None, version_id_marker)
        return page_of_versions(bucket, prefix, delimiter or None, max_keys, entries)

    def _unversioned_entries(
        self, record: BucketRecord, query: ListQuery, after: str | None
    ) -> Iterator[ObjectVersion | str]:
        token: str | None = None
        while True:
            page = self.store.list(
                record.name,
                prefix=query.prefix,
                delimiter=query.delimiter,
                start_after=after,
                continuation_token=token,
                exact=record.sealed,
            )
            merged: list[ObjectVersion | str] = [
                ObjectVersion(
                    key=item.key,
                    version_id=NULL_VERSION,
                    is_latest=True,
                    size=item.size,
                    etag=item.etag,
                    last_modified=item.last_modified,
                    owner=record.owner,
                )
                for item in page.items
            ]
            merged.extend(page.common_prefixes)
            merged.sort(key=lambda e: e if isinstance(e, str) else e.key)
            yield from merged
            token = page.next_token
            if token is None:
                return

    def _versioned_entries(
        self, bucket: str, query: ListQuery, key_marker: str | None, version_marker: str | None
    ) -> Iterator[ObjectVersion | str]:
        after: tuple[str, int | None] | None = None
        if key_marker is not None:
            seq = None
            if version_marker:
                with self.db.session() as session:
                    found = store.get_version(session, bucket, key_marker, version_marker)
                seq = found.seq if found is not None else None
            after = (key_marker, seq)
        while True:
            with self.db.session() as session:
                rows = store.page_versions(
                    session, bucket, prefix=query.prefix, after=after, limit=_BATCH
                )
            if not rows:
                return
            for row in rows:
                if not row.key.startswith(query.prefix):
                    return
                rolled = query.rollup(row.key)
                if rolled is not None:
                    yield rolled
                    after = (rolled + _PAST_PREFIX, None)
                    break
                yield ObjectVersion(
                    key=row.key,
                    version_id=row.version_id,
                    is_latest=row.is_latest,
                    delete_marker=row.delete_marker,
                    size=row.size,
                    etag=None if row.delete_marker else row.etag,
                    last_modified=row.last_modified,
                    owner=row.owner,
                )
                after = (row.key, row.seq)
