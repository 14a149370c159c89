"""Classification metrics on score arrays.

Top-k agrees with torchmetrics' micro accuracy. Mean class accuracy averages the recall of the classes present
in the labels; torchmetrics' macro average (logged during training) also counts a class that is predicted but
absent from the labels, as 0, so the two differ only on splits that miss a class.
"""

from __future__ import annotations

import numpy as np


def topk_accuracy(scores: np.ndarray, labels: np.ndarray, k: int = 1) -> float:
    """Fraction of samples whose label is among the k highest scores."""
    k = min(k, scores.shape[1])
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    return float((top == labels[:, None]).any(axis=1).mean())


def confusion_matrix(predictions: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """(K, K) counts; rows are true classes, columns predictions."""
    flat = labels.astype(np.int64) * num_classes + predictions.astype(np.int64)
    return np.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def per_class_accuracy(confusion: np.ndarray) -> np.ndarray:
    """Recall per class; NaN for classes absent from the labels."""
    support = confusion.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(support > 0, np.diag(confusion) / np.maximum(support, 1), np.nan)


def summarize(scores: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """top-1, top-5 and mean class accuracy (classes present in `labels` only)."""
    num_classes = scores.shape[1]
    confusion = confusion_matrix(scores.argmax(1), labels, num_classes)
    return {
        "top1": topk_accuracy(scores, labels, 1),
        "top5": topk_accuracy(scores, labels, 5),
        "mean_class_accuracy": float(np.nanmean(per_class_accuracy(confusion))),
        "num_samples": len(labels),
    }
