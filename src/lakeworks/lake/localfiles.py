"""File plumbing of the local store: chunked and sealed readers, temp files, durable renames."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from lakeworks.core.errors import LakeworksError
from lakeworks.lake.encryption import (
    HEADER_SIZE,
    KeyResolver,
    decrypt_range,
    looks_encrypted,
    parse_header,
    plain_size,
)
from lakeworks.lake.objects import CHUNK_SIZE

__all__ = [
    "FileChunks",
    "NullSink",
    "Temp",
    "append_file",
    "describe_sealed",
    "fsync_dir",
    "lstat",
    "sealed_chunks",
    "temp_file",
    "write_atomically",
]


@dataclass
class Temp:
    """A temp file being written; ``committed`` once it was renamed into place."""

    path: Path
    file: IO[bytes]
    committed: bool = field(default=False)


@contextlib.contextmanager
def temp_file(directory: Path) -> Iterator[Temp]:
    """A temp file in ``directory``, removed on exit unless it was committed."""
    fd, name = tempfile.mkstemp(dir=directory, prefix="w-")
    temp = Temp(Path(name), os.fdopen(fd, "w+b"))
    try:
        yield temp
    finally:
        temp.file.close()
        if not temp.committed:
            with contextlib.suppress(FileNotFoundError):
                temp.path.unlink()


def write_atomically(directory: Path, path: Path, payload: bytes) -> None:
    """Write a small file through a temp file in ``directory``, fsync and rename."""
    fd, name = tempfile.mkstemp(dir=directory, prefix="m-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
        raise


class FileChunks(Iterator[bytes]):
    """Bytes ``first..last`` of an open file, in chunks; closes the file when done or dropped."""

    def __init__(self, file: IO[bytes], first: int, last: int) -> None:
        self._file = file
        self._left = last - first + 1
        file.seek(first)

    def __next__(self) -> bytes:
        if self._left <= 0:
            self.close()
            raise StopIteration
        chunk = self._file.read(min(CHUNK_SIZE, self._left))
        if not chunk:
            self.close()
            raise StopIteration
        self._left -= len(chunk)
        return chunk

    def close(self) -> None:
        """Close the file (idempotent)."""
        self._left = 0
        self._file.close()

    def __del__(self) -> None:
        self.close()


class NullSink:
    """A sink for :func:`~lakeworks.lake.objects.copy_stream` when only the hash is wanted."""

    def write(self, data: bytes) -> int:
        return len(data)


def fsync_dir(path: Path) -> None:
    """Make a directory's entries (renames into it) durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def lstat(path: Path) -> os.stat_result | None:
    """``os.lstat`` or ``None`` when nothing is there."""
    try:
        return os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None


def append_file(source: IO[bytes], sink: IO[bytes]) -> None:
    """Append all of ``source`` to ``sink``, in the kernel where the platform allows.

    Completing a multipart upload concatenates parts that are already on disk; ``copy_file_range``
    moves them without passing the bytes through Python (several times faster than a read/write
    loop), and the plain loop covers file systems and platforms without it.
    """
    sink.flush()
    if hasattr(os, "copy_file_range"):
        src_fd, dst_fd = source.fileno(), sink.fileno()
        copied = 0
        try:
            while n := os.copy_file_range(src_fd, dst_fd, 1 << 30):
                copied += n
            sink.seek(0, os.SEEK_END)
            return
        except OSError:
            if copied:
                raise
            # e.g. EXDEV or a file system without it: fall back to the loop below
    shutil.copyfileobj(source, sink, CHUNK_SIZE)


def sealed_chunks(
    file: IO[bytes], size: int, first: int, last: int, data_key: Callable[[bytes], bytes]
) -> Iterator[bytes]:
    """Plaintext bytes ``first..last`` of an open sealed file of ``size`` plaintext bytes.

    Only the frames holding the range are read; the first chunk is decrypted before this
    returns, so a failed integrity check surfaces before a response starts.
    """
    header = parse_header(os.pread(file.fileno(), HEADER_SIZE, 0))
    return decrypt_range(
        header, data_key(header.key_id), size, first, last, lambda s, e: FileChunks(file, s, e)
    )


def describe_sealed(
    file: IO[bytes], stored: int, keys: KeyResolver | None
) -> tuple[int, str] | None:
    """``(plaintext size, MD5 hex)`` of an open file that is sealed with a known data key, or
    ``None`` for anything else (plaintext that merely starts like a sealed object included)."""
    head = os.pread(file.fileno(), HEADER_SIZE, 0)
    if keys is None or not looks_encrypted(head):
        return None
    try:
        header = parse_header(head)
        data_key = keys(header.key_id)
        size = plain_size(stored, header.frame_size)
        digest = hashlib.md5()  # noqa: S324 - S3's ETag, not a security hash
        fd = file.fileno()
        plain = decrypt_range(header, data_key, size, 0, size - 1, lambda s, e: _pread(fd, s, e))
        for chunk in plain:
            digest.update(chunk)
    except LakeworksError:
        return None
    return size, digest.hexdigest()


def _pread(fd: int, start: int, end: int) -> Iterator[bytes]:
    """Bytes ``start..end`` of a file, leaving its position and its descriptor alone."""
    position = start
    while position <= end:
        chunk = os.pread(fd, min(CHUNK_SIZE, end - position + 1), position)
        if not chunk:
            return
        position += len(chunk)
        yield chunk
