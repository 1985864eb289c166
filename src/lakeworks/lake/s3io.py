"""Plumbing of the S3 store: backing errors, spooled and sealed bodies, described objects."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, cast

from botocore.exceptions import BotoCoreError, ClientError

from lakeworks.core.errors import (
    InternalError,
    LakeworksError,
    NotFound,
    PreconditionFailed,
    RangeNotSatisfiable,
    ValidationError,
)
from lakeworks.lake.encryption import Encryptor, FrameHeader, Sealing, parse_header
from lakeworks.lake.objects import (
    CHUNK_SIZE,
    DEFAULT_CONTENT_TYPE,
    Readable,
    check_md5,
    copy_stream,
)
from lakeworks.schemas.lake import ObjectInfo

__all__ = [
    "MAX_COPY_BYTES",
    "RESERVED_METADATA",
    "BodyChunks",
    "Described",
    "backing_errors",
    "describe",
    "fetched",
    "seal_file",
    "sealed_metadata",
    "spool_body",
]

#: Backing metadata names of this prefix are the store's own (users may not set them).
RESERVED_METADATA = "lakeworks-"
#: The largest object one PUT or CopyObject takes; larger ones go in parts.
MAX_COPY_BYTES = 5 * 1024**3

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
    "MetadataTooLarge": (ValidationError, "MetadataTooLarge"),
    "InvalidTag": (ValidationError, "InvalidTag"),
}


class BodyChunks(Iterator[bytes]):
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


class Described:
    """A backing object as the lake sees it: its info, frame header if sealed, backing ETag."""

    def __init__(self, info: ObjectInfo, header: FrameHeader | None, backing_etag: str) -> None:
        self.info = info
        self.header = header
        self.backing_etag = backing_etag


@contextlib.contextmanager
def backing_errors(backing: str) -> Iterator[None]:
    """Turn backing-store errors into Lakeworks errors (``backing``: the bucket, for messages)."""
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
                f"The backing bucket {backing!r} of storage.url does not exist"
            ) from None
        raise InternalError(f"The object store failed: {code or 'unknown error'}") from None
    except BotoCoreError as exc:
        raise InternalError(f"Cannot use the object store: {type(exc).__name__}") from None


@contextlib.contextmanager
def spool_body(
    spool_dir: Path, body: Readable, *, max_bytes: int, what: str, content_md5: str | None
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
    with tempfile.TemporaryFile(dir=spool_dir) as spool:
        size, digest = copy_stream(body, spool, max_bytes=max_bytes, what=what)
        check_md5(content_md5, digest)
        spool.seek(0)
        yield spool, size, digest


@contextlib.contextmanager
def seal_file(
    spool_dir: Path, plain: Iterator[bytes] | IO[bytes], sse: Sealing
) -> Iterator[tuple[IO[bytes], int, bytes, bytes]]:
    """``plain`` sealed into a temp file: the file at its start, its size, MD5 and header."""
    with tempfile.TemporaryFile(dir=spool_dir) as spool:
        digest = hashlib.md5()  # noqa: S324 - Content-MD5 for the backing store

        def write(data: bytes) -> None:
            digest.update(data)
            spool.write(data)

        sealer = Encryptor(write, sse)
        if isinstance(plain, Iterator) and not hasattr(plain, "read"):
            chunks: Iterator[bytes] = plain
        else:
            file = cast(IO[bytes], plain)
            chunks = iter(lambda: file.read(CHUNK_SIZE), b"")
        for chunk in chunks:
            sealer.write(chunk)
        size = sealer.finish()
        spool.seek(0)
        yield spool, size, digest.digest(), sealer.header.raw


def sealed_metadata(
    metadata: dict[str, str], sse: Sealing, size: int, etag: str, header: bytes
) -> dict[str, str]:
    """User metadata plus the reserved entries describing a sealed object."""
    reserved = {
        "lakeworks-sse": sse.algorithm,
        "lakeworks-size": str(size),
        "lakeworks-etag": etag,
        "lakeworks-header": base64.b64encode(header).decode(),
    }
    if sse.kms_key_id:
        reserved["lakeworks-kms-key-id"] = sse.kms_key_id
    return {**metadata, **reserved}


def describe(bucket: str, key: str, head: dict[str, Any]) -> Described:
    """What a HEAD (or GET) response of a backing object says about the lake object."""
    metadata = dict(head.get("Metadata") or {})
    reserved = {
        name: metadata.pop(name) for name in list(metadata) if name.startswith(RESERVED_METADATA)
    }
    backing_etag = str(head["ETag"]).strip('"')
    algorithm = reserved.get("lakeworks-sse")
    header = None
    size, etag = head["ContentLength"], backing_etag
    if algorithm:
        header = parse_header(base64.b64decode(reserved.get("lakeworks-header", "")))
        size, etag = int(reserved.get("lakeworks-size", "0")), reserved.get("lakeworks-etag", "")
    tag_count = head.get("TagCount")
    info = ObjectInfo(
        bucket=bucket,
        key=key,
        size=size,
        etag=etag,
        last_modified=head["LastModified"],
        content_type=head.get("ContentType") or DEFAULT_CONTENT_TYPE,
        metadata=metadata,
        server_side_encryption=algorithm or None,
        kms_key_id=reserved.get("lakeworks-kms-key-id"),
        tag_count=int(tag_count) if tag_count is not None else None,
    )
    return Described(info, header, backing_etag)


def fetched(chunks: Iterator[bytes]) -> Callable[[int, int], Iterator[bytes]]:
    """A ``read`` for :func:`~lakeworks.lake.encryption.decrypt_range` whose stored bytes were
    fetched already (a ranged GET of exactly the frames it asks for)."""

    def read(start: int, end: int) -> Iterator[bytes]:
        return chunks

    return read
