"""The object store in any S3-compatible service (``storage.url = s3://backing-bucket/prefix``).

Object ``key`` of lake bucket ``bucket`` is the backing object ``<prefix>/<bucket>/<key>``; its
content type, user metadata and tags are the backing object's own, so any S3 tool reads lake data
in place. Puts are single PUTs with ``Content-MD5`` (the backing store verifies the bytes), and
multipart uploads pass through to native multipart uploads, so ETags are the backing store's.

Other backing objects (lake bucket names never start with ``.``, so none meets a bucket)::

    <prefix>/.versions/<bucket>/<archive>       archived versions of versioned buckets
    <prefix>/.uploads/<upload id>/<n>-<etag>    staged parts of sealed multipart uploads

A sealed (encrypted) object holds the frames of :mod:`lakeworks.lake.encryption`; reserved
backing metadata (``lakeworks-sse``, ``-kms-key-id``, ``-size``, ``-etag``, ``-header``) keeps the
algorithm, the plaintext's size and ETag and the frame header, and never shows among user
metadata. A range read fetches only the frames holding the range. Sealed multipart uploads stage
their sealed parts as backing objects and seal the whole object afresh on completion (the parts
of a native upload cannot be read before it completes), which moves the data twice.

Bodies that are not already a regular file are spooled to a temp file first: S3 needs the length
(and we the MD5 and the size limit) before the first byte is sent. Errors of the backing store
become Lakeworks errors; what the backing store refuses for reasons of its own (credentials,
a missing backing bucket) is a server-side failure, reported without any secret.
"""

from __future__ import annotations

import base64
import contextlib
import urllib.parse
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

import boto3
from botocore.config import Config

from lakeworks.core.clock import utcnow
from lakeworks.core.errors import (
    InternalError,
    NotFound,
    PreconditionFailed,
    ResourceInUse,
    ValidationError,
)
from lakeworks.core.settings import Settings
from lakeworks.lake.encryption import Sealing, cipher_range, decrypt_range
from lakeworks.lake.objects import (
    ByteRange,
    ChunkReader,
    ObjectStore,
    Readable,
    decode_token,
    encode_token,
    resolve_range,
)
from lakeworks.lake.s3io import (
    MAX_COPY_BYTES,
    RESERVED_METADATA,
    BodyChunks,
    Described,
    backing_errors,
    describe,
    fetched,
    seal_file,
    sealed_metadata,
    spool_body,
)
from lakeworks.lake.s3uploads import S3Uploads
from lakeworks.lake.tagging import encode_tagging
from lakeworks.schemas.lake import ObjectInfo, ObjectListing, PartInfo

__all__ = ["RESERVED_METADATA", "S3Store"]


