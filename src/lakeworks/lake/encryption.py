"""Encryption at rest: AES-256-GCM in frames, so streams and byte ranges stay cheap (pure logic).

An encrypted object is a header followed by frames (integers big-endian)::

    header   44 bytes   magic b"LWE1" | format 1 | 3 zero bytes | frame size (u32) |
                        data key id (16 bytes) | object salt (16 bytes, random)
    frame i             AES-256-GCM(object key, nonce_i, plaintext_i, aad=header)
                        = ciphertext_i (as long as plaintext_i) || tag_i (16 bytes)

* The object key is HKDF-SHA256(data key, salt=object salt): every object gets a fresh key, so
  the counter nonces below never repeat under one key however many objects a data key seals.
* ``nonce_i`` is ``i`` as 11 bytes followed by a final flag (1 on the last frame, else 0): the
  STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár 2015). Reordered, swapped, dropped
  or truncated frames fail authentication, and so does a header that was changed.
* Every frame holds ``frame size`` plaintext bytes except the last, which holds 1 to
  ``frame size`` (an empty object is a single empty final frame). Sizes are therefore
  arithmetic: the ciphertext size gives the plaintext size and back, and a plaintext byte range
  maps to the few frames that hold it, so a range read decrypts only those frames.

Data keys (one per bucket and key label) are made and wrapped by
:mod:`lakeworks.lake.keyring`; this module only needs a function from key id to data key.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from lakeworks.core.errors import LakeworksError

__all__ = [
    "ALGORITHMS",
    "DEFAULT_FRAME_SIZE",
    "HEADER_SIZE",
    "KEY_ID_SIZE",
    "TAG_SIZE",
    "CorruptObject",
    "Encryptor",
    "FrameHeader",
    "KeyResolver",
    "Sealing",
    "cipher_range",
    "cipher_size",
    "decrypt_frames",
    "decrypt_range",
    "frame_count",
    "looks_encrypted",
    "new_header",
    "parse_header",
    "plain_size",
]

#: Server-side encryption algorithms as S3 names them; both seal with AES-256-GCM here.
ALGORITHMS = ("AES256", "aws:kms")
MAGIC = b"LWE1"
FORMAT = 1
HEADER_SIZE = 44
KEY_ID_SIZE = 16
SALT_SIZE = 16
TAG_SIZE = 16
DEFAULT_FRAME_SIZE = 1024 * 1024
_HEADER = struct.Struct(">4sB3xI16s16s")
_HKDF_INFO = b"lakeworks lake object v1"

#: Turns a data key id into the 32-byte data key (raises if the key is unknown).
KeyResolver = Callable[[bytes], bytes]


class CorruptObject(LakeworksError):
    """Encrypted bytes failed authentication: changed, truncated or corrupted at rest (500)."""

    status = 500
    code = "InternalError"


@dataclass(frozen=True)
class Sealing:
    """How to encrypt one object: the S3 algorithm name, the key label and the data key.

    Attributes:
        algorithm: ``AES256`` (SSE-S3) or ``aws:kms`` (SSE-KMS), as the client asked.
        kms_key_id: The key label of ``aws:kms`` (echoed to clients), else ``None``.
        key_id: The data key's id, written into every object's header.
        key: The 32-byte data key (never shown in reprs).
    """

    algorithm: str
    kms_key_id: str | None
    key_id: bytes
    key: bytes = field(repr=False)


@dataclass(frozen=True)
class FrameHeader:
    """The parsed header of an encrypted object."""

    frame_size: int
    key_id: bytes
    salt: bytes
    raw: bytes = field(repr=False)


def new_header(key_id: bytes, *, frame_size: int = DEFAULT_FRAME_SIZE) -> FrameHeader:
    """A header for a new object: ``key_id``'s data key and a fresh random salt."""
    if len(key_id) != KEY_ID_SIZE:
        raise ValueError(f"a data key id is {KEY_ID_SIZE} bytes")
    salt = os.urandom(SALT_SIZE)
    raw = _HEADER.pack(MAGIC, FORMAT, frame_size, key_id, salt)
    return FrameHeader(frame_size, key_id, salt, raw)


