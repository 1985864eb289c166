"""Text transforms for recipes: clean, tokenize, stop words, stemming, lemmas, n-grams, TF-IDF.

Text flows through a recipe as a *list column*: ``tokenize`` turns a string column into lists
of tokens in place, the token steps (``remove_stopwords``, ``stem``, ``lemmatize``, ``ngrams``)
map lists to lists, and ``tfidf`` turns lists (or raw strings) into numbers. A missing text stays
missing (None) all the way.

TF-IDF output is sparse by default: the column ``c`` is replaced by ``c_tfidf_indices`` (term
positions in the fitted vocabulary, ascending) and ``c_tfidf_values`` (their weights), two list
columns that Arrow and Parquet store compactly and that map one-to-one onto a CSR matrix
(``scipy.sparse.csr_matrix((values, indices, indptr))``). ``output="dense"`` instead gives one
float column ``c_tfidf_<term>`` per term, for small vocabularies (at most 10 000 terms).
"""

from __future__ import annotations

import abc
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from lakeworks.core.errors import ValidationError
from lakeworks.dataprep.frames import Schema
from lakeworks.dataprep.text.lemmatize import POS, lemmatize
from lakeworks.dataprep.text.ngrams import ngrams
from lakeworks.dataprep.text.porter import stem
from lakeworks.dataprep.text.stopwords import LANGUAGES, stop_words
from lakeworks.dataprep.text.tfidf import fit_tfidf, tfidf_rows
from lakeworks.dataprep.text.tokenize import (
    ON_INVALID,
    WORD_OR_PUNCTUATION_PATTERN,
    WORD_PATTERN,
    as_token_lists,
    clean_text,
    decode_texts,
    to_column,
    token_lists,
)
from lakeworks.dataprep.transforms.base import Transform, register, splice
from lakeworks.dataprep.transforms.params import (
    check_bool,
    check_choice,
    check_int,
    check_number,
    check_str,
    check_str_list,
)

__all__ = ["CleanText", "Lemmatize", "NGrams", "RemoveStopwords", "Stem", "TfIdf", "Tokenize"]

#: scikit-learn's default token pattern: words of two or more word characters.
SKLEARN_TOKEN_PATTERN = r"(?u)\b\w\w+\b"  # noqa: S105 - a regular expression, not a secret
_DENSE_LIMIT = 10_000


def _require_columns(name: str, columns: list[str] | None) -> None:
    if columns is None:
        raise ValidationError(f"{name}: name the text 'columns' to work on")


def _check_pattern(name: str, pattern: str | None) -> None:
    check_str(name, "pattern", pattern, optional=True)
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValidationError(
                f"{name}: 'pattern' is not a valid regular expression: {exc}"
            ) from None


@register
class CleanText(Transform):
    """Lower-case text and replace punctuation by spaces (string column → string column).

    Args:
        columns: Text columns (required).
        lowercase: Lower-case the text.
        strip_punctuation: Replace runs of punctuation and symbols by one space and collapse
            whitespace.
        on_invalid: Bytes that are not UTF-8: ``error`` (report rows) or ``replace`` (U+FFFD).
    """

    name = "clean_text"
    accepts = ("string",)
    output_kind = "string"

    def __init__(
        self,
        columns: list[str] | None = None,
        lowercase: bool = True,
        strip_punctuation: bool = True,
        on_invalid: str = "error",
    ) -> None:
        super().__init__(columns)
        self.lowercase = lowercase
        self.strip_punctuation = strip_punctuation
        self.on_invalid = on_invalid
        _require_columns(self.name, columns)
        check_bool(self.name, "lowercase", lowercase)
        check_bool(self.name, "strip_punctuation", strip_punctuation)
        check_choice(self.name, "on_invalid", on_invalid, ON_INVALID)

    def _fit(self, df: pd.DataFrame, columns: list[str]) -> None:
        for column in columns:
            decode_texts(df[column], column, self.on_invalid)

    def _transform(self, df: pd.DataFrame) -> pd.DataFrame:
        out = df.copy(deep=False)
        for column in self.columns_:
            text = decode_texts(df[column], column, self.on_invalid)
            out[column] = clean_text(
                text, lowercase=self.lowercase, strip_punctuation=self.strip_punctuation
            )
        return out


