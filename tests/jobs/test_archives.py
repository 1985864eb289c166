"""Checked extraction of code archives; packing of results."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from lakeworks.jobs.archives import UnsafeArchive, pack_directory, safe_extract


def make_tar(
    path: Path, members: list[tarfile.TarInfo | tuple[str, bytes]], mode: str = "w:gz"
) -> Path:
    with tarfile.open(path, mode) as tar:
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                tar.addfile(member)
            else:
                name, data = member
                info = tarfile.TarInfo(name)
                info.size = len(data)
                info.mode = 0o755 if name.endswith(".sh") else 0o644
                tar.addfile(info, io.BytesIO(data))
    return path


def special(name: str, kind: bytes, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info


def test_extracts_files_and_directories(tmp_path: Path) -> None:
    archive = make_tar(
        tmp_path / "src.tar.gz",
        [("train.py", b"print(1)\n"), ("pkg/mod.py", b"x = 1\n"), ("./run.sh", b"#!/bin/sh\n")],
    )
    dest = tmp_path / "code"
    assert safe_extract(archive, dest) == 3
    assert (dest / "train.py").read_bytes() == b"print(1)\n"
    assert (dest / "pkg/mod.py").read_bytes() == b"x = 1\n"
    assert (dest / "run.sh").stat().st_mode & 0o111
    assert not (dest / "train.py").stat().st_mode & 0o111
    assert sorted(p.name for p in tmp_path.iterdir()) == ["code", "src.tar.gz"]


def test_plain_tar_is_accepted(tmp_path: Path) -> None:
    archive = make_tar(tmp_path / "src.tar", [("a.py", b"")], mode="w")
    assert safe_extract(archive, tmp_path / "code") == 1


@pytest.mark.parametrize(
    ("member", "message"),
    [
        (("../evil.py", b"x"), "contains '..'"),
        (("pkg/../../evil.py", b"x"), "contains '..'"),
        (("/etc/evil.py", b"x"), "absolute"),
        (special("link", tarfile.SYMTYPE, "/etc/passwd"), "a symbolic link"),
        (special("inner-link", tarfile.SYMTYPE, "train.py"), "a symbolic link"),
        (special("hard", tarfile.LNKTYPE, "train.py"), "a hard link"),
        (special("dev", tarfile.CHRTYPE), "a device or FIFO"),
        (special("fifo", tarfile.FIFOTYPE), "a device or FIFO"),
        (("train.py/inner", b"x"), "which is a file"),
    ],
)
def test_a_bad_member_rejects_the_archive_and_writes_nothing(
    tmp_path: Path, member: tarfile.TarInfo | tuple[str, bytes], message: str
) -> None:
    archive = make_tar(tmp_path / "src.tar.gz", [("train.py", b"ok"), member])
    dest = tmp_path / "out" / "code"
    with pytest.raises(UnsafeArchive, match=message):
        safe_extract(archive, dest)
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "evil.py").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src.tar.gz"]


def test_limits_on_count_and_size(tmp_path: Path) -> None:
    archive = make_tar(tmp_path / "src.tar.gz", [(f"f{i}", b"12345") for i in range(5)])
    with pytest.raises(UnsafeArchive, match="5 members; at most 4"):
        safe_extract(archive, tmp_path / "a", max_members=4)
    with pytest.raises(UnsafeArchive, match="25 bytes; at most 24"):
        safe_extract(archive, tmp_path / "b", max_bytes=24)
    assert not (tmp_path / "a").exists()
    assert not (tmp_path / "b").exists()


def test_garbage_is_not_an_archive(tmp_path: Path) -> None:
    archive = tmp_path / "src.tar.gz"
    archive.write_bytes(b"\x1f\x8b this is not really gzip")
    with pytest.raises(UnsafeArchive, match="Cannot read the archive"):
        safe_extract(archive, tmp_path / "code")
    assert not (tmp_path / "code").exists()


def test_pack_directory_keeps_links_as_links(tmp_path: Path) -> None:
    model = tmp_path / "model"
    (model / "sub").mkdir(parents=True)
    (model / "weights.bin").write_bytes(b"\x00\x01")
    (model / "sub" / "config.json").write_text("{}")
    secret = tmp_path / "secret.txt"
    secret.write_text("server secret")
    (model / "leak").symlink_to(secret)
    archive = tmp_path / "model.tar.gz"
    assert pack_directory(model, archive) == 2
    with tarfile.open(archive) as tar:
        names = {m.name: m for m in tar.getmembers()}
        assert set(names) == {"weights.bin", "sub", "sub/config.json", "leak"}
        assert names["leak"].issym()
        assert b"server secret" not in archive.read_bytes()
        assert tar.extractfile("weights.bin").read() == b"\x00\x01"  # type: ignore[union-attr]


def test_pack_an_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "model").mkdir()
    assert pack_directory(tmp_path / "model", tmp_path / "m.tar.gz") == 0
    with tarfile.open(tmp_path / "m.tar.gz") as tar:
        assert tar.getmembers() == []
