"""Test reports: metrics.json with hand-checked values and two PNG figures, unknown labels left out."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from skelact.evaluation.report import write_report
from skelact.evaluation.scores import ScoreFile

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FILES = ["confusion_matrix.png", "metrics.json", "per_class_accuracy.png"]


def _scores(labels: list[int], predictions: list[int], k: int = 4) -> ScoreFile:
    """Probabilities with the given argmax (0.7) and the rest spread evenly."""
    n = len(labels)
    probs = np.full((n, k), 0.3 / (k - 1), dtype=np.float32)
    probs[np.arange(n), predictions] = 0.7
    return ScoreFile(
        sample_ids=np.array([f"s{i}" for i in range(n)]),
        labels=np.array(labels),
        logits=np.log(probs),
        probs=probs,
        class_names=("wave", "clap", "jump", "sit"),
    )


def _is_png(path: Path) -> bool:
    return path.read_bytes()[:8] == PNG_MAGIC


def test_report_files_and_metric_values(tmp_path: Path):
    # true / predicted; samples 3 and 5 are unlabelled (-1) and must not count
    scores = _scores(labels=[0, 0, 1, -1, 2, -1], predictions=[0, 1, 1, 3, 2, 0])
    out = tmp_path / "report"
    metrics = write_report(scores, out, extra={"checkpoint": "last.ckpt"})

    assert sorted(p.name for p in out.iterdir()) == FILES  # no temporary files left behind
    assert _is_png(out / "confusion_matrix.png") and _is_png(out / "per_class_accuracy.png")

    on_disk = json.loads((out / "metrics.json").read_text())
    assert on_disk == metrics
    assert on_disk["num_samples"] == 4
    assert on_disk["top1"] == pytest.approx(0.75)
    assert on_disk["top5"] == pytest.approx(1.0)  # k clamps to the 4 classes
    assert on_disk["mean_class_accuracy"] == pytest.approx((0.5 + 1.0 + 1.0) / 3)
    assert on_disk["per_class_accuracy"] == {"wave": 0.5, "clap": 1.0, "jump": 1.0, "sit": None}
    assert on_disk["checkpoint"] == "last.ckpt"


def test_unknown_labels_do_not_change_the_metrics(tmp_path: Path):
    labelled = write_report(_scores([0, 1, 2, 3], [0, 1, 1, 3]), tmp_path / "a")
    padded = write_report(_scores([0, -1, 1, 2, -1, 3], [0, 2, 1, 1, 0, 3]), tmp_path / "b")
    assert padded == labelled
    assert padded["num_samples"] == 4 and padded["top1"] == pytest.approx(0.75)


def test_report_with_no_known_labels_still_writes_everything(tmp_path: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # nanmean of an all-NaN array in the figure title
        metrics = write_report(_scores([-1, -1], [0, 1]), tmp_path)
    assert metrics["num_samples"] == 0
    assert metrics["per_class_accuracy"] == dict.fromkeys(("wave", "clap", "jump", "sit"))
    assert sorted(p.name for p in tmp_path.iterdir()) == FILES
    assert json.loads((tmp_path / "metrics.json").read_text()) == metrics
