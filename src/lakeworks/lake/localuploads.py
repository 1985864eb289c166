"""Multipart uploads of the local store: parts staged under ``<root>/.uploads/<upload id>/``.

Each part is a file named ``<part number>-<etag>`` (an upload of the same number again adds
another file; completion picks the one whose ETag the client named). Completion joins the named
parts into a temp file and commits it like a put. Plain parts are joined in the kernel
(``copy_file_range``); the parts of a sealed upload are sealed at rest too, each as its own
frame stream, so completion decrypts them in order and seals the whole object afresh as one
stream (ranges of the result stay arithmetic).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING

from lakeworks.core.clock import utcnow
from lakeworks.core.errors import NotFound, ValidationError
from lakeworks.lake.encryption import Encryptor, Sealing
from lakeworks.lake.localfiles import append_file, sealed_chunks
from lakeworks.lake.multipart import multipart_etag, validate_upload_id
from lakeworks.lake.objects import Readable, check_md5
from lakeworks.schemas.lake import ObjectInfo, PartInfo

if TYPE_CHECKING:
    from lakeworks.lake.localstore import LocalStore

__all__ = ["LocalUploads"]


def _no_upload(upload_id: str) -> NotFound:
    return NotFound(f"No multipart upload with id {upload_id!r}", aws_code="NoSuchUpload")


class LocalUploads:
    """Staged multipart uploads of one :class:`LocalStore`.

    Args:
        store: The store (temp files, commits, data keys).
        root: ``<store root>/.uploads``.
    """

    def __init__(self, store: LocalStore, root: Path) -> None:
        self._store = store
        self._root = root

    def _dir(self, upload_id: str) -> Path:
        return self._root / validate_upload_id(upload_id)

    def create(self, upload_id: str) -> str:
        """Make the upload's staging directory; the local store has no backing id."""
        self._dir(upload_id).mkdir()
        return ""

    def put(
        self,
        upload_id: str,
        part_number: int,
        body: Readable,
        *,
        max_bytes: int,
        content_md5: str | None,
        sse: Sealing | None,
    ) -> PartInfo:
        """Stage a part as ``<number>-<etag>``; a re-upload of a number adds another file."""
        staging = self._dir(upload_id)
        with self._store.temp() as temp:
            size, digest = self._store.receive(
                body, temp, max_bytes=max_bytes, sse=sse, what="Part"
            )
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

    def complete(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        parts: Sequence[PartInfo],
        *,
        content_type: str,
        metadata: dict[str, str],
        sse: Sealing | None,
        tags: dict[str, str] | None,
    ) -> ObjectInfo:
        """Join the staged parts into a temp file and commit it like a put."""
        staging = self._dir(upload_id)
        if not staging.is_dir():
            raise _no_upload(upload_id)
        with self._store.temp() as temp:
            sealer = Encryptor(temp.file.write, sse) if sse is not None else None
            for part in parts:
                path = staging / f"{part.part_number:05d}-{part.etag}"
                try:
                    source = path.open("rb")
                except FileNotFoundError:
                    raise ValidationError(
                        f"Part {part.part_number} with ETag {part.etag} is not staged",
                        aws_code="InvalidPart",
                    ) from None
                with source:
                    if sealer is None:
                        append_file(source, temp.file)
                    else:
                        for chunk in self._plaintext(source, part.size):
                            sealer.write(chunk)
            if sealer is not None:
                sealer.finish()
            info = self._store.commit(
                bucket,
                key,
                temp,
                etag=multipart_etag(part.etag for part in parts),
                size=sum(part.size for part in parts),
                content_type=content_type,
                metadata=metadata,
                sse=sse,
                tags=tags,
            )
        shutil.rmtree(staging, ignore_errors=True)
        return info

    def _plaintext(self, source: IO[bytes], size: int) -> Iterator[bytes]:
        """The plaintext of a sealed staged part."""
        return sealed_chunks(source, size, 0, size - 1, self._store.data_key)

    def abort(self, upload_id: str) -> None:
        """Remove the staging directory (idempotent)."""
        shutil.rmtree(self._dir(upload_id), ignore_errors=True)
