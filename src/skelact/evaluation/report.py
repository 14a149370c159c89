"""Test reports: metrics JSON, confusion matrix and per-class accuracy figures, written next to the scores."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # reports are written on headless machines
import matplotlib.pyplot as plt
import numpy as np

from skelact.atomic import atomic_path, atomic_write
from skelact.evaluation.metrics import (
    confusion_matrix,
    groups_by_count,
    head_medium_tail,
    per_class_accuracy,
    summarize,
)
from skelact.evaluation.scores import ScoreFile


def write_report(
    scores: ScoreFile,
    out_dir: str | Path,
    extra: dict[str, Any] | None = None,
    train_counts: list[int] | np.ndarray | None = None,
) -> dict[str, Any]:
    """Write metrics.json, confusion_matrix.png and per_class_accuracy.png into `out_dir`; return metrics.

    With the training class counts (given, or recorded in the scores' ``train_class_counts``), also
    head/medium/tail accuracy under both long-tail conventions and per_class_by_train_count.png.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    num_classes = len(scores.class_names)
    known = scores.labels >= 0
    labels, probs = scores.labels[known], scores.probs[known]
    metrics: dict[str, Any] = summarize(probs, labels) if len(labels) else {"num_samples": 0}
    confusion = confusion_matrix(probs.argmax(1), labels, num_classes)
    per_class = per_class_accuracy(confusion)
    metrics["per_class_accuracy"] = {
        name: (None if np.isnan(acc) else float(acc))
        for name, acc in zip(scores.class_names, per_class, strict=True)
    }
    if train_counts is None:
        train_counts = scores.meta.get("train_class_counts")
    if train_counts is not None and len(train_counts) == num_classes:
        counts = np.asarray(train_counts, dtype=np.int64)
        metrics["head_medium_tail"] = head_medium_tail(per_class, counts)
        plot_per_class_by_count(per_class, counts, scores.class_names, out / "per_class_by_train_count.png")
    metrics.update(extra or {})
    _write_json(out / "metrics.json", metrics)
    plot_confusion(confusion, scores.class_names, out / "confusion_matrix.png")
    plot_per_class(per_class, scores.class_names, out / "per_class_accuracy.png")
    return metrics


def plot_confusion(confusion: np.ndarray, class_names: tuple[str, ...], path: Path) -> None:
    k = len(class_names)
    size = min(4 + 0.35 * k, 30)
    fig, ax = plt.subplots(figsize=(size, size))
    row_sums = np.maximum(confusion.sum(axis=1, keepdims=True), 1)
    ax.imshow(confusion / row_sums, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(k), class_names, rotation=90, fontsize=max(4, 10 - k // 20))
    ax.set_yticks(range(k), class_names, fontsize=max(4, 10 - k // 20))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if k <= 30:
        for (i, j), count in np.ndenumerate(confusion):
            if count:
                ax.text(j, i, str(count), ha="center", va="center", fontsize=7)
    ax.set_title("Confusion matrix (colour: row-normalised)")
    _save(fig, path)


def plot_per_class(per_class: np.ndarray, class_names: tuple[str, ...], path: Path) -> None:
    k = len(class_names)
    fig, ax = plt.subplots(figsize=(min(4 + 0.3 * k, 40), 4))
    ax.bar(range(k), np.nan_to_num(per_class) * 100, color="tab:blue")
    ax.set_xticks(range(k), class_names, rotation=90, fontsize=max(4, 9 - k // 20))
    ax.set_ylim(0, 100)
    ax.set_ylabel("accuracy (%)")
    known = per_class[~np.isnan(per_class)]
    mean = f"{known.mean() * 100:.1f}%" if known.size else "n/a"
    ax.set_title(f"Per-class accuracy (mean {mean})")
    _save(fig, path)


def plot_per_class_by_count(
    per_class: np.ndarray, counts: np.ndarray, class_names: tuple[str, ...], path: Path
) -> None:
    """Per-class accuracy with classes sorted by training count (largest first), the count on a second
    axis and bars coloured by count group: where a long-tailed model loses accuracy, at a glance."""
    order = np.argsort(-counts, kind="stable")
    k = len(class_names)
    colours = np.array(["tab:blue", "tab:orange", "tab:red"])[groups_by_count(counts)[order]]
    fig, ax = plt.subplots(figsize=(min(4 + 0.3 * k, 40), 4))
    ax.bar(range(k), np.nan_to_num(per_class[order]) * 100, color=colours)
    ax.set_xticks(range(k), [class_names[i] for i in order], rotation=90, fontsize=max(4, 9 - k // 20))
    ax.set_ylim(0, 100)
    ax.set_ylabel("accuracy (%)")
    twin = ax.twinx()
    twin.plot(range(k), counts[order], color="black", marker=".", linewidth=1)
    twin.set_ylabel("training samples")
    twin.set_ylim(bottom=0)
    ax.set_title("Per-class accuracy by training count (blue > 100, orange 20-100, red < 20 samples)")
    _save(fig, path)


def _save(fig: plt.Figure, path: Path) -> None:
    fig.tight_layout()
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=100)
    finally:
        plt.close(fig)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    with atomic_write(path, "w") as handle:
        json.dump(data, handle, indent=2)
