"""Multipart uploads of the S3 store, and copies too large for one CopyObject.

A plain upload is a native multipart upload of the backing store: parts pass straight through
and the backing store joins them. A sealed upload cannot work that way (the parts of a native
upload cannot be read before it completes, and sealing must see the whole object to make one
frame stream), so it is *staged*: each part is sealed on its own and stored as the backing object
``<prefix>/.uploads/<upload id>/<part number>-<etag>``; completion decrypts the named parts in
order, seals them afresh as one stream into a spool file and sends that, then deletes the
staged parts. Its backing id is :data:`STAGED`.
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from lakeworks.core.clock import utcnow
from lakeworks.core.errors import NotFound, ValidationError
from lakeworks.lake.encryption import Sealing, decrypt_range, parse_header
from lakeworks.lake.multipart import multipart_etag
from lakeworks.lake.objects import Readable
from lakeworks.lake.s3io import MAX_COPY_BYTES, BodyChunks, fetched, seal_file, sealed_metadata
from lakeworks.lake.tagging import encode_tagging
from lakeworks.schemas.lake import PartInfo

if TYPE_CHECKING:
    from lakeworks.lake.s3store import S3Store

__all__ = ["STAGED", "S3Uploads"]

#: The backing id of a staged (sealed) upload.
STAGED = "lakeworks-staged"
_COPY_PART_BYTES = 1024**3


class S3Uploads:
    """Multipart uploads of one :class:`S3Store`."""

    def __init__(self, store: S3Store) -> None:
        self._store = store

    @property
    def _client(self) -> Any:
        return self._store.client

    def create(
        self,
        backing_key: str,
        *,
        content_type: str,
        metadata: dict[str, str],
        sse: Sealing | None,
        tags: dict[str, str] | None,
    ) -> str:
        """Start a native upload and return its id, or :data:`STAGED` for a sealed one."""
        if sse is not None:
            return STAGED
        args: dict[str, Any] = {"ContentType": content_type, "Metadata": metadata}
        if tags:
            args["Tagging"] = encode_tagging(tags)
        with self._store.errors():
            response = self._client.create_multipart_upload(
                Bucket=self._store.backing, Key=backing_key, **args
            )
        return str(response["UploadId"])

    def put_part(
        self,
        backing_key: str,
        upload_id: str,
        backing_id: str,
        part_number: int,
        body: Readable,
        *,
        max_bytes: int,
        content_md5: str | None,
        sse: Sealing | None,
    ) -> PartInfo:
        """UploadPart with ``Content-MD5``, or a sealed part stored as a staged object."""
        store = self._store
        staged = store.staged(body, max_bytes=max_bytes, what="Part", content_md5=content_md5)
        with staged as (file, size, digest):
            if backing_id == STAGED:
                if sse is None:
                    raise ValueError("a staged upload needs its sealing")
                name = f"{part_number:05d}-{digest.hex()}"
                sealing = seal_file(store.spool_dir, file, sse)
                with sealing as (sealed, length, md5, header), store.errors():
                    self._client.put_object(
                        Bucket=store.backing,
                        Key=store.upload_key(upload_id, name),
                        Body=sealed,
                        ContentLength=length,
                        ContentMD5=base64.b64encode(md5).decode(),
                        Metadata={"lakeworks-header": base64.b64encode(header).decode()},
                    )
            else:
                with store.errors():
                    self._client.upload_part(
                        Bucket=store.backing,
                        Key=backing_key,
                        UploadId=backing_id,
                        PartNumber=part_number,
                        Body=file,
                        ContentLength=size,
                        ContentMD5=base64.b64encode(digest).decode(),
                    )
        return PartInfo(
            part_number=part_number, etag=digest.hex(), size=size, last_modified=utcnow()
        )

    def complete(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        backing_id: str,
        parts: Sequence[PartInfo],
        *,
        content_type: str,
        metadata: dict[str, str],
        sse: Sealing | None,
        tags: dict[str, str] | None,
    ) -> str:
        """Complete the upload; returns the object's ETag."""
        store = self._store
        if backing_id != STAGED:
            listed = [{"PartNumber": p.part_number, "ETag": f'"{p.etag}"'} for p in parts]
            with store.errors():
                response = self._client.complete_multipart_upload(
                    Bucket=store.backing,
                    Key=store.backing_key(bucket, key),
                    UploadId=backing_id,
                    MultipartUpload={"Parts": listed},
                )
            return str(response["ETag"]).strip('"')
        if sse is None:
            raise ValueError("a staged upload needs its sealing")
        etag = multipart_etag(part.etag for part in parts)
        size = sum(part.size for part in parts)
        plaintext = self._plaintext(upload_id, parts)
        with seal_file(store.spool_dir, plaintext, sse) as (sealed, _, _, header):
            args: dict[str, Any] = {
                "ContentType": content_type,
                "Metadata": sealed_metadata(metadata, sse, size, etag, header),
            }
            if tags:
                args["Tagging"] = encode_tagging(tags)
            with store.errors():
                self._client.upload_fileobj(
                    sealed, store.backing, store.backing_key(bucket, key), ExtraArgs=args
                )
        store.delete_prefix(store.upload_key(upload_id))
        return etag

    def _plaintext(self, upload_id: str, parts: Sequence[PartInfo]) -> Iterator[bytes]:
        """The staged parts' plaintext, in order."""
        store = self._store
        for part in parts:
            name = f"{part.part_number:05d}-{part.etag}"
            try:
                with store.errors():
                    response = self._client.get_object(
                        Bucket=store.backing, Key=store.upload_key(upload_id, name)
                    )
            except NotFound:
                raise ValidationError(
                    f"Part {part.part_number} with ETag {part.etag} is not staged",
                    aws_code="InvalidPart",
                ) from None
            body = BodyChunks(response["Body"])
            raw = base64.b64decode((response.get("Metadata") or {}).get("lakeworks-header", ""))
            header = parse_header(raw)
            frames = _skip(body, len(header.raw))
            data_key = store.data_key(header.key_id)
            yield from decrypt_range(header, data_key, part.size, 0, part.size - 1, fetched(frames))

    def abort(self, backing_key: str, upload_id: str, backing_id: str) -> None:
        """Abort a native upload (one already gone is fine) or drop a staged one's parts."""
        if backing_id == STAGED:
            self._store.delete_prefix(self._store.upload_key(upload_id))
            return
        with contextlib.suppress(NotFound), self._store.errors():
            self._client.abort_multipart_upload(
                Bucket=self._store.backing, Key=backing_key, UploadId=backing_id
            )

    def copy_as_is(self, source: str, dest: str, backing_etag: str) -> None:
        """Copy a backing object as it is (bytes, metadata, tags), pinned to its ETag; in parts
        when it is larger than one CopyObject takes."""
        store = self._store
        pinned = f'"{backing_etag}"'
        with store.errors():
            stored = self._client.head_object(Bucket=store.backing, Key=source)["ContentLength"]
            if stored > MAX_COPY_BYTES:
                self.copy_in_parts(source, dest, stored, pinned)
                return
            self._client.copy_object(
                Bucket=store.backing,
                Key=dest,
                CopySource={"Bucket": store.backing, "Key": source},
                CopySourceIfMatch=pinned,
                MetadataDirective="COPY",
                TaggingDirective="COPY",
            )

    def copy_in_parts(self, source: str, dest: str, size: int, pinned: str) -> None:
        """Copy a backing object larger than one CopyObject takes, as UploadPartCopy parts."""
        store = self._store
        backing = store.backing
        with store.errors():
            head = self._client.head_object(Bucket=backing, Key=source)
            tagging = self._client.get_object_tagging(Bucket=backing, Key=source)
            tags = {t["Key"]: t["Value"] for t in tagging.get("TagSet", [])}
            args: dict[str, Any] = {
                "ContentType": head.get("ContentType") or "binary/octet-stream",
                "Metadata": head.get("Metadata") or {},
            }
            if tags:
                args["Tagging"] = encode_tagging(tags)
            upload = self._client.create_multipart_upload(Bucket=backing, Key=dest, **args)
            upload_id = upload["UploadId"]
            try:
                listed = []
                for number, start in enumerate(range(0, size, _COPY_PART_BYTES), 1):
                    end = min(start + _COPY_PART_BYTES, size) - 1
                    result = self._client.upload_part_copy(
                        Bucket=backing,
                        Key=dest,
                        UploadId=upload_id,
                        PartNumber=number,
                        CopySource={"Bucket": backing, "Key": source},
                        CopySourceIfMatch=pinned,
                        CopySourceRange=f"bytes={start}-{end}",
                    )
                    listed.append({"PartNumber": number, "ETag": result["CopyPartResult"]["ETag"]})
                self._client.complete_multipart_upload(
                    Bucket=backing, Key=dest, UploadId=upload_id, MultipartUpload={"Parts": listed}
                )
            except BaseException:
                with contextlib.suppress(Exception):
                    self._client.abort_multipart_upload(
                        Bucket=backing, Key=dest, UploadId=upload_id
                    )
                raise


def _skip(chunks: Iterator[bytes], count: int) -> Iterator[bytes]:
    """``chunks`` without their first ``count`` bytes."""
    for chunk in chunks:
        if count:
            cut = min(count, len(chunk))
            chunk, count = chunk[cut:], count - cut
        if chunk:
            yield chunk
