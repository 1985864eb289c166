"""Key ↔ file-name encoding of the local store (pure)."""

from __future__ import annotations

import pytest

from lakeworks.lake.keypaths import (
    MAX_PLAIN_BYTES,
    TAG,
    decode_name,
    displaced_name,
    encode_key,
    encode_segment,
    long_name_file,
    meta_name,
    segment_matches_hash,
)


@pytest.mark.parametrize(
    ("segment", "encoded"),
    [
        ("part-0.parquet", "part-0.parquet"),
        ("", ".lw~e"),
        (".lw~", ".lw~t"),
        (".lw~e", ".lw~te"),
        (".hidden", ".hidden"),
        ("ünï", "ünï"),
    ],
)
def test_segments_round_trip(segment: str, encoded: str) -> None:
    assert encode_segment(segment) == encoded
    decoded = decode_name(encoded)
    assert decoded is not None
    assert (decoded.segment, decoded.displaced) == (segment, False)


def test_long_segments_are_hashed_and_named_in_the_sidecar_tree() -> None:
    long = "é" * MAX_PLAIN_BYTES  # 2 bytes each: over the limit
    encoded = encode_segment(long)
    assert len(encoded.encode()) < 80
    decoded = decode_name(encoded)
    assert decoded is not None
    assert decoded.segment is None
    assert decoded.long_hash is not None
    assert segment_matches_hash(long, decoded.long_hash)
    assert not segment_matches_hash("other", decoded.long_hash)
    assert long_name_file(encoded) == TAG + "n" + decoded.long_hash
    assert long_name_file("plain") is None
    assert encode_segment("x" * MAX_PLAIN_BYTES) == "x" * MAX_PLAIN_BYTES


def test_displaced_names_decode_to_the_same_segment() -> None:
    for segment in ["a", "", ".lw~x"]:
        decoded = decode_name(displaced_name(encode_segment(segment)))
        assert decoded is not None
        assert (decoded.segment, decoded.displaced) == (segment, True)


@pytest.mark.parametrize(
    "name", [".lw~w123", ".lw~mfile", ".lw~nabc", ".lw~lnothex", ".lw~f.lw~fa", ".lw~"]
)
def test_names_that_are_not_objects(name: str) -> None:
    assert decode_name(name) is None


def test_keys_split_into_directories_and_a_file() -> None:
    assert encode_key("a/b/c.csv") == (["a", "b"], "c.csv")
    assert encode_key("dir/") == (["dir"], ".lw~e")
    assert encode_key("a//b") == (["a", ".lw~e"], "b")
    assert encode_key("k") == ([], "k")
    assert meta_name("c.csv") == ".lw~mc.csv"
