"""Per-column accumulators of the profiler: one pass for counts and sketches, one for histograms.

A :class:`ColumnProfile` sees a column batch by batch (pyarrow arrays). Pass one collects exact
counts, extremes and moments, a distinct-count sketch, value counts and per-row hashes (for
duplicate rows); between the passes it reads quartiles from the row sample and fixes histogram
edges; pass two counts histogram bins and IQR outliers exactly. :meth:`ColumnProfile.result`
gives the column's JSON section.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from lakeworks.dataprep.frames import to_native
from lakeworks.dataprep.sketches import NULL_HASH, DistinctSketch, FrequentItems, Moments

__all__ = ["QUANTILES", "ColumnProfile", "physical_family"]

Array = np.ndarray[Any, Any]

#: Quantiles reported for numeric and date-time columns.
QUANTILES: tuple[float, ...] = (0.05, 0.25, 0.5, 0.75, 0.95)
_HIGH_CARDINALITY = 0.5  # share of distinct values in a batch above which counts are sampled
_TEXT_LENGTH = 30.0  # mean characters above which a string column reads as free text


def physical_family(arrow_type: pa.DataType) -> str:
    """Return ``numeric``, ``boolean``, ``datetime``, ``string``, ``binary`` or ``other``."""
    if pa.types.is_dictionary(arrow_type):
        return physical_family(arrow_type.value_type)
    if pa.types.is_boolean(arrow_type):
        return "boolean"
    if (
        pa.types.is_integer(arrow_type)
        or pa.types.is_floating(arrow_type)
        or pa.types.is_decimal(arrow_type)
    ):
        return "numeric"
    if pa.types.is_timestamp(arrow_type) or pa.types.is_date(arrow_type):
        return "datetime"
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "string"
    if pa.types.is_binary(arrow_type) or pa.types.is_large_binary(arrow_type):
        return "binary"
    return "other"


def _floats(arr: pa.Array | pa.ChunkedArray) -> Array:
    if not pa.types.is_floating(arr.type) or pa.types.is_float16(arr.type):
        arr = pc.cast(arr, pa.float64())
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype="float64")


def _date_floats(arr: pa.Array | pa.ChunkedArray) -> Array:
    if pa.types.is_date(arr.type):
        arr = pc.cast(arr, pa.timestamp("s"))
    return _floats(pc.cast(arr, pa.int64()))


def _nulls(arr: pa.Array) -> Array:
    if arr.null_count == 0:
        return np.zeros(len(arr), dtype=bool)
    return np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=bool)


class ColumnProfile:
    """Statistics of one column, accumulated over record batches (see the module docstring)."""

    def __init__(self, name: str, arrow_type: pa.DataType, *, top: int, bins: int) -> None:
        self.name = name
        self.arrow_type = arrow_type
        self.family = physical_family(arrow_type)
        self.top_n = top
        self.bins = bins
        self.rows = 0
        self.missing = 0
        self.infinite = 0
        self.zeros = 0
        self.negatives = 0
        self.true = 0
        self.invalid_utf8 = 0
        self.low: float | None = None
        self.high: float | None = None
        self.moments = Moments()
        self.distinct = DistinctSketch()
        self.frequent = FrequentItems()
        self.high_cardinality: bool | None = None
        self.length_sum = 0
        self.length_min: int | None = None
        self.length_max: int | None = None
        # Whole numbers (ints, or floats that hold only whole values, like scores read with
        # missing values) get one histogram bin per value when their range is small.
        self.integer = self.family == "numeric"
        self.unit = "s"
        self.tz: str | None = None
        if pa.types.is_timestamp(arrow_type):
            self.unit, self.tz = arrow_type.unit, arrow_type.tz
        self.last_floats: Array | None = None
        # Decided between the passes.
        self.edges: Array | None = None
        self.log_bins = False
        self.hist: Array | None = None
        self.fences: tuple[float, float] | None = None
        self.outliers = 0
        self.quantiles: dict[str, Any] = {}
        self.sample_top: list[tuple[Any, int]] = []
        self.sample_size = 0
        self.inferred: str | None = None

    # -- pass one ----------------------------------------------------------------------------

    def update(self, arr: pa.Array) -> Array | None:
        """Take one batch of the column; return its per-row hashes (None: not hashable)."""
        self.rows += len(arr)
        if pa.types.is_dictionary(arr.type):
            arr = arr.dictionary_decode()
        if self.family == "numeric":
            return self._numbers(_floats(arr))
        if self.family == "datetime":
            return self._dates(arr)
        if self.family == "boolean":
            return self._booleans(arr)
        if self.family == "binary":
            arr = self._decode(arr)
        if self.family in ("string", "binary"):
            return self._strings(arr)
        self.missing += arr.null_count
        return None

    def _numbers(self, values: Array) -> Array:
        missing = np.isnan(values)
        self.missing += int(missing.sum())
        finite = values[np.isfinite(values)]
        self.infinite += int(len(values) - missing.sum() - len(finite))
        self.last_floats = values
        if len(finite):
            low, high = float(finite.min()), float(finite.max())
            self.low = low if self.low is None else min(self.low, low)
            self.high = high if self.high is None else max(self.high, high)
            self.zeros += int((finite == 0).sum())
            self.negatives += int((finite < 0).sum())
            self.moments.add(finite)
            if self.integer and not pa.types.is_integer(self.arrow_type):
                self.integer = bool(np.all(finite == np.floor(finite)))
        hashes = pd.util.hash_array(values)
        self.distinct.add(hashes[~missing])
        hashes[missing] = NULL_HASH
        return np.asarray(hashes)

    def _dates(self, arr: pa.Array) -> Array:
        if pa.types.is_date(arr.type):
            arr = pc.cast(arr, pa.timestamp("s"))
        nulls = _nulls(arr)
        ints = np.asarray(pc.fill_null(pc.cast(arr, pa.int64()), 0).to_numpy(), dtype=np.int64)
        self.missing += int(nulls.sum())
        present = ints[~nulls]
        if len(present):
            low, high = float(present.min()), float(present.max())
            self.low = low if self.low is None else min(self.low, low)
            self.high = high if self.high is None else max(self.high, high)
        self.last_floats = np.where(nulls, np.nan, ints.astype("float64"))
        hashes = pd.util.hash_array(ints)
        self.distinct.add(hashes[~nulls])
        hashes[nulls] = NULL_HASH
        return np.asarray(hashes)

    def _booleans(self, arr: pa.Array) -> Array:
        nulls = _nulls(arr)
        self.missing += int(nulls.sum())
        values = np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool)
        self.true += int(values.sum())
        codes = np.where(nulls, 2, values.astype(np.int64))
        table = np.array([0x51ED270B2A3F5C17, 0x2545F4914F6CDD1D, int(NULL_HASH)], np.uint64)
        return table[codes]

    def _decode(self, arr: pa.Array) -> pa.Array:
        try:
            return pc.cast(arr, pa.large_string())
        except pa.ArrowInvalid:
            texts: list[str | None] = []
            for value in arr.to_pylist():
                if value is None:
                    texts.append(None)
                    continue
                try:
                    texts.append(value.decode("utf-8"))
                except UnicodeDecodeError:
                    self.invalid_utf8 += 1
                    texts.append(value.decode("utf-8", errors="replace"))
            return pa.array(texts, type=pa.large_string())

    def _strings(self, arr: pa.Array) -> Array:
        nulls = _nulls(arr)
        self.missing += int(nulls.sum())
        present = len(arr) - int(nulls.sum())
        lengths = pc.utf8_length(arr)
        if present:
            extremes = pc.min_max(lengths)
            low, high = extremes["min"].as_py(), extremes["max"].as_py()
            self.length_min = low if self.length_min is None else min(self.length_min, low)
            self.length_max = high if self.length_max is None else max(self.length_max, high)
            self.length_sum += int(pc.sum(lengths).as_py() or 0)
        if self.high_cardinality is not True:
            encoded = pc.dictionary_encode(arr)
            dictionary = encoded.dictionary
            if self.high_cardinality is None and present:
                self.high_cardinality = (
                    len(dictionary) > 1000 and len(dictionary) > _HIGH_CARDINALITY * present
                )
            if not self.high_cardinality:
                indices = np.asarray(pc.fill_null(encoded.indices, -1).to_numpy(), dtype=np.int64)
                words = dictionary.to_numpy(zero_copy_only=False)
                counts = np.bincount(indices[indices >= 0], minlength=len(dictionary))
                self.frequent.add(words, counts)
                word_hashes = pd.util.hash_array(words, categorize=False)
                self.distinct.add(word_hashes)
                return np.asarray(np.append(word_hashes, NULL_HASH)[indices])
        hashes = pd.util.hash_array(arr.to_numpy(zero_copy_only=False), categorize=False)
        self.distinct.add(hashes[~nulls])
        hashes[nulls] = NULL_HASH
        return np.asarray(hashes)

    # -- between the passes ------------------------------------------------------------------

    def prepare(self, sample: pa.ChunkedArray, exact: bool) -> bool:
        """Read quantiles, fences and bin edges from the row sample; return whether pass two
        has work for this column."""
        self.sample_size = len(sample)
        if self.family in ("string", "binary"):
            self._infer_text(sample, exact)
            return False
        if self.family not in ("numeric", "datetime") or self.low is None or self.high is None:
            return False
        values = _date_floats(sample) if self.family == "datetime" else _floats(sample)
        values = values[np.isfinite(values)]
        if len(values):
            points = np.quantile(values, QUANTILES)
            self.quantiles = {str(q): float(v) for q, v in zip(QUANTILES, points, strict=True)}
            q1, q3 = float(points[1]), float(points[3])
            self.fences = (q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1))
        low, high = self.low, self.high
        skew = self.moments.skew() if self.family == "numeric" else None
        if self.integer and high - low < 60:
            self.edges = np.arange(low - 0.5, high + 1.0, 1.0)
        elif skew is not None and skew > 3 and low > 0 and high / low > 100:
            # A long right tail squeezes everything into the first of even bins; log-spaced
            # bins show the shape (the report labels the axis as logarithmic).
            self.log_bins = True
            self.edges = np.geomspace(low, high, self.bins + 1)
        elif high > low:
            self.edges = np.linspace(low, high, self.bins + 1)
        else:
            self.edges = np.array([low, high])
        self.hist = np.zeros(len(self.edges) - 1, dtype=np.int64)
        return True

    def _infer_text(self, sample: pa.ChunkedArray, exact: bool) -> None:
        values = [
            v.decode("utf-8", errors="replace") if isinstance(v, bytes) else v
            for v in sample.to_pylist()
        ]
        texts = pd.Series(values, dtype=object).dropna()
        if self.high_cardinality:
            counts = texts.value_counts()
            scale = 1.0 if exact else (self.rows - self.missing) / max(len(texts), 1)
            self.sample_top = [
                (value, round(count * scale)) for value, count in counts.head(self.top_n).items()
            ]
        if len(texts) == 0:
            return
        as_dates = pd.to_datetime(texts.head(1000), format="ISO8601", errors="coerce")
        has_digits = texts.head(1000).str.contains(r"\d", regex=True)
        if as_dates.notna().mean() >= 0.95 and has_digits.mean() >= 0.95:
            self.inferred = "datetime"
            return
        mean_length = self.length_sum / max(self.rows - self.missing, 1)
        distinct_share = texts.nunique() / len(texts)
        self.inferred = (
            "text" if mean_length >= _TEXT_LENGTH and distinct_share > 0.5 else "categorical"
        )

    # -- pass two ----------------------------------------------------------------------------

    def update_second(self, arr: pa.Array) -> None:
        """Count histogram bins and outliers of one batch."""
        if self.edges is None or self.hist is None:
            return
        if self.family == "datetime":
            values = _date_floats(arr)
        else:
            values = _floats(arr.dictionary_decode() if pa.types.is_dictionary(arr.type) else arr)
        values = values[np.isfinite(values)]
        low, high = float(self.edges[0]), float(self.edges[-1])
        count = len(self.hist)
        if self.log_bins:
            with np.errstate(divide="ignore", invalid="ignore"):
                scaled = (np.log(values) - math.log(low)) / (math.log(high) - math.log(low))
            index = np.floor(np.nan_to_num(scaled, nan=0.0, neginf=0.0) * count).astype(np.int64)
            np.clip(index, 0, count - 1, out=index)
        elif high > low:
            index = np.floor((values - low) / (high - low) * count).astype(np.int64)
            np.clip(index, 0, count - 1, out=index)
        else:
            index = np.zeros(len(values), dtype=np.int64)
        self.hist += np.bincount(index, minlength=count)
        if self.fences is not None:
            self.outliers += int(((values < self.fences[0]) | (values > self.fences[1])).sum())

    # -- result ------------------------------------------------------------------------------

    def semantic_type(self) -> str:
        """``numeric``, ``categorical``, ``text``, ``boolean``, ``datetime`` or ``other``."""
        if self.family in ("string", "binary"):
            return self.inferred or "categorical"
        return {"numeric": "numeric", "boolean": "boolean", "datetime": "datetime"}.get(
            self.family, "other"
        )

    def _time(self, value: float) -> str:
        stamp = pd.Timestamp(int(value), unit=self.unit)
        if self.tz:
            stamp = stamp.tz_localize("UTC").tz_convert(self.tz)
        return stamp.isoformat()

    def result(self, exact_sample: bool) -> dict[str, Any]:
        """Return this column's section of the profile."""
        present = self.rows - self.missing
        distinct, distinct_exact = self.distinct.count()
        distinct = min(distinct, present)  # an estimate must not exceed the values there are
        if self.family == "boolean":
            distinct, distinct_exact = int(self.true > 0) + int(present - self.true > 0), True
        out: dict[str, Any] = {
            "name": self.name,
            "type": self.semantic_type(),
            "physical_type": str(self.arrow_type),
            "count": present,
            "missing": self.missing,
            "missing_pct": _pct(self.missing, self.rows),
            "distinct": distinct,
            "distinct_exact": distinct_exact,
            "distinct_pct": _pct(distinct, present),
        }
        if self.family == "numeric":
            out.update(self._numeric_result(exact_sample))
        elif self.family == "datetime":
            out.update(self._datetime_result(exact_sample))
        elif self.family == "boolean":
            out["true"], out["false"] = self.true, present - self.true
            pairs = [(True, self.true), (False, present - self.true)]
            out["top_values"] = _top(sorted(pairs, key=lambda p: -p[1]), present)
            out["top_values_exact"] = True
        elif self.family in ("string", "binary"):
            out.update(self._string_result(present, exact_sample))
        return out

    def _numeric_result(self, exact_sample: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "min": self.low,
            "max": self.high,
            "mean": self.moments.mean(),
            "std": self.moments.std(),
            "skew": self.moments.skew(),
            "zeros": self.zeros,
            "negatives": self.negatives,
            "infinite": self.infinite,
            "median": self.quantiles.get("0.5"),
            "quantiles": self.quantiles,
            "quantiles_exact": exact_sample,
        }
        if self.edges is not None and self.hist is not None:
            out["histogram"] = {
                "edges": [float(e) for e in self.edges],
                "counts": [int(c) for c in self.hist],
                "scale": "log" if self.log_bins else "linear",
            }
        if self.fences is not None:
            out["outliers"] = {
                "method": "iqr",
                "lower": self.fences[0],
                "upper": self.fences[1],
                "count": self.outliers,
                "pct": _pct(self.outliers, self.rows - self.missing),
            }
        return out

    def _datetime_result(self, exact_sample: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "min": None if self.low is None else self._time(self.low),
            "max": None if self.high is None else self._time(self.high),
            "median": None,
            "quantiles_exact": exact_sample,
        }
        if "0.5" in self.quantiles:
            out["median"] = self._time(self.quantiles["0.5"])
        if self.edges is not None and self.hist is not None:
            out["histogram"] = {
                "edges": [self._time(e) for e in self.edges],
                "counts": [int(c) for c in self.hist],
            }
        return out

    def _string_result(self, present: int, exact_sample: bool) -> dict[str, Any]:
        if self.high_cardinality:
            top, exact = self.sample_top, exact_sample
        else:
            top, exact = self.frequent.top(self.top_n), self.frequent.exact
        out: dict[str, Any] = {
            "top_values": _top(top, present),
            "top_values_exact": exact,
            "length": {
                "min": self.length_min,
                "max": self.length_max,
                "mean": None if present == 0 else self.length_sum / present,
            },
        }
        if self.family == "binary":
            out["invalid_utf8"] = self.invalid_utf8
        return out


def _pct(part: int, whole: int) -> float:
    return 0.0 if whole == 0 else round(100.0 * part / whole, 4)


def _top(pairs: list[tuple[Any, int]], present: int) -> list[dict[str, Any]]:
    return [
        {"value": to_native(v), "count": int(c), "pct": _pct(int(c), present)}
        for v, c in pairs
        if c > 0 and not (isinstance(v, float) and math.isnan(v))
    ]
