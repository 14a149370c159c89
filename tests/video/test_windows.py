"""Sliding windows per person, the merged timeline and the label shown on each frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from skelact.errors import ConfigError
from skelact.inference import Predictor
from skelact.video.windows import (
    WindowPrediction,
    label_at_frames,
    merge_segments,
    recognise_windows,
    window_starts,
)


def test_windows_cover_the_whole_video() -> None:
    assert window_starts(103, 64, 16).tolist() == [0, 16, 32, 39]  # the last window ends on the last frame
    assert window_starts(64, 64, 16).tolist() == [0]
    assert window_starts(10, 64, 16).tolist() == [0]  # shorter than a window: one window


def _window(person: int, start: int, end: int, label: str, score: float = 0.5) -> WindowPrediction:
    return WindowPrediction(person, start, end, label, score, [(label, score)])


def test_segments_merge_touching_windows_of_one_person_and_label() -> None:
    windows = [
        _window(0, 0, 31, "wave", 0.6),
        _window(0, 16, 47, "wave", 0.8),
        _window(0, 32, 63, "clap"),
        _window(1, 0, 31, "wave"),
    ]
    segments = merge_segments(windows)
    assert segments[0] == {"person": 0, "start_frame": 0, "end_frame": 47, "label": "wave", "score": 0.7}
    assert [(s["person"], s["label"]) for s in segments] == [(0, "wave"), (0, "clap"), (1, "wave")]


def test_each_frame_shows_the_nearest_window() -> None:
    shown = label_at_frames([_window(0, 0, 31, "wave"), _window(0, 32, 63, "clap")], 70)
    assert shown[0][5][0] == "wave" and shown[0][60][0] == "clap"
    assert shown[0][65] == ("", 0.0)  # after the last window


def test_recognise_windows_skips_absent_people(trained_run_2d: dict[str, Path]) -> None:
    predictor = Predictor.from_checkpoint(trained_run_2d["ckpt"])
    keypoint = np.random.default_rng(0).uniform(-0.5, 0.5, size=(2, 40, 17, 2)).astype(np.float32)
    keypoint[1, :30] = 0.0  # person 1 only in the last 10 frames
    score = np.ones(keypoint.shape[:3], np.float32)
    windows = recognise_windows(predictor, keypoint, score, window=20, stride=10, person_ids=[3, 7])
    assert [(w.person, w.start_frame, w.end_frame) for w in windows] == [
        (3, 0, 19),
        (3, 10, 29),
        (3, 20, 39),
        (7, 20, 39),
    ]
    assert all(w.label in predictor.class_names and 0 < w.score <= 1 for w in windows)
    with pytest.raises(ConfigError):
        recognise_windows(predictor, keypoint, score, window=0, stride=10, person_ids=[3, 7])
