"""Recipes and profiling: the wine recipe vs hand-written pandas; profiling 10 M rows × 20 columns.

1. The book's wine recipe (``lakeworks.dataprep.example_recipe("wine")``) on the 144 037-row
   winemag file, side by side with the same preparation written by hand in pandas:
   - fit: ``recipe.fit_transform(df)`` vs the pandas code computing and applying every statistic
     (out-of-fold target encoding included);
   - apply: ``fitted.transform(df)`` (what serving and batch jobs run) vs pandas applying
     precomputed statistics.
   Ratio = pandas time / Lakeworks time (goal: at least 50 %).
2. ``profile_frame`` on a generated 10 000 000 × 20 frame (12 float, 3 integer, 3 string,
   1 boolean, 1 date-time column). Goal: at most 60 s on 2 cores. Then ``profile_dataset``
   streaming the same rows from a Parquet file.

Run: ``.venv/bin/python bench/bench_recipes.py`` (``--rows N`` for a smaller profile run).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from lakeworks.dataprep import example_recipe, profile_dataset, profile_frame
from lakeworks.testing.datasets import book_dataset

WINE = book_dataset("winemag-data_first150k.csv.gz")
ROUNDS = 5


def timed(fn: Callable[[], Any], rounds: int = ROUNDS) -> float:
    """Median wall time of ``rounds`` calls."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def pandas_fit(df: pd.DataFrame, smoothing: float = 10.0, folds: int = 5) -> dict[str, Any]:
    """The wine preparation by hand: learn every statistic and transform the training rows."""
    df = df.copy()
    learned: dict[str, Any] = {"price": df["price"].mean()}
    df["price"] = df["price"].fillna(learned["price"])
    df["designation"] = df["designation"].fillna("Unknown")
    df = df.drop(columns=["region_1", "region_2"])
    df = df.dropna(subset=["country", "points"])
    for column in ("designation", "winery"):
        ranks = df[column].value_counts().rank(method="dense", ascending=False)
        learned[column] = ranks
        df[column] = df[column].map(ranks).astype(float)
    fold = np.random.default_rng(0).permutation(len(df)) % folds
    variety, price = df["variety"].to_numpy(dtype=object), df["price"].to_numpy()
    encoded = np.empty(len(df))
    for f in range(folds):
        train = fold != f
        prior = price[train].mean()
        grouped = pd.DataFrame({"v": variety[train], "p": price[train]}).groupby("v")["p"]
        table = (grouped.sum() + smoothing * prior) / (grouped.count() + smoothing)
        encoded[~train] = pd.Series(variety[~train]).map(table).fillna(prior).to_numpy()
    grouped = df.groupby("variety")["price"]
    learned["prior"] = df["price"].mean()
    learned["variety"] = (grouped.sum() + smoothing * learned["prior"]) / (
        grouped.count() + smoothing
    )
    df["variety"] = encoded
    learned["countries"] = sorted(df["country"].unique())
    df = pd.concat(
        [
            df.drop(columns="country"),
            pd.get_dummies(df["country"], prefix="country", dtype="uint8"),
        ],
        axis=1,
    )
    numeric = df.select_dtypes("number").columns
    learned["low"], learned["high"] = df[numeric].min(), df[numeric].max()
    df[numeric] = (df[numeric] - learned["low"]) / (learned["high"] - learned["low"])
    learned["frame"] = df
    return learned


def pandas_apply(df: pd.DataFrame, learned: dict[str, Any]) -> pd.DataFrame:
    """The wine preparation by hand, applying statistics learned before (serving)."""
    df = df.copy()
    df["price"] = df["price"].fillna(learned["price"])
    df["designation"] = df["designation"].fillna("Unknown")
    df = df.drop(columns=["region_1", "region_2"])
    df = df.dropna(subset=["country", "points"])
    for column in ("designation", "winery"):
        ranks = learned[column]
        df[column] = df[column].map(ranks).fillna(ranks.max() + 1).astype(float)
    df["variety"] = df["variety"].map(learned["variety"]).fillna(learned["prior"]).astype(float)
    country = pd.Categorical(df["country"], categories=learned["countries"])
    dummies = pd.get_dummies(country, prefix="country", dtype="uint8").set_axis(df.index)
    df = pd.concat([df.drop(columns="country"), dummies], axis=1)
    numeric = list(learned["low"].index)
    df[numeric] = (df[numeric] - learned["low"]) / (learned["high"] - learned["low"])
    return df


