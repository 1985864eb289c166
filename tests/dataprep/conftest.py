"""Fixtures for the data-preparation tests: small frames and the book's wine data (read once)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lakeworks.testing.datasets import book_dataset

BOOK = book_dataset()
WINE_150K = BOOK / "winemag-data_first150k.csv.gz"
WINE_CANVAS = BOOK / "wine-canvas.csv"

SENTENCES = [
    "A dry, crisp white wine with notes of apple and pear.",
    "Ripe black cherries; the tannins are firm and the finish is long!",
    "Not the best vintage: thin and sour.",
    "Aromas of oak, vanilla and toasted bread lead into a creamy palate.",
    "The winery's flagship red, generous and spicy, drinking well now.",
]


def small_frame(n: int = 60, seed: int = 0) -> pd.DataFrame:
    """A frame with one column of every kind transforms care about."""
    rng = np.random.default_rng(seed)
    x = rng.lognormal(mean=1.0, sigma=0.8, size=n)
    x[3] = np.nan
    y = rng.normal(size=n)
    cats = rng.choice(["red", "white", "rose", "sparkling"], size=n, p=[0.4, 0.3, 0.2, 0.1])
    cat = pd.array(cats, dtype="str")
    cat[5] = None
    text = [SENTENCES[i % len(SENTENCES)] for i in range(n)]
    tokens = [s.lower().replace(",", "").replace(".", "").split() for s in text]
    tokens_column = pd.Series([None] * n, dtype=object)
    for i, value in enumerate(tokens):
        tokens_column[i] = value
    return pd.DataFrame(
        {
            "x": x,
            "y": y,
            "z": 2 * y + rng.normal(scale=0.05, size=n),
            "cat": cat,
            "target": 3 * (cats == "red") + rng.normal(size=n),
            "when": pd.date_range("2024-01-01", periods=n, freq="37h"),
            "text": pd.array(text, dtype="str"),
            "tokens": tokens_column,
            "flag": rng.random(n) < 0.5,
        }
    )


@pytest.fixture
def frame() -> pd.DataFrame:
    """A fresh small frame of every column kind."""
    return small_frame()


@pytest.fixture(scope="session")
def wine() -> pd.DataFrame:
    """The winemag first-150k reviews (semicolon-separated, 144 037 rows), read once."""
    return pd.read_csv(WINE_150K, sep=";")


@pytest.fixture(scope="session")
def wine_canvas() -> pd.DataFrame:
    """The 2 000-row wine sample of the book's Canvas chapter."""
    return pd.read_csv(WINE_CANVAS)
