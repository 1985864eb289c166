"""The one object-store interface, and the helpers every implementation shares.

Two implementations: :class:`~lakeworks.lake.localstore.LocalStore` keeps objects in a directory
(``file://``, the default ``<home>/lake``) and :class:`~lakeworks.lake.s3store.S3Store` in any
S3-compatible store (``s3://backing-bucket/prefix``). :func:`open_store` picks one from the
settings. A user's ``s3://bucket/key`` maps to a real location in the backing store
(``<root>/<bucket>/<key>`` or ``s3://<backing>/<prefix>/<bucket>/<key>``), so other tools read
lake data in place; :meth:`ObjectStore.uri` says where.

Stores know nothing of the database: which buckets exist and who owns them is the lake service's
business. A store trusts that keys were checked with :func:`lakeworks.core.names.validate_key`
and still refuses any that would leave its root. Bodies are read and written in chunks of
:data:`CHUNK_SIZE`; no implementation holds a whole object in memory.

Beyond bytes, a store keeps what describes each object with it (content type, user metadata,
tags, and for encrypted objects the plaintext size and ETag): a sealed object (see
:mod:`lakeworks.lake.encryption`) is encrypted on the way in and decrypted on the way out, so
:meth:`ObjectStore.get` always serves plaintext and every :class:`ObjectInfo` describes it. The
data keys come from :attr:`ObjectStore.keys`, which the lake service sets.

Versioned buckets keep older versions in a hidden *version area* of the store, under a name
the lake service chooses (``archive``): :meth:`ObjectStore.archive` preserves the current
object there before it is replaced or deleted, :meth:`ObjectStore.restore` brings one back to
the key's natural place, and ``*_archived`` methods read and remove them. Current objects stay at
their natural places, so in-place readers see the latest data.
"""

from __future__ import annotations

import abc
import base64
import binascii
import hashlib
import json
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from lakeworks.core.errors import PayloadTooLarge, RangeNotSatisfiable, ValidationError
from lakeworks.core.settings import Settings
from lakeworks.lake.encryption import KeyResolver, Sealing
from lakeworks.schemas.lake import ObjectInfo, ObjectListing, PartInfo

__all__ = [
    "CHUNK_SIZE",
    "DEFAULT_CONTENT_TYPE",
    "ByteRange",
    "ChunkReader",
    "ObjectStore",
    "Readable",
    "Writable",
    "check_md5",
    "copy_stream",
    "decode_content_md5",
    "decode_token",
    "encode_token",
    "open_store",
    "resolve_range",
]

CHUNK_SIZE = 1024 * 1024
DEFAULT_CONTENT_TYPE = "binary/octet-stream"

#: ``(first, last)`` inclusive; ``(first, None)`` to the end; ``(None, n)`` the last n bytes.
ByteRange = tuple[int | None, int | None]


class Readable(Protocol):
    """A binary source read in chunks until it returns ``b""`` (a file, a request body)."""

    def read(self, size: int = -1, /) -> bytes: ...


class Writable(Protocol):
    """A binary sink."""

    def write(self, data: bytes, /) -> object: ...


