"""``aws-chunked`` bodies and the flexible checksums (``x-amz-checksum-*``) that come with them.

An aws-chunked body is a sequence of ``<hex size>[;chunk-signature=<sig>]\\r\\n<data>\\r\\n``
chunks ending with a zero-size chunk, optionally followed by trailing headers
(``x-amz-checksum-crc32:<base64>``, ``x-amz-trailer-signature:<sig>``) and an empty line.
Signed variants chain each chunk's signature from the previous one, starting at the seed
signature of the request; :class:`AwsChunkedDecoder` checks every link as the bytes arrive.
"""

from __future__ import annotations

import base64
import hashlib
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from lakeworks.core.errors import ValidationError
from lakeworks.server.aws import sigv4

__all__ = [
    "CHECKSUM_ALGORITHMS",
    "AwsChunkedDecoder",
    "ChunkSigner",
    "Hasher",
    "bad_digest",
    "new_hasher",
]

#: Longest chunk header or trailer line accepted; real ones are well under 200 bytes.
_MAX_LINE = 4096
_CHUNK_HEADER = re.compile(rb"^([0-9a-fA-F]{1,16})(?:;chunk-signature=([0-9a-f]{64}))?$")


class Hasher(Protocol):
    """Incremental digest: hashlib objects and the CRC32 adapter both fit."""

    def update(self, data: bytes, /) -> None: ...

    def digest(self) -> bytes: ...


class _Crc32:
    def __init__(self) -> None:
        self._value = 0

    def update(self, data: bytes, /) -> None:
        self._value = zlib.crc32(data, self._value)

    def digest(self) -> bytes:
        return self._value.to_bytes(4, "big")


#: Checksum algorithms verified, by their header suffix (``x-amz-checksum-<name>``).
CHECKSUM_ALGORITHMS: dict[str, Callable[[], Hasher]] = {
    "crc32": _Crc32,
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
}
#: Algorithms AWS defines that the standard library cannot compute; refused rather than ignored.
_UNSUPPORTED = frozenset({"crc32c", "crc64nvme"})


def new_hasher(header: str) -> Hasher:
    """A hasher for a checksum header name (``x-amz-checksum-crc32``).

    Raises:
        ValidationError: ``InvalidRequest`` for an algorithm Lakeworks cannot verify.
    """
    name = header.lower().removeprefix("x-amz-checksum-")
    factory = CHECKSUM_ALGORITHMS.get(name)
    if factory is None:
        hint = " (needs a native library)" if name in _UNSUPPORTED else ""
        raise ValidationError(
            f"Checksum algorithm {name.upper()!r} is not supported{hint}; "
            f"use one of {', '.join(a.upper() for a in CHECKSUM_ALGORITHMS)}",
            aws_code="InvalidRequest",
        )
    return factory()


def bad_digest(what: str) -> ValidationError:
    """The error for a body that does not match the checksum the client sent."""
    return ValidationError(
        f"The {what} you specified did not match the calculated checksum", aws_code="BadDigest"
    )


@dataclass
class ChunkSigner:
    """What it takes to verify chunk signatures: the key, scope and the seed signature."""

    key: bytes
    timestamp: str
    credential: sigv4.Credential
    seed_signature: str