@register
class Tokenize(Transform):
    """Split text into tokens (string column → list column, in place).

    Args:
        columns: Text columns (required).
        lowercase: Lower-case before splitting.
        strip_punctuation: Drop punctuation; when false each punctuation mark is a token.
        pattern: A regular expression whose matches are the tokens (overrides the default
            ``\\w+(?:'\\w+)*``, words with inner apostrophes).
        on_invalid: Bytes that are not UTF-8: ``error`` (report rows) or ``replace`` (U+FFFD).
    """

    name = "tokenize"
    accepts = ("string",)
    output_kind = "list"

    def __init__(
        self,
        columns: list[str] | None = None,
        lowercase: bool = True,
        strip_punctuation: bool = True,
        pattern: str | None = None,
        on_invalid: str = "error",
    ) -> None:
        super().__init__(columns)
        self.lowercase = lowercase
        self.strip_punctuation = strip_punctuation
        self.pattern = pattern
        self.on_invalid = on_invalid
        _require_columns(self.name, columns)
        check_bool(self.name, "lowercase", lowercase)
        check_bool(self.name, "strip_punctuation", strip_punctuation)
        _check_pattern(self.name, pattern)
        check_choice(self.name, "on_invalid", on_invalid, ON_INVALID)

    def _fit(self, df: pd.DataFrame, columns: list[str]) -> None:
        for column in columns:
            decode_texts(df[column], column, self.on_invalid)

    def _transform(self, df: pd.DataFrame) -> pd.DataFrame:
        pattern = self.pattern or (
            WORD_PATTERN if self.strip_punctuation else WORD_OR_PUNCTUATION_PATTERN
        )
        out = df.copy(deep=False)
        for column in self.columns_:
            text = decode_texts(df[column], column, self.on_invalid)
            out[column] = token_lists(text, lowercase=self.lowercase, pattern=pattern)
        return out


class _TokenMap(Transform):
    """A list → list step that maps or filters each token."""

    accepts = ("list",)
    output_kind = "list"

    def _fit(self, df: pd.DataFrame, columns: list[str]) -> None:
        for column in columns:
            as_token_lists(df[column], column)

    @abc.abstractmethod
    def _mapper(self) -> Callable[[list[str]], list[str]]: ...

    def _transform(self, df: pd.DataFrame) -> pd.DataFrame:
        mapper = self._mapper()
        out = df.copy(deep=False)
        for column in self.columns_:
            docs = as_token_lists(df[column], column)
            out[column] = to_column([None if d is None else mapper(d) for d in docs], df[column])
        return out


@register
class RemoveStopwords(_TokenMap):
    """Remove stop words from token lists (the shipped English list, adjustable).

    Args:
        columns: Token-list columns; None takes every list column.
        language: Which shipped list (``english``).
        extra: More words to remove.
        keep: Words of the list to keep (``["not", "no"]`` for sentiment).
    """

    name = "remove_stopwords"

    def __init__(
        self,
        columns: list[str] | None = None,
        language: str = "english",
        extra: list[str] | None = None,
        keep: list[str] | None = None,
    ) -> None:
        super().__init__(columns)
        self.language = language
        self.extra = extra
        self.keep = keep
        check_choice(self.name, "language", language, sorted(LANGUAGES))
        check_str_list(self.name, "extra", extra, optional=True, allow_empty=True)
        check_str_list(self.name, "keep", keep, optional=True, allow_empty=True)

    def _mapper(self) -> Callable[[list[str]], list[str]]:
        words = stop_words(self.language, self.extra or (), self.keep or ())
        return lambda tokens: [t for t in tokens if t.lower() not in words]