class ObjectStore(abc.ABC):
    """Objects in buckets: streaming, atomic puts, listings in key order, multipart uploads.

    Every method raises :class:`~lakeworks.core.errors.NotFound` with S3's code (``NoSuchKey``,
    ``NoSuchUpload``) for what is missing, and a 4xx error for what the caller got wrong.
    """

    #: ``"local"`` or ``"s3"``.
    kind: str = ""
    #: Resolves data key ids for reading encrypted objects (set by the lake service).
    keys: KeyResolver | None = None

    # -- buckets ---------------------------------------------------------------------------

    @abc.abstractmethod
    def create_bucket(self, bucket: str) -> None:
        """Prepare room for a bucket (idempotent)."""

    @abc.abstractmethod
    def delete_bucket(self, bucket: str) -> None:
        """Release a bucket's room, its version area included.

        Raises:
            ResourceInUse: Objects remain (``BucketNotEmpty``).
        """

    @abc.abstractmethod
    def is_empty(self, bucket: str) -> bool:
        """Whether the bucket holds no objects."""

    @abc.abstractmethod
    def uri(self, bucket: str, key: str = "") -> str:
        """The real location of ``key`` (or of the bucket) in the backing store."""

    # -- objects ---------------------------------------------------------------------------

    @abc.abstractmethod
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
        """Store ``body`` (read in chunks until EOF) as ``key``, atomically.

        Readers see the old object or the new one, never a part. A failure leaves the old
        object (or nothing) in place. ``sse`` seals the bytes at rest; ``tags`` become the
        object's tags. ``max_bytes`` and ``content_md5`` apply to the plaintext.

        Raises:
            PayloadTooLarge: The body exceeds ``max_bytes`` (``EntityTooLarge``).
            ValidationError: The body does not match ``content_md5`` (``BadDigest``).
        """

    @abc.abstractmethod
    def get(
        self, bucket: str, key: str, *, byte_range: ByteRange | None = None
    ) -> tuple[ObjectInfo, int, int, Iterator[bytes]]:
        """Open an object for reading.

        Returns:
            ``(info, first, last, chunks)``: ``first``/``last`` are the inclusive byte offsets
            served (``0, -1`` for an empty object); ``chunks`` yields those bytes.

        Raises:
            NotFound: ``NoSuchKey``.
            RangeNotSatisfiable: The range lies outside the object (``InvalidRange``).
        """

    @abc.abstractmethod
    def head(self, bucket: str, key: str) -> ObjectInfo:
        """An object's metadata."""

    @abc.abstractmethod
    def delete(self, bucket: str, key: str) -> None:
        """Remove an object; nothing happens if it does not exist."""

    @abc.abstractmethod
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
        """Copy an object; ``None`` content type, metadata and tags keep the source's.

        The copy is a single-part object: its ETag is the MD5 of its bytes. ``sse`` seals the
        copy (whatever sealed the source); ``src_archive`` copies an archived version.
        """

    @abc.abstractmethod
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
        """One page of keys in UTF-8 byte order, like S3's ListObjectsV2.

        Keys after the prefix that contain ``delimiter`` roll up into one common prefix each;
        items and common prefixes together count against ``max_keys``. ``next_token`` is set
        when more follow. Items' ``content_type`` and ``metadata`` are best effort (S3 lists
        neither); :meth:`head` is authoritative. ``exact`` asks for exact sizes and ETags of
        encrypted objects too, where the store must look at each object to give them.

        Raises:
            ValidationError: A malformed continuation token (``InvalidArgument``).
        """

    # -- multipart -------------------------------------------------------------------------

    # -- tags --------------------------------------------------------------------------------

    @abc.abstractmethod
    def get_tags(self, bucket: str, key: str, *, archive: str | None = None) -> dict[str, str]:
        """The tags of ``key`` (or of its archived version ``archive``).

        Raises:
            NotFound: ``NoSuchKey``.
        """

    @abc.abstractmethod
    def put_tags(
        self, bucket: str, key: str, tags: dict[str, str], *, archive: str | None = None
    ) -> None:
        """Replace the tags of ``key`` (or of its archived version ``archive``).

        Raises:
            NotFound: ``NoSuchKey``.
        """

    # -- the version area -------------------------------------------------------------------

    @abc.abstractmethod
    def archive(self, bucket: str, key: str, archive: str) -> bool:
        """Preserve the current object of ``key`` (bytes, metadata, tags) as ``archive``.

        Returns:
            ``False`` when ``key`` has no current object (nothing was preserved).
        """

    @abc.abstractmethod
    def restore(self, bucket: str, key: str, archive: str) -> None:
        """Make the archived version ``archive`` the current object of ``key`` again, then
        drop it from the version area.

        Raises:
            NotFound: ``NoSuchVersion``: the archive is missing.
        """

    @abc.abstractmethod
    def get_archived(
        self, bucket: str, key: str, archive: str, *, byte_range: ByteRange | None = None
    ) -> tuple[ObjectInfo, int, int, Iterator[bytes]]:
        """Open an archived version of ``key``, like :meth:`get`."""

    @abc.abstractmethod
    def head_archived(self, bucket: str, key: str, archive: str) -> ObjectInfo:
        """An archived version's metadata."""

    @abc.abstractmethod
    def delete_archived(self, bucket: str, archive: str) -> None:
        """Remove an archived version (nothing happens if it is gone)."""

    # -- multipart -------------------------------------------------------------------------

    @abc.abstractmethod
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
        """Start a multipart upload; returns the backing store's id for it ("" if none).

        A sealed upload (``sse``) keeps its parts sealed too; the same ``sse`` must be passed to
        :meth:`put_part` and :meth:`complete_multipart`.
        """

    @abc.abstractmethod
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
        """Store one part (replacing an earlier part of the same number)."""

    @abc.abstractmethod
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
        """Join ``parts`` (already checked, in order) into the object, atomically."""

    @abc.abstractmethod
    def abort_multipart(self, bucket: str, key: str, upload_id: str, backing_id: str) -> None:
        """Discard an upload's parts (idempotent)."""

    def close(self) -> None:  # noqa: B027 - optional hook, most stores hold nothing
        """Release resources held by the store."""


# -- shared helpers ------------------------------------------------------------------------


