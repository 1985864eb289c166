"""Routing: variants by weight (or TargetVariant), instances by least outstanding requests."""

from __future__ import annotations

import pytest

from lakeworks.core.errors import ValidationError
from lakeworks.hosting.router import (
    RouteTable,
    Target,
    VariantPool,
    VariantRoute,
    choose_pool,
    choose_variant,
    with_pool_shares,
    with_weights,
)


def _pool(variant: str, fleet: str = "f1", n: int = 2) -> VariantPool:
    targets = tuple(Target(f"{fleet}-{variant}-{i}", "127.0.0.1", 9000 + i) for i in range(n))
    return VariantPool(variant, fleet, targets)


def _table(weights: dict[str, float]) -> RouteTable:
    variants = tuple(VariantRoute(name, w, ((_pool(name), 1.0),)) for name, w in weights.items())
    return RouteTable("ep", "InService", variants)


def test_weights_split_traffic_in_proportion() -> None:
    table = _table({"a": 1.0, "b": 3.0})
    picks = [choose_variant(table, None, i / 1000).name for i in range(1000)]
    assert picks.count("a") == 250
    assert picks.count("b") == 750


def test_zero_weight_variant_gets_no_traffic_but_target_variant_reaches_it() -> None:
    table = _table({"a": 0.0, "b": 2.0})
    assert {choose_variant(table, None, i / 100).name for i in range(100)} == {"b"}
    assert choose_variant(table, "a", 0.5).name == "a"


def test_unknown_target_variant_is_the_aws_validation_error() -> None:
    with pytest.raises(ValidationError) as caught:
        choose_variant(_table({"a": 1.0}), "nope", 0.1)
    assert caught.value.aws_code == "ValidationError"
    assert "'nope' is not present in endpoint ep" in caught.value.message
    assert "variants: a" in caught.value.message


def test_all_weights_zero_is_refused_with_a_hint() -> None:
    with pytest.raises(ValidationError, match="weight 0"):
        choose_variant(_table({"a": 0.0}), None, 0.3)


def test_least_outstanding_instance_is_picked() -> None:
    pool = _pool("a", n=3)
    pool.targets[0].outstanding = 2
    pool.targets[1].outstanding = 0
    pool.targets[2].outstanding = 1
    assert pool.pick() is pool.targets[1]


def test_ties_rotate_and_dead_instances_are_skipped() -> None:
    pool = _pool("a", n=3)
    pool.targets[2].dead = True
    picked = [pool.pick() for _ in range(4)]
    assert picked == [pool.targets[0], pool.targets[1], pool.targets[0], pool.targets[1]]
    for target in pool.targets:
        target.dead = True
    assert pool.pick() is None


def test_pool_shares_split_a_variant_between_fleets() -> None:
    old, new = _pool("a", "old"), _pool("a", "new")
    route = VariantRoute("a", 1.0, ((old, 1.0), (new, 0.0)))
    assert {choose_pool(route, i / 10).fleet_id for i in range(10)} == {"old"}
    shifted = with_pool_shares(route, {"old": 0.9, "new": 0.1})
    picks = [choose_pool(shifted, i / 100) for i in range(100)]
    assert sum(p is not None and p.fleet_id == "new" for p in picks) == 10


def test_a_pool_without_instances_is_never_chosen() -> None:
    empty = VariantPool("a", "new", ())
    route = VariantRoute("a", 1.0, ((empty, 1.0), (_pool("a", "old"), 0.0)))
    assert choose_pool(route, 0.5) is not None
    assert choose_pool(route, 0.5).fleet_id == "old"  # type: ignore[union-attr]
    assert choose_pool(VariantRoute("a", 1.0, ((empty, 1.0),)), 0.5) is None


def test_with_weights_returns_a_new_table() -> None:
    table = _table({"a": 1.0, "b": 1.0})
    changed = with_weights(table, {"b": 0.0})
    assert [v.weight for v in changed.variants] == [1.0, 0.0]
    assert [v.weight for v in table.variants] == [1.0, 1.0]
