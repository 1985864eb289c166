"""How object keys map onto file names in the local store (pure logic, no I/O).

A key is split at ``/`` into segments; every segment but the last names a directory and the last
names the data file, so ``data/2024/part-0.parquet`` lives at ``<bucket>/data/2024/part-0.parquet``
and tools such as DuckDB read lake data in place. Keys that a file system cannot hold literally
are escaped with names under the reserved prefix :data:`TAG` (``.lw~``), followed by one letter:

=============  ===============================================================================
``.lw~e``      an empty segment: ``a//b`` is ``a/.lw~e/b``; the folder marker ``dir/`` is the
               file ``dir/.lw~e``
``.lw~t…``     a segment that itself starts with ``.lw~``: ``.lw~x`` is stored as ``.lw~tx``
``.lw~l<h>``   a segment longer than :data:`MAX_PLAIN_BYTES`; ``<h>`` is its SHA-256 and the
               sidecar tree keeps the real segment in a name file ``.lw~n<h>``
``.lw~f…``     a *displaced* data file: when ``a`` and ``a/b`` both exist, the directory ``a``
               keeps the natural name and the data of key ``a`` moves to ``.lw~fa``
``.lw~m…``     a metadata sidecar (only in the sidecar tree), e.g. ``.lw~mpart-0.parquet``
=============  ===============================================================================

Only ordinary keys get ordinary paths; the escapes are rare and always hidden (dot) files. Names
under :data:`TAG` with any other letter are not objects and are skipped by listings.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

__all__ = [
    "MAX_PLAIN_BYTES",
    "TAG",
    "DecodedName",
    "decode_name",
    "displaced_name",
    "encode_key",
    "encode_segment",
    "long_name_file",
    "meta_name",
    "name_file_of_hash",
    "segment_matches_hash",
]

TAG = ".lw~"
_EMPTY = TAG + "e"
_LITERAL = TAG + "t"
_LONG = TAG + "l"
_DISPLACED = TAG + "f"
_META = TAG + "m"
_NAME = TAG + "n"

#: Longest segment (UTF-8 bytes) stored under its own name. File systems allow 255 bytes per
#: name; the escapes add up to 6 more, so longer segments are stored under their hash.
MAX_PLAIN_BYTES = 240


@dataclass(frozen=True)
class DecodedName:
    """What one directory entry of the data tree stands for.

    Attributes:
        segment: The key segment, or ``None`` when only the hash of a long segment is known.
        long_hash: SHA-256 hex of a long segment (look its name up in the sidecar tree).
        displaced: The entry is a data file moved aside for a directory of the same name.
    """

    segment: str | None
    long_hash: str | None = None
    displaced: bool = False


def _hash(segment: str) -> str:
    return hashlib.sha256(segment.encode("utf-8")).hexdigest()


def encode_segment(segment: str) -> str:
    """Return the file name that holds ``segment`` (see the module table)."""
    if segment == "":
        return _EMPTY
    if len(segment.encode("utf-8")) > MAX_PLAIN_BYTES:
        return _LONG + _hash(segment)
    if segment.startswith(TAG):
        return _LITERAL + segment[len(TAG) :]
    return segment


def encode_key(key: str) -> tuple[list[str], str]:
    """Split ``key`` into encoded directory names and the encoded data file name.

    Returns:
        ``(directories, file_name)``; the data normally lives at ``<bucket>/<dirs...>/<file>``,
        or at :func:`displaced_name` of ``file`` when a directory took the natural name.
    """
    *dirs, last = key.split("/")
    return [encode_segment(d) for d in dirs], encode_segment(last)


def displaced_name(file_name: str) -> str:
    """The name a data file moves to when a directory needs its natural name."""
    return _DISPLACED + file_name


def meta_name(file_name: str) -> str:
    """The sidecar file name of the data file ``file_name`` (in the sidecar tree)."""
    return _META + file_name


def long_name_file(encoded: str) -> str | None:
    """The name file (sidecar tree) that records the real segment of a long encoded name."""
    if encoded.startswith(_LONG):
        return name_file_of_hash(encoded[len(_LONG) :])
    return None


def name_file_of_hash(digest: str) -> str:
    """The name file (sidecar tree) of the long segment whose SHA-256 is ``digest``."""
    return _NAME + digest


def decode_name(name: str) -> DecodedName | None:
    """Decode a data-tree entry name; ``None`` for names that are not part of any key."""
    if not name.startswith(TAG):
        return DecodedName(name)
    if name == _EMPTY:
        return DecodedName("")
    if name.startswith(_LITERAL):
        return DecodedName(TAG + name[len(_LITERAL) :])
    if name.startswith(_LONG):
        digest = name[len(_LONG) :]
        if len(digest) == 64 and all(c in "0123456789abcdef" for c in digest):
            return DecodedName(None, long_hash=digest)
        return None
    if name.startswith(_DISPLACED):
        inner = decode_name(name[len(_DISPLACED) :])
        if inner is None or inner.displaced:
            return None
        return DecodedName(inner.segment, inner.long_hash, displaced=True)
    return None


def segment_matches_hash(segment: str, digest: str) -> bool:
    """Whether ``segment`` is the long segment whose hash is ``digest`` (guards name files)."""
    return len(segment.encode("utf-8")) > MAX_PLAIN_BYTES and _hash(segment) == digest
