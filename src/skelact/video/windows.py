"""Sliding-window recognition per person, and the timeline it produces."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from skelact.data.sample import SkeletonSample
from skelact.errors import ConfigError
from skelact.inference.predictor import Predictor


@dataclass
class WindowPrediction:
    """The recognised action of one person over frames start..end (inclusive)."""

    person: int
    start_frame: int
    end_frame: int
    label: str
    score: float
    top: list[tuple[str, float]]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["top"] = [{"label": name, "score": round(p, 5)} for name, p in self.top]
        data["score"] = round(self.score, 5)
        return data


def window_starts(num_frames: int, window: int, stride: int) -> np.ndarray:
    """Start frames of windows covering the video; the last window ends on the last frame, so no tail is
    left unrecognised. A video shorter than a window is one window."""
    if num_frames <= window:
        return np.zeros(1, dtype=np.int64)
    starts = np.arange(0, num_frames - window + 1, stride)
    if starts[-1] != num_frames - window:
        starts = np.append(starts, num_frames - window)
    return starts


def recognise_windows(
    predictor: Predictor,
    keypoint: np.ndarray,
    score: np.ndarray | None,
    *,
    window: int,
    stride: int,
    person_ids: list[int],
    meta: dict[str, Any] | None = None,
    min_presence: float = 0.5,
    top_k: int = 3,
) -> list[WindowPrediction]:
    """Predict every window of every person of (M, T, V, C) keypoints already in the predictor's layout.

    A window where the person is present in fewer than `min_presence` of the frames is skipped: too little
    of the action is visible to name it. All windows go through the network in batches.
    """
    if window < 1 or stride < 1:
        raise ConfigError("--window and --stride must be positive")
    num_persons, num_frames = keypoint.shape[:2]
    present = np.abs(keypoint).sum(-1).max(-1) > 0  # (M, T)
    starts = window_starts(num_frames, window, stride)
    ends = np.minimum(starts + window, num_frames)
    cumulative = np.concatenate([np.zeros((num_persons, 1)), present.cumsum(1)], axis=1)
    coverage = (cumulative[:, ends] - cumulative[:, starts]) / (ends - starts)  # (M, W)
    persons, which = np.nonzero(coverage >= min_presence)
    samples = [
        SkeletonSample(
            keypoint=keypoint[m : m + 1, starts[w] : ends[w]],
            score=None if score is None else score[m : m + 1, starts[w] : ends[w]],
            meta=dict(meta or {}),
        )
        for m, w in zip(persons, which, strict=True)
    ]
    probs = predictor.probabilities(samples)
    results = []
    for row, (m, w) in enumerate(zip(persons, which, strict=True)):
        order = np.argsort(-probs[row], kind="stable")[:top_k]
        top = [(predictor.class_names[j], float(probs[row, j])) for j in order]
        results.append(
            WindowPrediction(person_ids[m], int(starts[w]), int(ends[w]) - 1, top[0][0], top[0][1], top)
        )
    return results


def merge_segments(windows: list[WindowPrediction]) -> list[dict[str, Any]]:
    """Overlapping or touching windows of one person with the same label become one segment whose score is
    the mean of its windows' scores: the timeline a reader wants."""
    segments: list[dict[str, Any]] = []
    for w in sorted(windows, key=lambda w: (w.person, w.start_frame)):
        last = segments[-1] if segments else None
        if (
            last
            and last["person"] == w.person
            and last["label"] == w.label
            and w.start_frame <= last["end_frame"] + 1
        ):
            last["end_frame"] = max(last["end_frame"], w.end_frame)
            last["_scores"].append(w.score)
        else:
            segments.append(
                {
                    "person": w.person,
                    "start_frame": w.start_frame,
                    "end_frame": w.end_frame,
                    "label": w.label,
                    "_scores": [w.score],
                }
            )
    for s in segments:
        s["score"] = round(float(np.mean(s.pop("_scores"))), 5)
    return segments


def label_at_frames(windows: list[WindowPrediction], num_frames: int) -> dict[int, list[tuple[str, float]]]:
    """Per person, the label shown on each frame: the window whose centre is nearest the frame (the most
    context on both sides). Frames outside every window of a person get ("", 0)."""
    shown: dict[int, list[tuple[str, float]]] = {}
    for person in sorted({w.person for w in windows}):
        own = [w for w in windows if w.person == person]
        centres = np.array([(w.start_frame + w.end_frame) / 2 for w in own])
        frames = np.arange(num_frames)
        nearest = np.abs(frames[:, None] - centres[None]).argmin(1)
        starts = np.array([w.start_frame for w in own])[nearest]
        ends = np.array([w.end_frame for w in own])[nearest]
        inside = (frames >= starts.min()) & (frames <= ends.max())
        shown[person] = [
            (own[i].label, own[i].score) if inside[f] else ("", 0.0) for f, i in enumerate(nearest.tolist())
        ]
    return shown
