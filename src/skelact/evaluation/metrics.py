"""Classification metrics on score arrays.

Top-k agrees with torchmetrics' micro accuracy. Mean class accuracy averages the recall of the classes present
in the labels; torchmetrics' macro average (logged during training) also counts a class that is predicted but
absent from the labels, as 0, so the two differ only on splits that miss a class.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def topk_accuracy(scores: np.ndarray, labels: np.ndarray, k: int = 1) -> float:
    """Fraction of samples whose label is among the k highest scores. Ties go to the lower class index, as
    argmax (the confusion matrix) and torchmetrics break them: bf16 logits tie often enough to matter."""
    k = min(k, scores.shape[1])
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
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


# Long-tail groups (specs/brl.md section 4): the paper's convention is not confirmed, so both are reported.
GROUP_NAMES: tuple[str, str, str] = ("head", "medium", "tail")


def groups_by_index(num_classes: int) -> np.ndarray:
    """0/1/2 (head/medium/tail) per class: the first ⌊C/3⌋ classes, the next ⌊C/3⌋, the rest. Long-tail
    splits number classes from the largest, and BRL's sampler calls index >= 2·⌊C/3⌋ the tail."""
    third = num_classes // 3
    return np.minimum(np.arange(num_classes) // max(third, 1), 2) if third else np.full(num_classes, 2)


def groups_by_count(counts: np.ndarray, many: int = 100, few: int = 20) -> np.ndarray:
    """0/1/2 per class by training size: many-shot > `many`, few-shot < `few`, medium in between."""
    counts = np.asarray(counts)
    return np.where(counts > many, 0, np.where(counts < few, 2, 1))


def group_accuracy(per_class: np.ndarray, groups: np.ndarray) -> dict[str, Any]:
    """Mean per-class accuracy of each group (classes absent from the test labels left out) and its size."""
    result: dict[str, Any] = {}
    for g, name in enumerate(GROUP_NAMES):
        values = per_class[(groups == g) & ~np.isnan(per_class)]
        result[name] = float(values.mean()) if values.size else None
    result["num_classes"] = [int((groups == g).sum()) for g in range(3)]
    return result


def head_medium_tail(per_class: np.ndarray, train_counts: np.ndarray) -> dict[str, Any]:
    """Both groupings: thirds by class index, and training-count thresholds 100 and 20."""
    return {
        "by_index": group_accuracy(per_class, groups_by_index(len(per_class))),
        "by_count": {**group_accuracy(per_class, groups_by_count(train_counts)), "thresholds": [100, 20]},
    }