class S3Store(ObjectStore):
    """Objects in an S3-compatible store under ``s3://<backing>/<prefix>``.

    Args:
        client: A boto3 S3 client for the backing store.
        backing: The backing bucket.
        prefix: Key prefix inside the backing bucket ("" or ending in "/").
        spool_dir: Where bodies are spooled before they are sent.
    """

    kind = "s3"

    def __init__(self, client: Any, backing: str, prefix: str, spool_dir: Path) -> None:
        self.client = client
        self.backing = backing
        self.prefix = prefix
        self.spool_dir = spool_dir
        spool_dir.mkdir(parents=True, exist_ok=True)
        self._uploads = S3Uploads(self)

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Store:
        """Connect to the store that ``settings.storage`` describes.

        Raises:
            ValidationError: ``storage.url`` names no bucket.
        """
        parsed = urllib.parse.urlparse(settings.storage_url)
        if parsed.scheme != "s3" or not parsed.netloc:
            raise ValidationError(
                f"storage.url {settings.storage_url!r} must look like s3://bucket/prefix",
                details={"setting": "storage.url"},
            )
        prefix = parsed.path.strip("/")
        storage = settings.storage
        secret = storage.secret_access_key
        options: dict[str, Any] = {
            "s3": {"addressing_style": "path" if storage.endpoint_url else "auto"},
            "retries": {"mode": "standard", "max_attempts": 3},
            # plain MD5 and lengths work on every S3-compatible store; newer checksums don't
            "request_checksum_calculation": "when_required",
            "response_checksum_validation": "when_required",
            # the endpoint comes from our settings only, never from AWS_* variables
            "ignore_configured_endpoint_urls": True,
        }
        client = boto3.session.Session().client(
            "s3",
            endpoint_url=storage.endpoint_url,
            aws_access_key_id=storage.access_key_id,
            aws_secret_access_key=secret.get_secret_value() if secret else None,
            region_name=storage.region,
            config=Config(**options),
        )
        return cls(client, parsed.netloc, f"{prefix}/" if prefix else "", settings.home / "tmp")

    def close(self) -> None:
        """Close the client's connections."""
        self.client.close()

    def _key(self, bucket: str, key: str = "") -> str:
        return f"{self.prefix}{bucket}/{key}"

    def backing_key(self, bucket: str, key: str) -> str:
        """The backing store's key of object ``key`` of lake bucket ``bucket``."""
        return self._key(bucket, key)

    def archive_key(self, bucket: str, archive: str = "") -> str:
        """The backing key of an archived version (or the version area of ``bucket``)."""
        if archive and not all(c in "0123456789abcdef" for c in archive):
            raise ValidationError(f"Invalid archive name {archive!r}", aws_code="InvalidArgument")
        return f"{self.prefix}.versions/{bucket}/{archive}"

    def upload_key(self, upload_id: str, name: str = "") -> str:
        """The backing key of a staged part (or the staging area of an upload)."""
        return f"{self.prefix}.uploads/{upload_id}/{name}"

    def uri(self, bucket: str, key: str = "") -> str:
        """``s3://<backing>/<prefix>/<bucket>/<key>``."""
        return f"s3://{self.backing}/{self._key(bucket, key)}"

    def errors(self) -> contextlib.AbstractContextManager[None]:
        """Turn backing-store errors into Lakeworks errors."""
        return backing_errors(self.backing)

    def staged(
        self, body: Readable, *, max_bytes: int, what: str, content_md5: str | None
    ) -> contextlib.AbstractContextManager[tuple[IO[bytes], int, bytes]]:
        """The body as a file at its start, with its size and MD5 (spooled if need be)."""
        return spool_body(
            self.spool_dir, body, max_bytes=max_bytes, what=what, content_md5=content_md5
        )

    def _head(self, bucket: str, key: str, backing_key: str) -> Described:
        with self.errors():
            head = self.client.head_object(Bucket=self.backing, Key=backing_key)
        return describe(bucket, key, head)

    def _after_write(self, bucket: str, key: str, etag: str, fallback: ObjectInfo) -> ObjectInfo:
        """The stored object's info, unless a concurrent writer replaced it already."""
        try:
            info = self.head(bucket, key)
        except NotFound:
            return fallback  # deleted already
        return info if info.etag == etag else fallback

    # -- buckets ---------------------------------------------------------------------------

    def create_bucket(self, bucket: str) -> None:
        """Nothing to do: a lake bucket is a prefix of the backing bucket."""

    def is_empty(self, bucket: str) -> bool:
        """Whether no backing object lies under the bucket's prefix."""
        with self.errors():
            page = self.client.list_objects_v2(
                Bucket=self.backing, Prefix=self._key(bucket), MaxKeys=1
            )
        return not page.get("KeyCount")

    def delete_bucket(self, bucket: str) -> None:
        """Refuse while objects remain; otherwise drop what is left of its version area."""
        if not self.is_empty(bucket):
            raise ResourceInUse(
                f"Bucket {bucket!r} is not empty; delete its objects first",
                aws_code="BucketNotEmpty",
            )
        self.delete_prefix(self.archive_key(bucket))

    def delete_prefix(self, prefix: str) -> None:
        """Delete every backing object under ``prefix`` (the store's own areas only)."""
        with self.errors():
            for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.backing, Prefix=prefix
            ):
                keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
                if keys:
                    self.client.delete_objects(
                        Bucket=self.backing, Delete={"Objects": keys, "Quiet": True}
                    )

    # -- objects ---------------------------------------------------------------------------

    def put(
        self,
        bucket: str,
        key: str,
        body: Readable,
        *,
        content_type: str,
        metadata: dict[str, str],
        max_bytes: int,
        content_md5: str | None = None,
        sse: Sealing | None = None,
        tags: dict[str, str] | None = None,
    ) -> ObjectInfo:
        """One PUT with ``Content-MD5``: the backing store keeps all of it or none."""
        staged = self.staged(body, max_bytes=max_bytes, what="Object", content_md5=content_md5)
        with staged as (file, size, digest):
            self.upload(bucket, key, file, size, digest, content_type, metadata, sse, tags)
        fallback = ObjectInfo(
            bucket=bucket,
            key=key,
            size=size,
            etag=digest.hex(),
            last_modified=utcnow(),
            content_type=content_type,
            metadata=metadata,
            server_side_encryption=sse.algorithm if sse else None,
            kms_key_id=sse.kms_key_id if sse else None,
            tag_count=len(tags or {}),
        )
        return self._after_write(bucket, key, digest.hex(), fallback)

    def upload(
        self,
        bucket: str,
        key: str,
        file: IO[bytes],
        size: int,
        digest: bytes,
        content_type: str,
        metadata: dict[str, str],
        sse: Sealing | None,
        tags: dict[str, str] | None,
    ) -> None:
        """Send a spooled plaintext ``file`` as ``key`` (sealed first when ``sse``)."""
        args: dict[str, Any] = {"ContentType": content_type}
        if tags:
            args["Tagging"] = encode_tagging(tags)
        with contextlib.ExitStack() as stack:
            body, length, md5 = file, size, digest
            args["Metadata"] = metadata
            if sse is not None:
                body, length, md5, header = stack.enter_context(
                    seal_file(self.spool_dir, file, sse)
                )
                args["Metadata"] = sealed_metadata(metadata, sse, size, digest.hex(), header)
            with self.errors():
                if length > MAX_COPY_BYTES:  # larger than one PUT takes: let boto3 split it
                    self.client.upload_fileobj(
                        body, self.backing, self._key(bucket, key), ExtraArgs=args
                    )
                    return
                self.client.put_object(
                    Bucket=self.backing,
                    Key=self._key(bucket, key),
                    Body=body,
                    ContentLength=length,
                    ContentMD5=base64.b64encode(md5).decode(),
                    **args,
                )

    def head(self, bucket: str, key: str) -> ObjectInfo:
        """HEAD of the backing object."""
        return self._head(bucket, key, self._key(bucket, key)).info

    def get(
        self, bucket: str, key: str, *, byte_range: ByteRange | None = None
    ) -> tuple[ObjectInfo, int, int, Iterator[bytes]]:
        """HEAD, then a GET of exactly the resolved range, pinned to that version by ETag."""
        return self._get(bucket, key, self._key(bucket, key), byte_range)

    def _get(
        self, bucket: str, key: str, backing_key: str, byte_range: ByteRange | None
    ) -> tuple[ObjectInfo, int, int, Iterator[bytes]]:
        for _ in range(3):
            described = self._head(bucket, key, backing_key)
            info, header = described.info, described.header
            first, last = resolve_range(info.size, byte_range)
            args: dict[str, Any] = {"IfMatch": f'"{described.backing_etag}"'}
            if header is not None:  # only the frames that hold the range
                _, start, end = cipher_range(first, last, info.size, header.frame_size)
                args["Range"] = f"bytes={start}-{end}"
            elif byte_range is not None and info.size > 0:
                args["Range"] = f"bytes={first}-{last}"
            try:
                with self.errors():
                    response = self.client.get_object(Bucket=self.backing, Key=backing_key, **args)
            except PreconditionFailed:
                continue  # replaced between HEAD and GET: describe the new object
            body: Iterator[bytes] = BodyChunks(response["Body"])
            if response.get("TagCount") is not None:
                info = info.model_copy(update={"tag_count": int(response["TagCount"])})
            if header is not None:
                data_key = self.data_key(header.key_id)
                body = decrypt_range(header, data_key, info.size, first, last, fetched(body))
            return info, first, last, body
        raise NotFound(f"Object {key!r} keeps changing; try again", aws_code="NoSuchKey")

    def data_key(self, key_id: bytes) -> bytes:
        """The data key with id ``key_id``.

        Raises:
            InternalError: The store was given no key resolver.
        """
        if self.keys is None:
            raise InternalError("An encrypted object was read, but the store has no data keys")
        return self.keys(key_id)

    def delete(self, bucket: str, key: str) -> None:
        """DELETE of the backing object (S3 deletes are idempotent)."""
        with self.errors():
            self.client.delete_object(Bucket=self.backing, Key=self._key(bucket, key))

    def copy(
        self,
        src_bucket: str,
        src_key: str,
        dst_bucket: str,
        dst_key: str,
        *,
        content_type: str | None,
        metadata: dict[str, str] | None,
        max_bytes: int,
        sse: Sealing | None = None,
        tags: dict[str, str] | None = None,
        src_archive: str | None = None,
    ) -> ObjectInfo:
        """A server-side copy in the backing store; through this server when either side is
        sealed (the bytes must be decrypted or sealed on the way)."""
        if src_archive is None:
            src_backing = self._key(src_bucket, src_key)
        else:
            src_backing = self.archive_key(src_bucket, src_archive)
        described = self._head(src_bucket, src_key, src_backing)
        source = described.info
        if source.size > max_bytes:
            raise ValidationError(
                f"Copy source is {source.size} bytes, over the limit of {max_bytes} for a copy",
                aws_code="InvalidRequest",
            )
        if described.header is not None or sse is not None:
            return self._copy_through(
                src_bucket, src_key, src_backing, dst_bucket, dst_key,
                content_type=content_type, metadata=metadata, sse=sse, tags=tags,
            )  # fmt: skip
        args: dict[str, Any] = {"MetadataDirective": "COPY"}
        if content_type is not None or metadata is not None:
            args = {
                "MetadataDirective": "REPLACE",
                "ContentType": source.content_type if content_type is None else content_type,
                "Metadata": source.metadata if metadata is None else metadata,
            }
        if tags is not None:
            args.update(TaggingDirective="REPLACE", Tagging=encode_tagging(tags))
        with self.errors():
            result = self.client.copy_object(
                Bucket=self.backing,
                Key=self._key(dst_bucket, dst_key),
                CopySource={"Bucket": self.backing, "Key": src_backing},
                CopySourceIfMatch=f'"{described.backing_etag}"',
                **args,
            )
        etag = str(result["CopyObjectResult"]["ETag"]).strip('"')
        fallback = source.model_copy(
            update={
                "bucket": dst_bucket,
                "key": dst_key,
                "etag": etag,
                "last_modified": result["CopyObjectResult"]["LastModified"],
                "content_type": args.get("ContentType", source.content_type),
                "metadata": args.get("Metadata", source.metadata),
            }
        )
        return self._after_write(dst_bucket, dst_key, etag, fallback)

    def _copy_through(
        self,
        src_bucket: str,
        src_key: str,
        src_backing: str,
        dst_bucket: str,
        dst_key: str,
        *,
        content_type: str | None,
        metadata: dict[str, str] | None,
        sse: Sealing | None,
        tags: dict[str, str] | None,
    ) -> ObjectInfo:
        info, _, _, chunks = self._get(src_bucket, src_key, src_backing, None)
        if tags is None:
            tags = self._tags(src_backing)
        return self.put(
            dst_bucket,
            dst_key,
            ChunkReader(chunks),
            content_type=info.content_type if content_type is None else content_type,
            metadata=info.metadata if metadata is None else metadata,
            max_bytes=info.size,
            sse=sse,
            tags=tags,
        )

    def list(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str | None = None,
        start_after: str | None = None,
        continuation_token: str | None = None,
        max_keys: int = 1000,
        exact: bool = False,
    ) -> ObjectListing:
        """ListObjectsV2 of the backing store under the bucket's prefix, keys made relative."""
        base = self._key(bucket)
        args: dict[str, Any] = {
            "Bucket": self.backing,
            "Prefix": base + prefix,
            "MaxKeys": max_keys,
        }
        if delimiter:
            args["Delimiter"] = delimiter
        if continuation_token:
            args["ContinuationToken"] = decode_token(continuation_token, "b")["b"]
        elif start_after:
            args["StartAfter"] = base + start_after
        with self.errors():
            page = self.client.list_objects_v2(**args)
        items = [
            ObjectInfo(
                bucket=bucket,
                key=item["Key"][len(base) :],
                size=item["Size"],
                etag=str(item["ETag"]).strip('"'),
                last_modified=item["LastModified"],
            )
            for item in page.get("Contents", [])
        ]
        if exact and items:
            # sealed objects list their size and ETag at rest; HEAD each for the plaintext's
            with ThreadPoolExecutor(max_workers=8) as pool:
                items = list(pool.map(self._exact, items))
        token = page.get("NextContinuationToken") if page.get("IsTruncated") else None
        return ObjectListing(
            bucket=bucket,
            prefix=prefix,
            delimiter=delimiter or None,
            items=items,
            common_prefixes=[p["Prefix"][len(base) :] for p in page.get("CommonPrefixes", [])],
            next_token=encode_token({"b": token}) if token else None,
        )

    def _exact(self, item: ObjectInfo) -> ObjectInfo:
        try:
            return self.head(item.bucket, item.key)
        except NotFound:
            return item  # deleted while we listed: as listed

    # -- tags ----------------------------------------------------------------------------

    def _tags(self, backing_key: str) -> dict[str, str]:
        with self.errors():
            response = self.client.get_object_tagging(Bucket=self.backing, Key=backing_key)
        return {tag["Key"]: tag["Value"] for tag in response.get("TagSet", [])}

    def get_tags(self, bucket: str, key: str, *, archive: str | None = None) -> dict[str, str]:
        """The backing object's tags."""
        backing = self._key(bucket, key) if archive is None else self.archive_key(bucket, archive)
        return self._tags(backing)

    def put_tags(
        self, bucket: str, key: str, tags: dict[str, str], *, archive: str | None = None
    ) -> None:
        """Replace the backing object's tags."""
        backing = self._key(bucket, key) if archive is None else self.archive_key(bucket, archive)
        with self.errors():
            if tags:
                tag_set = [{"Key": k, "Value": v} for k, v in tags.items()]
                self.client.put_object_tagging(
                    Bucket=self.backing, Key=backing, Tagging={"TagSet": tag_set}
                )
            else:
                self.client.head_object(Bucket=self.backing, Key=backing)  # NoSuchKey if gone
                self.client.delete_object_tagging(Bucket=self.backing, Key=backing)

    # -- the version area ------------------------------------------------------------------

    def archive(self, bucket: str, key: str, archive: str) -> bool:
        """Server-side copy of the current object into the version area."""
        natural = self._key(bucket, key)
        try:
            described = self._head(bucket, key, natural)
        except NotFound:
            return False
        self._uploads.copy_as_is(natural, self.archive_key(bucket, archive), described.backing_etag)
        return True

    def restore(self, bucket: str, key: str, archive: str) -> None:
        """Server-side copy of an archived version back to the key, then drop the archive."""
        source = self.archive_key(bucket, archive)
        try:
            described = self._head(bucket, key, source)
        except NotFound:
            raise NotFound(
                f"The archived version of {key!r} is missing", aws_code="NoSuchVersion"
            ) from None
        self._uploads.copy_as_is(source, self._key(bucket, key), described.backing_etag)
        self.delete_archived(bucket, archive)

    def get_archived(
        self, bucket: str, key: str, archive: str, *, byte_range: ByteRange | None = None
    ) -> tuple[ObjectInfo, int, int, Iterator[bytes]]:
        """Read an archived version."""
        return self._get(bucket, key, self.archive_key(bucket, archive), byte_range)

    def head_archived(self, bucket: str, key: str, archive: str) -> ObjectInfo:
        """An archived version's metadata."""
        return self._head(bucket, key, self.archive_key(bucket, archive)).info

    def delete_archived(self, bucket: str, archive: str) -> None:
        """Delete an archived version's backing object."""
        with self.errors():
            self.client.delete_object(Bucket=self.backing, Key=self.archive_key(bucket, archive))

    # -- multipart -------------------------------------------------------------------------

    def create_multipart(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        *,
        content_type: str,
        metadata: dict[str, str],
        sse: Sealing | None = None,
        tags: dict[str, str] | None = None,
    ) -> str:
        """Start a native multipart upload (or a staged one when sealed; see s3uploads.py)."""
        return self._uploads.create(
            self._key(bucket, key), content_type=content_type, metadata=metadata, sse=sse, tags=tags
        )

    def put_part(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        backing_id: str,
        part_number: int,
        body: Readable,
        *,
        max_bytes: int,
        content_md5: str | None = None,
        sse: Sealing | None = None,
    ) -> PartInfo:
        """UploadPart with ``Content-MD5`` (or a staged sealed part)."""
        return self._uploads.put_part(
            self._key(bucket, key), upload_id, backing_id, part_number, body,
            max_bytes=max_bytes, content_md5=content_md5, sse=sse,
        )  # fmt: skip

    def complete_multipart(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        backing_id: str,
        parts: Sequence[PartInfo],
        *,
        content_type: str,
        metadata: dict[str, str],
        sse: Sealing | None = None,
        tags: dict[str, str] | None = None,
    ) -> ObjectInfo:
        """CompleteMultipartUpload; the backing store joins the parts (or we seal them)."""
        etag = self._uploads.complete(
            bucket, key, upload_id, backing_id, parts,
            content_type=content_type, metadata=metadata, sse=sse, tags=tags,
        )  # fmt: skip
        fallback = ObjectInfo(
            bucket=bucket,
            key=key,
            size=sum(p.size for p in parts),
            etag=etag,
            last_modified=utcnow(),
            content_type=content_type,
            metadata=metadata,
            server_side_encryption=sse.algorithm if sse else None,
            kms_key_id=sse.kms_key_id if sse else None,
            tag_count=len(tags or {}),
        )
        return self._after_write(bucket, key, etag, fallback)

    def abort_multipart(self, bucket: str, key: str, upload_id: str, backing_id: str) -> None:
        """AbortMultipartUpload (an upload already gone is fine)."""
        self._uploads.abort(self._key(bucket, key), upload_id, backing_id)