@register
class Stem(_TokenMap):
    """Reduce tokens to their Porter stems ("generalizations" → "gener").

    Args:
        columns: Token-list columns; None takes every list column.
    """

    name = "stem"

    def _mapper(self) -> Callable[[list[str]], list[str]]:
        return lambda tokens: [stem(t.lower()) for t in tokens]


@register
class Lemmatize(_TokenMap):
    """Reduce tokens to dictionary forms with the shipped (limited) rules and exceptions.

    Args:
        columns: Token-list columns; None takes every list column.
        pos: ``auto``, ``noun`` or ``verb`` (see :mod:`lakeworks.dataprep.text.lemmatize`).
    """

    name = "lemmatize"

    def __init__(self, columns: list[str] | None = None, pos: str = "auto") -> None:
        super().__init__(columns)
        self.pos = pos
        check_choice(self.name, "pos", pos, POS)

    def _mapper(self) -> Callable[[list[str]], list[str]]:
        pos = self.pos
        return lambda tokens: [lemmatize(t.lower(), pos) for t in tokens]


@register
class NGrams(_TokenMap):
    """Replace token lists by their n-grams for n in ``[n_min, n_max]`` (shortest first).

    Args:
        columns: Token-list columns; None takes every list column.
        n_min: Smallest n (≥ 1).
        n_max: Largest n (≥ n_min, ≤ 10).
        separator: Joins the words of an n-gram.
    """

    name = "ngrams"

    def __init__(
        self,
        columns: list[str] | None = None,
        n_min: int = 1,
        n_max: int = 2,
        separator: str = " ",
    ) -> None:
        super().__init__(columns)
        self.n_min = n_min
        self.n_max = n_max
        self.separator = separator
        check_int(self.name, "n_min", n_min, minimum=1, maximum=10)
        check_int(self.name, "n_max", n_max, minimum=n_min, maximum=10)
        if not isinstance(separator, str):
            raise ValidationError(f"ngrams: 'separator' must be a string; got {separator!r}")

    def _mapper(self) -> Callable[[list[str]], list[str]]:
        n_min, n_max, sep = self.n_min, self.n_max, self.separator
        return lambda tokens: ngrams(tokens, n_min, n_max, sep)


