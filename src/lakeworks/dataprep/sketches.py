"""Mergeable summaries that let the profiler stream data in batches in bounded memory.

- :class:`DistinctSketch` — a k-minimum-values (KMV) sketch of 64-bit hashes: exact while a
  column has at most ``k`` distinct values, an estimate with relative standard error about
  ``1/sqrt(k)`` (≈ 1.1 % for the default k = 8192) beyond.
- :class:`FrequentItems` — exact value counts while there are at most ``capacity`` (50 000)
  distinct values, then the Misra–Gries summary (each count under by at most n / capacity).
- :class:`RowSample` — a uniform random sample of rows without replacement (the ``k`` rows with
  the smallest seeded random keys), the same whatever the batch sizes.
- :class:`Moments` — count, mean, variance and skewness from shifted power sums.
- :class:`PearsonMatrix` — pairwise-complete Pearson correlations from streamed cross-products.

Hashes are 64-bit (pandas' ``hash_array``); two different values colliding is possible but, at
a few billion rows, unlikely enough to ignore.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

__all__ = [
    "NULL_HASH",
    "DistinctSketch",
    "FrequentItems",
    "Moments",
    "PearsonMatrix",
    "RowSample",
    "combine_hashes",
]

Array = np.ndarray[Any, Any]

#: The hash every missing value gets, so that two rows missing the same values match.
NULL_HASH = np.uint64(0x9E3779B97F4A7C15)
_MIX = np.uint64(0x100000001B3)


def combine_hashes(row_hashes: Array | None, column_hashes: Array) -> Array:
    """Fold one column's value hashes into running row hashes (order-sensitive)."""
    if row_hashes is None:
        return column_hashes.astype(np.uint64, copy=True)
    # uint64 array arithmetic wraps modulo 2**64, which is what a hash wants.
    return np.bitwise_xor(np.multiply(row_hashes, _MIX), column_hashes)


class DistinctSketch:
    """Count distinct values from their 64-bit hashes (KMV: keep the k smallest hashes)."""

    def __init__(self, k: int = 8192) -> None:
        self.k = k
        self.smallest: Array = np.empty(0, dtype=np.uint64)

    @property
    def full(self) -> bool:
        """Whether the sketch holds k hashes (its count is then an estimate)."""
        return len(self.smallest) >= self.k

    def add(self, hashes: Array) -> None:
        """Add the hashes of some values (repeats are fine)."""
        if self.full:
            hashes = hashes[hashes < self.smallest[-1]]
        if len(hashes) == 0:
            return
        merged = pd.unique(np.concatenate((self.smallest, pd.unique(hashes))))
        if len(merged) > self.k:
            merged = np.partition(merged, self.k - 1)[: self.k]
        self.smallest = np.sort(merged)

    def count(self) -> tuple[int, bool]:
        """Return ``(distinct, exact)``."""
        if not self.full:
            return len(self.smallest), True
        kth = float(self.smallest[-1]) / 2.0**64
        return round((self.k - 1) / kth), False


class FrequentItems:
    """Value counts, exact up to ``capacity`` distinct values, Misra–Gries beyond."""

    def __init__(self, capacity: int = 50_000) -> None:
        self.capacity = capacity
        self.counts: pd.Series = pd.Series(dtype="int64")
        self.exact = True
        self.total = 0

    def add(self, values: pd.Series | Array, counts: Array) -> None:
        """Add ``counts[i]`` occurrences of ``values[i]`` (values distinct within one call)."""
        self.total += int(counts.sum())
        batch = pd.Series(np.asarray(counts, dtype="int64"), index=pd.Index(values))
        merged = self.counts.add(batch, fill_value=0) if len(self.counts) else batch
        if len(merged) > self.capacity:
            # Misra–Gries merge: subtract the (capacity + 1)-th largest count from every count
            # and keep those still positive.
            cut = np.partition(merged.to_numpy(), -(self.capacity + 1))[-(self.capacity + 1)]
            merged = merged - cut
            merged = merged[merged > 0]
            self.exact = False
        self.counts = merged.astype("int64")

    def top(self, n: int) -> list[tuple[Any, int]]:
        """Return the ``n`` most frequent ``(value, count)`` pairs, ties by value text."""
        if len(self.counts) == 0:
            return []
        frame = pd.DataFrame({"count": self.counts.to_numpy(), "key": self.counts.index})
        frame["text"] = frame["key"].astype(str)
        frame = frame.sort_values(["count", "text"], ascending=[False, True]).head(n)
        return list(zip(frame["key"].tolist(), frame["count"].astype(int).tolist(), strict=True))


class RowSample:
    """A seeded uniform sample of ``k`` rows from a stream of record batches."""

    def __init__(self, k: int, seed: int = 0) -> None:
        self.k = k
        self.rng = np.random.default_rng(seed)
        self.tables: list[pa.Table] = []
        self.keys: list[Array] = []
        self.held = 0
        self.threshold = math.inf

    def add(self, batch: pa.RecordBatch) -> None:
        """Offer every row of ``batch`` to the sample."""
        keys = self.rng.random(batch.num_rows)
        chosen = np.flatnonzero(keys < self.threshold)
        if len(chosen) == 0:
            return
        self.tables.append(pa.Table.from_batches([batch]).take(chosen))
        self.keys.append(keys[chosen])
        self.held += len(chosen)
        if self.held > 2 * self.k:
            self._prune()

    def _prune(self) -> None:
        table = pa.concat_tables(self.tables)
        keys = np.concatenate(self.keys)
        if len(keys) > self.k:
            keep = np.argpartition(keys, self.k - 1)[: self.k]
            keep.sort()
            table, keys = table.take(keep), keys[keep]
            self.threshold = float(keys.max())
        self.tables, self.keys, self.held = [table], [keys], len(keys)

    def table(self, schema: pa.Schema) -> pa.Table:
        """Return the sampled rows (in no particular order)."""
        if not self.tables:
            return schema.empty_table()
        self._prune()
        return self.tables[0]


