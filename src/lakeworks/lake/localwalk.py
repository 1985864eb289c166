"""Listings of the local store: walking a bucket's directories in key order.

Within a directory, a file ``x`` sorts as key ``x`` and a directory ``x`` as the range of keys
starting with ``x/``; those ranges never interleave, so sorting each directory's entries this way
and recursing gives the keys in global (UTF-8 byte) order. The walk skips subtrees a query
cannot list and rolls subtrees up into common prefixes without descending into them further than
to find one key.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lakeworks.core.errors import NotFound
from lakeworks.lake.keypaths import (
    decode_name,
    encode_segment,
    meta_name,
    name_file_of_hash,
    segment_matches_hash,
)
from lakeworks.lake.listing import ListQuery
from lakeworks.lake.localfiles import lstat
from lakeworks.schemas.lake import ObjectInfo

if TYPE_CHECKING:
    from lakeworks.lake.localstore import LocalStore

__all__ = ["KeyWalker"]


@dataclass(frozen=True)
class _Hit:
    """One listing entry: an object (key, data path, sidecar path) or a common prefix."""

    key: str | None = None
    data: Path | None = None
    meta: Path | None = None
    common_prefix: str | None = None


class KeyWalker:
    """Walks the buckets of one :class:`LocalStore`.

    Args:
        store: The store (bucket directories, sidecars).
        meta: ``<store root>/.meta``, the sidecar tree.
    """

    def __init__(self, store: LocalStore, meta: Path) -> None:
        self._store = store
        self._meta = meta

    def entries(self, bucket: str, query: ListQuery) -> Iterator[ObjectInfo | str]:
        """The objects and common prefixes of a listing, in key order."""
        hits = self.walk(bucket, query)
        for hit in hits:
            if hit.common_prefix is not None:
                yield hit.common_prefix
                continue
            assert hit.key is not None
            assert hit.data is not None
            assert hit.meta is not None
            found = lstat(hit.data)
            record = self._store.read_record(hit.meta, found) if found is not None else None
            info = _record_info(record, bucket) if record is not None else None
            if info is None:
                try:
                    info = self._store.head(bucket, hit.key)
                except NotFound:
                    continue  # deleted while we listed
            yield info

    def walk(self, bucket: str, query: ListQuery) -> Iterator[_Hit]:
        """Every object and common prefix of ``bucket`` that ``query`` lists, in key order."""
        base_dir = self._store.bucket_dir(bucket)
        found = lstat(base_dir)
        if found is None or not stat.S_ISDIR(found.st_mode):
            return iter(())  # no directory (or a link): no objects
        return self._walk(base_dir, self._meta / bucket, "", query)

    def _walk(self, data_dir: Path, meta_dir: Path, base: str, query: ListQuery) -> Iterator[_Hit]:
        """Yield the objects and common prefixes under ``data_dir`` in key order.

        Within a directory, a file ``x`` sorts as key ``x`` and a directory ``x`` as the range
        of keys starting with ``x/``; those ranges never interleave, so sorting each directory's
        entries this way and recursing gives the keys in global order.
        """
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
                    yield from self._walk(*sub, tree, query)
                elif next(self._walk(*sub, tree, query.flat()), None) is not None:
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


def _record_info(record: dict[str, object], bucket: str) -> ObjectInfo:
    return ObjectInfo.model_validate({**record, "bucket": bucket})
