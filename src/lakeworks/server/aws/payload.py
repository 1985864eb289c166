"""The body of a SigV4 request, verified while it streams.

``x-amz-content-sha256`` says how the body is protected: its hex SHA-256, ``UNSIGNED-PAYLOAD``,
or an aws-chunked encoding (signed chunks, or unsigned chunks with a trailing checksum). Flexible
checksums (``x-amz-checksum-<alg>`` as a header) are checked too. A :class:`Payload` yields the
decoded bytes and raises at the end if anything failed to verify, so callers commit only after
the stream completed: :meth:`Payload.spool` writes to a temporary file and deletes it on failure.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

from starlette.concurrency import run_in_threadpool

from lakeworks.core.errors import PayloadTooLarge, ValidationError
from lakeworks.server.aws import sigv4
from lakeworks.server.aws.chunked import AwsChunkedDecoder, ChunkSigner, Hasher, bad_digest
from lakeworks.server.aws.chunked import new_hasher as _new_hasher
from lakeworks.server.aws.request import AwsRequest

__all__ = ["Payload"]

_HEX_SHA256 = re.compile(r"[0-9a-f]{64}")
_STREAMING = (
    sigv4.STREAMING_SIGNED,
    sigv4.STREAMING_SIGNED_TRAILER,
    sigv4.STREAMING_UNSIGNED_TRAILER,
)
#: ``x-amz-checksum-*`` headers that name an algorithm or a kind, not a digest.
_NOT_DIGESTS = frozenset({"x-amz-checksum-algorithm", "x-amz-checksum-mode", "x-amz-checksum-type"})
#: Spooled bytes are written to disk in batches of about this size.
_WRITE_BATCH = 1024 * 1024


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"Your proposed upload exceeds the maximum allowed size of {limit} bytes",
        aws_code="EntityTooLarge",
        details={"limit": limit},
    )


class Payload:
    """The verified body of one authenticated request.

    Args:
        request: The request whose body this is.
        payload_hash: The value the signature covered (hex SHA-256 or a special value).
        signer: Key and seed signature, for signed aws-chunked bodies.
        buffered: The body, when it was read already to compute its hash (``payload_hash``,
            which is then not computed again).
    """

    def __init__(
        self,
        request: AwsRequest,
        payload_hash: str,
        *,
        signer: ChunkSigner | None = None,
        buffered: bytes | None = None,
    ) -> None:
        self.request = request
        self.payload_hash = payload_hash
        self.signer = signer
        self.buffered = buffered
        if not (
            payload_hash in (sigv4.UNSIGNED_PAYLOAD, *_STREAMING)
            or _HEX_SHA256.fullmatch(payload_hash)
        ):
            raise ValidationError(
                f"Invalid x-amz-content-sha256 {payload_hash!r}: use the hex SHA-256 of the "
                f"body, {sigv4.UNSIGNED_PAYLOAD} or one of {', '.join(_STREAMING)}",
                aws_code="InvalidArgument",
            )

    @property
    def streaming(self) -> bool:
        """Whether the body is aws-chunked."""
        return self.payload_hash in _STREAMING

    @property
    def declared_length(self) -> int | None:
        """The decoded body length the client announced, if it did.

        Raises:
            ValidationError: ``x-amz-decoded-content-length`` is not a number.
        """
        if self.streaming:
            value = self.request.header("x-amz-decoded-content-length")
            if value is None:
                return None
            if not value.strip().isdigit():
                raise ValidationError(
                    f"Invalid x-amz-decoded-content-length {value!r}", aws_code="InvalidArgument"
                )
            return int(value)
        return self.request.content_length

    def _header_checksums(self) -> dict[str, tuple[Hasher, str]]:
        trailers = self._trailer_names()
        found: dict[str, tuple[Hasher, str]] = {}
        for name, value in self.request.headers:
            if name.startswith("x-amz-checksum-") and name not in trailers | _NOT_DIGESTS:
                found[name] = (_new_hasher(name), value.strip())
        return found

    def _trailer_names(self) -> frozenset[str]:
        value = self.request.header("x-amz-trailer") or ""
        return frozenset(n.strip().lower() for n in value.split(",") if n.strip())

    async def chunks(self, limit: int, *, header_checksums: bool = True) -> AsyncIterator[bytes]:
        """Yield the decoded body; raise after the last byte if any check failed.

        Args:
            limit: Largest decoded body accepted, in bytes.
            header_checksums: Verify ``x-amz-checksum-<alg>`` headers against this body. Off
                where they describe something else (CompleteMultipartUpload: the object).

        Raises:
            PayloadTooLarge: The body is (or announces to be) larger than ``limit``.
            InvalidSignature: A chunk or trailer signature does not match.
            ValidationError: ``XAmzContentSHA256Mismatch``, ``BadDigest``, ``IncompleteBody`` or
                malformed framing.
        """
        declared = self.declared_length
        if declared is not None and declared > limit:
            raise _too_large(limit)
        checksums = self._header_checksums() if header_checksums else {}
        # A buffered body's hash was computed from these very bytes to check the signature.
        hashed = self.buffered is not None or not _HEX_SHA256.fullmatch(self.payload_hash)
        body_hash = None if hashed else hashlib.sha256()
        decoder: AwsChunkedDecoder | None = None
        if self.streaming:
            unsigned = self.payload_hash == sigv4.STREAMING_UNSIGNED_TRAILER
            decoder = AwsChunkedDecoder(
                signer=None if unsigned else self.signer,
                trailers=tuple(sorted(self._trailer_names())),
                signed_trailer=self.payload_hash == sigv4.STREAMING_SIGNED_TRAILER,
            )
        total = 0
        async for raw in self._raw():
            pieces = decoder.feed(raw) if decoder is not None else [raw]
            if body_hash is not None:
                body_hash.update(raw)
            for piece in pieces:
                total += len(piece)
                if total > limit:
                    raise _too_large(limit)
                for hasher, _ in checksums.values():
                    hasher.update(piece)
                yield piece
        if decoder is not None:
            decoder.finish()
            if declared is not None and declared != total:
                raise ValidationError(
                    f"x-amz-decoded-content-length says {declared} bytes but the body decoded "
                    f"to {total}",
                    aws_code="IncompleteBody",
                )
        if body_hash is not None and body_hash.hexdigest() != self.payload_hash:
            raise ValidationError(
                "The provided 'x-amz-content-sha256' header does not match what was computed",
                aws_code="XAmzContentSHA256Mismatch",
            )
        for name, (hasher, expected) in checksums.items():
            if base64.b64encode(hasher.digest()).decode() != expected:
                raise bad_digest(name.removeprefix("x-amz-checksum-").upper())

    async def _raw(self) -> AsyncIterator[bytes]:
        if self.buffered is not None:
            if self.buffered:
                yield self.buffered
            return
        async for chunk in self.request.stream():
            yield chunk

    async def read_all(self, limit: int, *, header_checksums: bool = True) -> bytes:
        """Read and verify a small body (XML or JSON documents), checking Content-MD5 too.

        Args:
            limit: Largest body accepted, in bytes.
            header_checksums: As for :meth:`chunks`.

        Raises:
            PayloadTooLarge, InvalidSignature, ValidationError: As :meth:`chunks`, plus
                ``InvalidDigest``/``BadDigest`` for Content-MD5.
        """
        parts = [piece async for piece in self.chunks(limit, header_checksums=header_checksums)]
        body = b"".join(parts)
        md5 = self.request.header("content-md5")
        if md5 is not None:
            try:
                expected = base64.b64decode(md5.strip(), validate=True)
            except ValueError:
                raise ValidationError(
                    "The Content-MD5 you specified is not valid base64", aws_code="InvalidDigest"
                ) from None
            if hashlib.md5(body, usedforsecurity=False).digest() != expected:
                raise bad_digest("Content-MD5")
        return body

    @contextlib.asynccontextmanager
    async def spool(self, directory: Path, limit: int) -> AsyncIterator[BinaryIO]:
        """Write the verified body to a temporary file under ``directory`` and yield it.

        The file is opened for reading at offset 0 and deleted when the block exits, also when
        verification failed (then the block never runs).

        Raises:
            PayloadTooLarge, InvalidSignature, ValidationError: As :meth:`chunks`.
        """
        directory.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix="upload-", dir=directory)
        path = Path(name)
        try:
            with os.fdopen(fd, "w+b") as file:
                batch: list[bytes] = []
                size = 0
                async for piece in self.chunks(limit):
                    batch.append(piece)
                    size += len(piece)
                    if size >= _WRITE_BATCH:
                        await run_in_threadpool(file.write, b"".join(batch))
                        batch, size = [], 0
                if batch:
                    await run_in_threadpool(file.write, b"".join(batch))
                file.flush()
                file.seek(0)
                yield file
        finally:
            path.unlink(missing_ok=True)
