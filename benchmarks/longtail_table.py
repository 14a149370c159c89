"""Long-tail figures of finished test reports, one JSON line per run (NW-UCLA-LT table, docs/results.md).

Reads the metrics.json that `skelact test --model.report_dir DIR` writes and prints, in percent: top-1,
mean class accuracy, head/medium/tail by class index (thirds of the classes ordered by training size) and
by training count (many > 100, few < 20; null where a group is empty), and the per-class accuracies.

    python benchmarks/longtail_table.py runs/ucla_lt/*/test
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from skelact.evaluation.metrics import topk_accuracy
from skelact.evaluation.scores import ScoreFile


def percent(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 1)


def run_row(report_dir: Path) -> dict[str, Any]:
    metrics = json.loads((report_dir / "metrics.json").read_text())
    groups = metrics["head_medium_tail"]
    scores = ScoreFile.read(
        report_dir / "scores.npz"
    )  # top-1 again: reports before 2ea83b3 broke ties arbitrarily
    return {
        "run": str(report_dir),
        "top1": percent(topk_accuracy(scores.probs, scores.labels, 1)),
        "mean_class": percent(metrics["mean_class_accuracy"]),
        **{f"{g}_by_index": percent(groups["by_index"][g]) for g in ("head", "medium", "tail")},
        **{f"{g}_by_count": percent(groups["by_count"][g]) for g in ("head", "medium", "tail")},
        "per_class": [percent(a) for a in metrics["per_class_accuracy"].values()],
        "train_class_counts": metrics.get("train_class_counts"),
        "num_samples": metrics["num_samples"],
    }


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit("usage: python benchmarks/longtail_table.py REPORT_DIR [REPORT_DIR ...]")
    for report_dir in sys.argv[1:]:
        print(json.dumps(run_row(Path(report_dir))))


if __name__ == "__main__":
    main()