def parse_header(raw: bytes) -> FrameHeader:
    """Read a header written by :func:`new_header`.

    Raises:
        CorruptObject: The bytes are not a header of a known format.
    """
    if len(raw) < HEADER_SIZE:
        raise _corrupt("its header is truncated")
    magic, version, frame_size, key_id, salt = _HEADER.unpack(raw[:HEADER_SIZE])
    if magic != MAGIC or version != FORMAT or frame_size <= 0:
        raise _corrupt("its header is not a Lakeworks encryption header")
    return FrameHeader(frame_size, key_id, salt, bytes(raw[:HEADER_SIZE]))


def looks_encrypted(raw: bytes) -> bool:
    """Whether ``raw`` starts like an encrypted object (for repairs; never proof)."""
    return len(raw) >= HEADER_SIZE and raw[:4] == MAGIC and raw[4] == FORMAT


def _corrupt(why: str) -> CorruptObject:
    return CorruptObject(
        f"Stored object data failed its integrity check: {why}. It was changed or damaged at "
        "rest; restore it from a backup or an older version"
    )


def _object_key(data_key: bytes, header: FrameHeader) -> AESGCM:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=header.salt, info=_HKDF_INFO)
    return AESGCM(hkdf.derive(data_key))


def _nonce(index: int, final: bool) -> bytes:
    return index.to_bytes(11, "big") + (b"\x01" if final else b"\x00")


