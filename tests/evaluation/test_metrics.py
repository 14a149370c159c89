"""Classification metrics: hand-computed values, then agreement with torchmetrics on random scores."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torchmetrics.classification import MulticlassAccuracy

from skelact.evaluation.metrics import confusion_matrix, per_class_accuracy, summarize, topk_accuracy

# 4 samples, 6 classes; rank of the true label: 1st, 2nd, 6th, 3rd.
SCORES = np.array(
    [
        [0.9, 0.1, 0.0, 0.0, 0.0, 0.0],  # label 0: top-1
        [0.5, 0.4, 0.1, 0.0, 0.0, 0.0],  # label 1: 2nd
        [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],  # label 0: 6th (outside top-5)
        [0.3, 0.0, 0.1, 0.2, 0.0, 0.0],  # label 2: 3rd
    ]
)
LABELS = np.array([0, 1, 0, 2])


def test_topk_accuracy_hand_computed():
    assert topk_accuracy(SCORES, LABELS, 1) == 0.25
    assert topk_accuracy(SCORES, LABELS, 2) == 0.5
    assert topk_accuracy(SCORES, LABELS, 3) == 0.75
    assert topk_accuracy(SCORES, LABELS, 5) == 0.75
    assert topk_accuracy(SCORES, LABELS, 6) == 1.0


def test_topk_larger_than_num_classes_counts_every_sample():
    assert topk_accuracy(SCORES[:, :3], np.array([2, 2, 2, 2]), 5) == 1.0


def test_confusion_matrix_rows_are_true_columns_predicted():
    predictions = SCORES.argmax(1)  # [0, 0, 5, 0]
    cm = confusion_matrix(predictions, LABELS, 6)
    expected = np.zeros((6, 6), dtype=np.int64)
    expected[0, 0] = 1
    expected[1, 0] = 1
    expected[0, 5] = 1
    expected[2, 0] = 1
    np.testing.assert_array_equal(cm, expected)
    assert cm.sum() == len(LABELS)


def test_per_class_accuracy_is_recall_and_nan_for_absent_classes():
    cm = np.array([[3, 1, 0], [0, 0, 0], [1, 1, 2]])  # class 1 never occurs as a true label
    acc = per_class_accuracy(cm)
    assert acc[0] == pytest.approx(0.75)
    assert math.isnan(acc[1])
    assert acc[2] == pytest.approx(0.5)


def test_summarize_hand_computed():
    out = summarize(SCORES, LABELS)
    assert out["top1"] == 0.25
    assert out["top5"] == 0.75
    # recall: class 0 -> 1/2, class 1 -> 0/1, class 2 -> 0/1; classes 3-5 absent and ignored
    assert out["mean_class_accuracy"] == pytest.approx((0.5 + 0.0 + 0.0) / 3)
    assert out["num_samples"] == 4
    assert all(isinstance(out[k], float) for k in ("top1", "top5", "mean_class_accuracy"))


@pytest.mark.parametrize("seed", [0, 1])
def test_agrees_with_torchmetrics_on_random_scores(seed: int):
    rng = np.random.default_rng(seed)
    num_classes, n = 12, 300
    scores = rng.standard_normal((n, num_classes))  # continuous: no ties, so top-k is unambiguous
    labels = rng.permutation(np.arange(n) % num_classes)  # every class present (see the next test)
    s, y = torch.from_numpy(scores), torch.from_numpy(labels)

    for k in (1, 5):
        micro = MulticlassAccuracy(num_classes=num_classes, top_k=k, average="micro")
        assert topk_accuracy(scores, labels, k) == pytest.approx(micro(s, y).item(), abs=1e-6)

    summary = summarize(scores, labels)
    macro = MulticlassAccuracy(num_classes=num_classes, average="macro")
    assert summary["mean_class_accuracy"] == pytest.approx(macro(s, y).item(), abs=1e-6)

    per_class = MulticlassAccuracy(num_classes=num_classes, average="none")(s, y).numpy()
    ours = per_class_accuracy(confusion_matrix(scores.argmax(1), labels, num_classes))
    np.testing.assert_allclose(ours, per_class, atol=1e-6)


def test_mean_class_accuracy_ignores_classes_absent_from_labels_even_if_predicted():
    # Documented rule: "classes present in `labels` only". torchmetrics' macro average instead counts a class
    # that is predicted but absent from the labels as 0 (it would give (1 + 0.5 + 0) / 3 = 0.5 here).
    scores = np.eye(4)[[0, 1, 2, 0]]  # predictions 0, 1, 2, 0
    labels = np.array([0, 1, 1, 0])
    assert summarize(scores, labels)["mean_class_accuracy"] == pytest.approx((1.0 + 0.5) / 2)


def test_top1_breaks_ties_like_argmax_and_torchmetrics():
    # bf16 logits tie: 3 of 464 NW-UCLA test samples did in one run, and argpartition's tie order (class 5
    # here) made the report's top-1 one sample off the logged metric and its own confusion matrix.
    tied = np.array([[0.001, 0.0004, 0.011, 0.0, 0.494, 0.494, 0.0, 0.0, 0.0, 0.0]], dtype=np.float32)
    rng = np.random.default_rng(0)
    scores = np.concatenate([tied, np.round(rng.standard_normal((400, 10)), 0).astype(np.float32)])
    labels = np.concatenate([[4], rng.integers(0, 10, 400)])
    expected = float((scores.argmax(1) == labels).mean())
    micro = MulticlassAccuracy(num_classes=10, top_k=1, average="micro")
    assert topk_accuracy(scores[:1], labels[:1], 1) == 1.0
    assert topk_accuracy(scores, labels, 1) == expected
    assert micro(torch.from_numpy(scores), torch.from_numpy(labels)).item() == pytest.approx(expected)
