"""Per-epoch test top-1 (select_on=test_optimistic runs) and wall time of a run directory, printed as JSON.

Wall time per epoch is `time/epoch_s` where the run logged it (EpochTimer); for runs without it, the gap
between successive per-epoch test accuracies in the TensorBoard events (the first from the run's first event).

    python benchmarks/run_epochs.py runs/ucla_ctrgcn_j/version_0
"""

from __future__ import annotations

import json
import statistics
import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def epoch_rows(run_dir: str) -> list[dict[str, float]]:
    events = EventAccumulator(run_dir, size_guidance={"scalars": 0})
    events.Reload()
    tags = events.Tags()["scalars"]
    accuracy = events.Scalars("test_optimistic/top1") if "test_optimistic/top1" in tags else []
    if "time/epoch_s" in tags:
        seconds = [e.value for e in events.Scalars("time/epoch_s")]
    else:
        start = min(e.wall_time for tag in tags for e in events.Scalars(tag))
        ends = [e.wall_time for e in accuracy]
        seconds = [b - a for a, b in zip([start, *ends[:-1]], ends, strict=True)]
    return [
        {"epoch": i, "test_top1": round(100 * a.value, 2) if a else None, "epoch_s": round(s, 1)}
        for i, (a, s) in enumerate(zip(accuracy or [None] * len(seconds), seconds, strict=False))
    ]


def main() -> None:
    rows = epoch_rows(sys.argv[1])
    seconds = [r["epoch_s"] for r in rows]
    summary = {
        "epochs": len(rows),
        "median_epoch_s": statistics.median(seconds),
        "total_s": round(sum(seconds)),
    }
    print(json.dumps({"run": sys.argv[1], **summary, "per_epoch": rows}))


if __name__ == "__main__":
    main()
