"""Multi-model: target names, staged directories, the LRU cache under a memory budget."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakeworks.core.errors import NotFound, ValidationError
from lakeworks.hosting.multi_model import ModelCache, check_target_model, staged_name


@pytest.mark.parametrize("target", ["model-a.tar.gz", "dir/model_b.tar.gz", "M1"])
def test_good_target_names(target: str) -> None:
    assert check_target_model(target) == target


@pytest.mark.parametrize("target", ["", "../x.tar.gz", "/abs.tar.gz", "a//b", "a/./b", "a b"])
def test_bad_target_names(target: str) -> None:
    with pytest.raises(ValidationError) as caught:
        check_target_model(target)
    assert caught.value.aws_code == "ValidationError"


def _stage(root: Path, target: str, size: int) -> str:
    name = staged_name(target)
    (root / name).mkdir(parents=True)
    (root / name / "model").write_bytes(b"x" * size)
    return name


def test_least_recently_used_models_are_evicted_past_the_budget(tmp_path: Path) -> None:
    loads: list[str] = []
    cache: ModelCache[str] = ModelCache(tmp_path, 250, lambda d: loads.append(d.name) or d.name)
    a, b, c = (_stage(tmp_path, t, 100) for t in ("a", "b", "c"))
    assert cache.get(a) == a
    cache.get(b)
    cache.get(a)  # a is now the most recently used
    cache.get(c)  # over budget: b goes
    assert cache.loaded() == [a, c]
    assert cache.stats.evictions == 1
    cache.get(b)
    assert loads == [a, b, c, b]
    assert cache.stats.hits == 1


def test_a_model_larger_than_the_budget_still_loads_alone(tmp_path: Path) -> None:
    cache: ModelCache[str] = ModelCache(tmp_path, 10, lambda d: d.name)
    small, big = _stage(tmp_path, "s", 5), _stage(tmp_path, "big", 100)
    cache.get(small)
    cache.get(big)
    assert cache.loaded() == [big]


def test_unknown_staged_name_is_not_found(tmp_path: Path) -> None:
    cache: ModelCache[str] = ModelCache(tmp_path, 10, lambda d: d.name)
    with pytest.raises(NotFound):
        cache.get(staged_name("never-staged"))
    with pytest.raises(NotFound):
        cache.get("../../etc")