def bench_wine() -> None:
    df = pd.read_csv(WINE, sep=";")
    recipe = example_recipe("wine")
    fitted, ours = recipe.fit_transform(df)
    learned = pandas_fit(df)
    hand = learned["frame"]
    pd.testing.assert_frame_equal(ours[hand.columns], hand, check_exact=False, rtol=1e-9)
    applied = fitted.transform(df)
    pd.testing.assert_frame_equal(
        applied[hand.columns], pandas_apply(df, learned), check_exact=False, rtol=1e-9
    )

    fit_ours = timed(lambda: recipe.fit_transform(df))
    fit_pandas = timed(lambda: pandas_fit(df))
    apply_ours = timed(lambda: fitted.transform(df))
    apply_pandas = timed(lambda: pandas_apply(df, learned))
    print(f"wine recipe, {len(df):,} rows × {len(df.columns)} columns, median of {ROUNDS}")
    print(
        f"  fit    Lakeworks {fit_ours:6.3f} s   pandas {fit_pandas:6.3f} s   "
        f"ratio {fit_pandas / fit_ours:6.1%} of pandas speed"
    )
    print(
        f"  apply  Lakeworks {apply_ours:6.3f} s   pandas {apply_pandas:6.3f} s   "
        f"ratio {apply_pandas / apply_ours:6.1%} of pandas speed"
    )


def generated(rows: int, seed: int = 0) -> pd.DataFrame:
    """A 20-column frame of mixed kinds, with missing values and skew."""
    rng = np.random.default_rng(seed)
    columns: dict[str, Any] = {}
    for i in range(10):
        values = rng.normal(loc=i * 10, scale=1 + i, size=rows)
        if i % 3 == 0:
            values[rng.random(rows) < 0.05] = np.nan
        columns[f"f{i}"] = values
    columns["lognormal"] = rng.lognormal(3, 1, rows)
    columns["uniform"] = rng.random(rows)
    columns["count"] = rng.poisson(3, rows)
    columns["age"] = rng.integers(18, 90, rows)
    columns["id"] = np.arange(rows)
    colors = np.array(["red", "white", "rose", "sparkling", "dessert"])
    columns["color"] = pd.array(colors[rng.integers(0, 5, rows)], dtype="str")
    countries = np.array([f"country-{i}" for i in range(200)])
    columns["country"] = pd.array(countries[rng.zipf(1.5, rows) % 200], dtype="str")
    columns["flag"] = rng.random(rows) < 0.3
    columns["when"] = pd.Timestamp("2020-01-01") + pd.to_timedelta(
        rng.integers(0, 10**8, rows), unit="s"
    )
    columns["code"] = pd.array(np.char.add("c", rng.integers(0, 10**6, rows).astype(str)), "str")
    return pd.DataFrame(columns)


def bench_profile(rows: int) -> None:
    start = time.perf_counter()
    df = generated(rows)
    made = time.perf_counter() - start
    start = time.perf_counter()
    profile = profile_frame(df)
    took = time.perf_counter() - start
    assert profile["rows"] == rows
    assert len(profile["columns"]) == 20
    print(f"profile_frame, {rows:,} rows × {len(df.columns)} columns (generated in {made:.1f} s)")
    print(f"  {took:6.1f} s   {rows / took / 1e6:5.2f} M rows/s   goal ≤ 60 s on 2 cores")


def bench_profile_parquet(rows: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "generated.parquet"
        pq.write_table(pa.Table.from_pandas(generated(rows), preserve_index=False), path)
        start = time.perf_counter()
        profile = profile_dataset(path)
        took = time.perf_counter() - start
    assert profile["rows"] == rows
    print(f"profile_dataset, the same frame streamed from Parquet ({rows:,} rows, two passes)")
    print(f"  {took:6.1f} s   {rows / took / 1e6:5.2f} M rows/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows of the profile run")
    args = parser.parse_args()
    bench_wine()
    bench_profile(args.rows)
    bench_profile_parquet(args.rows)


if __name__ == "__main__":
    main()
