"""The local store's version area: archived versions of versioned buckets.

Layout: ``<root>/.versions/<bucket>/<xx>/<archive>`` holds a version's bytes (sealed if the
object was) and ``<archive>.meta`` its sidecar (the same record as at the natural place, with the
key it belongs to). ``<xx>`` is the first two characters of the archive name, so no directory
grows past a few thousand entries.

Archiving a current object hard-links its data file into the area (no bytes are copied; a file
system without hard links gets a copy), so replacing or deleting the key afterwards leaves the
archived bytes untouched. Restoring links the archive back to the key's natural place through
the store's usual rename, then drops the archive. Everything that changes names runs under the
store's lock.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
from pathlib import Path
from typing import IO, TYPE_CHECKING

from lakeworks.core.errors import NotFound, ValidationError
from lakeworks.lake.localfiles import lstat
from lakeworks.schemas.lake import ObjectInfo

if TYPE_CHECKING:
    from lakeworks.lake.localstore import LocalStore, Record

__all__ = ["LocalVersionArea"]

_ARCHIVE = re.compile(r"^[0-9a-f]{32}$")


def _no_version(bucket: str, key: str) -> NotFound:
    return NotFound(
        f"The archived version of {key!r} in bucket {bucket!r} is missing",
        aws_code="NoSuchVersion",
        details={"bucket": bucket, "key": key},
    )


class LocalVersionArea:
    """Archived versions under ``root`` for one :class:`LocalStore`.

    Args:
        store: The store (its lock, temp files, sidecars and natural places).
        root: ``<store root>/.versions``.
    """

    def __init__(self, store: LocalStore, root: Path) -> None:
        self._store = store
        self._root = root

    def _paths(self, bucket: str, archive: str) -> tuple[Path, Path]:
        if not _ARCHIVE.match(archive) or not bucket or bucket.startswith(".") or "/" in bucket:
            raise ValidationError(f"Invalid archive name {archive!r}", aws_code="InvalidArgument")
        shard = self._root / bucket / archive[:2]
        return shard / archive, shard / f"{archive}.meta"

    def archive(self, bucket: str, key: str, archive: str) -> bool:
        """Link the current data file of ``key`` into the area with a copy of its sidecar.

        Returns:
            ``False`` when ``key`` has no current object.
        """
        data, meta = self._paths(bucket, archive)
        with self._store.lock:
            try:
                file, _, record = self._store.open(bucket, key)
            except NotFound:
                return False
            with file:
                data.parent.mkdir(parents=True, exist_ok=True)
                self._link_or_copy(file, data)
            found = lstat(data)
            assert found is not None
            self._store.write_record(meta, {**record, "key": key}, found)
        return True

    def open(self, bucket: str, key: str, archive: str) -> tuple[IO[bytes], ObjectInfo, Record]:
        """Open an archived version: its file, info and sidecar record.

        Raises:
            NotFound: ``NoSuchVersion`` when the archive is gone.
        """
        data, meta = self._paths(bucket, archive)
        try:
            file = data.open("rb")
        except (FileNotFoundError, NotADirectoryError):
            raise _no_version(bucket, key) from None
        try:
            record = self._store.read_record(meta, os.fstat(file.fileno()))
            if record is None:
                raise _no_version(bucket, key)
            info = ObjectInfo.model_validate({**record, "bucket": bucket, "key": key})
        except BaseException:
            file.close()
            raise
        return file, info, record

    def restore(self, bucket: str, key: str, archive: str) -> None:
        """Put an archived version back at ``key``'s natural place and drop the archive."""
        with self._store.lock:
            file, _, record = self.open(bucket, key, archive)
            link = self._store.tmp_dir / f"restore-{archive}-{secrets.token_hex(4)}"
            with file:
                self._link_or_copy(file, link)  # the rename below consumes the link
            try:
                self._store.place(bucket, key, link, record)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    link.unlink()
                raise
            self.delete(bucket, archive)

    def _link_or_copy(self, file: IO[bytes], dest: Path) -> None:
        """Hard-link the open ``file`` to ``dest``; copy its bytes where links fail."""
        try:
            os.link(file.name, dest)
            return
        except OSError:
            pass  # another file system, or one without hard links
        with self._store.temp() as temp:
            file.seek(0)
            shutil.copyfileobj(file, temp.file)
            temp.file.flush()
            os.fsync(temp.file.fileno())
            os.replace(temp.path, dest)
            temp.committed = True

    def delete(self, bucket: str, archive: str) -> None:
        """Remove an archived version (and its shard directory once empty)."""
        data, meta = self._paths(bucket, archive)
        with self._store.lock:
            for path in (data, meta):
                with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                    path.unlink()
            with contextlib.suppress(OSError):
                data.parent.rmdir()

    def get_tags(self, bucket: str, key: str, archive: str) -> dict[str, str]:
        """An archived version's tags."""
        file, _, record = self.open(bucket, key, archive)
        file.close()
        return dict(record.get("tags") or {})

    def put_tags(self, bucket: str, key: str, archive: str, tags: dict[str, str]) -> None:
        """Replace an archived version's tags."""
        _, meta = self._paths(bucket, archive)
        with self._store.lock:
            file, _, record = self.open(bucket, key, archive)
            with file:
                st = os.fstat(file.fileno())
            updated = {**record, "tags": dict(tags), "tag_count": len(tags)}
            self._store.write_record(meta, updated, st)

    def drop_bucket(self, bucket: str) -> None:
        """Remove a deleted bucket's whole area."""
        if bucket and not bucket.startswith(".") and "/" not in bucket:
            shutil.rmtree(self._root / bucket, ignore_errors=True)
