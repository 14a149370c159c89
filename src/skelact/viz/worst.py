"""Animations of the worst-classified samples of a score file: what a reader of a test report looks at
first. Worst = lowest probability given to the true class."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from skelact.data.store import SkeletonStore
from skelact.errors import FormatError
from skelact.evaluation.scores import ScoreFile
from skelact.viz.render import render_sample


def worst_samples(scores: ScoreFile, count: int) -> np.ndarray:
    """Row indices of the `count` labelled samples with the lowest true-class probability, worst first."""
    labelled = np.flatnonzero(scores.labels >= 0)
    true_prob = scores.probs[labelled, scores.labels[labelled]]
    return labelled[np.argsort(true_prob, kind="stable")[:count]]


def render_worst(
    scores: ScoreFile,
    store: SkeletonStore,
    out_dir: str | Path,
    count: int = 5,
    suffix: str = ".gif",
    max_frames: int | None = None,
) -> list[Path]:
    """Render the worst `count` samples of `scores` (read from `store`) as `<rank>_<sample id>.gif`."""
    out_dir = Path(out_dir)
    index = {name: i for i, name in enumerate(store.sample_ids)}
    written = []
    for rank, row in enumerate(worst_samples(scores, count), start=1):
        sample_id = str(scores.sample_ids[row])
        if sample_id not in index:
            raise FormatError(f"sample {sample_id!r} of the score file is not in the store", path=store.path)
        sample = store[index[sample_id]]
        label = int(scores.labels[row])
        predicted = int(np.argmax(scores.probs[row]))
        written.append(
            render_sample(
                sample.keypoint,
                store.layout,
                out_dir / f"{rank:02d}_{sample_id.replace('/', '_')}{suffix}",
                title=sample_id,
                true_label=scores.class_names[label],
                predicted=f"{scores.class_names[predicted]} ({scores.probs[row, predicted]:.2f})",
                max_frames=max_frames,
            )
        )
    return written
