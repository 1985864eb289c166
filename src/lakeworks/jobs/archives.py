"""Tar archives in and out of jobs: checked extraction of code, packing of results.

Code archives come from users, so :func:`safe_extract` checks every member before it writes
anything: only regular files and directories; no absolute names, no ``..`` segments, no links,
devices or FIFOs; limits on member count and total size; every target resolved inside the
destination. A rejected archive raises :class:`UnsafeArchive` naming the member and the rule, and
leaves the destination untouched (extraction goes to a sibling temp directory that is renamed
into place only when complete).
"""

from __future__ import annotations

import os
import shutil
import tarfile
from pathlib import Path, PurePosixPath

from lakeworks.core.errors import ValidationError

__all__ = [
    "MAX_ARCHIVE_BYTES",
    "MAX_ARCHIVE_MEMBERS",
    "UnsafeArchive",
    "pack_directory",
    "safe_extract",
]

MAX_ARCHIVE_MEMBERS = 10_000
MAX_ARCHIVE_BYTES = 1024**3
_CHUNK = 1024 * 1024


class UnsafeArchive(ValidationError):
    """An archive is unreadable, or a member breaks a rule; nothing was extracted."""


def _check_member(member: tarfile.TarInfo, dest: Path) -> PurePosixPath:
    name = member.name
    kind = "file" if member.isreg() else "directory" if member.isdir() else None
    if kind is None:
        what = (
            "a symbolic link"
            if member.issym()
            else "a hard link"
            if member.islnk()
            else "a device or FIFO"
        )
        raise UnsafeArchive(
            f"Archive member {name!r} is {what}; only regular files and directories are allowed"
        )
    path = PurePosixPath(name)
    if not name or "\x00" in name or "\\" in name or path.is_absolute():
        raise UnsafeArchive(f"Archive member {name!r} has an absolute or invalid name")
    if ".." in path.parts:
        raise UnsafeArchive(f"Archive member {name!r} contains '..'; members must stay inside")
    target = (dest / path).resolve()
    if not target.is_relative_to(dest.resolve()):
        raise UnsafeArchive(f"Archive member {name!r} would be written outside the destination")
    return PurePosixPath(*[p for p in path.parts if p != "."])


def safe_extract(
    archive: Path,
    dest: Path,
    *,
    max_members: int = MAX_ARCHIVE_MEMBERS,
    max_bytes: int = MAX_ARCHIVE_BYTES,
) -> int:
    """Extract the tar (optionally gzip'd) ``archive`` into ``dest`` after checking every member.

    Args:
        archive: The archive file.
        dest: Directory to create; it must not exist yet or be empty.
        max_members: Most members allowed.
        max_bytes: Most bytes of file content allowed in total.

    Returns:
        The number of regular files extracted.

    Raises:
        UnsafeArchive: Unreadable archive or a member breaking a rule; ``dest`` is unchanged.
    """
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = tar.getmembers()  # reads every header first: nothing is written yet
            if len(members) > max_members:
                raise UnsafeArchive(
                    f"Archive has {len(members)} members; at most {max_members} are allowed"
                )
            total = sum(m.size for m in members if m.isreg())
            if total > max_bytes:
                raise UnsafeArchive(
                    f"Archive content is {total} bytes; at most {max_bytes} are allowed"
                )
            checked = [(m, _check_member(m, dest)) for m in members]
            files = {str(p) for m, p in checked if m.isreg()}
            for _, path in checked:
                for parent in path.parents:
                    if str(parent) in files:
                        raise UnsafeArchive(
                            f"Archive member {str(path)!r} lies under {str(parent)!r}, "
                            "which is a file in the same archive"
                        )
            return _extract(tar, checked, dest)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise UnsafeArchive(f"Cannot read the archive as tar or tar.gz: {exc}") from None


def _extract(
    tar: tarfile.TarFile, checked: list[tuple[tarfile.TarInfo, PurePosixPath]], dest: Path
) -> int:
    if dest.exists() and any(dest.iterdir()):
        raise UnsafeArchive(f"Destination {dest.name!r} is not empty")
    tmp = dest.with_name(f".{dest.name}.extracting")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    count = 0
    try:
        for member, path in checked:
            target = tmp / path
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(member)
            if source is None:  # pragma: no cover - isreg() members always have data
                continue
            mode = 0o755 if member.mode & 0o111 else 0o644
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
            with source, os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(source, out, _CHUNK)
            count += 1
        if dest.exists():
            dest.rmdir()
        tmp.rename(dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return count


def pack_directory(source: Path, archive: Path) -> int:
    """Pack the contents of ``source`` (not the directory itself) into a gzip'd tar.

    Names are relative to ``source``, as in SageMaker's ``model.tar.gz``. Symbolic links are
    stored as links, never followed (a job must not smuggle server files out through them);
    devices and FIFOs are skipped.

    Returns:
        The number of regular files packed.
    """
    count = 0

    def keep(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        nonlocal count
        if not (info.isreg() or info.isdir() or info.issym()):
            return None
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        count += info.isreg()
        return info

    archive.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "w:gz") as tar:
        for child in sorted(source.iterdir()) if source.is_dir() else []:
            tar.add(child, arcname=child.name, recursive=True, filter=keep)
    return count
