"""Head/medium/tail accuracy under both conventions (specs/brl.md section 4) and the report's extra figure."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from skelact.data.prepare.longtail import longtail_counts
from skelact.evaluation.metrics import group_accuracy, groups_by_count, groups_by_index, head_medium_tail
from skelact.evaluation.report import write_report
from skelact.evaluation.scores import ScoreFile


@pytest.mark.parametrize(
    ("n_max", "classes", "sizes"),
    [(600, 60, [23, 21, 16]), (600, 120, [47, 41, 32]), (400, 120, [36, 42, 42])],
)
def test_count_groups_at_rho_100_match_the_spec(n_max: int, classes: int, sizes: list[int]) -> None:
    groups = groups_by_count(longtail_counts(n_max, 100, classes))
    assert np.bincount(groups, minlength=3).tolist() == sizes


def test_index_thirds_and_group_means() -> None:
    assert np.bincount(groups_by_index(60)).tolist() == [20, 20, 20]
    assert np.bincount(groups_by_index(10)).tolist() == [3, 3, 4]  # tail = index >= 2 * floor(C / 3)
    assert groups_by_count(np.array([101, 100, 20, 19])).tolist() == [0, 1, 1, 2]
    per_class = np.array([1.0, 0.5, np.nan, 0.25, 0.0, 0.75])
    result = group_accuracy(per_class, np.array([0, 0, 1, 1, 2, 2]))
    assert result == {"head": 0.75, "medium": 0.25, "tail": 0.375, "num_classes": [2, 2, 2]}


def test_report_adds_groups_and_the_sorted_plot_when_counts_are_known(tmp_path: Path) -> None:
    k = 6
    labels = np.repeat(np.arange(k), 2)
    predictions = np.array([0, 0, 1, 1, 2, 0, 3, 0, 4, 0, 0, 0])  # accuracy 1, 1, .5, .5, .5, 0
    probs = np.full((12, k), 0.01, dtype=np.float32)
    probs[np.arange(12), predictions] = 0.9
    counts = [300, 150, 60, 30, 15, 5]
    scores = ScoreFile(
        sample_ids=np.array([f"s{i}" for i in range(12)]),
        labels=labels,
        logits=np.log(probs),
        probs=probs,
        class_names=tuple(f"c{i}" for i in range(k)),
        meta={"train_class_counts": counts},
    )
    metrics = write_report(scores, tmp_path)
    groups = json.loads((tmp_path / "metrics.json").read_text())["head_medium_tail"]
    assert (
        groups == metrics["head_medium_tail"] == head_medium_tail(np.array([1, 1, 0.5, 0.5, 0.5, 0]), counts)
    )
    assert groups["by_index"]["head"] == 1.0 and groups["by_index"]["tail"] == 0.25
    assert groups["by_count"]["num_classes"] == [2, 2, 2] and groups["by_count"]["tail"] == 0.25
    assert (tmp_path / "per_class_by_train_count.png").read_bytes()[:4] == b"\x89PNG"
