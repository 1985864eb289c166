"""Multipart rules (pure): part numbers, completion checks, the ETag formula."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from lakeworks.core.errors import NotFound, ValidationError
from lakeworks.lake.multipart import (
    MIN_PART_BYTES,
    multipart_etag,
    new_upload_id,
    select_parts,
    validate_part_number,
    validate_upload_id,
)
from lakeworks.schemas.lake import PartInfo

NOW = datetime(2024, 1, 1, tzinfo=UTC)


def part(number: int, size: int = MIN_PART_BYTES, data: bytes | None = None) -> PartInfo:
    etag = hashlib.md5(data if data is not None else bytes([number])).hexdigest()
    return PartInfo(part_number=number, etag=etag, size=size, last_modified=NOW)


def test_etag_formula_matches_aws() -> None:
    parts = [b"first", b"second"]
    expected = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
    assert multipart_etag(hashlib.md5(p).hexdigest() for p in parts) == f"{expected}-2"


@pytest.mark.parametrize("number", [0, -1, 10_001, True])
def test_part_numbers_outside_the_range(number: int) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_part_number(number)
    assert caught.value.aws_code == "InvalidArgument"


def test_upload_ids() -> None:
    assert validate_upload_id(new_upload_id())
    for bad in ["../../etc", "short", "a" * 200, "with space in it!!"]:
        with pytest.raises(NotFound):
            validate_upload_id(bad)


def test_completion_selects_named_parts_in_order() -> None:
    uploaded = {n: part(n) for n in (1, 2, 3)}
    chosen = select_parts([(1, uploaded[1].etag), (3, f'"{uploaded[3].etag}"')], uploaded)
    assert [p.part_number for p in chosen] == [1, 3]


@pytest.mark.parametrize(
    ("requested", "code"),
    [
        ([], "MalformedXML"),
        ([(2, "e2"), (1, "e1")], "InvalidPartOrder"),
        ([(1, "e1"), (1, "e1")], "InvalidPartOrder"),
        ([(4, "e4")], "InvalidPart"),
        ([(1, "0" * 32)], "InvalidPart"),
        ([(1, "not-an-etag")], "InvalidPart"),
    ],
)
def test_completion_errors(requested: list[tuple[int, str]], code: str) -> None:
    uploaded = {n: part(n) for n in (1, 2, 3)}
    named = [(n, uploaded[n].etag if n in uploaded and e == f"e{n}" else e) for n, e in requested]
    with pytest.raises(ValidationError) as caught:
        select_parts(named, uploaded)
    assert caught.value.aws_code == code
    assert caught.value.status == 400


def test_only_the_last_part_may_be_small() -> None:
    uploaded = {1: part(1, size=MIN_PART_BYTES - 1), 2: part(2, size=1)}
    with pytest.raises(ValidationError) as caught:
        select_parts([(1, uploaded[1].etag), (2, uploaded[2].etag)], uploaded)
    assert caught.value.aws_code == "EntityTooSmall"
    assert select_parts([(2, uploaded[2].etag)], uploaded) == [uploaded[2]]
