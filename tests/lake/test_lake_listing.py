"""Listings against a brute-force model of S3's rules, on random key sets.

The model is checked against moto (S3's behaviour) and the local store against the model, so the
directory walk with its pruning must agree with S3 on prefixes, delimiters, markers and pages.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lakeworks.core.settings import Settings
from lakeworks.lake.listing import ListQuery
from lakeworks.lake.localstore import LocalStore
from lakeworks.lake.objects import ObjectStore
from lakeworks.lake.s3store import S3Store

Entry = tuple[str, str]  # ("key" | "prefix", value)
ALPHABET = ["a", "b", "/", "-", "0", "é"]


def model(
    keys: list[str], prefix: str, delimiter: str | None, start_after: str | None, max_keys: int
) -> list[list[Entry]]:
    """S3's ListObjectsV2, page by page, by brute force."""
    entries: list[Entry] = []
    for key in sorted(keys):
        if not key.startswith(prefix) or (start_after is not None and key <= start_after):
            continue
        rest = key[len(prefix) :]
        if delimiter and delimiter in rest:
            common = prefix + rest[: rest.index(delimiter) + len(delimiter)]
            if not entries or entries[-1] != ("prefix", common):
                entries.append(("prefix", common))
        else:
            entries.append(("key", key))
    return [entries[i : i + max_keys] for i in range(0, len(entries), max_keys)] or [[]]


def pages(
    store: ObjectStore,
    bucket: str,
    prefix: str,
    delimiter: str | None,
    start_after: str | None,
    max_keys: int,
) -> Iterator[list[Entry]]:
    token = None
    while True:
        page = store.list(
            bucket,
            prefix=prefix,
            delimiter=delimiter,
            start_after=start_after,
            continuation_token=token,
            max_keys=max_keys,
        )
        # S3 returns keys and common prefixes apart; merged they are in key order
        merged = sorted(
            [("key", i.key) for i in page.items] + [("prefix", p) for p in page.common_prefixes],
            key=lambda e: e[1],
        )
        yield merged
        token = page.next_token
        if token is None:
            return


def random_keys(rng: random.Random, count: int) -> list[str]:
    keys: set[str] = set()
    while len(keys) < count:
        key = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 6)))
        if not key.startswith("/"):
            keys.add(key)
    return sorted(keys)


def random_queries(
    rng: random.Random, keys: list[str]
) -> Iterator[tuple[str, str | None, str | None, int]]:
    for _ in range(12):
        sample = rng.choice(keys)
        prefix = rng.choice(["", sample[: rng.randint(0, len(sample))], "a/", "b"])
        delimiter = rng.choice([None, "/", "-", "a/"])
        start_after = rng.choice([None, None, rng.choice(keys), sample[:2]])
        yield prefix, delimiter, start_after, rng.choice([1, 2, 3, 1000])


def fill(store: ObjectStore, bucket: str, keys: list[str]) -> None:
    store.create_bucket(bucket)
    for key in keys:
        store.put(
            bucket, key, io.BytesIO(key.encode()), content_type="a/b", metadata={}, max_bytes=99
        )


@pytest.mark.parametrize("seed", range(8))
def test_local_store_listings_follow_the_model(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    keys = random_keys(rng, rng.randint(5, 40))
    store = LocalStore(tmp_path / "lake")
    fill(store, "b", keys)
    for prefix, delimiter, start_after, max_keys in random_queries(rng, keys):
        got = list(pages(store, "b", prefix, delimiter, start_after, max_keys))
        assert got == model(keys, prefix, delimiter, start_after, max_keys), (
            prefix,
            delimiter,
            start_after,
            max_keys,
        )


@pytest.mark.parametrize("seed", range(2))
def test_the_model_is_what_s3_does(
    tmp_path: Path, seed: int, make_lake_settings: Callable[[Path, str], Settings]
) -> None:
    rng = random.Random(seed)
    keys = random_keys(rng, 25)
    store = S3Store.from_settings(make_lake_settings(tmp_path, "s3"))
    fill(store, "b", keys)
    for prefix, delimiter, start_after, max_keys in random_queries(rng, keys):
        got = list(pages(store, "b", prefix, delimiter, start_after, max_keys))
        assert got == model(keys, prefix, delimiter, start_after, max_keys), (
            prefix,
            delimiter,
            start_after,
            max_keys,
        )
    store.close()


def test_query_pruning_rules() -> None:
    query = ListQuery.create(prefix="a/b", start_after="a/b/m")
    assert query.skip_tree("c/")
    assert not query.skip_tree("a/")  # the prefix lies inside
    assert query.skip_tree("a/b/a/")  # every key there sorts before the marker
    assert not query.skip_tree("a/b/m/")  # keys there sort after "a/b/m"
    assert query.skip_key("a/b/m")
    assert not query.skip_key("a/b/n")
    rolled = ListQuery.create(prefix="a/", delimiter="/")
    assert rolled.rollup("a/x/y/") == "a/x/"
    assert rolled.rollup("a/x") is None
    assert rolled.flat().rollup("a/x/y/") is None
