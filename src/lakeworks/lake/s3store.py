"""The object store in any S3-compatible service (``storage.url = s3://backing-bucket/prefix``).

Object ``key`` of lake bucket ``bucket`` is the backing object ``<prefix>/<bucket>/<key>``; its
content type and user metadata are the backing object's own, so any S3 tool reads lake data in
place. Puts are single PUTs with ``Content-MD5`` (the backing store verifies the bytes), and
multipart uploads pass through to native multipart uploads, so ETags are the backing store's.

Bodies that are not already a regular file are spooled to a temp file first: S3 needs the length
(and we the MD5 and the size limit) before the first byte is sent. Errors of the backing store
become Lakeworks errors; what the backing store refuses for reasons of its own (credentials,
a missing backing bucket) is a server-side failure, reported without any secret.
"""

from __future__ import annotations

import base64
import contextlib
import os
import stat
import tempfile
import urllib.parse
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any, cast

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from lakeworks.core.clock import utcnow
from lakeworks.core.errors import (
    InternalError,
    LakeworksError,
    NotFound,
    PreconditionFailed,
    RangeNotSatisfiable,
    ResourceInUse,
    ValidationError,
)
from lakeworks.core.settings import Settings
from lakeworks.lake.objects import (
    CHUNK_SIZE,
    DEFAULT_CONTENT_TYPE,
    ByteRange,
    ObjectStore,
    Readable,
    check_md5,
    copy_stream,
    decode_token,
    encode_token,
    resolve_range,
)
from lakeworks.schemas.lake import ObjectInfo, ObjectListing, PartInfo

__all__ = ["S3Store"]

#: Error codes of the backing store that mean the caller got something wrong, and ours for them.
_CLIENT_ERRORS: dict[str, tuple[type[LakeworksError], str]] = {
    "NoSuchKey": (NotFound, "NoSuchKey"),
    "404": (NotFound, "NoSuchKey"),
    "NotFound": (NotFound, "NoSuchKey"),
    "NoSuchUpload": (NotFound, "NoSuchUpload"),
    "InvalidPart": (ValidationError, "InvalidPart"),
    "InvalidPartOrder": (ValidationError, "InvalidPartOrder"),
    "EntityTooSmall": (ValidationError, "EntityTooSmall"),
    "BadDigest": (ValidationError, "BadDigest"),
    "InvalidDigest": (ValidationError, "InvalidDigest"),
    "PreconditionFailed": (PreconditionFailed, "PreconditionFailed"),
    "412": (PreconditionFailed, "PreconditionFailed"),
    "InvalidRange": (RangeNotSatisfiable, "InvalidRange"),
    "416": (RangeNotSatisfiable, "InvalidRange"),
}


class _BodyChunks(Iterator[bytes]):
    """A backing response body in chunks; closes the connection when done or dropped."""

    def __init__(self, body: Any) -> None:
        self._body = body
        self._chunks = body.iter_chunks(CHUNK_SIZE)

    def __next__(self) -> bytes:
        try:
            return cast(bytes, next(self._chunks))
        except StopIteration:
            self.close()
            raise

    def close(self) -> None:
        """Release the connection (idempotent)."""
        self._body.close()

    def __del__(self) -> None:
        self.close()


class _NullSink:
    def write(self, data: bytes) -> int:
        return len(data)