class ChunkReader:
    """A :class:`Readable` over an iterator of chunks (decrypted plaintext, a response body)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""

    def read(self, size: int = -1, /) -> bytes:
        """Up to ``size`` bytes (all that is left for ``-1``); ``b""`` at the end."""
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        if size < 0:
            data, self._buffer = self._buffer, b""
        else:
            data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data


def copy_stream(
    source: Readable, sink: Writable, *, max_bytes: int, what: str = "Object"
) -> tuple[int, bytes]:
    """Copy ``source`` to ``sink`` in chunks, counting and hashing.

    Returns:
        ``(size, md5 digest)``.

    Raises:
        PayloadTooLarge: More than ``max_bytes`` arrived; the caller discards ``sink``.
    """
    digest = hashlib.md5()  # noqa: S324 - S3's ETag, not a security hash
    size = 0
    while True:
        chunk = source.read(CHUNK_SIZE)
        if not chunk:
            return size, digest.digest()
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge(
                f"{what} is larger than the limit of {max_bytes} bytes "
                "(setting server.max_object_bytes); use a multipart upload for large objects",
                aws_code="EntityTooLarge",
                details={"limit": max_bytes},
            )
        digest.update(chunk)
        sink.write(chunk)


def decode_content_md5(value: str) -> bytes:
    """Decode a ``Content-MD5`` value (base64 of the 16-byte digest).

    Raises:
        ValidationError: Not base64 of 16 bytes (``InvalidDigest``).
    """
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 16:
        raise ValidationError(
            "Content-MD5 must be the base64 encoding of a 16-byte MD5 digest",
            aws_code="InvalidDigest",
        )
    return raw


def check_md5(content_md5: str | None, digest: bytes) -> None:
    """Compare a body's MD5 with the client's ``Content-MD5``.

    Raises:
        ValidationError: They differ (``BadDigest``).
    """
    if content_md5 is not None and decode_content_md5(content_md5) != digest:
        raise ValidationError(
            "The Content-MD5 you specified did not match what was received", aws_code="BadDigest"
        )


def resolve_range(size: int, byte_range: ByteRange | None) -> tuple[int, int]:
    """Turn a requested range into inclusive offsets within an object of ``size`` bytes.

    Like S3: a last offset past the end is clamped; a suffix longer than the object means the
    whole object.

    Raises:
        RangeNotSatisfiable: The range starts at or after the end, or is an empty suffix.
        ValidationError: The range is malformed (negative, or first after last).
    """
    if byte_range is None:
        return 0, size - 1
    first, last = byte_range
    if (first is not None and first < 0) or (last is not None and last < 0):
        raise ValidationError("Byte range offsets must not be negative", aws_code="InvalidArgument")
    if first is None:
        if last is None:
            raise ValidationError("A byte range needs a first offset or a suffix length")
        if last == 0 or size == 0:
            raise _unsatisfiable(size)
        return max(0, size - last), size - 1
    if last is not None and last < first:
        raise ValidationError(
            f"Byte range {first}-{last} ends before it starts", aws_code="InvalidArgument"
        )
    if first >= size:
        raise _unsatisfiable(size)
    return first, size - 1 if last is None else min(last, size - 1)


def _unsatisfiable(size: int) -> RangeNotSatisfiable:
    return RangeNotSatisfiable(
        f"The requested range is not satisfiable: the object is {size} bytes",
        aws_code="InvalidRange",
        details={"size": size},
    )


def encode_token(state: dict[str, Any]) -> str:
    """An opaque continuation token carrying a store's listing state."""
    return base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode()


def decode_token(token: str, required: str) -> dict[str, Any]:
    """Read a token made by :func:`encode_token`; it must hold the field ``required``.

    Raises:
        ValidationError: The token was not made by this store (``InvalidArgument``).
    """
    try:
        state = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error):
        state = None
    if not isinstance(state, dict) or not isinstance(state.get(required), str):
        raise ValidationError(
            "The continuation token is not valid; pass back next_token from the previous page",
            aws_code="InvalidArgument",
            details={"field": "continuation_token"},
        )
    return state


def open_store(settings: Settings) -> ObjectStore:
    """Build the object store that ``settings.storage_url`` names.

    Raises:
        ValidationError: The URL is neither ``file://`` nor ``s3://``.
    """
    url = settings.storage_url
    if url.startswith("file://"):
        from lakeworks.lake.localstore import LocalStore

        return LocalStore.from_url(url)
    if url.startswith("s3://"):
        from lakeworks.lake.s3store import S3Store  # deferred: boto3 is slow to import

        return S3Store.from_settings(settings)
    raise ValidationError(
        f"Unsupported storage.url {url!r}: use file:///path or s3://bucket/prefix",
        details={"setting": "storage.url"},
    )