@dataclass
class AwsChunkedDecoder:
    """Incremental decoder of an aws-chunked body.

    Feed it the raw bytes as they arrive; it returns the decoded data. Nothing it returns may be
    trusted until :meth:`finish` returned without raising: signatures and checksums are checked as
    each chunk and the trailer complete.

    Args:
        signer: Set for ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]``: every chunk must carry
            a signature chained from the seed signature.
        trailers: Trailing header names the request announced in ``x-amz-trailer``.
        signed_trailer: The trailer carries ``x-amz-trailer-signature`` (signed variant).
    """

    signer: ChunkSigner | None = None
    trailers: tuple[str, ...] = ()
    signed_trailer: bool = False
    decoded_length: int = 0
    _buffer: bytearray = field(default_factory=bytearray)
    _state: str = "size"
    _remaining: int = 0
    _chunk_signature: str | None = None
    _chunk_hash: hashlib._Hash = field(default_factory=hashlib.sha256)
    _previous: str = ""
    _trailer_values: dict[str, str] = field(default_factory=dict)
    _trailer_lines: list[str] = field(default_factory=list)
    _hashers: dict[str, Hasher] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.signer is not None:
            self._previous = self.signer.seed_signature
        for name in self.trailers:
            if not name.startswith("x-amz-checksum-"):
                raise ValidationError(
                    f"Unsupported trailer {name!r}: only x-amz-checksum-* trailers are accepted",
                    aws_code="InvalidRequest",
                )
            self._hashers[name] = new_hasher(name)

    @property
    def done(self) -> bool:
        """Whether the final chunk and trailer were read."""
        return self._state == "done"

    def feed(self, data: bytes) -> list[bytes]:
        """Consume raw bytes; return the decoded data they completed.

        Raises:
            ValidationError: The framing is malformed (``IncompleteBody``/``InvalidRequest``).
            InvalidSignature: A chunk or trailer signature does not match.
        """
        self._buffer += data
        out: list[bytes] = []
        while self._step(out):
            pass
        return out

    def finish(self) -> None:
        """Check that the body ended where the encoding says it ends.

        Raises:
            ValidationError: ``IncompleteBody`` when the stream stopped early.
        """
        if self._state != "done":
            raise ValidationError(
                "The aws-chunked body ended before its final chunk and trailer",
                aws_code="IncompleteBody",
            )

    # -- the state machine ------------------------------------------------------------------

    def _step(self, out: list[bytes]) -> bool:
        if self._state == "size":
            return self._read_size_line()
        if self._state == "data":
            return self._read_data(out)
        if self._state == "data-end":
            return self._read_data_end()
        if self._state == "trailer":
            return self._read_trailer_line()
        if self._buffer.strip(b"\r\n"):
            raise ValidationError(
                "Unexpected bytes after the end of the aws-chunked body", aws_code="InvalidRequest"
            )
        self._buffer.clear()
        return False

    def _line(self) -> bytes | None:
        end = self._buffer.find(b"\r\n")
        if end < 0:
            if len(self._buffer) > _MAX_LINE:
                raise ValidationError(
                    "Malformed aws-chunked body: a chunk header is too long",
                    aws_code="InvalidRequest",
                )
            return None
        line = bytes(self._buffer[:end])
        del self._buffer[: end + 2]
        return line

    def _read_size_line(self) -> bool:
        line = self._line()
        if line is None:
            return False
        match = _CHUNK_HEADER.match(line.strip())
        if match is None:
            raise ValidationError(
                "Malformed aws-chunked body: expected '<hex size>[;chunk-signature=<sig>]'",
                aws_code="InvalidRequest",
            )
        signature = match.group(2)
        if self.signer is not None and signature is None:
            raise ValidationError(
                "Every chunk of a signed streaming body needs a chunk-signature",
                aws_code="InvalidRequest",
            )
        self._chunk_signature = signature.decode() if signature else None
        self._remaining = int(match.group(1), 16)
        self._chunk_hash = hashlib.sha256()
        if self._remaining == 0:
            self._verify_chunk()
            self._state = "trailer"
        else:
            self._state = "data"
        return True

    def _read_data(self, out: list[bytes]) -> bool:
        if not self._buffer:
            return False
        piece = bytes(self._buffer[: self._remaining])
        del self._buffer[: len(piece)]
        self._remaining -= len(piece)
        self.decoded_length += len(piece)
        if self.signer is not None:
            self._chunk_hash.update(piece)
        for hasher in self._hashers.values():
            hasher.update(piece)
        out.append(piece)
        if self._remaining == 0:
            self._state = "data-end"
        return True

    def _read_data_end(self) -> bool:
        if len(self._buffer) < 2:
            return False
        if self._buffer[:2] != b"\r\n":
            raise ValidationError(
                "Malformed aws-chunked body: chunk data is longer than its declared size",
                aws_code="InvalidRequest",
            )
        del self._buffer[:2]
        self._verify_chunk()
        self._state = "size"
        return True

    def _verify_chunk(self) -> None:
        if self.signer is None:
            return
        assert self._chunk_signature is not None
        to_sign = sigv4.chunk_string_to_sign(
            self.signer.timestamp,
            self.signer.credential,
            self._previous,
            self._chunk_hash.hexdigest(),
        )
        sigv4.verify(sigv4.sign(self.signer.key, to_sign), self._chunk_signature, what="chunk")
        self._previous = self._chunk_signature

    def _read_trailer_line(self) -> bool:
        line = self._line()
        if line is None:
            return False
        if line.strip() == b"":
            self._finish_trailer()
            self._state = "done"
            return True
        name, sep, value = line.decode("latin-1").partition(":")
        if not sep:
            raise ValidationError(
                "Malformed trailer line in the aws-chunked body: expected 'name:value'",
                aws_code="InvalidRequest",
            )
        name, value = name.strip().lower(), value.strip()
        self._trailer_values[name] = value
        if name != "x-amz-trailer-signature":
            self._trailer_lines.append(f"{name}:{value}\n")
        return True

    def _finish_trailer(self) -> None:
        if self.signed_trailer and self.signer is not None:
            given = self._trailer_values.get("x-amz-trailer-signature")
            if given is None:
                raise ValidationError(
                    "The signed streaming body lacks x-amz-trailer-signature",
                    aws_code="InvalidRequest",
                )
            digest = hashlib.sha256("".join(self._trailer_lines).encode()).hexdigest()
            to_sign = sigv4.trailer_string_to_sign(
                self.signer.timestamp, self.signer.credential, self._previous, digest
            )
            sigv4.verify(sigv4.sign(self.signer.key, to_sign), given, what="trailer")
        for name, hasher in self._hashers.items():
            given = self._trailer_values.get(name)
            if given is None:
                raise ValidationError(
                    f"The body announced the trailer {name} but did not send it",
                    aws_code="InvalidRequest",
                )
            if base64.b64encode(hasher.digest()).decode() != given:
                raise bad_digest(name.removeprefix("x-amz-checksum-").upper())