class Moments:
    """Streaming count, mean, variance and skewness of float values (NaN skipped)."""

    def __init__(self) -> None:
        self.n = 0
        self.shift: float | None = None
        self.s1 = self.s2 = self.s3 = 0.0

    def add(self, values: Array) -> None:
        """Add finite values."""
        if len(values) == 0:
            return
        if self.shift is None:
            # Sums of powers around a value near the mean keep cancellation small.
            self.shift = float(values.mean())
        d = values - self.shift
        d2 = d * d
        self.n += len(values)
        self.s1 += float(d.sum())
        self.s2 += float(d2.sum())
        self.s3 += float((d2 * d).sum())

    def mean(self) -> float | None:
        """The mean, or None without values."""
        if self.n == 0 or self.shift is None:
            return None
        return self.shift + self.s1 / self.n

    def std(self) -> float | None:
        """The sample standard deviation (ddof 1, as pandas), or None with fewer than 2 values."""
        if self.n < 2:
            return None
        m1 = self.s1 / self.n
        m2 = max(self.s2 / self.n - m1 * m1, 0.0)
        return math.sqrt(m2 * self.n / (self.n - 1))

    def skew(self) -> float | None:
        """Adjusted Fisher–Pearson skewness (pandas' ``skew``), None when undefined."""
        n = self.n
        if n < 3:
            return None
        m1 = self.s1 / n
        m2 = self.s2 / n - m1 * m1
        m3 = self.s3 / n - 3 * m1 * self.s2 / n + 2 * m1**3
        if m2 <= 1e-14 * max(1.0, abs(self.shift or 0.0)) ** 2:
            return 0.0
        g1 = float(m3 / m2**1.5)
        return g1 * math.sqrt(n * (n - 1)) / (n - 2)


class PearsonMatrix:
    """Pairwise-complete Pearson correlations of p columns, streamed.

    For each pair (i, j) it sums over the rows where both are present: the count, Σxᵢ, Σxⱼ,
    Σxᵢ², Σxⱼ² and Σxᵢxⱼ — as p×p matrix products per batch — around per-column shifts.
    """

    def __init__(self, p: int) -> None:
        self.p = p
        self.shift: Array | None = None
        zeros = np.zeros((p, p))
        self.count, self.sx, self.sxx, self.sxy = zeros.copy(), zeros.copy(), zeros.copy(), zeros

    def add(self, matrix: Array) -> None:
        """Add an n×p block of floats (NaN or ±inf: missing); the block is overwritten.

        A Fortran-ordered block is fastest: the work is column by column plus one Gram
        product.
        """
        n, p = matrix.shape
        if n == 0:
            return
        if self.shift is None:
            # Sums around a value near each column's mean keep cancellation small.
            self.shift = np.zeros(p)
            for j in range(p):
                finite = matrix[:, j][np.isfinite(matrix[:, j])]
                self.shift[j] = float(finite.mean()) if len(finite) else 0.0
        present_count = np.full(p, float(n))
        holes: list[int] = []
        masks: list[Array] = []
        for j in range(p):
            column = matrix[:, j]
            np.subtract(column, self.shift[j], out=column)
            bad = ~np.isfinite(column)
            if bad.any():
                column[bad] = 0.0
                holes.append(j)
                masks.append(~bad)
                present_count[j] = float(n - int(bad.sum()))
        centered = matrix
        self.sxy += centered.T @ centered
        column_sum = np.ones(n) @ centered
        column_sumsq = np.array([float(centered[:, j] @ centered[:, j]) for j in range(p)])
        # Against a column without holes in this block, a pair's rows are the other column's
        # present rows; only columns with holes need products with their masks.
        self.count += present_count[:, None]
        self.sx += column_sum[:, None]
        self.sxx += column_sumsq[:, None]
        if holes:
            mask = np.column_stack(masks).astype("float64")
            both = mask.T @ mask
            for a, i in enumerate(holes):
                self.count[i, holes] += both[a] - present_count[i]
            others = [i for i in range(p) if i not in holes]
            self.count[np.ix_(others, holes)] += (
                present_count[holes] - present_count[others][:, None]
            )
            self.sx[:, holes] += centered.T @ mask - column_sum[:, None]
            for i in range(p):
                squares = centered[:, i] * centered[:, i]
                self.sxx[i, holes] += squares @ mask - column_sumsq[i]

    def matrix(self) -> list[list[float | None]]:
        """Return the correlation matrix; None where a pair has < 2 rows or no spread."""
        n, sx, sxx = self.count, self.sx, self.sxx
        with np.errstate(invalid="ignore", divide="ignore"):
            cov = n * self.sxy - sx * sx.T
            var_i = n * sxx - sx * sx
            var_j = var_i.T
            corr = cov / np.sqrt(var_i * var_j)
        tiny = 1e-12 * np.maximum(np.abs(n * sxx), 1e-300)
        undefined = (n < 2) | (var_i <= tiny) | (var_j <= tiny.T) | ~np.isfinite(corr)
        corr = np.clip(corr, -1.0, 1.0)
        out: list[list[float | None]] = []
        for i in range(self.p):
            row: list[float | None] = []
            for j in range(self.p):
                row.append(None if undefined[i, j] else (1.0 if i == j else float(corr[i, j])))
            out.append(row)
        return out
