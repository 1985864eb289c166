"""Function code packages: zip archives checked member by member before extraction.

No absolute paths, no ``..``, no links or special files, and limits on the member count and
the unpacked size; a rejected archive fails with the reason and nothing is written.
"""

from __future__ import annotations

import io
import shutil
import stat
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from lakeworks.core.errors import ValidationError

__all__ = ["MAX_MEMBERS", "MAX_UNPACKED_BYTES", "check_zip", "extract_zip"]

MAX_MEMBERS = 10_000
MAX_UNPACKED_BYTES = 250 * 1024 * 1024  # Lambda's unzipped deployment package limit


def _bad(why: str) -> ValidationError:
    return ValidationError(
        f"The function's zip file was refused: {why}", aws_code="InvalidParameterValueException"
    )


def check_zip(data: bytes) -> list[zipfile.ZipInfo]:
    """The members of a zip archive, each checked.

    Raises:
        ValidationError: Not a zip, an unsafe member, too many members or too large.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise _bad("it is not a zip archive") from None
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise _bad(f"it has more than {MAX_MEMBERS} members")
    total = 0
    for member in members:
        path = PurePosixPath(member.filename)
        if member.filename.startswith(("/", "\\")) or ".." in path.parts or ":" in path.parts[0]:
            raise _bad(f"member {member.filename!r} leaves the package")
        mode = member.external_attr >> 16
        kind = stat.S_IFMT(mode)  # 0 when the zip was made without Unix modes
        if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
            raise _bad(f"member {member.filename!r} is a link or special file")
        total += member.file_size
        if total > MAX_UNPACKED_BYTES:
            raise _bad(f"it unpacks to more than {MAX_UNPACKED_BYTES} bytes")
    return members


def extract_zip(data: bytes, dest: Path) -> None:
    """Extract a checked zip archive into ``dest`` (created; replaced atomically if present).

    Raises:
        ValidationError: As :func:`check_zip`; nothing is written then.
    """
    members = check_zip(data)
    dest.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".unpack-", dir=dest.parent))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            written = 0
            for member in members:
                target = scratch.joinpath(*PurePosixPath(member.filename).parts)
                if not target.resolve().is_relative_to(scratch.resolve()):
                    raise _bad(f"member {member.filename!r} leaves the package")
                if member.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(member) as source, target.open("wb") as sink:
                    while chunk := source.read(1024 * 1024):
                        written += len(chunk)
                        if written > MAX_UNPACKED_BYTES:  # the header may have lied
                            raise _bad(f"it unpacks to more than {MAX_UNPACKED_BYTES} bytes")
                        sink.write(chunk)
        if dest.exists():
            shutil.rmtree(dest)
        scratch.rename(dest)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
