"""Profiles against pandas' own statistics; sampling; files; bad input; the HTML report."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakeworks.core.errors import ValidationError
from lakeworks.dataprep import profile_dataset, profile_frame, render_profile_html
from lakeworks.testing.datasets import book_dataset

WINE_150K = book_dataset("winemag-data_first150k.csv.gz")


def column(profile: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in profile["columns"] if c["name"] == name)


def mixed(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    values = rng.normal(10, 3, n)
    values[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame(
        {
            "value": values,
            "count": rng.integers(0, 5, n),
            "skewed": rng.lognormal(0, 1.5, n),
            "color": pd.array(rng.choice(["red", "white", "rose"], n, p=[0.5, 0.3, 0.2]), "str"),
            "flag": rng.random(n) < 0.25,
            "when": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 86400 * 30, n), "s"),
            "review": pd.array(
                [
                    f"A very long free text review number {i} about a wine, with words"
                    for i in range(n)
                ],
                "str",
            ),
            "constant": 1.0,
        }
    )


@pytest.fixture(scope="module")
def wine_profile(wine: pd.DataFrame) -> dict[str, Any]:
    return profile_frame(wine)


def test_statistics_match_pandas() -> None:
    df = mixed()
    profile = profile_frame(df)
    assert profile["rows"] == len(df)
    assert profile["columns_count"] == 8
    value = column(profile, "value")
    series = df["value"]
    assert value["type"] == "numeric"
    assert value["missing"] == series.isna().sum()
    assert value["mean"] == pytest.approx(series.mean(), rel=1e-12)
    assert value["std"] == pytest.approx(series.std(), rel=1e-12)
    assert value["skew"] == pytest.approx(series.skew(), rel=1e-9)
    assert (value["min"], value["max"]) == (series.min(), series.max())
    for q in ("0.05", "0.25", "0.5", "0.75", "0.95"):
        assert value["quantiles"][q] == pytest.approx(series.quantile(float(q)))
    assert value["quantiles_exact"] is True
    counts, edges = np.histogram(series.dropna(), bins=20)
    assert value["histogram"]["counts"] == counts.tolist()
    np.testing.assert_allclose(value["histogram"]["edges"], edges)
    q1, q3 = series.quantile([0.25, 0.75])
    fences = (q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1))
    assert value["outliers"]["count"] == ((series < fences[0]) | (series > fences[1])).sum()
    # Integers with a small range get one bin per value.
    assert column(profile, "count")["histogram"]["counts"] == np.bincount(df["count"]).tolist()
    color = column(profile, "color")
    assert color["type"] == "categorical"
    assert color["distinct"] == 3
    top = df["color"].value_counts()
    assert [(t["value"], t["count"]) for t in color["top_values"]] == list(top.items())
    assert column(profile, "flag")["true"] == df["flag"].sum()
    assert column(profile, "review")["type"] == "text"
    when = column(profile, "when")
    assert when["type"] == "datetime"
    assert when["min"] == df["when"].min().isoformat()
    assert column(profile, "skewed")["histogram"]["scale"] == "log"
    corr = profile["correlations"]
    assert corr["columns"] == ["value", "count", "skewed", "constant"]
    expected = df[corr["columns"]].astype(float).corr().to_numpy()
    matrix = np.array([[np.nan if v is None else v for v in row] for row in corr["matrix"]])
    np.testing.assert_allclose(matrix, expected, atol=1e-12, equal_nan=True)
    json.dumps(profile, allow_nan=False)  # strict JSON


def test_warnings(wine_profile: dict[str, Any]) -> None:
    profile = profile_frame(mixed())
    kinds = {(w["kind"], w["column"]) for w in profile["warnings"]}
    assert ("constant", "constant") in kinds
    assert ("skewed", "skewed") in kinds
    assert ("unique", "review") in kinds
    wine_kinds = {(w["kind"], w["column"]) for w in wine_profile["warnings"]}
    assert ("high_missing", "region_2") in wine_kinds
    assert ("duplicates", None) in wine_kinds


def test_wine_profile(wine: pd.DataFrame, wine_profile: dict[str, Any]) -> None:
    assert wine_profile["rows"] == 144037
    assert wine_profile["duplicates"]["rows"] == wine.duplicated().sum()
    for name in ("country", "points", "price", "variety", "region_2"):
        assert column(wine_profile, name)["distinct"] == wine[name].nunique()
        assert column(wine_profile, name)["missing"] == wine[name].isna().sum()
    # Large columns: distinct counts from the sketch are close.
    winery = column(wine_profile, "winery")
    assert winery["distinct_exact"] is False
    assert winery["distinct"] == pytest.approx(wine["winery"].nunique(), rel=0.05)
    top = wine["winery"].value_counts().head(3)
    assert [(t["value"], t["count"]) for t in winery["top_values"][:3]] == list(top.items())
    assert column(wine_profile, "price")["quantiles_exact"] is True


def test_samples(wine: pd.DataFrame) -> None:
    first = profile_frame(wine, sample="first", n=1000)
    assert first["rows"] == 1000
    assert first["sample"]["method"] == "first"
    assert column(first, "points")["mean"] == pytest.approx(wine["points"].head(1000).mean())
    random = profile_frame(wine, sample="random", n=2000, seed=5)
    assert random["rows"] == 2000
    assert random["sample"]["source_rows"] == len(wine)
    assert profile_frame(wine, sample="random", n=2000, seed=5) == random  # seeded
    assert column(random, "points")["mean"] == pytest.approx(wine["points"].mean(), abs=0.3)
    with pytest.raises(ValidationError, match="'n' applies to sample 'first' or 'random'"):
        profile_frame(wine, n=10)
    with pytest.raises(ValidationError, match="'sample' must be one of"):
        profile_frame(wine, sample="most")


def test_datasets_stream_from_files(tmp_path: Path, wine: pd.DataFrame) -> None:
    from_csv = profile_dataset(WINE_150K, delimiter=";", batch_rows=40_000)
    expected = profile_frame(wine)
    for name in ("country", "points", "price", "region_1"):
        ours, theirs = column(from_csv, name), column(expected, name)
        for key in ("count", "missing", "distinct", "top_values", "histogram", "quantiles"):
            assert ours.get(key) == theirs.get(key), (name, key)
        assert ours.get("mean") == pytest.approx(theirs.get("mean"))
    assert from_csv["duplicates"] == expected["duplicates"]
    df = mixed()
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), tmp_path / "part.parquet")
    from_parquet = profile_dataset(tmp_path / "part.parquet", batch_rows=700)
    assert column(from_parquet, "value")["mean"] == pytest.approx(df["value"].mean())
    assert (
        column(from_parquet, "value")["histogram"]
        == column(profile_frame(df), "value")["histogram"]
    )


def test_non_utf8_input_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("name,score\ncafé,1\ncrème,2\n".encode("latin-1"))
    profile = profile_dataset(path)
    name = column(profile, "name")
    assert name["invalid_utf8"] == 2
    assert name["top_values"][0]["value"] == "caf�"
    warning = next(w for w in profile["warnings"] if w["kind"] == "invalid_utf8")
    assert "encoding='latin-1'" in warning["message"]
    transcoded = profile_dataset(path, encoding="latin-1")
    assert [t["value"] for t in column(transcoded, "name")["top_values"]] == ["café", "crème"]
    # Bytes in a frame: profiled with replacement characters and a warning.
    frame = pd.DataFrame({"raw": [b"ok", b"caf\xe9", None]})
    profile = profile_frame(frame)
    assert column(profile, "raw")["invalid_utf8"] == 1
    assert any(w["kind"] == "invalid_utf8" for w in profile["warnings"])


def test_mixed_types_and_bad_input() -> None:
    profile = profile_frame(pd.DataFrame({"m": [1, "two", 3.0, None]}))
    assert column(profile, "m")["count"] == 3
    assert profile["warnings"][0]["kind"] == "mixed_types"
    with pytest.raises(ValidationError, match="empty dataset"):
        profile_frame(pd.DataFrame({"a": pd.Series([], dtype=float)}))
    with pytest.raises(ValidationError, match="without columns"):
        profile_frame(pd.DataFrame())
    with pytest.raises(ValidationError, match="Expected a pandas DataFrame"):
        profile_frame([1, 2, 3])
    with pytest.raises(ValidationError, match="No file or directory"):
        profile_dataset("/nonexistent/data.parquet")


def test_html_report_is_self_contained(wine_profile: dict[str, Any], tmp_path: Path) -> None:
    html = render_profile_html(wine_profile, title="Wine reviews")
    assert html.startswith("<!DOCTYPE html>")
    assert "<title>Wine reviews</title>" in html
    assert "<script" not in html.lower()
    assert not re.search(r"(src|href)=\"(https?:)?//", html)  # nothing from the network
    assert "@import" not in html
    assert "url(http" not in html
    for name in ("country", "region_2", "winery"):
        assert f">{name}<" in html
    assert html.count('<section class="column"') == 10
    assert 'aria-label="correlation heatmap"' in html
    assert 'aria-label="histogram"' in html
    assert "region_2 is 59.5% missing" in html
    (tmp_path / "report.html").write_text(html, encoding="utf-8")


def test_html_escapes_data() -> None:
    frame = pd.DataFrame({"<script>alert(1)</script>": ["<b>bold</b>", "x & y"], "n": [1, 2]})
    html = render_profile_html(profile_frame(frame), title="<i>t</i>")
    assert "<script>" not in html
    assert "<b>bold</b>" not in html
    assert "<i>t</i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html