@register
class TfIdf(Transform):
    """Weight terms by TF-IDF (scikit-learn's defaults); sparse list columns or dense columns.

    Args:
        columns: Token-list columns, or text columns (lower-cased and split like
            scikit-learn: words of two or more characters). Required.
        min_df: Least document frequency of a kept term: a count (int) or share (float ≤ 1).
        max_df: Most document frequency of a kept term: a count (int) or share (float ≤ 1).
        max_features: Keep only this many terms, the most frequent over the corpus.
        norm: ``l2``, ``l1`` or None (no row scaling).
        smooth_idf: Add one to document frequencies, as if one document held every term.
        sublinear_tf: Use ``1 + ln(tf)`` for term counts.
        output: ``sparse`` (``<c>_tfidf_indices`` and ``<c>_tfidf_values`` list columns) or
            ``dense`` (one ``<c>_tfidf_<term>`` column per term).
        on_invalid: Bytes that are not UTF-8 in text columns: ``error`` or ``replace``.

    Learned: ``terms_`` (column → vocabulary, sorted) and ``idf_`` (column → weights).
    """

    name = "tfidf"
    accepts = ("list", "string")
    state_keys = ("terms_", "idf_")

    terms_: dict[str, list[str]]
    idf_: dict[str, list[float]]

    def __init__(
        self,
        columns: list[str] | None = None,
        min_df: float = 1,
        max_df: float = 1.0,
        max_features: int | None = None,
        norm: str | None = "l2",
        smooth_idf: bool = True,
        sublinear_tf: bool = False,
        output: str = "sparse",
        on_invalid: str = "error",
    ) -> None:
        super().__init__(columns)
        self.min_df = min_df
        self.max_df = max_df
        self.max_features = max_features
        self.norm = norm
        self.smooth_idf = smooth_idf
        self.sublinear_tf = sublinear_tf
        self.output = output
        self.on_invalid = on_invalid
        _require_columns(self.name, columns)
        for name, value in (("min_df", min_df), ("max_df", max_df)):
            if isinstance(value, float):
                check_number(self.name, name, value, minimum=0.0, maximum=1.0)
            else:
                check_int(self.name, name, value, minimum=0)
        check_int(self.name, "max_features", max_features, minimum=1, optional=True)
        if norm is not None:
            check_choice(self.name, "norm", norm, ("l1", "l2"))
        check_bool(self.name, "smooth_idf", smooth_idf)
        check_bool(self.name, "sublinear_tf", sublinear_tf)
        check_choice(self.name, "output", output, ("sparse", "dense"))
        check_choice(self.name, "on_invalid", on_invalid, ON_INVALID)

    def _docs(self, series: pd.Series, column: str) -> list[list[str] | None]:
        if series.dtype == object and not series.isna().all():
            first = series.dropna().iloc[0]
            if isinstance(first, list | tuple | np.ndarray):
                return as_token_lists(series, column)
        text = decode_texts(series, column, self.on_invalid)
        tokens = token_lists(text, lowercase=True, pattern=SKLEARN_TOKEN_PATTERN)
        return list(tokens.to_numpy(dtype=object))

    def _fit(self, df: pd.DataFrame, columns: list[str]) -> None:
        self.terms_, self.idf_ = {}, {}
        for column in columns:
            terms, idf = fit_tfidf(
                self._docs(df[column], column),
                min_df=self.min_df,
                max_df=self.max_df,
                max_features=self.max_features,
                smooth_idf=self.smooth_idf,
            )
            if self.output == "dense" and len(terms) > _DENSE_LIMIT:
                raise ValidationError(
                    f"tfidf: column {column!r} has {len(terms)} terms, too many for dense output "
                    f"(at most {_DENSE_LIMIT}); set max_features or use output 'sparse'"
                )
            self.terms_[column], self.idf_[column] = terms, idf

    def _transform(self, df: pd.DataFrame) -> pd.DataFrame:
        out = df
        for column in self.columns_:
            terms = self.terms_[column]
            indptr, indices, values = tfidf_rows(
                self._docs(df[column], column),
                terms,
                self.idf_[column],
                norm=self.norm,
                sublinear_tf=self.sublinear_tf,
            )
            new: dict[str, Any]
            if self.output == "sparse":
                bounds = list(zip(indptr[:-1].tolist(), indptr[1:].tolist(), strict=True))
                index_list = indices.tolist()
                value_list = values.tolist()
                new = {
                    f"{column}_tfidf_indices": to_column(
                        [index_list[a:b] for a, b in bounds], df[column]
                    ),
                    f"{column}_tfidf_values": to_column(
                        [value_list[a:b] for a, b in bounds], df[column]
                    ),
                }
            else:
                dense = np.zeros((len(df), len(terms)), dtype="float64")
                rows = np.repeat(np.arange(len(df)), np.diff(indptr))
                dense[rows, indices] = values
                new = {f"{column}_tfidf_{t}": dense[:, i] for i, t in enumerate(terms)}
            out = splice(out, [column], new, f"transform {self.name!r}")
        return out

    def _output_schema(self, schema: Schema, columns: list[str]) -> Schema:
        for column in columns:
            schema.kinds.pop(column, None)
            if self.output == "sparse":
                schema.kinds[f"{column}_tfidf_indices"] = "list"
                schema.kinds[f"{column}_tfidf_values"] = "list"
            else:
                schema.open[f"{column}_tfidf_"] = "numeric"
        return schema
