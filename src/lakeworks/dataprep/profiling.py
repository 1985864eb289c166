"""Data profiling: per-column statistics, correlations, duplicates and warnings, as JSON.

:func:`profile_frame` profiles an in-memory pandas DataFrame or pyarrow Table;
:func:`profile_dataset` streams a Parquet/CSV/JSON file or directory (or a pyarrow dataset) in
record batches, so memory stays bounded by the batch size and the sketches. Both return the same
JSON-ready dict (render it with :func:`lakeworks.dataprep.report.render_profile_html`).

What is exact and what is approximate (also written into every profile under
``approximations``):

- row, missing, zero, negative and infinite counts, min, max, mean, std, skewness, histogram
  counts, boolean counts, string lengths and Pearson correlations (pairwise complete) are exact;
- quantiles and the IQR fences behind the outlier counts come from a uniform random sample of
  ``sample_rows`` rows — exact when the data has no more rows than that (the outlier *count* is
  then exact for those fences);
- distinct counts are exact up to 8192 distinct values per column, a KMV-sketch estimate
  (≈ 1.1 % relative error) beyond;
- top values are exact counts up to 50 000 distinct values per column (Misra–Gries beyond);
  for high-cardinality text (more than half the values distinct) they come from the sample;
- duplicate rows are counted exactly on 64-bit row hashes (list/struct columns are not hashed),
  up to 50 million rows.

Sampling (``sample``): ``full`` profiles every row; ``first`` the first ``n`` rows; ``random``
a seeded uniform random sample of ``n`` rows (default n: 10 000).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.dataset as pads

from lakeworks.core.errors import ValidationError
from lakeworks.dataprep.profile_columns import ColumnProfile
from lakeworks.dataprep.sketches import PearsonMatrix, RowSample, combine_hashes

__all__ = ["PROFILE_FORMAT", "profile_dataset", "profile_frame"]

PROFILE_FORMAT = 1
SAMPLES = ("full", "first", "random")
_DEFAULT_N = 10_000
_MAX_ROW_HASHES = 50_000_000
_MAX_CORRELATED = 30
_BATCH_ROWS = 1_000_000

Batches = Callable[[], Iterable[pa.RecordBatch]]


def profile_frame(
    frame: Any,
    sample: str = "full",
    n: int | None = None,
    seed: int = 0,
    *,
    top: int = 10,
    bins: int = 20,
    sample_rows: int = 200_000,
) -> dict[str, Any]:
    """Profile an in-memory pandas DataFrame or pyarrow Table.

    Args:
        frame: The data.
        sample: ``full``, ``first`` or ``random`` (see the module docstring).
        n: Rows for ``first``/``random`` (default 10 000); not allowed with ``full``.
        seed: Seed of the random sample and of the quantile sample.
        top: How many top values to list per column.
        bins: Histogram bins for numeric and date-time columns.
        sample_rows: Size of the row sample quantiles are read from.

    Returns:
        The profile (see :func:`profile_dataset`).

    Raises:
        ValidationError: Bad options, or no rows or no columns to profile.
    """
    _check_options(sample, n, seed, top, bins, sample_rows)
    warnings: list[dict[str, Any]] = []
    table = _arrow_table(frame, warnings)

    def batches() -> Iterable[pa.RecordBatch]:
        return list(table.to_batches(max_chunksize=_BATCH_ROWS))

    return _profile(table.schema, batches, sample, n, seed, top, bins, sample_rows, warnings)


def profile_dataset(
    source: Any,
    *,
    format: str | None = None,
    delimiter: str | None = None,
    encoding: str = "utf8",
    sample: str = "full",
    n: int | None = None,
    seed: int = 0,
    top: int = 10,
    bins: int = 20,
    sample_rows: int = 200_000,
    batch_rows: int = _BATCH_ROWS,
) -> dict[str, Any]:
    """Profile a dataset by streaming it in record batches (two passes over the data).

    Args:
        source: A file or directory path (Parquet, CSV, JSON lines; gzip-compressed CSV works),
            a ``pyarrow.dataset.Dataset`` or a ``pyarrow.Table``.
        format: ``parquet``, ``csv`` or ``json``; None guesses from the file extension.
        delimiter: CSV field delimiter (default ``,``).
        encoding: Text encoding of CSV files (``latin-1`` … are transcoded to UTF-8).
        sample, n, seed, top, bins, sample_rows: As for :func:`profile_frame`.
        batch_rows: Rows per record batch read.

    Returns:
        ``{"format", "format_version", "rows", "columns_count", "sample", "duplicates",
        "correlations", "columns": [...], "warnings": [...], "approximations"}``; each column
        has ``name``, ``type`` (numeric, categorical, text, boolean, datetime, other), counts,
        ``distinct``, ``top_values`` or numeric statistics, ``histogram`` and ``outliers``.

    Raises:
        ValidationError: Unreadable or non-UTF-8 input (named, with what to do), bad options,
            or an empty dataset.
    """
    _check_options(sample, n, seed, top, bins, sample_rows)
    if isinstance(source, pa.Table):
        table = source
        return _profile(
            table.schema,
            lambda: table.to_batches(max_chunksize=batch_rows),
            sample,
            n,
            seed,
            top,
            bins,
            sample_rows,
            [],
        )
    dataset = _open(source, format, delimiter, encoding)

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            yield from dataset.to_batches(batch_size=batch_rows)
        except (pa.ArrowInvalid, OSError) as exc:
            raise _read_error(source, exc) from None

    return _profile(dataset.schema, batches, sample, n, seed, top, bins, sample_rows, [])


def _check_options(
    sample: str, n: int | None, seed: int, top: int, bins: int, sample_rows: int
) -> None:
    if sample not in SAMPLES:
        raise ValidationError(f"'sample' must be one of {list(SAMPLES)}; got {sample!r}")
    if sample == "full" and n is not None:
        raise ValidationError("'n' applies to sample 'first' or 'random', not 'full'")
    for name, value, low in (
        ("n", n, 1),
        ("seed", seed, 0),
        ("top", top, 0),
        ("bins", bins, 1),
        ("sample_rows", sample_rows, 100),
    ):
        if value is None and name == "n":
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValidationError(f"'{name}' must be an integer ≥ {low}; got {value!r}")


def _arrow_table(frame: Any, warnings: list[dict[str, Any]]) -> pa.Table:
    if isinstance(frame, pa.Table):
        return frame
    if not isinstance(frame, pd.DataFrame):
        raise ValidationError(
            f"Expected a pandas DataFrame or a pyarrow Table, got {type(frame).__name__}"
        )
    try:
        return pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        pass
    arrays, names = [], []
    for column in frame.columns:
        series = frame[column]
        try:
            arrays.append(pa.array(series, from_pandas=True))
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            # A column mixing types (numbers and strings) is profiled as its text form.
            as_text = [None if _is_missing(v) else str(v) for v in series]
            arrays.append(pa.array(as_text, type=pa.large_string()))
            warnings.append(
                {
                    "kind": "mixed_types",
                    "column": str(column),
                    "message": f"{column} mixes value types; profiled as text",
                }
            )
        names.append(str(column))
    return pa.Table.from_arrays(arrays, names=names)


def _is_missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _open(source: Any, fmt: str | None, delimiter: str | None, encoding: str) -> pads.Dataset:
    if isinstance(source, pads.Dataset):
        return source
    if not isinstance(source, str | Path):
        raise ValidationError(
            "profile_dataset takes a path, a pyarrow Dataset or a pyarrow Table; got "
            f"{type(source).__name__}"
        )
    path = Path(source)
    if not path.exists():
        raise ValidationError(f"No file or directory at {str(path)!r}")
    if fmt is None:
        name = path.name.lower().removesuffix(".gz").removesuffix(".bz2")
        fmt = next(
            (f for f, exts in _EXTENSIONS.items() if name.endswith(exts)),
            "parquet" if path.is_dir() else None,
        )
        if fmt is None:
            raise ValidationError(
                f"Cannot tell the format of {path.name!r}; pass format 'parquet', 'csv' or 'json'"
            )
    if fmt not in _EXTENSIONS:
        raise ValidationError(f"Unknown format {fmt!r}; allowed: {sorted(_EXTENSIONS)}")
    file_format: Any = fmt
    if fmt == "csv":
        file_format = pads.CsvFileFormat(
            parse_options=pacsv.ParseOptions(delimiter=delimiter or ","),
            read_options=pacsv.ReadOptions(encoding=encoding, block_size=16 << 20),
            # Empty CSV fields are missing values, as pandas reads them.
            convert_options=pacsv.ConvertOptions(strings_can_be_null=True),
        )
    try:
        return pads.dataset(str(path), format=file_format)
    except (pa.ArrowInvalid, OSError) as exc:
        raise _read_error(source, exc) from None


_EXTENSIONS: dict[str, tuple[str, ...]] = {
    "parquet": (".parquet", ".pq"),
    "csv": (".csv", ".tsv", ".txt"),
    "json": (".json", ".jsonl", ".ndjson"),
}


def _read_error(source: Any, exc: Exception) -> ValidationError:
    text = str(exc)
    if "UTF8" in text or "UTF-8" in text or "utf8" in text:
        return ValidationError(
            f"{source} contains text that is not valid UTF-8 ({text.splitlines()[0]}); "
            "re-encode it as UTF-8 or pass its encoding (encoding='latin-1')",
            details={"reason": "invalid_utf8"},
        )
    return ValidationError(f"Cannot read {source}: {text.splitlines()[0] if text else exc}")


def _select(
    schema: pa.Schema, batches: Batches, sample: str, n: int | None, seed: int
) -> tuple[Batches, dict[str, Any]]:
    """Return the batches to profile and the ``sample`` section of the result."""
    if sample == "full":
        return batches, {"method": "full"}
    limit = n or _DEFAULT_N
    seen = 0
    if sample == "first":
        taken: list[pa.RecordBatch] = []
        for batch in batches():
            taken.append(batch.slice(0, limit - seen))
            seen += taken[-1].num_rows
            if seen >= limit:
                break
        table = pa.Table.from_batches(taken, schema=schema)
    else:
        reservoir = RowSample(limit, seed)
        for batch in batches():
            seen += batch.num_rows
            reservoir.add(batch)
        table = reservoir.table(schema)
    info: dict[str, Any] = {"method": sample, "n": limit, "rows": table.num_rows}
    if sample == "random":
        info.update(seed=seed, source_rows=seen)
    return (lambda: table.to_batches(max_chunksize=_BATCH_ROWS)), info


def _profile(
    schema: pa.Schema,
    source: Batches,
    sample: str,
    n: int | None,
    seed: int,
    top: int,
    bins: int,
    sample_rows: int,
    warnings: list[dict[str, Any]],
) -> dict[str, Any]:
    if len(schema) == 0:
        raise ValidationError("Cannot profile a dataset without columns")
    batches, sample_info = _select(schema, source, sample, n, seed)
    columns = [ColumnProfile(f.name, f.type, top=top, bins=bins) for f in schema]
    numeric = [c for c in columns if c.family == "numeric"][:_MAX_CORRELATED]
    pearson = PearsonMatrix(len(numeric))
    reservoir = RowSample(sample_rows, seed)
    hashes: list[np.ndarray[Any, Any]] = []
    block: np.ndarray[Any, Any] | None = None
    rows = 0
    for batch in batches():
        rows += batch.num_rows
        row_hash = None
        for index, column in enumerate(columns):
            column_hash = column.update(batch.column(index))
            if column_hash is not None:
                row_hash = combine_hashes(row_hash, column_hash)
        if numeric:
            # One reused block: a fresh n×p array per batch costs more in page faults than
            # the products computed on it.
            if block is None or block.shape[0] < batch.num_rows:
                block = np.empty((batch.num_rows, len(numeric)), order="F")
            for j, column in enumerate(numeric):
                block[: batch.num_rows, j] = column.last_floats
            pearson.add(block[: batch.num_rows])
        for column in columns:
            column.last_floats = None
        reservoir.add(batch)
        if row_hash is not None and rows <= _MAX_ROW_HASHES:
            hashes.append(row_hash)
    if rows == 0:
        raise ValidationError("Cannot profile an empty dataset (0 rows)")
    sampled = reservoir.table(schema)
    exact = sampled.num_rows == rows
    second = [(i, c) for i, c in enumerate(columns) if c.prepare(sampled.column(i), exact)]
    if second:
        for batch in batches():
            for index, column in second:
                column.update_second(batch.column(index))
    duplicates = None
    if hashes and rows <= _MAX_ROW_HASHES:
        # Sorting 64-bit hashes beats a hash table at this size (several times, at 10M rows).
        ordered = np.sort(np.concatenate(hashes))
        duplicates = int((ordered[1:] == ordered[:-1]).sum())
    sections = [c.result(exact) for c in columns]
    profile: dict[str, Any] = {
        "format": "lakeworks.profile",
        "format_version": PROFILE_FORMAT,
        "rows": rows,
        "columns_count": len(columns),
        "sample": {**sample_info, "quantile_sample_rows": sampled.num_rows},
        "duplicates": {
            "rows": duplicates,
            "pct": None if duplicates is None else round(100.0 * duplicates / rows, 4),
            "exact": duplicates is not None,
        },
        "correlations": {
            "method": "pearson",
            "columns": [c.name for c in numeric],
            "matrix": pearson.matrix() if numeric else [],
        },
        "columns": sections,
        "approximations": _approximations(sample_rows),
    }
    profile["warnings"] = warnings + _warnings(profile)
    return profile


def _approximations(sample_rows: int) -> dict[str, str]:
    return {
        "quantiles": (
            f"exact when the data has at most {sample_rows} rows, else from a uniform random "
            f"sample of {sample_rows} rows (also the IQR fences of outlier counts)"
        ),
        "distinct": "exact up to 8192 distinct values, else a KMV sketch (≈1.1% error)",
        "top_values": (
            "exact counts up to 50000 distinct values (Misra-Gries beyond); from the sample "
            "for high-cardinality text"
        ),
        "duplicates": "exact on 64-bit row hashes, up to 50 million rows",
        "correlations": f"exact pairwise-complete Pearson, first {_MAX_CORRELATED} numeric columns",
    }


def _warnings(profile: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    def warn(kind: str, column: str | None, message: str) -> None:
        out.append({"kind": kind, "column": column, "message": message})

    rows = profile["rows"]
    for col in profile["columns"]:
        name, present = col["name"], col["count"]
        if present == 0:
            warn("all_missing", name, f"{name} has no values")
            continue
        if col["missing_pct"] >= 20:
            warn("high_missing", name, f"{name} is {col['missing_pct']:.1f}% missing")
        if col["distinct"] == 1:
            warn("constant", name, f"{name} has a single value")
        elif col["type"] in ("categorical", "text") and present >= 100:
            if col["distinct_exact"] and col["distinct"] == present:
                warn("unique", name, f"{name} is unique in every row (an identifier?)")
            elif col["distinct"] > max(50, 0.5 * present):
                warn(
                    "high_cardinality",
                    name,
                    f"{name} has {col['distinct']:,} distinct values "
                    f"({col['distinct_pct']:.0f}% of rows)",
                )
        skew = col.get("skew")
        if skew is not None and abs(skew) > 2:
            warn("skewed", name, f"{name} is skewed (skewness {skew:.1f}); consider log/box_cox")
        outliers = col.get("outliers")
        if outliers and outliers["pct"] > 5:
            warn("outliers", name, f"{name} has {outliers['pct']:.1f}% IQR outliers")
        if col.get("invalid_utf8"):
            warn(
                "invalid_utf8",
                name,
                f"{name} has {col['invalid_utf8']} value(s) that are not UTF-8 (shown with "
                "U+FFFD); if the file uses another encoding, pass it (encoding='latin-1')",
            )
    duplicates = profile["duplicates"]["rows"]
    if duplicates:
        warn(
            "duplicates",
            None,
            f"{duplicates:,} duplicate rows ({100.0 * duplicates / rows:.1f}%)",
        )
    return out
