"""Quality measures the first-party algorithms report, under the names AWS gives them.

Regression: ``mse``, ``rmse``, ``absolute_loss``. Binary classification (from scores and a
threshold): ``binary_classification_accuracy``, ``precision``, ``recall``, ``binary_f_beta``,
``roc_auc_score``, ``binary_classification_cross_entropy``. Multiclass (from class scores):
``multiclass_accuracy``, ``multiclass_top_k_accuracy``, ``macro_precision``, ``macro_recall``,
``macro_f_beta``, ``dcg``. Plus :func:`choose_threshold`, Linear Learner's calibration of the
binary decision threshold by a model-selection criterion.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "binary_metrics",
    "choose_threshold",
    "multiclass_metrics",
    "regression_metrics",
    "roc_auc",
]

_EPS = 1e-12


def regression_metrics(y: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """``mse``, ``rmse`` and ``absolute_loss`` (mean absolute error)."""
    error = np.asarray(predicted, dtype=np.float64) - np.asarray(y, dtype=np.float64)
    mse = float(np.mean(error**2))
    return {"mse": mse, "rmse": float(np.sqrt(mse)), "absolute_loss": float(np.mean(np.abs(error)))}


def roc_auc(y: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve (ties counted half); NaN when only one class is present."""
    positive = np.asarray(y) > 0.5
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(score, kind="mergesort")
    ranks = np.empty(len(score), dtype=np.float64)
    sorted_scores = np.asarray(score)[order]
    # Average ranks over ties.
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    average = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(average, counts)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def _f_beta(precision: float, recall: float, beta: float) -> float:
    denominator = beta**2 * precision + recall
    return 0.0 if denominator <= 0 else (1 + beta**2) * precision * recall / denominator


def binary_metrics(
    y: np.ndarray,
    score: np.ndarray,
    *,
    threshold: float,
    beta: float = 1.0,
    probability: np.ndarray | None = None,
) -> dict[str, float]:
    """Binary classification measures at ``threshold`` (label 1 where ``score >= threshold``)."""
    truth = np.asarray(y) > 0.5
    predicted = np.asarray(score) >= threshold
    tp = float(np.sum(truth & predicted))
    fp = float(np.sum(~truth & predicted))
    fn = float(np.sum(truth & ~predicted))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    metrics = {
        "binary_classification_accuracy": float(np.mean(truth == predicted)),
        "precision": precision,
        "recall": recall,
        "binary_f_beta": _f_beta(precision, recall, beta),
        "roc_auc_score": roc_auc(truth, score),
    }
    if probability is not None:
        p = np.clip(probability, _EPS, 1 - _EPS)
        metrics["binary_classification_cross_entropy"] = float(
            -np.mean(truth * np.log(p) + (~truth) * np.log(1 - p))
        )
    return metrics


def multiclass_metrics(
    y: np.ndarray, scores: np.ndarray, *, top_k: int = 3, beta: float = 1.0
) -> dict[str, float]:
    """Multiclass measures from per-class scores ``(n, classes)``; macro averages over classes."""
    truth = np.asarray(y).astype(np.int64)
    n_classes = scores.shape[1]
    predicted = np.argmax(scores, axis=1)
    k = min(top_k, n_classes)
    top = np.argsort(-scores, axis=1)[:, :k]
    precisions, recalls, fscores = [], [], []
    for c in range(n_classes):
        tp = float(np.sum((predicted == c) & (truth == c)))
        fp = float(np.sum((predicted == c) & (truth != c)))
        fn = float(np.sum((predicted != c) & (truth == c)))
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        precisions.append(p)
        recalls.append(r)
        fscores.append(_f_beta(p, r, beta))
    # DCG of the true class's rank (1 / log2(rank + 1)), averaged over rows.
    rank = np.sum(scores > scores[np.arange(len(truth)), truth][:, None], axis=1) + 1
    return {
        "multiclass_accuracy": float(np.mean(predicted == truth)),
        "multiclass_top_k_accuracy": float(np.mean(np.any(top == truth[:, None], axis=1))),
        "macro_precision": float(np.mean(precisions)),
        "macro_recall": float(np.mean(recalls)),
        "macro_f_beta": float(np.mean(fscores)),
        "dcg": float(np.mean(1.0 / np.log2(rank + 1))),
    }


def choose_threshold(
    y: np.ndarray,
    score: np.ndarray,
    *,
    criterion: str,
    beta: float = 1.0,
    target_precision: float = 0.8,
    target_recall: float = 0.8,
    default: float = 0.5,
) -> float:
    """The decision threshold on ``score`` that is best by Linear Learner's ``criterion``.

    ``accuracy``, ``f_beta`` and ``f1`` maximise that measure; ``precision_at_target_recall``
    maximises precision while recall stays at or above the target
    (``recall_at_target_precision`` the other way round); ``loss_function`` (and anything
    else) keeps ``default``. Candidates are the observed scores; when no candidate meets a
    target, ``default`` is kept.
    """
    if criterion == "f1":
        criterion, beta = "f_beta", 1.0
    if criterion not in (
        "accuracy",
        "f_beta",
        "precision_at_target_recall",
        "recall_at_target_precision",
    ):
        return default
    truth = np.asarray(y) > 0.5
    order = np.argsort(-np.asarray(score), kind="mergesort")
    sorted_scores = np.asarray(score)[order]
    sorted_truth = truth[order]
    tp = np.cumsum(sorted_truth).astype(np.float64)
    fp = np.cumsum(~sorted_truth).astype(np.float64)
    positives = float(truth.sum())
    # Only the last index of a run of equal scores is a real cut.
    last = np.r_[sorted_scores[1:] != sorted_scores[:-1], True]
    tp, fp, cuts = tp[last], fp[last], sorted_scores[last]
    precision = tp / np.maximum(tp + fp, 1.0)
    recall = tp / positives if positives else np.zeros_like(tp)
    if criterion == "accuracy":
        tn = (len(truth) - positives) - fp
        value = (tp + tn) / len(truth)
    elif criterion == "f_beta":
        value = np.where(
            beta**2 * precision + recall > 0,
            (1 + beta**2) * precision * recall / np.maximum(beta**2 * precision + recall, _EPS),
            0.0,
        )
    elif criterion == "precision_at_target_recall":
        value = np.where(recall >= target_recall, precision, -1.0)
    else:
        value = np.where(precision >= target_precision, recall, -1.0)
    best = int(np.argmax(value))
    if value[best] < 0:
        return default
    return float(cuts[best])