def _regular_file(body: Readable) -> IO[bytes] | None:
    """``body`` itself when it is a seekable regular file (no need to spool it)."""
    fileno = getattr(body, "fileno", None)
    seekable = getattr(body, "seekable", None)
    if fileno is None or seekable is None:
        return None
    try:
        if seekable() and stat.S_ISREG(os.fstat(fileno()).st_mode):
            return cast(IO[bytes], body)
    except (OSError, ValueError):
        pass
    return None


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

    def uri(self, bucket: str, key: str = "") -> str:
        """``s3://<backing>/<prefix>/<bucket>/<key>``."""
        return f"s3://{self.backing}/{self._key(bucket, key)}"

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        """Turn backing-store errors into Lakeworks errors."""
        try:
            yield
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            if code in _CLIENT_ERRORS:
                cls, aws_code = _CLIENT_ERRORS[code]
                raise cls(str(error.get("Message") or code), aws_code=aws_code) from None
            if code == "NoSuchBucket":
                raise InternalError(
                    f"The backing bucket {self.backing!r} of storage.url does not exist"
                ) from None
            raise InternalError(f"The object store failed: {code or 'unknown error'}") from None
        except BotoCoreError as exc:
            raise InternalError(f"Cannot use the object store: {type(exc).__name__}") from None

    @contextlib.contextmanager
    def _staged(
        self, body: Readable, *, max_bytes: int, what: str, content_md5: str | None
    ) -> Iterator[tuple[IO[bytes], int, bytes]]:
        """The body as a file positioned at its start, with its size and MD5 digest."""
        own = _regular_file(body)
        if own is not None:
            start = own.tell()
            size, digest = copy_stream(own, _NullSink(), max_bytes=max_bytes, what=what)
            own.seek(start)
            check_md5(content_md5, digest)
            yield own, size, digest
            return
        with tempfile.TemporaryFile(dir=self.spool_dir) as spool:
            size, digest = copy_stream(body, spool, max_bytes=max_bytes, what=what)
            check_md5(content_md5, digest)
            spool.seek(0)
            yield spool, size, digest

    def _info(self, bucket: str, key: str, head: dict[str, Any]) -> ObjectInfo:
        return ObjectInfo(
            bucket=bucket,
            key=key,
            size=head["ContentLength"],
            etag=str(head["ETag"]).strip('"'),
            last_modified=head["LastModified"],
            content_type=head.get("ContentType") or DEFAULT_CONTENT_TYPE,
            metadata=head.get("Metadata") or {},
        )

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
        with self._errors():
            page = self.client.list_objects_v2(
                Bucket=self.backing, Prefix=self._key(bucket), MaxKeys=1
            )
        return not page.get("KeyCount")

    def delete_bucket(self, bucket: str) -> None:
        """Refuse while objects remain; otherwise there is nothing to remove."""
        if not self.is_empty(bucket):
            raise ResourceInUse(
                f"Bucket {bucket!r} is not empty; delete its objects first",
                aws_code="BucketNotEmpty",
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
    ) -> ObjectInfo:
        """One PUT with ``Content-MD5``: the backing store keeps all of it or none."""
        staged = self._staged(body, max_bytes=max_bytes, what="Object", content_md5=content_md5)
        with staged as (file, size, digest), self._errors():
            self.client.put_object(
                Bucket=self.backing,
                Key=self._key(bucket, key),
                Body=file,
                ContentLength=size,
                ContentMD5=base64.b64encode(digest).decode(),
                ContentType=content_type,
                Metadata=metadata,
            )
        fallback = ObjectInfo(
            bucket=bucket,
            key=key,
            size=size,
            etag=digest.hex(),
            last_modified=utcnow(),
            content_type=content_type,
            metadata=metadata,
        )
        return self._after_write(bucket, key, digest.hex(), fallback)

    def head(self, bucket: str, key: str) -> ObjectInfo:
        """HEAD of the backing object."""
        with self._errors():
            head = self.client.head_object(Bucket=self.backing, Key=self._key(bucket, key))
        return self._info(bucket, key, head)

    def get(
        self, bucket: str, key: str, *, byte_range: ByteRange | None = None
    ) -> tuple[ObjectInfo, int, int, Iterator[bytes]]:
        """HEAD, then a GET of exactly the resolved range, pinned to that version by ETag."""
        for _ in range(3):
            info = self.head(bucket, key)
            first, last = resolve_range(info.size, byte_range)
            args: dict[str, Any] = {"IfMatch": f'"{info.etag}"'}
            if byte_range is not None and info.size > 0:
                args["Range"] = f"bytes={first}-{last}"
            try:
                with self._errors():
                    response = self.client.get_object(
                        Bucket=self.backing, Key=self._key(bucket, key), **args
                    )
            except PreconditionFailed:
                continue  # replaced between HEAD and GET: describe the new object
            return info, first, last, _BodyChunks(response["Body"])
        raise NotFound(f"Object {key!r} keeps changing; try again", aws_code="NoSuchKey")

    def delete(self, bucket: str, key: str) -> None:
        """DELETE of the backing object (S3 deletes are idempotent)."""
        with self._errors():
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
    ) -> ObjectInfo:
        """A server-side copy in the backing store."""
        source = self.head(src_bucket, src_key)
        if source.size > max_bytes:
            raise ValidationError(
                f"Copy source is {source.size} bytes, over the limit of {max_bytes} for a copy",
                aws_code="InvalidRequest",
            )
        args: dict[str, Any] = {"MetadataDirective": "COPY"}
        if content_type is not None or metadata is not None:
            args = {
                "MetadataDirective": "REPLACE",
                "ContentType": source.content_type if content_type is None else content_type,
                "Metadata": source.metadata if metadata is None else metadata,
            }
        with self._errors():
            result = self.client.copy_object(
                Bucket=self.backing,
                Key=self._key(dst_bucket, dst_key),
                CopySource={"Bucket": self.backing, "Key": self._key(src_bucket, src_key)},
                CopySourceIfMatch=f'"{source.etag}"',
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

    def list(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str | None = None,
        start_after: str | None = None,
        continuation_token: str | None = None,
        max_keys: int = 1000,
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
        with self._errors():
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
        token = page.get("NextContinuationToken") if page.get("IsTruncated") else None
        return ObjectListing(
            bucket=bucket,
            prefix=prefix,
            delimiter=delimiter or None,
            items=items,
            common_prefixes=[p["Prefix"][len(base) :] for p in page.get("CommonPrefixes", [])],
            next_token=encode_token({"b": token}) if token else None,
        )

    # -- multipart -------------------------------------------------------------------------

    def create_multipart(
        self, bucket: str, key: str, upload_id: str, *, content_type: str, metadata: dict[str, str]
    ) -> str:
        """Start a native multipart upload; returns its backing upload id."""
        with self._errors():
            response = self.client.create_multipart_upload(
                Bucket=self.backing,
                Key=self._key(bucket, key),
                ContentType=content_type,
                Metadata=metadata,
            )
        return str(response["UploadId"])

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
    ) -> PartInfo:
        """UploadPart with ``Content-MD5``."""
        staged = self._staged(body, max_bytes=max_bytes, what="Part", content_md5=content_md5)
        with staged as (file, size, digest), self._errors():
            self.client.upload_part(
                Bucket=self.backing,
                Key=self._key(bucket, key),
                UploadId=backing_id,
                PartNumber=part_number,
                Body=file,
                ContentLength=size,
                ContentMD5=base64.b64encode(digest).decode(),
            )
        return PartInfo(
            part_number=part_number, etag=digest.hex(), size=size, last_modified=utcnow()
        )

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
    ) -> ObjectInfo:
        """CompleteMultipartUpload; the backing store joins the parts."""
        listed = [{"PartNumber": p.part_number, "ETag": f'"{p.etag}"'} for p in parts]
        with self._errors():
            response = self.client.complete_multipart_upload(
                Bucket=self.backing,
                Key=self._key(bucket, key),
                UploadId=backing_id,
                MultipartUpload={"Parts": listed},
            )
        etag = str(response["ETag"]).strip('"')
        fallback = ObjectInfo(
            bucket=bucket,
            key=key,
            size=sum(p.size for p in parts),
            etag=etag,
            last_modified=utcnow(),
            content_type=content_type,
            metadata=metadata,
        )
        return self._after_write(bucket, key, etag, fallback)

    def abort_multipart(self, bucket: str, key: str, upload_id: str, backing_id: str) -> None:
        """AbortMultipartUpload (an upload already gone is fine)."""
        with contextlib.suppress(NotFound), self._errors():
            self.client.abort_multipart_upload(
                Bucket=self.backing, Key=self._key(bucket, key), UploadId=backing_id
            )
