"""Multipart uploads (part of the lake service).

An upload remembers what the completed object gets: content type, metadata, tags and how it is
sealed (the data key is chosen when the upload starts, so its parts are sealed at rest as they
arrive). Completion is a write like any other: it keeps versions and checks conditions.
"""

from __future__ import annotations

from typing import BinaryIO

from sqlalchemy.exc import IntegrityError

from lakeworks.core.clock import utcnow
from lakeworks.core.context import RequestContext
from lakeworks.core.errors import NotFound
from lakeworks.lake import store
from lakeworks.lake.base import check_content_type, check_key, check_metadata, no_bucket
from lakeworks.lake.conditions import Conditions
from lakeworks.lake.encryption import Sealing
from lakeworks.lake.keyring import check_sse
from lakeworks.lake.multipart import (
    new_upload_id,
    select_parts,
    validate_part_number,
    validate_upload_id,
)
from lakeworks.lake.objects import decode_content_md5
from lakeworks.lake.store import PartRecord, UploadRecord
from lakeworks.lake.tagging import validate_object_tags
from lakeworks.lake.versioned import VersionOps
from lakeworks.schemas.lake import ObjectInfo, PartInfo, UploadInfo

__all__ = ["MultipartOps"]


def _upload_info(record: UploadRecord) -> UploadInfo:
    sse = record.sse or {}
    return UploadInfo(
        bucket=record.bucket,
        key=record.key,
        upload_id=record.upload_id,
        initiated=record.initiated,
        server_side_encryption=sse.get("algorithm"),
        kms_key_id=sse.get("kms_key_id"),
    )


def _part_info(record: PartRecord) -> PartInfo:
    return PartInfo(
        part_number=record.part_number,
        etag=record.etag,
        size=record.size,
        last_modified=record.last_modified,
    )


def _no_upload(upload_id: str) -> NotFound:
    return NotFound(
        f"No multipart upload with id {upload_id!r} for this bucket and key",
        aws_code="NoSuchUpload",
        details={"upload_id": upload_id},
    )


