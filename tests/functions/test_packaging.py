"""Zip packages are checked member by member; nothing is written for a refused one."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

import pytest

from lakeworks.core.errors import ValidationError
from lakeworks.functions.packaging import extract_zip


def _zip(members: dict[str, str], *, link: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
        if link is not None:
            info = zipfile.ZipInfo(link)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return buffer.getvalue()


def test_extracts_a_plain_package(tmp_path: Path) -> None:
    extract_zip(_zip({"app.py": "x = 1", "pkg/mod.py": "y = 2"}), tmp_path / "code")
    assert (tmp_path / "code" / "pkg" / "mod.py").read_text() == "y = 2"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (_zip({"../up.py": ""}), "leaves the package"),
        (_zip({"/abs.py": ""}), "leaves the package"),
        (_zip({}, link="link.py"), "link or special file"),
        (b"not a zip", "not a zip archive"),
    ],
)
def test_refuses_unsafe_packages(tmp_path: Path, data: bytes, reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        extract_zip(data, tmp_path / "code")
    assert not (tmp_path / "code").exists()
    assert [p.name for p in tmp_path.iterdir()] == []
