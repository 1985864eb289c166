"""The object store in a local directory (the default: ``<home>/lake``).

Layout under the root (bucket names never start with ``.``, so nothing here meets a bucket)::

    <root>/<bucket>/<key path>        object data; tools read it in place (see keypaths.py)
    <root>/.meta/<bucket>/<dirs>/.lw~m<name>   one JSON sidecar per object (ETag, types, metadata,
                                      tags, encryption)
    <root>/.tmp/                      puts stream into a temp file here (same file system)
    <root>/.uploads/<upload id>/      staged multipart parts, named <part number>-<etag>
    <root>/.versions/<bucket>/<xx>/   archived versions of versioned buckets: <archive> and
                                      its sidecar <archive>.meta (see localversions.py)

Puts stream into a temp file, fsync it, and ``os.replace`` it onto the key's path, so readers
see the old object or the new one. The sidecar records the inode, size and mtime of the data file
it describes; a reader holding the data file open checks that it matches, so data and metadata
are read as one even while a writer swaps them. A data file without a matching sidecar (a crash
between the two renames, or a file copied into the bucket by hand) gets one rebuilt from its bytes.

A sealed (encrypted) object's data file holds the frames of :mod:`lakeworks.lake.encryption`, so
tools that read the lake in place see only ciphertext there; its sidecar keeps the plaintext's
size and ETag, which is what every :class:`ObjectInfo` describes.

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
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from lakeworks.core.clock import utcnow
from lakeworks.core.errors import (
    InternalError,
    NotFound,
    ResourceInUse,
    ValidationError,
)
from lakeworks.lake.encryption import (
    Encryptor,
    Sealing,
)
from lakeworks.lake.keypaths import (
    displaced_name,
    encode_key,
    long_name_file,
    meta_name,
)
from lakeworks.lake.listing import ListQuery, page_of
from lakeworks.lake.localfiles import (
    FileChunks,
    NullSink,
    Temp,
    describe_sealed,
    fsync_dir,
    lstat,
    sealed_chunks,
    temp_file,
    write_atomically,
)
from lakeworks.lake.localuploads import LocalUploads
from lakeworks.lake.localversions import LocalVersionArea
from lakeworks.lake.localwalk import KeyWalker
from lakeworks.lake.objects import (
    DEFAULT_CONTENT_TYPE,
    ByteRange,
    ChunkReader,
    ObjectStore,
    Readable,
    check_md5,
    copy_stream,
    resolve_range,
)
from lakeworks.schemas.lake import ObjectInfo, ObjectListing, PartInfo

__all__ = ["LocalStore", "Record"]

#: Temp files older than this are leftovers of a crash; the store removes them when it opens.
_STALE_TEMP_SECONDS = 3600

#: A sidecar: an :class:`ObjectInfo` dump plus ``tags``, ``stored_size`` (bytes at rest of a
#: sealed object) and the ``ino``/``dev``/``mtime_ns`` of the data file it describes.
Record = dict[str, Any]


def record_info(record: Record, bucket: str) -> ObjectInfo:
    """The :class:`ObjectInfo` a sidecar record describes."""
    return ObjectInfo.model_validate({**record, "bucket": bucket})


def new_record(info: ObjectInfo, *, tags: dict[str, str] | None, stored_size: int | None) -> Record:
    """The sidecar record of ``info`` (without the file identity, added when written)."""
    record: Record = info.model_dump(mode="json", exclude={"bucket"})
    record["tags"] = dict(tags or {})
    record["tag_count"] = len(record["tags"])
    if stored_size is not None:
        record["stored_size"] = stored_size
    return record


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
        self._versions = self.root / ".versions"
        for path in (self._meta, self._tmp, self._uploads, self._versions):
            path.mkdir(exist_ok=True)
        self._lock = threading.RLock()
        self._area = LocalVersionArea(self, self._versions)
        self._parts = LocalUploads(self, self._uploads)
        self._walker = KeyWalker(self, self._meta)
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

    @property
    def tmp_dir(self) -> Path:
        """Temp files of the store live here (on its file system)."""
        return self._tmp

    @property
    def lock(self) -> threading.RLock:
        """The lock under which the namespace changes (shared with the version area)."""
        return self._lock

    def temp(self) -> contextlib.AbstractContextManager[Temp]:
        """A temp file on the store's file system, removed unless committed."""
        return temp_file(self._tmp)

    def write_small(self, path: Path, payload: bytes) -> None:
        """Write a small file (a sidecar) atomically."""
        write_atomically(self._tmp, path, payload)

    # -- paths -----------------------------------------------------------------------------

    def bucket_dir(self, bucket: str) -> Path:
        """The bucket's directory (the bucket name checked not to leave the root)."""
        return self._bucket_dir(bucket)

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
        found = lstat(path)
        if found is None or not stat.S_ISDIR(found.st_mode):
            raise ValidationError(
                f"The store root holds something other than a directory at {bucket!r}",
                aws_code="InvalidBucketName",
            )

    def is_empty(self, bucket: str) -> bool:
        """Whether no object lives in the bucket."""
        return next(self._walker.walk(bucket, ListQuery()), None) is None

    def delete_bucket(self, bucket: str) -> None:
        """Remove the bucket's (empty) directories, its sidecar tree and its version area."""
        with self._lock:
            if not self.is_empty(bucket):
                raise ResourceInUse(
                    f"Bucket {bucket!r} is not empty; delete its objects first",
                    aws_code="BucketNotEmpty",
                )
            base = self._bucket_dir(bucket)
            if lstat(base) is not None and not base.is_symlink():
                # only empty directories go: a file that is not an object stays where it was
                for dirpath, _, _ in os.walk(base, topdown=False):
                    with contextlib.suppress(OSError):
                        os.rmdir(dirpath)
            shutil.rmtree(self._meta / bucket, ignore_errors=True)
            self._area.drop_bucket(bucket)

    # -- writing ---------------------------------------------------------------------------

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
            found = lstat(path)
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
        found_displaced = lstat(displaced)
        if found_displaced is not None:
            target = displaced  # keep a displaced object where it is: moving back would race
        else:
            found = lstat(natural)
            target = displaced if found is not None and stat.S_ISDIR(found.st_mode) else natural
        found = lstat(target)
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
                write_atomically(self._tmp, current / name_file, segment.encode("utf-8"))
            current = current / encoded

    def place(self, bucket: str, key: str, path: Path, record: Record) -> None:
        """Rename the finished file ``path`` onto ``key`` and write its sidecar ``record``.

        ``path`` must be on the store's file system (a temp file, a link to an archive).
        """
        dirs, name, _, sidecar = self._paths(bucket, key)
        with self._lock:
            parent = self._ensure_dirs(bucket, key, self._bucket_dir(bucket), dirs, data=True)
            target = self._target(parent, name, bucket, key)
            meta_parent = self._ensure_dirs(bucket, key, self._meta / bucket, dirs, data=False)
            self._write_names(self._meta / bucket, dirs, name, key)
            os.replace(path, target)
            found = lstat(target)
            assert found is not None  # renamed under the lock: nobody moved it since
            self.write_record(sidecar, {**record, "key": key}, found)
            fsync_dir(parent)
            fsync_dir(meta_parent)

    def commit(
        self,
        bucket: str,
        key: str,
        temp: Temp,
        *,
        etag: str,
        size: int,
        content_type: str,
        metadata: dict[str, str],
        sse: Sealing | None = None,
        tags: dict[str, str] | None = None,
    ) -> ObjectInfo:
        """Make a fully written temp file the data of ``key``, with its sidecar."""
        temp.file.flush()
        os.fsync(temp.file.fileno())
        stored = os.fstat(temp.file.fileno()).st_size
        info = ObjectInfo(
            bucket=bucket,
            key=key,
            size=size,
            etag=etag,
            last_modified=utcnow(),
            content_type=content_type,
            metadata=metadata,
            server_side_encryption=sse.algorithm if sse else None,
            kms_key_id=sse.kms_key_id if sse else None,
            tag_count=len(tags or {}),
        )
        record = new_record(info, tags=tags, stored_size=stored if sse else None)
        self.place(bucket, key, temp.path, record)
        temp.committed = True
        return info

    def write_record(self, path: Path, record: Record, st: os.stat_result) -> None:
        """Write a sidecar describing the data file whose stat is ``st``."""
        full = {**record, "ino": st.st_ino, "dev": st.st_dev, "mtime_ns": st.st_mtime_ns}
        self.write_small(path, json.dumps(full).encode("utf-8"))

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
        """Stream ``body`` into a temp file (sealing it if asked), then rename it onto the key."""
        _, _, parent, _ = self._paths(bucket, key)
        self._contained(parent, bucket, key)  # refuse a linked path before reading the body
        with self.temp() as temp:
            size, digest = self.receive(body, temp, max_bytes=max_bytes, sse=sse)
            check_md5(content_md5, digest)
            return self.commit(
                bucket,
                key,
                temp,
                etag=digest.hex(),
                size=size,
                content_type=content_type,
                metadata=metadata,
                sse=sse,
                tags=tags,
            )

    @staticmethod
    def receive(
        body: Readable, temp: Temp, *, max_bytes: int, sse: Sealing | None, what: str = "Object"
    ) -> tuple[int, bytes]:
        """Copy ``body`` into ``temp`` (sealed when ``sse``); returns plaintext size and MD5."""
        if sse is None:
            return copy_stream(body, temp.file, max_bytes=max_bytes, what=what)
        sealer = Encryptor(temp.file.write, sse)
        size, digest = copy_stream(body, sealer, max_bytes=max_bytes, what=what)
        sealer.finish()
        return size, digest

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
        """Copy through a temp file; the source stays open, so a concurrent put cannot tear it."""
        if src_archive is None:
            source, info, record = self.open(src_bucket, src_key)
        else:
            source, info, record = self._area.open(src_bucket, src_key, src_archive)
        with source, self.temp() as temp:
            reader = ChunkReader(self.chunks(source, info, 0, info.size - 1))
            size, digest = self.receive(
                reader, temp, max_bytes=max_bytes, sse=sse, what="Copy source"
            )
            return self.commit(
                dst_bucket,
                dst_key,
                temp,
                etag=digest.hex(),
                size=size,
                content_type=info.content_type if content_type is None else content_type,
                metadata=info.metadata if metadata is None else metadata,
                sse=sse,
                tags=dict(record.get("tags") or {}) if tags is None else tags,
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
            found = lstat(candidate)
            if found is not None and stat.S_ISREG(found.st_mode):
                return self._contained(candidate, bucket, key), sidecar
        raise NotFound(
            f"No object {key!r} in bucket {bucket!r}",
            aws_code="NoSuchKey",
            details={"bucket": bucket, "key": key},
        )

    @staticmethod
    def read_record(path: Path, st: os.stat_result) -> Record | None:
        """The sidecar at ``path`` if it describes exactly the data file ``st``, else ``None``."""
        try:
            record = json.loads(path.read_bytes())
            stored = record.get("stored_size", record["size"])
            if (record["ino"], record["dev"], record["mtime_ns"], stored) != (
                st.st_ino,
                st.st_dev,
                st.st_mtime_ns,
                st.st_size,
            ):
                return None
            if not isinstance(record, dict):
                return None
            return record
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    _read_record = read_record

    def open(self, bucket: str, key: str) -> tuple[IO[bytes], ObjectInfo, Record]:
        """Open ``key`` and return the file with the info and sidecar that match its bytes.

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
                record = self.read_record(sidecar, os.fstat(file.fileno()))
            except BaseException:
                file.close()
                raise
            if record is not None:
                return file, record_info(record, bucket), record
            file.close()
        with self._lock:
            data, sidecar = self._locate(bucket, key)
            file = data.open("rb")
            try:
                st = os.fstat(file.fileno())
                record = self.read_record(sidecar, st) or self._rebuild(
                    bucket, key, file, st, sidecar
                )
                return file, record_info(record, bucket), record
            except BaseException:
                file.close()
                raise

    def _rebuild(
        self, bucket: str, key: str, file: IO[bytes], st: os.stat_result, sidecar: Path
    ) -> Record:
        """Describe a data file that has no sidecar (called under the lock) and save it.

        A file that starts like a sealed object and opens with a known data key is described
        as one (a crash between the two renames of a sealed put); anything else is plaintext.
        """
        sealed = describe_sealed(file, st.st_size, self.keys)
        if sealed is None:
            _, digest = copy_stream(file, NullSink(), max_bytes=st.st_size + 1)
            size, etag = st.st_size, digest.hex()
        else:
            size, etag = sealed
        info = ObjectInfo(
            bucket=bucket,
            key=key,
            size=size,
            etag=etag,
            last_modified=datetime.fromtimestamp(st.st_mtime, UTC),
            content_type=DEFAULT_CONTENT_TYPE,
            server_side_encryption="AES256" if sealed is not None else None,
        )
        file.seek(0)
        record = new_record(info, tags=None, stored_size=st.st_size if sealed else None)
        sidecar.parent.mkdir(parents=True, exist_ok=True)
        self.write_record(sidecar, record, st)
        return record

    def chunks(self, file: IO[bytes], info: ObjectInfo, first: int, last: int) -> Iterator[bytes]:
        """Plaintext bytes ``first..last`` of an open data file (decrypted if sealed)."""
        if info.server_side_encryption is None:
            return FileChunks(file, first, last)
        return sealed_chunks(file, info.size, first, last, self.data_key)

    def data_key(self, key_id: bytes) -> bytes:
        """The data key with id ``key_id``.

        Raises:
            InternalError: The store was given no key resolver.
        """
        if self.keys is None:
            raise InternalError("An encrypted object was read, but the store has no data keys")
        return self.keys(key_id)

    def head(self, bucket: str, key: str) -> ObjectInfo:
        """An object's metadata."""
        data, sidecar = self._locate(bucket, key)
        found = lstat(data)
        record = self.read_record(sidecar, found) if found is not None else None
        if record is not None:
            return record_info(record, bucket)
        file, info, _ = self.open(bucket, key)
        file.close()
        return info

    def get(
        self, bucket: str, key: str, *, byte_range: ByteRange | None = None
    ) -> tuple[ObjectInfo, int, int, Iterator[bytes]]:
        """Open an object; the returned chunks come from the file as it was when opened."""
        file, info, _ = self.open(bucket, key)
        try:
            first, last = resolve_range(info.size, byte_range)
            return info, first, last, self.chunks(file, info, first, last)
        except BaseException:
            file.close()
            raise

    # -- tags --------------------------------------------------------------------------------

    def get_tags(self, bucket: str, key: str, *, archive: str | None = None) -> dict[str, str]:
        """The tags kept in the object's (or the archived version's) sidecar."""
        if archive is not None:
            return self._area.get_tags(bucket, key, archive)
        file, _, record = self.open(bucket, key)
        file.close()
        return dict(record.get("tags") or {})

    def put_tags(
        self, bucket: str, key: str, tags: dict[str, str], *, archive: str | None = None
    ) -> None:
        """Rewrite the sidecar with new tags (under the lock, so no put interleaves)."""
        if archive is not None:
            self._area.put_tags(bucket, key, archive, tags)
            return
        _, _, _, sidecar = self._paths(bucket, key)
        with self._lock:
            file, _, record = self.open(bucket, key)
            with file:
                st = os.fstat(file.fileno())
            self.write_record(sidecar, {**record, "tags": dict(tags), "tag_count": len(tags)}, st)

    # -- the version area --------------------------------------------------------------------

    def archive(self, bucket: str, key: str, archive: str) -> bool:
        """Keep the current object of ``key`` in the version area (see localversions.py)."""
        return self._area.archive(bucket, key, archive)

    def restore(self, bucket: str, key: str, archive: str) -> None:
        """Bring an archived version back to ``key``'s natural place."""
        self._area.restore(bucket, key, archive)

    def get_archived(
        self, bucket: str, key: str, archive: str, *, byte_range: ByteRange | None = None
    ) -> tuple[ObjectInfo, int, int, Iterator[bytes]]:
        """Open an archived version."""
        file, info, _ = self._area.open(bucket, key, archive)
        try:
            first, last = resolve_range(info.size, byte_range)
            return info, first, last, self.chunks(file, info, first, last)
        except BaseException:
            file.close()
            raise

    def head_archived(self, bucket: str, key: str, archive: str) -> ObjectInfo:
        """An archived version's metadata."""
        file, info, _ = self._area.open(bucket, key, archive)
        file.close()
        return info

    def delete_archived(self, bucket: str, archive: str) -> None:
        """Remove an archived version."""
        self._area.delete(bucket, archive)

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
        exact: bool = False,
    ) -> ObjectListing:
        """List by walking the bucket's directories in key order, skipping what cannot match."""
        query = ListQuery.create(prefix, delimiter, start_after, continuation_token)
        return page_of(bucket, query, max_keys, self._walker.entries(bucket, query))

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
        """Create the upload's staging directory (see localuploads.py)."""
        self._paths(bucket, key)
        return self._parts.create(upload_id)

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
        """Stage a part (sealed like the object will be)."""
        return self._parts.put(
            upload_id, part_number, body, max_bytes=max_bytes, content_md5=content_md5, sse=sse
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
        sse: Sealing | None = None,
        tags: dict[str, str] | None = None,
    ) -> ObjectInfo:
        """Join the staged parts into the object and commit it like a put."""
        return self._parts.complete(
            bucket,
            key,
            upload_id,
            parts,
            content_type=content_type,
            metadata=metadata,
            sse=sse,
            tags=tags,
        )

    def abort_multipart(self, bucket: str, key: str, upload_id: str, backing_id: str) -> None:
        """Remove the staging directory."""
        self._parts.abort(upload_id)
