"""Buckets, objects and multipart uploads: the operations every adapter calls.

The native REST API, the AWS S3 front door and the job supervisor all go through
:class:`LakeService`. It checks scopes and input, keeps bucket and upload records in the database
(the source of truth for which buckets exist) and leaves bytes to the object store
(:mod:`lakeworks.lake.objects`).
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.exc import IntegrityError

from lakeworks.core.clock import utcnow
from lakeworks.core.context import RequestContext
from lakeworks.core.errors import AlreadyExists, NotFound, ResourceInUse, ValidationError
from lakeworks.core.names import validate_bucket_name, validate_key, validate_tags
from lakeworks.core.settings import Settings
from lakeworks.db import Database
from lakeworks.lake import store
from lakeworks.lake.multipart import (
    new_upload_id,
    select_parts,
    validate_part_number,
    validate_upload_id,
)
from lakeworks.lake.objects import (
    DEFAULT_CONTENT_TYPE,
    ByteRange,
    ObjectStore,
    decode_content_md5,
    open_store,
)
from lakeworks.lake.store import BucketRecord, PartRecord, UploadRecord
from lakeworks.schemas.lake import BucketInfo, ObjectInfo, ObjectListing, PartInfo, UploadInfo

__all__ = ["MAX_METADATA_BYTES", "LakeService", "parse_s3_uri"]

#: S3's limit on user metadata: names and values together, in bytes.
MAX_METADATA_BYTES = 2048
_METADATA_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
_HEADER_VALUE = re.compile(r"^[\x20-\x7e]*$")
_MAX_CONTENT_TYPE = 256


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """Split ``s3://bucket/key`` into bucket and key (the key may be empty).

    Raises:
        ValidationError: Not an ``s3://`` URI with a bucket.
    """
    if not isinstance(uri, str) or not uri.startswith("s3://"):
        raise ValidationError(f"Expected an s3://bucket/key URI, got {uri!r}")
    bucket, _, key = uri[len("s3://") :].partition("/")
    if not bucket:
        raise ValidationError(f"The URI {uri!r} names no bucket; use s3://bucket/key")
    return bucket, key


def _check_key(key: str) -> str:
    validate_key(key)
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(
            "Object key must be valid UTF-8 text", aws_code="InvalidArgument"
        ) from None
    return key


def _check_content_type(content_type: str | None) -> str:
    if content_type is None or content_type == "":
        return DEFAULT_CONTENT_TYPE
    if len(content_type) > _MAX_CONTENT_TYPE or not _HEADER_VALUE.match(content_type):
        raise ValidationError(
            f"Content type must be at most {_MAX_CONTENT_TYPE} printable ASCII characters",
            aws_code="InvalidArgument",
            details={"field": "content_type"},
        )
    return content_type


def _check_metadata(metadata: dict[str, str] | None) -> dict[str, str]:
    """Normalise user metadata like S3: names lower-cased; ASCII values; 2 KiB in all."""
    checked: dict[str, str] = {}
    for name, value in (metadata or {}).items():
        if not isinstance(name, str) or not _METADATA_NAME.match(name):
            raise ValidationError(
                f"Invalid metadata name {name!r}: use letters, digits and !#$%&'*+.^_`|~-",
                aws_code="InvalidArgument",
                details={"field": "metadata"},
            )
        if not isinstance(value, str) or not _HEADER_VALUE.match(value):
            raise ValidationError(
                f"Invalid value for metadata {name!r}: use printable ASCII characters",
                aws_code="InvalidArgument",
                details={"field": "metadata"},
            )
        checked[name.lower()] = value
    size = sum(len(name) + len(value) for name, value in checked.items())
    if size > MAX_METADATA_BYTES:
        raise ValidationError(
            f"User metadata is {size} bytes; at most {MAX_METADATA_BYTES} are allowed",
            aws_code="MetadataTooLarge",
            details={"field": "metadata", "limit": MAX_METADATA_BYTES},
        )
    return checked


def _bucket_info(record: BucketRecord) -> BucketInfo:
    return BucketInfo(
        name=record.name,
        arn=f"arn:aws:s3:::{record.name}",
        creation_time=record.created_at,
        owner=record.owner,
        tags=dict(record.tags),
    )


def _upload_info(record: UploadRecord) -> UploadInfo:
    return UploadInfo(
        bucket=record.bucket, key=record.key, upload_id=record.upload_id, initiated=record.initiated
    )


def _part_info(record: PartRecord) -> PartInfo:
    return PartInfo(
        part_number=record.part_number,
        etag=record.etag,
        size=record.size,
        last_modified=record.last_modified,
    )


def _no_bucket(name: str) -> NotFound:
    return NotFound(f"No bucket named {name!r}", aws_code="NoSuchBucket", details={"bucket": name})


def _no_upload(upload_id: str) -> NotFound:
    return NotFound(
        f"No multipart upload with id {upload_id!r} for this bucket and key",
        aws_code="NoSuchUpload",
        details={"upload_id": upload_id},
    )


class LakeService:
    """Buckets, objects and multipart uploads.

    Args:
        settings: The settings tree (store location, object size limit).
        db: The metadata database.
        object_store: The store for bytes; built from ``settings`` when omitted.
    """

    def __init__(
        self, settings: Settings, db: Database, object_store: ObjectStore | None = None
    ) -> None:
        self.settings = settings
        self.db = db
        self.store: ObjectStore = object_store or open_store(settings)

    def close(self) -> None:
        """Release the object store's resources (connections of an S3 client)."""
        self.store.close()

    @property
    def max_object_bytes(self) -> int:
        """Largest single PUT (and part) accepted."""
        return self.settings.server.max_object_bytes

    def _require_bucket(self, name: str) -> BucketRecord:
        with self.db.session() as session:
            record = store.get_bucket(session, name)
        if record is None:
            raise _no_bucket(name)
        return record

    # -- buckets ---------------------------------------------------------------------------

    def create_bucket(
        self, ctx: RequestContext, name: str, *, tags: dict[str, str] | None = None
    ) -> BucketInfo:
        """Create a bucket owned by the caller.

        Raises:
            ValidationError: Invalid name (``InvalidBucketName``) or tags.
            AlreadyExists: ``BucketAlreadyOwnedByYou``, or ``BucketAlreadyExists`` when another
                principal owns it.
        """
        ctx.require("write")
        validate_bucket_name(name)
        tags = validate_tags(dict(tags or {}))
        try:
            with self.db.session() as session:
                existing = store.get_bucket(session, name)
                if existing is not None:
                    raise self._exists(name, existing.owner, ctx)
                record = BucketRecord(
                    name=name, owner=ctx.principal, created_at=utcnow(), tags=tags
                )
                session.add(record)
                session.flush()
                self.store.create_bucket(name)
        except IntegrityError:  # created concurrently
            with self.db.session() as session:
                existing = store.get_bucket(session, name)
            raise self._exists(name, existing.owner if existing else "", ctx) from None
        return _bucket_info(record)

    @staticmethod
    def _exists(name: str, owner: str, ctx: RequestContext) -> AlreadyExists:
        mine = owner == ctx.principal
        return AlreadyExists(
            f"Bucket {name!r} already exists" + (" and is yours" if mine else ""),
            aws_code="BucketAlreadyOwnedByYou" if mine else "BucketAlreadyExists",
            details={"bucket": name},
        )

    def describe_bucket(self, ctx: RequestContext, name: str) -> BucketInfo:
        """Describe a bucket.

        Raises:
            NotFound: ``NoSuchBucket``.
        """
        ctx.require("read")
        return _bucket_info(self._require_bucket(name))

    def list_buckets(self, ctx: RequestContext) -> list[BucketInfo]:
        """Every bucket, by name."""
        ctx.require("read")
        with self.db.session() as session:
            return [_bucket_info(record) for record in store.list_buckets(session)]

    def delete_bucket(self, ctx: RequestContext, name: str) -> None:
        """Delete an empty bucket.

        Raises:
            NotFound: ``NoSuchBucket``.
            ResourceInUse: Objects or multipart uploads remain (``BucketNotEmpty``).
        """
        ctx.require("write")
        with self.db.session() as session:
            record = store.get_bucket(session, name)
            if record is None:
                raise _no_bucket(name)
            uploads = store.count_uploads(session, name)
            if uploads:
                raise ResourceInUse(
                    f"Bucket {name!r} has {uploads} multipart upload(s) in progress; "
                    "complete or abort them first",
                    aws_code="BucketNotEmpty",
                )
            self.store.delete_bucket(name)
            session.delete(record)

    # -- objects ---------------------------------------------------------------------------

    def check_writable(self, ctx: RequestContext, bucket: str, key: str) -> None:
        """Raise now what :meth:`put_object` would raise before reading a body.

        Adapters call this before they spool a request body, so a bad key or a missing bucket
        is refused without reading gigabytes first.
        """
        ctx.require("write")
        _check_key(key)
        self._require_bucket(bucket)

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
    ) -> ObjectInfo:
        """Store an object; ``body`` is read in chunks until EOF.

        Raises:
            NotFound: ``NoSuchBucket``.
            ValidationError: Bad key, content type or metadata; ``InvalidDigest`` or
                ``BadDigest`` for a malformed or mismatched ``content_md5``.
            PayloadTooLarge: Over ``server.max_object_bytes`` (``EntityTooLarge``).
        """
        ctx.require("write")
        _check_key(key)
        checked_type = _check_content_type(content_type)
        checked_metadata = _check_metadata(metadata)
        if content_md5 is not None:
            decode_content_md5(content_md5)
        self._require_bucket(bucket)
        return self.store.put(
            bucket,
            key,
            body,
            content_type=checked_type,
            metadata=checked_metadata,
            max_bytes=self.max_object_bytes,
            content_md5=content_md5,
        )

    def get_object(
        self, ctx: RequestContext, bucket: str, key: str, *, byte_range: ByteRange | None = None
    ) -> tuple[ObjectInfo, int, int, Iterator[bytes]]:
        """Open an object, or a byte range of it.

        Args:
            byte_range: ``(first, last)`` inclusive, ``(first, None)`` to the end, or
                ``(None, n)`` for the last ``n`` bytes.

        Returns:
            ``(info, first, last, chunks)`` with the inclusive offsets served.

        Raises:
            NotFound: ``NoSuchBucket`` or ``NoSuchKey``.
            RangeNotSatisfiable: The range starts past the end (``InvalidRange``).
        """
        ctx.require("read")
        _check_key(key)
        self._require_bucket(bucket)
        return self.store.get(bucket, key, byte_range=byte_range)

    def head_object(self, ctx: RequestContext, bucket: str, key: str) -> ObjectInfo:
        """An object's metadata.

        Raises:
            NotFound: ``NoSuchBucket`` or ``NoSuchKey``.
        """
        ctx.require("read")
        _check_key(key)
        self._require_bucket(bucket)
        return self.store.head(bucket, key)

    def delete_object(self, ctx: RequestContext, bucket: str, key: str) -> None:
        """Delete an object; deleting a missing key is not an error.

        Raises:
            NotFound: ``NoSuchBucket``.
        """
        ctx.require("write")
        _check_key(key)
        self._require_bucket(bucket)
        self.store.delete(bucket, key)

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
    ) -> ObjectInfo:
        """Copy an object, keeping its content type and metadata unless ``replace_metadata``.

        Raises:
            NotFound: ``NoSuchBucket`` or ``NoSuchKey``.
            ValidationError: Copying an object onto itself without replacing its metadata
                (``InvalidRequest``), or bad keys, content type or metadata.
        """
        ctx.require("write")
        _check_key(src_key)
        _check_key(dst_key)
        if (src_bucket, src_key) == (dst_bucket, dst_key) and not replace_metadata:
            raise ValidationError(
                "This copy request is illegal because it copies an object onto itself without "
                "changing its metadata; set replace_metadata",
                aws_code="InvalidRequest",
            )
        new_type = _check_content_type(content_type) if replace_metadata else None
        new_metadata = _check_metadata(metadata) if replace_metadata else None
        self._require_bucket(src_bucket)
        self._require_bucket(dst_bucket)
        return self.store.copy(
            src_bucket,
            src_key,
            dst_bucket,
            dst_key,
            content_type=new_type,
            metadata=new_metadata,
            max_bytes=self.max_object_bytes,
        )

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
        """One page of a bucket's keys in UTF-8 byte order (S3's ListObjectsV2 rules).

        Raises:
            NotFound: ``NoSuchBucket``.
            ValidationError: ``max_keys`` outside 1-1000, or a malformed token.
        """
        ctx.require("read")
        if isinstance(max_keys, bool) or not isinstance(max_keys, int) or not 1 <= max_keys <= 1000:
            raise ValidationError(
                f"max_keys must be an integer from 1 to 1000, got {max_keys!r}",
                aws_code="InvalidArgument",
                details={"field": "max_keys", "min": 1, "max": 1000},
            )
        self._require_bucket(bucket)
        return self.store.list(
            bucket,
            prefix=prefix or "",
            delimiter=delimiter or None,
            start_after=start_after or None,
            continuation_token=continuation_token or None,
            max_keys=max_keys,
        )

    # -- multipart -------------------------------------------------------------------------

    def _upload(self, bucket: str, key: str, upload_id: str) -> UploadRecord:
        validate_upload_id(upload_id)
        self._require_bucket(bucket)
        with self.db.session() as session:
            record = store.get_upload(session, upload_id)
        if record is None or (record.bucket, record.key) != (bucket, key):
            raise _no_upload(upload_id)
        return record

    def create_multipart_upload(
        self,
        ctx: RequestContext,
        bucket: str,
        key: str,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> UploadInfo:
        """Start a multipart upload; the object gets ``content_type`` and ``metadata``.

        Raises:
            NotFound: ``NoSuchBucket``.
            ValidationError: Bad key, content type or metadata.
        """
        ctx.require("write")
        _check_key(key)
        checked_type = _check_content_type(content_type)
        checked_metadata = _check_metadata(metadata)
        self._require_bucket(bucket)
        upload_id = new_upload_id()
        backing_id = self.store.create_multipart(
            bucket, key, upload_id, content_type=checked_type, metadata=checked_metadata
        )
        record = UploadRecord(
            upload_id=upload_id,
            bucket=bucket,
            key=key,
            owner=ctx.principal,
            initiated=utcnow(),
            content_type=checked_type,
            user_metadata=checked_metadata,
            backing_id=backing_id,
        )
        try:
            with self.db.session() as session:
                session.add(record)
        except IntegrityError:  # the bucket went away meanwhile
            self.store.abort_multipart(bucket, key, upload_id, backing_id)
            raise _no_bucket(bucket) from None
        return _upload_info(record)

    def upload_part(
        self,
        ctx: RequestContext,
        bucket: str,
        key: str,
        upload_id: str,
        part_number: int,
        body: BinaryIO,
        *,
        content_md5: str | None = None,
    ) -> PartInfo:
        """Upload one part (1-10000); a part uploaded again replaces the earlier one.

        Raises:
            NotFound: ``NoSuchBucket`` or ``NoSuchUpload``.
            ValidationError: Bad part number, ``InvalidDigest`` or ``BadDigest``.
            PayloadTooLarge: Over ``server.max_object_bytes`` (``EntityTooLarge``).
        """
        ctx.require("write")
        _check_key(key)
        validate_part_number(part_number)
        if content_md5 is not None:
            decode_content_md5(content_md5)
        record = self._upload(bucket, key, upload_id)
        part = self.store.put_part(
            bucket,
            key,
            upload_id,
            record.backing_id,
            part_number,
            body,
            max_bytes=self.max_object_bytes,
            content_md5=content_md5,
        )
        row = PartRecord(
            upload_id=upload_id,
            part_number=part.part_number,
            etag=part.etag,
            size=part.size,
            last_modified=part.last_modified,
        )
        try:
            with self.db.session() as session:
                if store.get_upload(session, upload_id) is None:
                    raise _no_upload(upload_id)
                store.put_part(session, row)
        except IntegrityError:  # completed or aborted meanwhile
            raise _no_upload(upload_id) from None
        return part

    def list_parts(
        self, ctx: RequestContext, bucket: str, key: str, upload_id: str
    ) -> list[PartInfo]:
        """The parts uploaded so far, by part number.

        Raises:
            NotFound: ``NoSuchBucket`` or ``NoSuchUpload``.
        """
        ctx.require("read")
        self._upload(bucket, key, upload_id)
        with self.db.session() as session:
            return [_part_info(row) for row in store.list_parts(session, upload_id)]

    def complete_multipart_upload(
        self,
        ctx: RequestContext,
        bucket: str,
        key: str,
        upload_id: str,
        parts: list[tuple[int, str]],
    ) -> ObjectInfo:
        """Join the named parts into the object and end the upload.

        Args:
            parts: ``(part_number, etag)`` in strictly ascending part number.

        Raises:
            NotFound: ``NoSuchBucket`` or ``NoSuchUpload``.
            ValidationError: ``InvalidPartOrder``, ``InvalidPart``, ``EntityTooSmall`` or
                ``MalformedXML`` (no parts).
        """
        ctx.require("write")
        record = self._upload(bucket, key, upload_id)
        with self.db.session() as session:
            uploaded = {
                row.part_number: _part_info(row) for row in store.list_parts(session, upload_id)
            }
        chosen = select_parts(list(parts), uploaded)
        info = self.store.complete_multipart(
            bucket,
            key,
            upload_id,
            record.backing_id,
            chosen,
            content_type=record.content_type,
            metadata=dict(record.user_metadata),
        )
        with self.db.session() as session:
            done = store.get_upload(session, upload_id)
            if done is not None:
                session.delete(done)
        return info

    def abort_multipart_upload(
        self, ctx: RequestContext, bucket: str, key: str, upload_id: str
    ) -> None:
        """Discard an upload and its parts.

        Raises:
            NotFound: ``NoSuchBucket`` or ``NoSuchUpload``.
        """
        ctx.require("write")
        record = self._upload(bucket, key, upload_id)
        self.store.abort_multipart(bucket, key, upload_id, record.backing_id)
        with self.db.session() as session:
            done = store.get_upload(session, upload_id)
            if done is not None:
                session.delete(done)

    def list_multipart_uploads(self, ctx: RequestContext, bucket: str) -> list[UploadInfo]:
        """The bucket's uploads in progress, by key and start time.

        Raises:
            NotFound: ``NoSuchBucket``.
        """
        ctx.require("read")
        self._require_bucket(bucket)
        with self.db.session() as session:
            return [_upload_info(record) for record in store.list_uploads(session, bucket)]

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