class MultipartOps(VersionOps):
    """Create, upload parts, list, complete and abort multipart uploads."""

    def _emit_created(self, info: ObjectInfo, principal: str) -> None:
        """Hook: an upload completed (the lake service tells its event listeners)."""

    def _upload(self, bucket: str, key: str, upload_id: str) -> UploadRecord:
        validate_upload_id(upload_id)
        self._require_bucket(bucket)
        with self.db.session() as session:
            record = store.get_upload(session, upload_id)
        if record is None or (record.bucket, record.key) != (bucket, key):
            raise _no_upload(upload_id)
        return record

    def _upload_sealing(self, record: UploadRecord) -> Sealing | None:
        """The sealing an upload chose when it started (its data key, by id)."""
        if not record.sse:
            return None
        key_id = bytes.fromhex(record.sse["key_id"])
        return Sealing(
            record.sse["algorithm"],
            record.sse.get("kms_key_id"),
            key_id,
            self.keyring.resolve(key_id),
        )

    def create_multipart_upload(
        self,
        ctx: RequestContext,
        bucket: str,
        key: str,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
        tags: dict[str, str] | None = None,
        sse: str | None = None,
        kms_key_id: str | None = None,
    ) -> UploadInfo:
        """Start a multipart upload; the object gets ``content_type``, ``metadata``, ``tags``
        and encryption (``sse``, else the bucket's default).

        Raises:
            NotFound: ``NoSuchBucket``.
            ValidationError: Bad key, content type, metadata, tags or encryption.
        """
        requested = check_sse(sse, kms_key_id)
        checked_tags = validate_object_tags(tags) if tags is not None else None
        bucket_record = self._bucket_for(ctx, bucket, "s3:PutObject", "write", key=key)
        check_key(key)
        checked_type = check_content_type(content_type)
        checked_metadata = check_metadata(metadata)
        sealing = self._sealing(bucket_record, requested)
        upload_id = new_upload_id()
        backing_id = self.store.create_multipart(
            bucket,
            key,
            upload_id,
            content_type=checked_type,
            metadata=checked_metadata,
            sse=sealing,
            tags=checked_tags,
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
            sse=(
                {
                    "algorithm": sealing.algorithm,
                    "kms_key_id": sealing.kms_key_id,
                    "key_id": sealing.key_id.hex(),
                }
                if sealing is not None
                else None
            ),
            tags=checked_tags,
        )
        try:
            with self.db.session() as session:
                session.add(record)
        except IntegrityError:  # the bucket went away meanwhile
            self.store.abort_multipart(bucket, key, upload_id, backing_id)
            raise no_bucket(bucket) from None
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
        self._bucket_for(ctx, bucket, "s3:PutObject", "write", key=key)
        check_key(key)
        validate_part_number(part_number)
        if content_md5 is not None:
            decode_content_md5(content_md5)
        record = self._upload(bucket, key, upload_id)
        sealing = self._upload_sealing(record)
        part = self.store.put_part(
            bucket,
            key,
            upload_id,
            record.backing_id,
            part_number,
            body,
            max_bytes=self.max_object_bytes,
            content_md5=content_md5,
            sse=sealing,
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
        if sealing is not None:
            part = part.model_copy(
                update={
                    "server_side_encryption": sealing.algorithm,
                    "kms_key_id": sealing.kms_key_id,
                }
            )
        return part

    def list_parts(
        self, ctx: RequestContext, bucket: str, key: str, upload_id: str
    ) -> list[PartInfo]:
        """The parts uploaded so far, by part number.

        Raises:
            NotFound: ``NoSuchBucket`` or ``NoSuchUpload``.
        """
        self._bucket_for(ctx, bucket, "s3:ListMultipartUploadParts", "read", key=key)
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
        *,
        conditions: Conditions | None = None,
    ) -> ObjectInfo:
        """Join the named parts into the object and end the upload.

        Args:
            parts: ``(part_number, etag)`` in strictly ascending part number.
            conditions: ``If-None-Match: *`` / ``If-Match`` on the key.

        Raises:
            NotFound: ``NoSuchBucket`` or ``NoSuchUpload``.
            ValidationError: ``InvalidPartOrder``, ``InvalidPart``, ``EntityTooSmall`` or
                ``MalformedXML`` (no parts).
            PreconditionFailed: A condition does not hold; the upload stays open.
        """
        self._bucket_for(ctx, bucket, "s3:PutObject", "write", key=key)
        record = self._upload(bucket, key, upload_id)
        with self.db.session() as session:
            uploaded = {
                row.part_number: _part_info(row) for row in store.list_parts(session, upload_id)
            }
        chosen = select_parts(list(parts), uploaded)
        sealing = self._upload_sealing(record)

        def write() -> ObjectInfo:
            return self.store.complete_multipart(
                bucket,
                key,
                upload_id,
                record.backing_id,
                chosen,
                content_type=record.content_type,
                metadata=dict(record.user_metadata),
                sse=sealing,
                tags=dict(record.tags) if record.tags is not None else None,
            )

        info = self._guarded_write(bucket, key, record.owner, write, conditions)
        with self.db.session() as session:
            done = store.get_upload(session, upload_id)
            if done is not None:
                session.delete(done)
        self._emit_created(info, ctx.principal)
        return info

    def abort_multipart_upload(
        self, ctx: RequestContext, bucket: str, key: str, upload_id: str
    ) -> None:
        """Discard an upload and its parts.

        Raises:
            NotFound: ``NoSuchBucket`` or ``NoSuchUpload``.
        """
        self._bucket_for(ctx, bucket, "s3:AbortMultipartUpload", "write", key=key)
        self._abort(self._upload(bucket, key, upload_id))

    def _abort(self, record: UploadRecord) -> None:
        self.store.abort_multipart(record.bucket, record.key, record.upload_id, record.backing_id)
        with self.db.session() as session:
            done = store.get_upload(session, record.upload_id)
            if done is not None:
                session.delete(done)

    def list_multipart_uploads(self, ctx: RequestContext, bucket: str) -> list[UploadInfo]:
        """The bucket's uploads in progress, by key and start time.

        Raises:
            NotFound: ``NoSuchBucket``.
        """
        self._bucket_for(ctx, bucket, "s3:ListBucketMultipartUploads", "read")
        with self.db.session() as session:
            return [_upload_info(record) for record in store.list_uploads(session, bucket)]
