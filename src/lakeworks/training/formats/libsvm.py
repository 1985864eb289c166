"""``text/libsvm`` as XGBoost reads it: ``label[:weight] [qid:n] index:value ...``.

Indices are taken as given (XGBoost does not shift 1-based files; column 0 simply stays empty),
absent entries are *missing* rather than zero, ``#`` starts a comment, and ``qid:`` tokens
(ranking groups) are accepted and ignored. Features stay sparse (CSR).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from lakeworks.core.errors import ValidationError
from lakeworks.training.formats.dataset import Dataset, Features, as_dense

__all__ = ["read_libsvm", "write_libsvm"]

#: A guard against a typo such as ``123456789:1`` allocating a huge matrix.
MAX_FEATURES = 10_000_000


def _number(token: str, source: str, line: int, what: str) -> float:
    try:
        value = float(token)
    except ValueError:
        raise ValidationError(
            f"{source} line {line}: {token[:40]!r} is not a number ({what}); libsvm lines look "
            "like 'label index:value index:value ...'"
        ) from None
    return value


def read_libsvm(data: bytes, *, source: str) -> Dataset | None:
    """Read one libsvm file's bytes.

    Returns:
        Sparse features with labels (and weights when any line has ``label:weight``), or None
        for a file with no rows.

    Raises:
        ValidationError: A malformed token, naming the line.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError(f"{source}: not UTF-8 text at byte {exc.start}") from None
    labels: list[float] = []
    weights: list[float] = []
    indptr = [0]
    indices: list[int] = []
    values: list[float] = []
    weighted = False
    for number, raw in enumerate(text.splitlines(), start=1):
        tokens = raw.split("#", 1)[0].split()
        if not tokens:
            continue
        head, *rest = tokens
        label_text, _, weight_text = head.partition(":")
        labels.append(_number(label_text, source, number, "label"))
        if weight_text:
            weighted = True
            weights.append(_number(weight_text, source, number, "weight"))
        else:
            weights.append(1.0)
        for token in rest:
            index_text, sep, value_text = token.partition(":")
            if index_text == "qid":
                continue
            if not sep or not index_text.isdigit():
                raise ValidationError(
                    f"{source} line {number}: {token[:40]!r} is not 'index:value' with a "
                    "non-negative integer index"
                )
            index = int(index_text)
            if index >= MAX_FEATURES:
                raise ValidationError(
                    f"{source} line {number}: feature index {index} is above the limit of "
                    f"{MAX_FEATURES - 1}"
                )
            indices.append(index)
            values.append(_number(value_text, source, number, f"value of feature {index}"))
        indptr.append(len(indices))
    if not labels:
        return None
    width = (max(indices) + 1) if indices else 1
    features = sp.csr_matrix(
        (np.asarray(values, dtype=np.float64), np.asarray(indices), np.asarray(indptr)),
        shape=(len(labels), width),
    )
    features.sum_duplicates()
    return Dataset(
        features,
        np.asarray(labels, dtype=np.float64),
        np.asarray(weights, dtype=np.float64) if weighted else None,
        [(source, len(labels))],
    )


def write_libsvm(features: Features, labels: np.ndarray) -> bytes:
    """Encode rows as libsvm text (zero-based indices; dense zeros are written, NaN skipped).

    Used by tests and examples to produce the same matrix in another format.
    """
    dense = as_dense(features)
    lines = []
    for label, row in zip(labels, dense, strict=True):
        cells = [f"{j}:{value!r}" for j, value in enumerate(row.tolist()) if value == value]
        lines.append(" ".join([repr(float(label)), *cells]))
    return ("\n".join(lines) + "\n").encode()
