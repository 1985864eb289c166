"""Word n-grams of token lists."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["ngrams"]


def ngrams(
    tokens: Sequence[str], n_min: int = 1, n_max: int = 2, separator: str = " "
) -> list[str]:
    """Return the n-grams of ``tokens`` for n from ``n_min`` to ``n_max``, shortest first.

    The order is scikit-learn's (``CountVectorizer(ngram_range=(n_min, n_max))``): all
    n_min-grams in text order, then all (n_min + 1)-grams, and so on.

    Example:
        ``ngrams(["dry", "red", "wine"], 1, 2)`` →
        ``["dry", "red", "wine", "dry red", "red wine"]``
    """
    out: list[str] = []
    count = len(tokens)
    for n in range(n_min, n_max + 1):
        if n == 1:
            out.extend(tokens)
            continue
        out.extend(separator.join(tokens[i : i + n]) for i in range(count - n + 1))
    return out
