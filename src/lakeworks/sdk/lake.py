"""Buckets and objects: ``client.buckets`` and ``client.objects``.

Object bodies are streamed both ways: uploads from a path or file-like object are sent in chunks
with their length, downloads go chunk by chunk into a temporary file renamed into place.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote, urlencode

import httpx

from lakeworks.core.errors import ValidationError
from lakeworks.schemas.common import Page
from lakeworks.schemas.lake import BucketCreate, BucketInfo, ObjectInfo, ObjectListing
from lakeworks.schemas.lake_select import SelectRequest, SelectResult
from lakeworks.sdk._http import Transport, paginate, request_body

__all__ = ["CHUNK_SIZE", "META_PREFIX", "Body", "Buckets", "Objects", "object_info_from_headers"]

_API = "/api/v1/buckets"
#: Bytes read and sent per chunk when streaming a body.
CHUNK_SIZE = 1024 * 1024
#: Request/response headers that carry user metadata.
META_PREFIX = "x-lakeworks-meta-"

#: What :meth:`Objects.put` accepts as a body.
Body = bytes | bytearray | memoryview | str | os.PathLike[str] | IO[bytes]
# A str is a path, as in boto3's upload_file: sending the text "data.csv" as the body when the
# file was meant would be a silent surprise; encode text yourself to upload it.


def _bucket_path(bucket: str) -> str:
    return f"{_API}/{quote(bucket, safe='')}"


def _object_path(bucket: str, key: str, resource: str = "objects") -> str:
    # Keys keep their slashes; everything else that is not URL-safe is percent-encoded. A "." or
    # ".." segment is encoded too: URL normalization would otherwise resolve it, silently
    # addressing another key (the server then judges the key it was really given).
    segments = (quote(part, safe="") for part in key.split("/"))
    encoded = "/".join(s.replace(".", "%2E") if s in (".", "..") else s for s in segments)
    return f"{_bucket_path(bucket)}/{resource}/{encoded}"


def object_info_from_headers(bucket: str, key: str, headers: httpx.Headers) -> ObjectInfo:
    """Build an :class:`ObjectInfo` from the headers of a GET or HEAD object response."""
    modified = headers.get("last-modified")
    try:
        last_modified = parsedate_to_datetime(modified) if modified else datetime.now(UTC)
    except (TypeError, ValueError):
        last_modified = datetime.now(UTC)
    size = headers.get("content-length", "0")
    return ObjectInfo(
        bucket=bucket,
        key=key,
        size=int(size) if size.isdigit() else 0,
        etag=headers.get("etag", "").strip('"'),
        last_modified=last_modified,
        content_type=headers.get("content-type", "binary/octet-stream"),
        metadata={
            name[len(META_PREFIX) :]: value
            for name, value in headers.items()
            if name.lower().startswith(META_PREFIX)
        },
    )


class Buckets:
    """Buckets of the lake; ``.versioning``, ``.tags``, ``.encryption``, ``.policy`` and
    ``.lifecycle`` configure one (:mod:`lakeworks.sdk.lake_config`); ``.notifications`` its
    event targets and delivery history (:mod:`lakeworks.sdk.notifications`)."""

    def __init__(self, transport: Transport) -> None:
        # Imported here: lake_config builds on this module's paths.
        from lakeworks.sdk import lake_config, notifications

        self._t = transport
        self.versioning = lake_config.Versioning(transport)
        self.tags = lake_config.BucketTags(transport)
        self.encryption = lake_config.Encryption(transport)
        self.policy = lake_config.Policy(transport)
        self.lifecycle = lake_config.Lifecycle(transport)
        self.notifications = notifications.BucketNotifications(transport)

    def create(self, name: str, *, tags: Mapping[str, str] | None = None) -> BucketInfo:
        """Create a bucket.

        Raises:
            ValidationError: The name breaks S3's bucket naming rules.
            AlreadyExists: A bucket of that name exists.
        """
        body = request_body(BucketCreate, name=name, tags=dict(tags or {}))
        return self._t.model(BucketInfo, "POST", _API, json=body)

    def list(self) -> Iterator[BucketInfo]:
        """Iterate over all buckets."""

        def page(token: str | None) -> tuple[list[BucketInfo], str | None]:
            got = self._t.model(Page[BucketInfo], "GET", _API, params={"next_token": token})
            return got.items, got.next_token

        return paginate(page)

    def get(self, name: str) -> BucketInfo:
        """Describe one bucket.

        Raises:
            NotFound: No bucket has that name.
        """
        return self._t.model(BucketInfo, "GET", _bucket_path(name))

    def delete(self, name: str) -> None:
        """Delete an empty bucket.

        Raises:
            NotFound: No bucket has that name.
            ResourceInUse: The bucket still holds objects.
        """
        self._t.request("DELETE", _bucket_path(name))


class Objects:
    """Objects in buckets; ``.versions`` and ``.tags`` (:mod:`lakeworks.sdk.lake_config`)."""

    def __init__(self, transport: Transport) -> None:
        from lakeworks.sdk import lake_config

        self._t = transport
        self.versions = lake_config.ObjectVersions(transport)
        self.tags = lake_config.ObjectTags(transport)

    def put(
        self,
        bucket: str,
        key: str,
        data: Body,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
        server_side_encryption: str | None = None,
        kms_key_id: str | None = None,
    ) -> ObjectInfo:
        """Upload an object, replacing any object at that key.

        Args:
            bucket: Bucket name.
            key: Object key.
            data: The body: bytes, a path (``str`` or ``PathLike``, streamed from the file) or a
                binary file-like object (streamed from its current position).
            content_type: Stored and returned on download; the server's default when omitted.
            metadata: User metadata (sent as ``x-lakeworks-meta-<name>`` headers).
            tags: Object tags, stored with the object.
            server_side_encryption: ``AES256`` or ``aws:kms`` (the bucket's default when
                omitted).
            kms_key_id: The key of ``aws:kms`` encryption.

        Returns:
            The stored object's metadata.

        Raises:
            NotFound: No such bucket.
            ValidationError: The key is invalid, or ``data`` is not a readable file.
            PayloadTooLarge: The body is over the server's object size limit.
        """
        headers = {f"{META_PREFIX}{name}": value for name, value in (metadata or {}).items()}
        if content_type:
            headers["Content-Type"] = content_type
        if tags:
            headers["x-lakeworks-tagging"] = urlencode(dict(tags))
        if server_side_encryption:
            headers["x-lakeworks-server-side-encryption"] = server_side_encryption
        if kms_key_id:
            headers["x-lakeworks-server-side-encryption-kms-key-id"] = kms_key_id
        if isinstance(data, bytes | bytearray | memoryview):
            return self._put(bucket, key, bytes(data), headers)
        if isinstance(data, str | os.PathLike):
            path = Path(data)
            if not path.is_file():
                raise ValidationError(f"Cannot upload {path}: not a readable file")
            with path.open("rb") as handle:
                headers["Content-Length"] = str(os.fstat(handle.fileno()).st_size)
                return self._put(bucket, key, _chunks(handle), headers)
        if not hasattr(data, "read"):
            raise ValidationError(
                f"Cannot upload a {type(data).__name__}: pass bytes, str, a path or a binary file"
            )
        remaining = _remaining(data)
        if remaining is not None:
            headers["Content-Length"] = str(remaining)
        return self._put(bucket, key, _chunks(data), headers)

    def _put(self, bucket: str, key: str, content: Any, headers: dict[str, str]) -> ObjectInfo:
        path = _object_path(bucket, key)
        return self._t.model(ObjectInfo, "PUT", path, content=content, headers=headers)

    def get(self, bucket: str, key: str, *, byte_range: tuple[int, int] | None = None) -> bytes:
        """Download an object (or the inclusive byte range ``(first, last)`` of it) into memory.

        Raises:
            NotFound: No such bucket or key.
            RangeNotSatisfiable: The range lies outside the object.
        """
        headers = {"Range": f"bytes={byte_range[0]}-{byte_range[1]}"} if byte_range else None
        return self._t.request("GET", _object_path(bucket, key), headers=headers).content

    def download(self, bucket: str, key: str, path: str | os.PathLike[str]) -> ObjectInfo:
        """Stream an object into the file ``path`` (written atomically: temp file + rename).

        Returns:
            The object's metadata, from the response headers.

        Raises:
            NotFound: No such bucket or key; nothing is written.
        """
        target = Path(path)
        tmp = target.with_name(f".{target.name}.lakeworks-part")
        what = f"s3://{bucket}/{key}"
        with self._t.stream("GET", _object_path(bucket, key), what=what) as response:
            info = object_info_from_headers(bucket, key, response.headers)
            try:
                with tmp.open("wb") as out:
                    for chunk in response.iter_bytes(CHUNK_SIZE):
                        out.write(chunk)
                os.replace(tmp, target)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
        return info

    def head(self, bucket: str, key: str) -> ObjectInfo:
        """An object's metadata without its body.

        Raises:
            NotFound: No such bucket or key.
        """
        response = self._t.request("HEAD", _object_path(bucket, key), what=f"s3://{bucket}/{key}")
        return object_info_from_headers(bucket, key, response.headers)

    def delete(self, bucket: str, key: str) -> None:
        """Delete an object (deleting a missing key is not an error, as in S3)."""
        self._t.request("DELETE", _object_path(bucket, key))

    def select(
        self,
        bucket: str,
        key: str,
        expression: str,
        *,
        input_serialization: Mapping[str, Any] | None = None,
        output_serialization: Mapping[str, Any] | None = None,
        scan_range: Mapping[str, int] | None = None,
    ) -> SelectResult:
        """Run S3 Select SQL over one object (S3's SelectObjectContent, buffered).

        Example: ``c.objects.select("data", "people.csv", "SELECT s.name FROM S3Object s",
        input_serialization={"csv": {"file_header_info": "USE"}})``.

        Args:
            input_serialization: ``{"csv": {...}}`` (the default, no header), ``{"json":
                {"type": "LINES"}}`` or ``{"parquet": {}}``, plus ``compression_type``.
            output_serialization: ``{"csv": {...}}`` (the default) or ``{"json": {}}``.
            scan_range: ``{"start": …, "end": …}``: records that start in those bytes.

        Returns:
            The serialized records and the bytes scanned, processed and returned.

        Raises:
            ValidationError: A bad expression or serialization, with S3 Select's code.
            AccessDenied, NotFound: As GetObject.
        """
        body = request_body(
            SelectRequest,
            expression=expression,
            input_serialization=dict(input_serialization or {"csv": {}}),
            output_serialization=dict(output_serialization or {"csv": {}}),
            scan_range=dict(scan_range) if scan_range is not None else None,
        )
        return self._t.model(SelectResult, "POST", _object_path(bucket, key, "select"), json=body)

    def list(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str | None = None,
        start_after: str | None = None,
    ) -> Iterator[ObjectInfo]:
        """Iterate over every object under ``prefix``, in key order, across all pages.

        With ``delimiter``, keys below the next delimiter are left out (use :meth:`listings`
        to see them as common prefixes).

        Raises:
            NotFound: No such bucket.
        """
        pages = self.listings(bucket, prefix=prefix, delimiter=delimiter, start_after=start_after)
        for listing in pages:
            yield from listing.items

    def listings(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str | None = None,
        start_after: str | None = None,
        max_keys: int | None = None,
    ) -> Iterator[ObjectListing]:
        """Iterate over the pages of a listing; with ``delimiter``, pages carry common prefixes.

        Raises:
            NotFound: No such bucket.
        """
        token: str | None = None
        while True:
            params = {
                "prefix": prefix or None,
                "delimiter": delimiter,
                "start_after": start_after if token is None else None,
                "max_keys": max_keys,
                "next_token": token,
            }
            listing = self._t.model(
                ObjectListing, "GET", f"{_bucket_path(bucket)}/objects", params=params
            )
            yield listing
            token = listing.next_token
            if not token:
                return


def _chunks(handle: IO[bytes]) -> Iterator[bytes]:
    while chunk := handle.read(CHUNK_SIZE):
        yield chunk


def _remaining(handle: IO[bytes]) -> int | None:
    """Bytes left in a seekable file from its position (``None``: unknown, sent chunked)."""
    try:
        if not handle.seekable():
            return None
        here = handle.tell()
        end = handle.seek(0, os.SEEK_END)
        handle.seek(here)
    except (OSError, ValueError, AttributeError):
        return None
    return end - here