def frame_count(size: int, frame_size: int) -> int:
    """Frames holding ``size`` plaintext bytes (at least one)."""
    return max(1, -(-size // frame_size))


def cipher_size(size: int, frame_size: int = DEFAULT_FRAME_SIZE) -> int:
    """Bytes at rest for ``size`` plaintext bytes."""
    return HEADER_SIZE + size + TAG_SIZE * frame_count(size, frame_size)


def plain_size(stored: int, frame_size: int = DEFAULT_FRAME_SIZE) -> int:
    """Plaintext bytes in an object of ``stored`` bytes at rest.

    Raises:
        CorruptObject: No plaintext size has that many bytes at rest.
    """
    rest = stored - HEADER_SIZE
    frames = max(1, -(-rest // (frame_size + TAG_SIZE)))
    size = rest - TAG_SIZE * frames
    if size < 0 or cipher_size(size, frame_size) != stored:
        raise _corrupt(f"{stored} bytes cannot hold whole frames")
    return size


def cipher_range(first: int, last: int, size: int, frame_size: int) -> tuple[int, int, int]:
    """Where plaintext bytes ``first..last`` (inclusive) of a ``size``-byte object lie at rest.

    Returns:
        ``(first frame, first stored byte, last stored byte)``: read those stored bytes and
        decrypt them as frames starting at the first frame.
    """
    step = frame_size + TAG_SIZE
    first_frame = first // frame_size
    last_frame = last // frame_size if size else 0
    start = HEADER_SIZE + first_frame * step
    end = min(HEADER_SIZE + (last_frame + 1) * step, cipher_size(size, frame_size)) - 1
    return first_frame, start, end


class Encryptor:
    """A sink that encrypts what is written to it into frames written to ``sink``.

    Write plaintext with :meth:`write` (any chunk sizes), then call :meth:`finish` once to
    write the final frame; only then is the ciphertext complete.

    Args:
        sink: Where the header and frames go (``write(bytes)``).
        sealing: The data key to seal with.
        frame_size: Plaintext bytes per frame.
    """

    def __init__(
        self, sink: Callable[[bytes], object], sealing: Sealing, *, frame_size: int | None = None
    ) -> None:
        self._sink = sink
        self.header = new_header(sealing.key_id, frame_size=frame_size or DEFAULT_FRAME_SIZE)
        self._aead = _object_key(sealing.key, self.header)
        self._buffer = bytearray()
        self._index = 0
        self._finished = False
        self.stored = HEADER_SIZE
        sink(self.header.raw)

    def _emit(self, plaintext: bytes, final: bool) -> None:
        frame = self._aead.encrypt(_nonce(self._index, final), plaintext, self.header.raw)
        self._sink(frame)
        self.stored += len(frame)
        self._index += 1

    def write(self, data: bytes) -> int:
        """Encrypt ``data``; full frames go out as soon as a byte past them arrives."""
        if self._finished:
            raise ValueError("write after finish")
        self._buffer += data
        size = self.header.frame_size
        # keep up to one whole frame back: only finish() knows which frame is the last
        while len(self._buffer) > size:
            self._emit(bytes(self._buffer[:size]), final=False)
            del self._buffer[:size]
        return len(data)

    def finish(self) -> int:
        """Write the final frame; returns the bytes written at rest in all."""
        if not self._finished:
            self._emit(bytes(self._buffer), final=True)
            self._buffer.clear()
            self._finished = True
        return self.stored


def decrypt_frames(
    header: FrameHeader,
    data_key: bytes,
    size: int,
    first: int,
    last: int,
    stored: Iterator[bytes],
) -> Iterator[bytes]:
    """Decrypt plaintext bytes ``first..last`` from the stored bytes that hold them.

    Args:
        header: The object's header.
        data_key: The data key named in the header.
        size: The object's plaintext size.
        first: First plaintext byte wanted.
        last: Last plaintext byte wanted (inclusive); ``first - 1`` for nothing.
        stored: The stored bytes from :func:`cipher_range`'s first to last byte, in any chunks.

    Yields:
        The plaintext, in chunks of at most one frame.

    Raises:
        CorruptObject: A frame fails authentication or the stored bytes end early.
    """
    frame_size = header.frame_size
    frames = frame_count(size, frame_size)
    aead = _object_key(data_key, header)
    index, _, _ = cipher_range(first, max(first, last), size, frame_size)
    step = frame_size + TAG_SIZE
    buffer = bytearray()
    position = index * frame_size  # plaintext offset of the frame being assembled
    end_of_frames = size if size else 0

    def open_frame(raw: bytes, index: int) -> bytes:
        try:
            return aead.decrypt(_nonce(index, index == frames - 1), raw, header.raw)
        except InvalidTag:
            raise _corrupt(f"frame {index} does not authenticate") from None

    for chunk in stored:
        buffer += chunk
        while len(buffer) >= step or (
            index == frames - 1 and len(buffer) >= end_of_frames - position + TAG_SIZE
        ):
            length = min(step, end_of_frames - position + TAG_SIZE)
            plain = open_frame(bytes(buffer[:length]), index)
            del buffer[:length]
            piece = plain[max(0, first - position) : max(0, last - position + 1)]
            if piece:
                yield piece
            position += len(plain)
            index += 1
            if position > last or index >= frames:
                return
    if last >= first and position <= last:
        raise _corrupt("the stored bytes end before the last frame")


def decrypt_range(
    header: FrameHeader,
    data_key: bytes,
    size: int,
    first: int,
    last: int,
    read: Callable[[int, int], Iterator[bytes]],
) -> Iterator[bytes]:
    """Plaintext bytes ``first..last`` of a sealed object, reading only the frames holding them.

    Args:
        read: Returns the stored bytes from one offset to another (both inclusive).

    The first frame is decrypted before this returns, so a failed integrity check surfaces
    before a response starts.

    Raises:
        CorruptObject: A frame fails authentication.
    """
    _, start, end = cipher_range(first, last, size, header.frame_size)
    plain = decrypt_frames(header, data_key, size, first, last, read(start, end))
    head = next(plain, None)
    if head is None:
        return iter(())
    return _chain(head, plain)


def _chain(head: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield head
    yield from rest
