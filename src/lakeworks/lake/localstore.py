"""The object store in a local directory (the default: ``<home>/lake``).

Layout under the root (bucket names never start with ``.``, so nothing here meets a bucket)::

    <root>/<bucket>/<key path>        object data; tools read it in place (see keypaths.py)
    <root>/.meta/<bucket>/<dirs>/.lw~m<name>   one JSON sidecar per object (ETag, types, metadata)
    <root>/.tmp/                      puts stream into a temp file here (same file system)
    <root>/.uploads/<upload id>/      staged multipart parts, named <part number>-<etag>

Puts stream into a temp file, fsync it, and ``os.replace`` it onto the key's path, so readers
see the old object or the new one. The sidecar records the inode, size and mtime of the data file
it describes; a reader holding the data file open checks that it matches, so data and metadata
are read as one even while a writer swaps them. A data file without a matching sidecar (a crash
between the two renames, or a file copied into the bucket by hand) gets one rebuilt from its bytes.

Namespace changes (directories, renames, deletes) happen under one lock. Reads take no lock
unless they catch a writer between its renames; then they pair data and sidecar again under it.
Every path is checked to resolve to itself inside the bucket: a symbolic link anywhere on the
way is refused, so nothing is read or written outside the root. LocalStore assumes one server
process per root and a case-sensitive POSIX file system.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from lakeworks.core.clock import utcnow
from lakeworks.core.errors import NotFound, ResourceInUse, ValidationError
from lakeworks.lake.keypaths import (
    decode_name,
    displaced_name,
    encode_key,
    encode_segment,
    long_name_file,
    meta_name,
    name_file_of_hash,
    segment_matches_hash,
)
from lakeworks.lake.listing import ListQuery, page_of
from lakeworks.lake.multipart import multipart_etag, validate_upload_id
from lakeworks.lake.objects import (
    CHUNK_SIZE,
    DEFAULT_CONTENT_TYPE,
    ByteRange,
    ObjectStore,
    Readable,
    check_md5,
    copy_stream,
    resolve_range,
)
from lakeworks.schemas.lake import ObjectInfo, ObjectListing, PartInfo

__all__ = ["LocalStore"]

#: Temp files older than this are leftovers of a crash; the store removes them when it opens.
_STALE_TEMP_SECONDS = 3600


@dataclass
class _Temp:
    path: Path
    file: IO[bytes]
    committed: bool = field(default=False)


@dataclass(frozen=True)
class _Hit:
    """One listing entry: an object (key, data path, sidecar path) or a common prefix."""

    key: str | None = None
    data: Path | None = None
    meta: Path | None = None
    common_prefix: str | None = None


class _FileChunks(Iterator[bytes]):
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


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None


class LocalStore(ObjectStore):
    """Objects as files under ``root`` (see the module docstring for the layout).

    Args:
        root: The store's directory; created if missing.
    """

    kind = "local"

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root.resolve()
        self._meta = self.root / ".meta"
        self._tmp = self.root / ".tmp"
        self._uploads = self.root / ".uploads"
        for path in (self._meta, self._tmp, self._uploads):
            path.mkdir(exist_ok=True)
        self._lock = threading.RLock()
        self._sweep_temp()

    @classmethod
    def from_url(cls, url: str) -> LocalStore:
        """Open the store at a ``file://`` URL.

        Raises:
            ValidationError: The URL names another host.
        """
        parsed = urllib.parse.urlparse(url)
        if parsed.netloc not in ("", "localhost"):
            raise ValidationError(
                f"storage.url {url!r} names a remote host; file URLs must be local (file:///path)"
            )
        return cls(Path(urllib.request.url2pathname(parsed.path)))

    def _sweep_temp(self) -> None:
        cutoff = time.time() - _STALE_TEMP_SECONDS
        for entry in os.scandir(self._tmp):
            with contextlib.suppress(OSError):
                if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)

    # -- paths -----------------------------------------------------------------------------

    def _bucket_dir(self, bucket: str) -> Path:
        if not bucket or bucket.startswith(".") or "/" in bucket or "\x00" in bucket:
            raise ValidationError(f"Invalid bucket name {bucket!r}", aws_code="InvalidBucketName")
        return self.root / bucket

    def _contained(self, path: Path, bucket: str, key: str) -> Path:
        """Refuse ``path`` unless it resolves to itself inside the bucket (no links, no ``..``)."""
        base = self.root / bucket
        resolved = path.resolve()
        if resolved != path or not resolved.is_relative_to(base):
            raise ValidationError(
                f"Refused key {key!r}: its path in the store leaves bucket {bucket!r} or passes "
                "through a symbolic link; the local store follows no links",
                aws_code="InvalidArgument",
                details={"bucket": bucket, "key": key},
            )
        return path

    def _paths(self, bucket: str, key: str) -> tuple[list[str], str, Path, Path]:
        """Encoded dirs, encoded file name, data parent dir and sidecar path of ``key``."""
        dirs, name = encode_key(key)
        if any(part in ("", ".", "..") or "/" in part for part in (*dirs, name)):
            # encode_key never yields these for a validated key; refuse rather than trust it
            raise ValidationError(f"Invalid object key {key!r}", aws_code="InvalidArgument")
        parent = self._bucket_dir(bucket).joinpath(*dirs)
        sidecar = (self._meta / bucket).joinpath(*dirs) / meta_name(name)
        return dirs, name, parent, sidecar

    def uri(self, bucket: str, key: str = "") -> str:
        """The ``file://`` URI of the bucket directory or of ``key``'s data file."""
        if not key:
            return self._bucket_dir(bucket).as_uri()
        _, name, parent, _ = self._paths(bucket, key)
        return (parent / name).as_uri()

    # -- buckets ---------------------------------------------------------------------------

    def create_bucket(self, bucket: str) -> None:
        """Create the bucket's directory (idempotent)."""
        path = self._bucket_dir(bucket)
        with contextlib.suppress(FileExistsError):
            path.mkdir()
        found = _lstat(path)
        if found is None or not stat.S_ISDIR(found.st_mode):
            raise ValidationError(
                f"The store root holds something other than a directory at {bucket!r}",
                aws_code="InvalidBucketName",
            )

    def is_empty(self, bucket: str) -> bool:
        """Whether no object lives in the bucket."""
        hits = self._walk(bucket, self._bucket_dir(bucket), self._meta / bucket, "", ListQuery())
        return next(hits, None) is None

    def delete_bucket(self, bucket: str) -> None:
        """Remove the bucket's (empty) directories and its sidecar tree."""
        with self._lock:
            if not self.is_empty(bucket):
                raise ResourceInUse(
                    f"Bucket {bucket!r} is not empty; delete its objects first",
                    aws_code="BucketNotEmpty",
                )
            base = self._bucket_dir(bucket)
            if _lstat(base) is not None and not base.is_symlink():
                # only empty directories go: a file that is not an object stays where it was
                for dirpath, _, _ in os.walk(base, topdown=False):
                    with contextlib.suppress(OSError):
                        os.rmdir(dirpath)
            shutil.rmtree(self._meta / bucket, ignore_errors=True)

    # -- writing ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def _temp(self) -> Iterator[_Temp]:
        fd, name = tempfile.mkstemp(dir=self._tmp, prefix="w-")
        temp = _Temp(Path(name), os.fdopen(fd, "w+b"))
        try:
            yield temp
        finally:
            temp.file.close()
            if not temp.committed:
                with contextlib.suppress(FileNotFoundError):
                    temp.path.unlink()

    def _ensure_dirs(
        self, bucket: str, key: str, base: Path, dirs: list[str], *, data: bool
    ) -> Path:
        """Create ``base/dirs...``; in the data tree, a file in the way is displaced."""
        if data:
            self.create_bucket(bucket)
        else:
            base.mkdir(parents=True, exist_ok=True)
        current = base
        for name in dirs:
            path = current / name
            found = _lstat(path)
            if found is not None and stat.S_ISREG(found.st_mode) and data:
                os.replace(path, current / displaced_name(name))
                found = None
            if found is None:
                path.mkdir()
            elif not stat.S_ISDIR(found.st_mode):
                if data:
                    self._contained(path, bucket, key)  # a link: refused with its own message
                raise ValidationError(
                    f"Refused key {key!r}: a link or special file is in its way in the store"
                )
            current = path
        return self._contained(current, bucket, key) if data else current

    def _target(self, parent: Path, name: str, bucket: str, key: str) -> Path:
        """Where the data of a key goes: its natural name unless a directory holds that name."""
        displaced = parent / displaced_name(name)
        natural = parent / name
        found_displaced = _lstat(displaced)
        if found_displaced is not None:
            target = displaced  # keep a displaced object where it is: moving back would race
        else:
            found = _lstat(natural)
            target = displaced if found is not None and stat.S_ISDIR(found.st_mode) else natural
        found = _lstat(target)
        if found is not None and not stat.S_ISREG(found.st_mode):
            self._contained(target, bucket, key)
            raise ValidationError(f"Refused key {key!r}: a special file is in its way")
        return target

    def _write_names(self, meta_dir: Path, dirs: list[str], name: str, key: str) -> None:
        """Record the real segment of every long name on the key's path (see keypaths)."""
        segments = key.split("/")
        current = meta_dir
        for encoded, segment in zip([*dirs, name], segments, strict=True):
            name_file = long_name_file(encoded)
            if name_file is not None and not (current / name_file).exists():
                self._write_atomically(current / name_file, segment.encode("utf-8"))
            current = current / encoded

    def _write_atomically(self, path: Path, payload: bytes) -> None:
        """Write a small file through a temp file, fsync and rename."""
        fd, name = tempfile.mkstemp(dir=self._tmp, prefix="m-")
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

    def _commit(
        self,
        bucket: str,
        key: str,
        temp: _Temp,
        *,
        etag: str,
        content_type: str,
        metadata: dict[str, str],
    ) -> ObjectInfo:
        """Make a fully written temp file the data of ``key``, with its sidecar."""
        temp.file.flush()
        os.fsync(temp.file.fileno())
        st = os.fstat(temp.file.fileno())
        info = ObjectInfo(
            bucket=bucket,
            key=key,
            size=st.st_size,
            etag=etag,
            last_modified=utcnow(),
            content_type=content_type,
            metadata=metadata,
        )
        dirs, name, _, sidecar = self._paths(bucket, key)
        with self._lock:
            parent = self._ensure_dirs(bucket, key, self._bucket_dir(bucket), dirs, data=True)
            target = self._target(parent, name, bucket, key)
            meta_parent = self._ensure_dirs(bucket, key, self._meta / bucket, dirs, data=False)
            self._write_names(self._meta / bucket, dirs, name, key)
            os.replace(temp.path, target)
            temp.committed = True
            self._write_sidecar(sidecar, info, st)
            _fsync_dir(parent)
            _fsync_dir(meta_parent)
        return info

    def _write_sidecar(self, path: Path, info: ObjectInfo, st: os.stat_result) -> None:
        record: dict[str, Any] = info.model_dump(mode="json", exclude={"bucket"})
        record.update(ino=st.st_ino, dev=st.st_dev, mtime_ns=st.st_mtime_ns)
        self._write_atomically(path, json.dumps(record).encode("utf-8"))

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
        """Stream ``body`` into a temp file, then rename it onto the key (see the module)."""
        _, _, parent, _ = self._paths(bucket, key)
        self._contained(parent, bucket, key)  # refuse a linked path before reading the body
        with self._temp() as temp:
            _, digest = copy_stream(body, temp.file, max_bytes=max_bytes)
            check_md5(content_md5, digest)
            return self._commit(
                bucket, key, temp, etag=digest.hex(), content_type=content_type, metadata=metadata
            )

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
        """Copy through a temp file; the source stays open, so a concurrent put cannot tear it."""
        source, info = self._open(src_bucket, src_key)
        with source, self._temp() as temp:
            _, digest = copy_stream(source, temp.file, max_bytes=max_bytes, what="Copy source")
            return self._commit(
                dst_bucket,
                dst_key,
                temp,
                etag=digest.hex(),
                content_type=info.content_type if content_type is None else content_type,
                metadata=info.metadata if metadata is None else metadata,
            )

    def delete(self, bucket: str, key: str) -> None:
        """Remove the data and sidecar of ``key``, then any directories left empty."""
        dirs, _, _, sidecar = self._paths(bucket, key)
        with self._lock:
            with contextlib.suppress(NotFound):
                data, _ = self._locate(bucket, key)
                data.unlink()
            with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                sidecar.unlink()
            self._prune(bucket, dirs)

    def _prune(self, bucket: str, dirs: list[str]) -> None:
        base = self._bucket_dir(bucket)
        for depth in range(len(dirs), 0, -1):
            try:
                os.rmdir(base.joinpath(*dirs[:depth]))
            except OSError:
                break
            # the data directory is gone, so its sidecar directory holds nothing of use
            shutil.rmtree((self._meta / bucket).joinpath(*dirs[:depth]), ignore_errors=True)

    # -- reading ---------------------------------------------------------------------------

    def _locate(self, bucket: str, key: str) -> tuple[Path, Path]:
        """The data file (natural name first, then displaced) and sidecar path of ``key``."""
        _, name, parent, sidecar = self._paths(bucket, key)
        for candidate in (parent / name, parent / displaced_name(name)):
            found = _lstat(candidate)
            if found is not None and stat.S_ISREG(found.st_mode):
                return self._contained(candidate, bucket, key), sidecar
        raise NotFound(
            f"No object {key!r} in bucket {bucket!r}",
            aws_code="NoSuchKey",
            details={"bucket": bucket, "key": key},
        )

    @staticmethod
    def _read_sidecar(path: Path, bucket: str, st: os.stat_result) -> ObjectInfo | None:
        """The sidecar's info if it describes exactly the data file ``st``, else ``None``."""
        try:
            record = json.loads(path.read_bytes())
            if (record["ino"], record["dev"], record["mtime_ns"], record["size"]) != (
                st.st_ino,
                st.st_dev,
                st.st_mtime_ns,
                st.st_size,
            ):
                return None
            return ObjectInfo.model_validate({**record, "bucket": bucket})
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _open(self, bucket: str, key: str) -> tuple[IO[bytes], ObjectInfo]:
        """Open ``key`` and return the file with the info that matches its bytes.

        Without the lock, the data file and its sidecar may be caught between a writer's two
        renames (or the data moved aside); then the pairing is redone under the lock, where no
        writer can interfere. A data file that still has no matching sidecar gets one rebuilt.
        """
        data, sidecar = self._locate(bucket, key)
        try:
            file = data.open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            pass  # replaced, deleted or displaced since we looked
        else:
            try:
                info = self._read_sidecar(sidecar, bucket, os.fstat(file.fileno()))
            except BaseException:
                file.close()
                raise
            if info is not None:
                return file, info
            file.close()
        with self._lock:
            data, sidecar = self._locate(bucket, key)
            file = data.open("rb")
            try:
                st = os.fstat(file.fileno())
                info = self._read_sidecar(sidecar, bucket, st)
                return file, info or self._rebuild(bucket, key, file, st, sidecar)
            except BaseException:
                file.close()
                raise

    def _rebuild(
        self, bucket: str, key: str, file: IO[bytes], st: os.stat_result, sidecar: Path
    ) -> ObjectInfo:
        """Describe a data file that has no sidecar (called under the lock) and save it."""
        _, digest = copy_stream(file, _NullSink(), max_bytes=st.st_size + 1)
        file.seek(0)
        info = ObjectInfo(
            bucket=bucket,
            key=key,
            size=st.st_size,
            etag=digest.hex(),
            last_modified=datetime.fromtimestamp(st.st_mtime, UTC),
            content_type=DEFAULT_CONTENT_TYPE,
        )
        sidecar.parent.mkdir(parents=True, exist_ok=True)
        self._write_sidecar(sidecar, info, st)
        return info

    def head(self, bucket: str, key: str) -> ObjectInfo:
        """An object's metadata."""
        data, sidecar = self._locate(bucket, key)
        found = _lstat(data)
        info = self._read_sidecar(sidecar, bucket, found) if found is not None else None
        if info is not None:
            return info
        file, info = self._open(bucket, key)
        file.close()
        return info

    def get(
        self, bucket: str, key: str, *, byte_range: ByteRange | None = None
    ) -> tuple[ObjectInfo, int, int, Iterator[bytes]]:
        """Open an object; the returned chunks come from the file as it was when opened."""
        file, info = self._open(bucket, key)
        try:
            first, last = resolve_range(info.size, byte_range)
        except BaseException:
            file.close()
            raise
        return info, first, last, _FileChunks(file, first, last)

    # -- listing ---------------------------------------------------------------------------

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
        """List by walking the bucket's directories in key order, skipping what cannot match."""
        query = ListQuery.create(prefix, delimiter, start_after, continuation_token)
        hits = self._walk(bucket, self._bucket_dir(bucket), self._meta / bucket, "", query)
        return page_of(bucket, query, max_keys, self._entries(bucket, hits))

    def _entries(self, bucket: str, hits: Iterator[_Hit]) -> Iterator[ObjectInfo | str]:
        for hit in hits:
            if hit.common_prefix is not None:
                yield hit.common_prefix
                continue
            assert hit.key is not None
            assert hit.data is not None
            assert hit.meta is not None
            found = _lstat(hit.data)
            info = self._read_sidecar(hit.meta, bucket, found) if found is not None else None
            if info is None:
                try:
                    info = self.head(bucket, hit.key)
                except NotFound:
                    continue  # deleted while we listed
            yield info

    def _walk(
        self, bucket: str, data_dir: Path, meta_dir: Path, base: str, query: ListQuery
    ) -> Iterator[_Hit]:
        """Yield the objects and common prefixes under ``data_dir`` in key order.

        Within a directory, a file ``x`` sorts as key ``x`` and a directory ``x`` as the range
        of keys starting with ``x/``; those ranges never interleave, so sorting each directory's
        entries this way and recursing gives the keys in global order.
        """
        if data_dir == self._bucket_dir(bucket):
            found = _lstat(data_dir)
            if found is None or not stat.S_ISDIR(found.st_mode):
                return  # no directory (or a link): no objects
        try:
            with os.scandir(data_dir) as scan:
                entries = [
                    (entry.name, entry.is_dir(follow_symlinks=False))
                    for entry in scan
                    if entry.is_dir(follow_symlinks=False) or entry.is_file(follow_symlinks=False)
                ]
        except (FileNotFoundError, NotADirectoryError):
            return
        items: list[tuple[str, bool, str, str]] = []
        for name, is_dir in entries:
            decoded = decode_name(name)
            if decoded is None or (is_dir and decoded.displaced):
                continue
            segment = decoded.segment
            if segment is None:
                segment = self._long_segment(meta_dir, decoded.long_hash or "")
                if segment is None:
                    continue
            items.append((segment + "/" if is_dir else segment, decoded.displaced, segment, name))
        items.sort()
        for sort_key, _, segment, name in items:
            if sort_key.endswith("/"):  # segments hold no "/": this is a directory
                tree = base + sort_key
                if query.skip_tree(tree):
                    continue
                rolled = query.rollup(tree)
                sub = (data_dir / name, meta_dir / name)
                if rolled is None:
                    yield from self._walk(bucket, *sub, tree, query)
                elif next(self._walk(bucket, *sub, tree, query.flat()), None) is not None:
                    yield _Hit(common_prefix=rolled)
                continue
            key = base + segment
            if query.skip_key(key):
                continue
            rolled = query.rollup(key)
            if rolled is not None:
                yield _Hit(common_prefix=rolled)
            else:
                meta = meta_dir / meta_name(encode_segment(segment))
                yield _Hit(key=key, data=data_dir / name, meta=meta)

    @staticmethod
    def _long_segment(meta_dir: Path, digest: str) -> str | None:
        try:
            segment = (meta_dir / name_file_of_hash(digest)).read_text("utf-8")
        except (OSError, UnicodeError):
            return None
        return segment if segment_matches_hash(segment, digest) else None

    # -- multipart -------------------------------------------------------------------------

    def _upload_dir(self, upload_id: str) -> Path:
        return self._uploads / validate_upload_id(upload_id)

    def create_multipart(
        self, bucket: str, key: str, upload_id: str, *, content_type: str, metadata: dict[str, str]
    ) -> str:
        """Create the upload's staging directory."""
        self._paths(bucket, key)
        self._upload_dir(upload_id).mkdir()
        return ""

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
        """Stage a part as ``<number>-<etag>``; a re-upload of a number adds another file."""
        staging = self._upload_dir(upload_id)
        with self._temp() as temp:
            size, digest = copy_stream(body, temp.file, max_bytes=max_bytes, what="Part")
            check_md5(content_md5, digest)
            temp.file.flush()
            os.fsync(temp.file.fileno())
            try:
                os.replace(temp.path, staging / f"{part_number:05d}-{digest.hex()}")
            except FileNotFoundError:
                raise _no_upload(upload_id) from None
            temp.committed = True
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
        """Concatenate the staged parts into a temp file and commit it like a put."""
        staging = self._upload_dir(upload_id)
        if not staging.is_dir():
            raise _no_upload(upload_id)
        with self._temp() as temp:
            for part in parts:
                path = staging / f"{part.part_number:05d}-{part.etag}"
                try:
                    with path.open("rb") as source:
                        _append_file(source, temp.file)
                except FileNotFoundError:
                    raise ValidationError(
                        f"Part {part.part_number} with ETag {part.etag} is not staged",
                        aws_code="InvalidPart",
                    ) from None
            info = self._commit(
                bucket,
                key,
                temp,
                etag=multipart_etag(part.etag for part in parts),
                content_type=content_type,
                metadata=metadata,
            )
        shutil.rmtree(staging, ignore_errors=True)
        return info

    def abort_multipart(self, bucket: str, key: str, upload_id: str, backing_id: str) -> None:
        """Remove the staging directory."""
        shutil.rmtree(self._upload_dir(upload_id), ignore_errors=True)


class _NullSink:
    """A sink for :func:`copy_stream` when only the hash is wanted."""

    def write(self, data: bytes) -> int:
        return len(data)


def _no_upload(upload_id: str) -> NotFound:
    return NotFound(f"No multipart upload with id {upload_id!r}", aws_code="NoSuchUpload")


def _append_file(source: IO[bytes], sink: IO[bytes]) -> None:
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
