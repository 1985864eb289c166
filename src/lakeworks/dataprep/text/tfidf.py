"""TF-IDF with scikit-learn's defaults, on token lists, as sparse rows.

Definitions (those of ``sklearn.feature_extraction.text.TfidfVectorizer`` with its defaults):

- the vocabulary is the set of terms whose document frequency ``df`` passes ``min_df`` and
  ``max_df`` (an integer is a count of documents, a float in [0, 1] a share of them), cut to the
  ``max_features`` terms most frequent over the corpus (ties: alphabetical), sorted
  alphabetically; a term's index is its position there;
- ``idf = ln((1 + n) / (1 + df)) + 1`` (``smooth_idf``; without it ``ln(n / df) + 1``), ``n``
  counting every document, a missing one as empty;
- a row is ``tf · idf`` with ``tf`` the raw count (``1 + ln(count)`` with ``sublinear_tf``),
  scaled to unit L2 norm (or L1, or not at all).

Rows come back in CSR form (``indptr``, ``indices``, ``values``; indices ascending within a
row), which the ``tfidf`` step turns into two list columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd

from lakeworks.core.errors import ValidationError

__all__ = ["fit_tfidf", "tfidf_rows"]

Array = np.ndarray[Any, Any]


def _flatten(docs: Sequence[Sequence[str] | None]) -> tuple[Array, Array]:
    lengths = np.fromiter((len(d) if d else 0 for d in docs), dtype=np.int64, count=len(docs))
    flat = np.fromiter(chain.from_iterable(d for d in docs if d), dtype=object)
    return np.repeat(np.arange(len(docs), dtype=np.int64), lengths), flat


def _document_count(limit: float, n_docs: int) -> float:
    return float(limit) if isinstance(limit, int) else limit * n_docs


def fit_tfidf(
    docs: Sequence[Sequence[str] | None],
    *,
    min_df: float = 1,
    max_df: float = 1.0,
    max_features: int | None = None,
    smooth_idf: bool = True,
) -> tuple[list[str], list[float]]:
    """Learn the vocabulary and idf weights of token-list documents.

    Returns:
        ``(terms, idf)``: terms sorted alphabetically and their idf weights.

    Raises:
        ValidationError: No term is left after the document-frequency limits.
    """
    n_docs = len(docs)
    doc_ids, flat = _flatten(docs)
    codes, uniques = pd.factorize(flat)
    size = len(uniques)
    pairs = np.unique(doc_ids * max(size, 1) + codes)
    df = np.bincount(pairs % max(size, 1), minlength=size) if size else np.zeros(0, np.int64)
    total = np.bincount(codes, minlength=size)
    low, high = _document_count(min_df, n_docs), _document_count(max_df, n_docs)
    keep = np.flatnonzero((df >= low) & (df <= high))
    if max_features is not None and len(keep) > max_features:
        by_count = np.lexsort((np.asarray(uniques, dtype=object)[keep], -total[keep]))
        keep = keep[by_count[:max_features]]
    if len(keep) == 0:
        raise ValidationError(
            f"tfidf: no term is left after min_df={min_df!r} and max_df={max_df!r} "
            f"({n_docs} documents, {size} distinct terms); loosen the limits"
        )
    names = [str(t) for t in np.asarray(uniques, dtype=object)[keep]]
    order = sorted(range(len(names)), key=names.__getitem__)
    kept_df = df[keep][order].astype("float64")
    if smooth_idf:
        idf = np.log((1.0 + n_docs) / (1.0 + kept_df)) + 1.0
    else:
        idf = np.log(n_docs / kept_df) + 1.0
    return [names[i] for i in order], [float(v) for v in idf]


def tfidf_rows(
    docs: Sequence[Sequence[str] | None],
    terms: Sequence[str],
    idf: Sequence[float],
    *,
    norm: str | None = "l2",
    sublinear_tf: bool = False,
) -> tuple[Array, Array, Array]:
    """Return the TF-IDF rows of ``docs`` in CSR form: ``(indptr, indices, values)``.

    Terms outside the vocabulary are ignored; an empty or missing document is an empty row.
    """
    doc_ids, flat = _flatten(docs)
    size = max(len(terms), 1)
    index = np.asarray(pd.Index(list(terms)).get_indexer(pd.Index(flat)), dtype=np.int64)
    known = index >= 0
    keys, counts = np.unique(doc_ids[known] * size + index[known], return_counts=True)
    rows, indices = keys // size, keys % size
    tf = counts.astype("float64")
    if sublinear_tf:
        tf = 1.0 + np.log(tf)
    values = tf * np.asarray(idf, dtype="float64")[indices]
    if norm is not None:
        weights = np.abs(values) if norm == "l1" else values * values
        norms = np.bincount(rows, weights=weights, minlength=len(docs))
        if norm == "l2":
            norms = np.sqrt(norms)
        norms[norms == 0] = 1.0
        values = values / norms[rows]
    indptr = np.searchsorted(rows, np.arange(len(docs) + 1), side="left")
    return indptr, indices, values
