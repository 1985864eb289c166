"""Buckets, objects and multipart uploads: the operations every adapter calls.

The native REST API, the AWS S3 front door, the job supervisor and the catalog all go through
:class:`LakeService`. It checks access (scopes and bucket policies, :mod:`lakeworks.lake.access`)
and input, keeps bucket, upload and version records in the database (the source of truth for
which buckets exist and how they are configured) and leaves bytes to the object store
(:mod:`lakeworks.lake.objects`), which seals them when a bucket or request asks for encryption.

The service is assembled from parts: objects and buckets here, versions in
:mod:`~lakeworks.lake.versioned` and :mod:`~lakeworks.lake.version_listing`, multipart uploads in
:mod:`~lakeworks.lake.uploads`, bucket
configuration (tags, encryption, policy, lifecycle) in :mod:`~lakeworks.lake.bucket_config` and
the lifecycle sweeper in :mod:`~lakeworks.lake.sweeper`.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.exc import IntegrityError

from lakeworks.core.clock import utcnow
from lakeworks.core.context import RequestContext
from lakeworks.core.errors import (
    AlreadyExists,
    LakeworksError,
    NotFound,
    ResourceInUse,
    ValidationError,
)
from lakeworks.core.names import validate_bucket_name
from lakeworks.core.settings import Settings
from lakeworks.db import Database
from lakeworks.lake import store
from lakeworks.lake.base import (
    MAX_METADATA_BYTES,
    bucket_info,
    check_content_type,
    check_key,
    check_metadata,
    close_chunks,
    no_bucket,
    parse_s3_uri,
)
from lakeworks.lake.bucket_config import BucketConfigOps
from lakeworks.lake.conditions import Conditions, check_copy_source, check_read
from lakeworks.lake.events import ObjectEvent
from lakeworks.lake.keyring import check_sse
from lakeworks.lake.objects import ByteRange, ObjectStore, decode_content_md5
from lakeworks.lake.store import BucketRecord
from lakeworks.lake.sweeper import LIFECYCLE_INTERVAL_SECONDS, LifecycleOps
from lakeworks.lake.tagging import validate_bucket_tags, validate_object_tags
from lakeworks.lake.uploads import MultipartOps
from lakeworks.lake.version_listing import VersionListOps
from lakeworks.schemas.lake import BucketInfo, DeleteResult, ObjectInfo, ObjectListing

__all__ = ["MAX_METADATA_BYTES", "LakeService", "parse_s3_uri"]


def _put_context(
    sse: str | None, kms_key_id: str | None, tags: dict[str, str] | None
) -> dict[str, str | list[str]]:
    """Condition keys of a write request, for bucket policies."""
    context: dict[str, str | list[str]] = {}
    if sse:
        context["s3:x-amz-server-side-encryption"] = sse
    if kms_key_id:
        context["s3:x-amz-server-side-encryption-aws-kms-key-id"] = kms_key_id
    if tags is not None:
        context["s3:requestobjecttagkeys"] = sorted(tags)
        for name, value in tags.items():
            context[f"s3:requestobjecttag/{name}"] = value
    return context


class LakeService(LifecycleOps, BucketConfigOps, MultipartOps, VersionListOps):
    """Buckets, objects, versions, multipart uploads and bucket configuration.

    Args:
        settings: The settings tree (store location, object size limit).
        db: The metadata database.
        object_store: The store for bytes; built from ``settings`` when omitted.
        lifecycle_interval: Seconds between lifecycle passes once :meth:`start` ran.
    """

    def __init__(
        self,
        settings: Settings,
        db: Database,
        object_store: ObjectStore | None = None,
        *,
        lifecycle_interval: float = LIFECYCLE_INTERVAL_SECONDS,
    ) -> None:
        super().__init__(settings, db, object_store)
        self._init_sweeper(lifecycle_interval)
        #: Called with each object event and the acting principal, inside the request, after
        #: the write (bucket notifications queue their deliveries here).
        self.listeners: list[Callable[[ObjectEvent, str], None]] = []

    def emit(self, name: str, info: ObjectInfo | DeleteResult, principal: str) -> None:
        """Tell the listeners that ``info``'s object was created or removed (event ``name``)."""
        now = utcnow()
        event = ObjectEvent(
            name=name,
            bucket=info.bucket,
            key=info.key,
            size=info.size if isinstance(info, ObjectInfo) else 0,
            etag=info.etag if isinstance(info, ObjectInfo) else "",
            version_id=info.version_id,
            time=now,
            sequencer=f"{time.time_ns():016X}",
        )
        for listener in self.listeners:
            listener(event, principal)

    def _emit_created(self, info: ObjectInfo, principal: str) -> None:
        self.emit("ObjectCreated:CompleteMultipartUpload", info, principal)

    def start(self) -> None:
        """Start background work: the lifecycle sweeper."""
        self.start_sweeper()

    def close(self) -> None:
        """Stop the sweeper and release the object store's resources (S3 connections)."""
        self.stop_sweeper()
        self.store.close()

    # -- buckets ---------------------------------------------------------------------------

    def create_bucket(
        self, ctx: RequestContext, name: str, *, tags: dict[str, str] | None = None
    ) -> BucketInfo:
        """Create a bucket owned by the caller.

        Raises:
            ValidationError: Invalid name (``InvalidBucketName``) or tags (``InvalidTag``).
            AlreadyExists: ``BucketAlreadyOwnedByYou``, or ``BucketAlreadyExists`` when another
                principal owns it.
        """
        ctx.require("write")
        validate_bucket_name(name)
        checked_tags = validate_bucket_tags(dict(tags or {}))
        try:
            with self.db.session() as session:
                existing = store.get_bucket(session, name)
                if existing is not None:
                    raise self._exists(name, existing.owner, ctx)
                record = BucketRecord(
                    name=name, owner=ctx.principal, created_at=utcnow(), tags=checked_tags
                )
                session.add(record)
                session.flush()
                self.store.create_bucket(name)
        except IntegrityError:  # created concurrently
            with self.db.session() as session:
                existing = store.get_bucket(session, name)
            raise self._exists(name, existing.owner if existing else "", ctx) from None
        return bucket_info(record)

    @staticmethod
    def _exists(name: str, owner: str, ctx: RequestContext) -> AlreadyExists:
        mine = owner == ctx.principal
        return AlreadyExists(
            f"Bucket {name!r} already exists" + (" and is yours" if mine else ""),
            aws_code="BucketAlreadyOwnedByYou" if mine else "BucketAlreadyExists",
            details={"bucket": name},
        )

    def describe_bucket(self, ctx: RequestContext, name: str) -> BucketInfo:
        """Describe a bucket (S3's HeadBucket: the ``s3:ListBucket`` action).

        Raises:
            NotFound: ``NoSuchBucket``.
        """
        return bucket_info(self._bucket_for(ctx, name, "s3:ListBucket", "read"))

    def list_buckets(self, ctx: RequestContext) -> list[BucketInfo]:
        """Every bucket, by name."""
        ctx.require("read")
        with self.db.session() as session:
            return [bucket_info(record) for record in store.list_buckets(session)]

    def delete_bucket(self, ctx: RequestContext, name: str) -> None:
        """Delete an empty bucket: no objects, versions, delete markers or uploads.

        Raises:
            NotFound: ``NoSuchBucket``.
            ResourceInUse: Anything remains (``BucketNotEmpty``).
        """
        self._bucket_for(ctx, name, "s3:DeleteBucket", "write")
        with self.db.session() as session:
            record = store.get_bucket(session, name)
            if record is None:
                raise no_bucket(name)
            uploads = store.count_uploads(session, name)
            if uploads:
                raise ResourceInUse(
                    f"Bucket {name!r} has {uploads} multipart upload(s) in progress; "
                    "complete or abort them first",
                    aws_code="BucketNotEmpty",
                )
            versions = store.count_versions(session, name)
            if versions:
                raise ResourceInUse(
                    f"Bucket {name!r} still holds {versions} object version(s) or delete "
                    "marker(s); delete every version first (list them with ListObjectVersions)",
                    aws_code="BucketNotEmpty",
                )
            self.store.delete_bucket(name)
            session.delete(record)
        self.keyring.forget_bucket(name)

    # -- objects ---------------------------------------------------------------------------

    def check_writable(
        self,
        ctx: RequestContext,
        bucket: str,
        key: str,
        *,
        sse: str | None = None,
        kms_key_id: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> None:
        """Raise now what :meth:`put_object` would raise before reading a body.

        Adapters call this before they spool a request body, so a bad key, a missing bucket or
        a refused caller is turned away without reading gigabytes first.
        """
        check_sse(sse, kms_key_id)
        context = _put_context(sse, kms_key_id, tags)
        self._bucket_for(ctx, bucket, "s3:PutObject", "write", key=key, context=context)
        check_key(key)

    def put_object(
        self,
        ctx: RequestContext,
        bucket: str,
        key: str,
        body: BinaryIO,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
        content_md5: str | None = None,
        tags: dict[str, str] | None = None,
        sse: str | None = None,
        kms_key_id: str | None = None,
        conditions: Conditions | None = None,
    ) -> ObjectInfo:
        """Store an object; ``body`` is read in chunks until EOF.

        Args:
            tags: The object's tags (at most 10).
            sse: ``AES256`` or ``aws:kms`` to encrypt at rest (the bucket's default encryption
                applies when omitted); ``kms_key_id`` names the ``aws:kms`` key.
            conditions: ``If-None-Match: *`` / ``If-Match`` (checked atomically with the write).

        Returns:
            The object's info; ``version_id`` is set in buckets with versioning.

        Raises:
            NotFound: ``NoSuchBucket``; ``NoSuchKey`` for ``If-Match`` on a missing key.
            ValidationError: Bad key, content type, metadata, tags (``InvalidTag``) or
                encryption; ``InvalidDigest`` or ``BadDigest`` for the ``content_md5``.
            PreconditionFailed: A condition does not hold (412).
            PayloadTooLarge: Over ``server.max_object_bytes`` (``EntityTooLarge``).
        """
        requested = check_sse(sse, kms_key_id)
        checked_tags = validate_object_tags(tags) if tags is not None else None
        context = _put_context(sse, kms_key_id, checked_tags)
        record = self._bucket_for(ctx, bucket, "s3:PutObject", "write", key=key, context=context)
        check_key(key)
        checked_type = check_content_type(content_type)
        checked_metadata = check_metadata(metadata)
        if content_md5 is not None:
            decode_content_md5(content_md5)
        sealing = self._sealing(record, requested)

        def write() -> ObjectInfo:
            return self.store.put(
                bucket,
                key,
                body,
                content_type=checked_type,
                metadata=checked_metadata,
                max_bytes=self.max_object_bytes,
                content_md5=content_md5,
                sse=sealing,
                tags=checked_tags,
            )

        info = self._guarded_write(bucket, key, ctx.principal, write, conditions)
        self.emit("ObjectCreated:Put", info, ctx.principal)
        return info

    def get_object(
        self,
        ctx: RequestContext,
        bucket: str,
        key: str,
        *,
        byte_range: ByteRange | None = None,
        version_id: str | None = None,
        conditions: Conditions | None = None,
    ) -> tuple[ObjectInfo, int, int, Iterator[bytes]]:
        """Open an object (or one of its versions), or a byte range of it.

        Args:
            byte_range: ``(first, last)`` inclusive, ``(first, None)`` to the end, or
                ``(None, n)`` for the last ``n`` bytes.
            version_id: A version to read instead of the current object.
            conditions: ``If-Match``, ``If-None-Match``, ``If-(Un)Modified-Since``.

        Returns:
            ``(info, first, last, chunks)`` with the inclusive offsets served.

        Raises:
            NotFound: ``NoSuchBucket``, ``NoSuchKey`` (``details["delete_marker"]`` when the
                latest version is a delete marker) or ``NoSuchVersion``.
            DeleteMarkerVersion: ``version_id`` names a delete marker (405).
            RangeNotSatisfiable: The range starts past the end (``InvalidRange``).
            PreconditionFailed, NotModified: A condition decided (412, 304).
        """
        record = self._reader(ctx, bucket, key, version_id)
        info, first, last, chunks = self._open(record, key, version_id, byte_range)
        if conditions is not None and conditions.present:
            try:
                check_read(conditions, info)
            except LakeworksError:
                close_chunks(chunks)
                raise
        return info, first, last, chunks

    def _reader(
        self, ctx: RequestContext, bucket: str, key: str, version_id: str | None
    ) -> BucketRecord:
        action = "s3:GetObjectVersion" if version_id is not None else "s3:GetObject"
        context = {"s3:versionid": version_id} if version_id is not None else None
        record = self._bucket_for(ctx, bucket, action, "read", key=key, context=context)
        check_key(key)
        return record

    def head_object(
        self,
        ctx: RequestContext,
        bucket: str,
        key: str,
        *,
        version_id: str | None = None,
        conditions: Conditions | None = None,
    ) -> ObjectInfo:
        """An object's (or a version's) metadata; raises like :meth:`get_object`."""
        record = self._reader(ctx, bucket, key, version_id)
        info = self._describe(record, key, version_id)
        if conditions is not None and conditions.present:
            check_read(conditions, info)
        return info

    def delete_object(
        self,
        ctx: RequestContext,
        bucket: str,
        key: str,
        *,
        version_id: str | None = None,
        conditions: Conditions | None = None,
    ) -> DeleteResult:
        """Delete an object (a delete marker where versioning is on), or one version for good.

        Deleting a missing key or version is not an error.

        Raises:
            NotFound: ``NoSuchBucket``.
            ValidationError: A malformed version id (``InvalidArgument``).
            PreconditionFailed: ``If-Match`` does not hold.
        """
        action = "s3:DeleteObjectVersion" if version_id is not None else "s3:DeleteObject"
        context = {"s3:versionid": version_id} if version_id is not None else None
        record = self._bucket_for(ctx, bucket, action, "write", key=key, context=context)
        check_key(key)
        result = self._remove(record, key, ctx.principal, version_id, conditions)
        marker = "ObjectRemoved:DeleteMarkerCreated" if result.delete_marker else None
        self.emit(marker or "ObjectRemoved:Delete", result, ctx.principal)
        return result

    def copy_object(
        self,
        ctx: RequestContext,
        src_bucket: str,
        src_key: str,
        dst_bucket: str,
        dst_key: str,
        *,
        replace_metadata: bool = False,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
        src_version_id: str | None = None,
        tags: dict[str, str] | None = None,
        sse: str | None = None,
        kms_key_id: str | None = None,
        source_conditions: Conditions | None = None,
        conditions: Conditions | None = None,
    ) -> ObjectInfo:
        """Copy an object (or a version of it), keeping its content type and metadata unless
        ``replace_metadata``, and its tags unless ``tags`` is given.

        Raises:
            NotFound: ``NoSuchBucket``, ``NoSuchKey`` or ``NoSuchVersion``.
            ValidationError: Copying an object onto itself without changing anything
                (``InvalidRequest``), or bad keys, content type, metadata or tags.
            PreconditionFailed: A ``source_conditions`` (``x-amz-copy-source-if-*``) or
                ``conditions`` check fails.
        """
        requested = check_sse(sse, kms_key_id)
        checked_tags = validate_object_tags(tags) if tags is not None else None
        source = self._reader(ctx, src_bucket, src_key, src_version_id)
        context = _put_context(sse, kms_key_id, checked_tags)
        target = self._bucket_for(
            ctx, dst_bucket, "s3:PutObject", "write", key=dst_key, context=context
        )
        check_key(dst_key)
        unchanged = not replace_metadata and src_version_id is None and requested is None
        if (src_bucket, src_key) == (dst_bucket, dst_key) and unchanged:
            raise ValidationError(
                "This copy request is illegal because it copies an object onto itself without "
                "changing its metadata, encryption or version; set replace_metadata",
                aws_code="InvalidRequest",
            )
        new_type = check_content_type(content_type) if replace_metadata else None
        new_metadata = check_metadata(metadata) if replace_metadata else None
        archive = None
        if source.versioning is not None and src_version_id is not None:
            row = self._version(src_bucket, src_key, src_version_id)
            archive = row.archive if row is not None else None
        if source_conditions is not None and source_conditions.present:
            check_copy_source(source_conditions, self._describe(source, src_key, src_version_id))
        sealing = self._sealing(target, requested)

        def write() -> ObjectInfo:
            return self.store.copy(
                src_bucket,
                src_key,
                dst_bucket,
                dst_key,
                content_type=new_type,
                metadata=new_metadata,
                max_bytes=self.max_object_bytes,
                sse=sealing,
                tags=checked_tags,
                src_archive=archive,
            )

        info = self._guarded_write(dst_bucket, dst_key, ctx.principal, write, conditions)
        self.emit("ObjectCreated:Copy", info, ctx.principal)
        return info

    def list_objects(
        self,
        ctx: RequestContext,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str | None = None,
        start_after: str | None = None,
        continuation_token: str | None = None,
        max_keys: int = 1000,
    ) -> ObjectListing:
        """One page of a bucket's current keys in UTF-8 byte order (ListObjectsV2's rules).

        Raises:
            NotFound: ``NoSuchBucket``.
            ValidationError: ``max_keys`` outside 1-1000, or a malformed token.
        """
        context = {"s3:prefix": prefix or "", "s3:max-keys": str(max_keys)}
        if delimiter:
            context["s3:delimiter"] = delimiter
        record = self._bucket_for(ctx, bucket, "s3:ListBucket", "read", context=context)
        if isinstance(max_keys, bool) or not isinstance(max_keys, int) or not 1 <= max_keys <= 1000:
            raise ValidationError(
                f"max_keys must be an integer from 1 to 1000, got {max_keys!r}",
                aws_code="InvalidArgument",
                details={"field": "max_keys", "min": 1, "max": 1000},
            )
        return self.store.list(
            bucket,
            prefix=prefix or "",
            delimiter=delimiter or None,
            start_after=start_after or None,
            continuation_token=continuation_token or None,
            max_keys=max_keys,
            exact=record.sealed,
        )

    # -- files, for the job supervisor -----------------------------------------------------

    def download(self, ctx: RequestContext, s3_uri: str, dest: Path) -> int:
        """Copy an object to the file ``dest``, or every object under a prefix into ``dest/``.

        ``s3://b/k`` is the object ``k`` if it exists, else the prefix ``k/``; a URI ending in
        ``/`` (or naming only the bucket) is always a prefix. Files under ``dest`` are named by
        their keys relative to the prefix; folder markers (keys ending in ``/``) are skipped.

        Returns:
            How many files were written.

        Raises:
            NotFound: ``NoSuchBucket``, or ``NoSuchKey`` when nothing is there.
            ValidationError: Two keys would need the same path (``a`` and ``a/b``).
        """
        ctx.require("read")
        bucket, key = parse_s3_uri(s3_uri)
        if key and not key.endswith("/"):
            try:
                _, _, _, chunks = self.get_object(ctx, bucket, key)
            except NotFound as exc:
                if exc.aws_code != "NoSuchKey":
                    raise
            else:
                _write_file(dest, chunks)
                return 1
            key += "/"
        root = dest.resolve()
        count = 0
        token: str | None = None
        while True:
            page = self.list_objects(ctx, bucket, prefix=key, continuation_token=token)
            for item in page.items:
                relative = item.key[len(key) :]
                if not relative or relative.endswith("/"):
                    continue
                target = root.joinpath(*[part for part in relative.split("/") if part])
                if not target.resolve().is_relative_to(root):
                    raise ValidationError(f"Key {item.key!r} would be written outside {dest}")
                try:
                    _, _, _, chunks = self.get_object(ctx, bucket, item.key)
                except NotFound:
                    continue  # deleted since it was listed
                _write_file(target, chunks)
                count += 1
            token = page.next_token
            if token is None:
                break
        if count == 0:
            raise NotFound(f"No objects at {s3_uri}", aws_code="NoSuchKey")
        return count

    def upload_file(
        self, ctx: RequestContext, path: Path, s3_uri: str, *, content_type: str | None = None
    ) -> ObjectInfo:
        """Store the file ``path`` at ``s3_uri`` (a URI ending in ``/`` gets the file's name).

        Raises:
            NotFound: ``NoSuchBucket``.
            ValidationError: Not an ``s3://`` URI, or a bad key.
        """
        bucket, key = parse_s3_uri(s3_uri)
        if not key or key.endswith("/"):
            key += path.name
        with path.open("rb") as body:
            return self.put_object(ctx, bucket, key, body, content_type=content_type)


def _write_file(target: Path, chunks: Iterator[bytes]) -> None:
    """Write ``chunks`` to ``target`` through a temp file in the same directory."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=".download-")
    except (FileExistsError, NotADirectoryError):
        raise ValidationError(
            f"Cannot write {target}: a file is in the way (keys 'a' and 'a/b' cannot both be "
            "downloaded as files)"
        ) from None
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
        os.replace(name, target)
    except IsADirectoryError:
        raise ValidationError(
            f"Cannot write {target}: a directory is in the way (keys 'a' and 'a/b' cannot both "
            "be downloaded as files)"
        ) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
