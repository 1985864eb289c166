"""The profiler's streaming summaries, batch by batch, against whole-data answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from lakeworks.dataprep.sketches import (
    DistinctSketch,
    FrequentItems,
    Moments,
    PearsonMatrix,
    RowSample,
    combine_hashes,
)


def batches(values: np.ndarray, size: int) -> list[np.ndarray]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def test_distinct_is_exact_while_small_and_close_beyond() -> None:
    rng = np.random.default_rng(0)
    small = DistinctSketch(k=1024)
    for part in batches(rng.integers(0, 500, 20_000), 3_000):
        small.add(pd.util.hash_array(part))
    assert small.count() == (500, True)
    big = DistinctSketch(k=4096)
    values = rng.integers(0, 200_000, 400_000)
    for part in batches(values, 50_000):
        big.add(pd.util.hash_array(part))
    estimate, exact = big.count()
    assert not exact
    assert estimate == pytest.approx(len(np.unique(values)), rel=0.06)  # ~4 standard errors


def test_frequent_items_are_exact_then_bounded() -> None:
    items = FrequentItems(capacity=3)
    items.add(np.array(["a", "b"], dtype=object), np.array([5, 2]))
    items.add(np.array(["a", "c"], dtype=object), np.array([1, 4]))
    assert items.exact
    assert items.top(2) == [("a", 6), ("c", 4)]
    items.add(np.array(["d", "e"], dtype=object), np.array([1, 1]))
    assert not items.exact
    assert items.total == 14
    # Misra–Gries: a value with more than total/(capacity+1) occurrences is never lost.
    assert items.top(1)[0][0] == "a"


def test_row_sample_is_uniform_and_seeded() -> None:
    table = pa.table({"i": np.arange(10_000)})
    picks = []
    for seed in (1, 1, 2):
        sample = RowSample(500, seed)
        for batch in table.to_batches(max_chunksize=777):
            sample.add(batch)
        picks.append(sorted(sample.table(table.schema).column("i").to_pylist()))
    assert picks[0] == picks[1] != picks[2]
    assert len(picks[0]) == len(set(picks[0])) == 500
    assert np.mean(picks[0]) == pytest.approx(5000, rel=0.1)
    everything = RowSample(20_000, 0)
    everything.add(table.to_batches()[0])
    assert everything.table(table.schema).num_rows == 10_000


def test_moments_match_pandas() -> None:
    rng = np.random.default_rng(1)
    values = rng.gamma(2.0, 3.0, 10_000) + 1e6  # a large offset tests cancellation
    moments = Moments()
    for part in batches(values, 1_234):
        moments.add(part)
    series = pd.Series(values)
    assert moments.mean() == pytest.approx(series.mean(), rel=1e-14)
    assert moments.std() == pytest.approx(series.std(), rel=1e-9)
    assert moments.skew() == pytest.approx(series.skew(), rel=1e-6)


def test_pearson_with_holes_matches_pandas() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(5_000, 4))
    x[:, 1] += 0.8 * x[:, 0]
    x[:, 3] = 7.0  # constant: undefined correlations
    x[rng.random(5_000) < 0.1, 0] = np.nan
    x[rng.random(5_000) < 0.3, 2] = np.nan
    pearson = PearsonMatrix(4)
    for part in batches(x, 900):
        pearson.add(np.asfortranarray(part))
    result = np.array([[np.nan if v is None else v for v in row] for row in pearson.matrix()])
    expected = pd.DataFrame(x).corr().to_numpy()
    np.testing.assert_allclose(result, expected, atol=1e-12, equal_nan=True)


def test_row_hashes_depend_on_every_column_and_order() -> None:
    a = pd.util.hash_array(np.array([1.0, 2.0]))
    b = pd.util.hash_array(np.array([2.0, 1.0]))
    ab, ba = combine_hashes(combine_hashes(None, a), b), combine_hashes(combine_hashes(None, b), a)
    # Row (1, 2) hashes alike wherever it appears, and unlike row (2, 1).
    assert ab[0] == ba[1]
    assert ab[0] != ab[1]
