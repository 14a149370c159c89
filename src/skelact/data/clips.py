"""Turning one stored sequence into fixed-length model input clips.

Shared by the training dataset and the predictor, so a checkpoint reproduces its training-time input handling
exactly (DESIGN.md principle 6). Only the frames a clip needs are read: store reads are O(clip length).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from skelact.data.transforms.normalize import normalize_sample
from skelact.data.transforms.temporal import (
    crop_resize_positions,
    frames_for_positions,
    uniform_sample_indices,
)
from skelact.errors import ConfigError
from skelact.skeleton.layout import Layout

SAMPLING_METHODS = ("uniform", "crop_resize")

# read_frames(frames) -> (keypoint (M, F, V, C), score (M, F, V) or None) for an int array of frame indices.
FrameReader = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray | None]]


@dataclass(frozen=True)
class ClipSpec:
    """How a sequence becomes model input; stored in checkpoints.

    Attributes:
        clip_len: frames per clip.
        sampling: "uniform" (PYSKL segment sampling) or "crop_resize" (CTR-GCN random crop + interpolation).
        num_test_clips: clips per sample at test time; their softmax scores are averaged.
        normalize: a `normalize_sample` method name ("none", "center", "center_align", "image", "box").
        max_persons: persons kept (extra persons dropped, missing ones zero-padded).
        with_score: append the keypoint score as a last channel (2D data with confidences).
        crop_ratio: crop fraction range for "crop_resize" training.
    """

    clip_len: int = 64
    sampling: Literal["uniform", "crop_resize"] = "uniform"
    num_test_clips: int = 1
    normalize: str = "none"
    max_persons: int = 2
    with_score: bool = False
    crop_ratio: tuple[float, float] = (0.5, 1.0)

    def __post_init__(self) -> None:
        if self.sampling not in SAMPLING_METHODS:
            raise ConfigError(
                f"unknown sampling {self.sampling!r}; choose one of {', '.join(SAMPLING_METHODS)}"
            )
        if self.clip_len < 1 or self.num_test_clips < 1 or self.max_persons < 1:
            raise ConfigError("clip_len, num_test_clips and max_persons must be positive")
        object.__setattr__(self, "crop_ratio", tuple(float(r) for r in self.crop_ratio))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["crop_ratio"] = list(self.crop_ratio)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ClipSpec:
        known = set(cls.__dataclass_fields__)
        if unknown := set(data) - known:
            raise ConfigError(f"unknown clip settings {sorted(unknown)}; known: {sorted(known)}")
        return cls(**dict(data))


def make_clips(
    read_frames: FrameReader,
    num_frames: int,
    spec: ClipSpec,
    layout: Layout,
    *,
    test_mode: bool,
    rng: np.random.Generator,
) -> np.ndarray:
    """Build float32 clips (K, max_persons, clip_len, V, C') for one sequence of `num_frames` frames.

    K is `spec.num_test_clips` in test mode and 1 in training. Normalisation sees frame 0 of the full sequence
    first, so centring/alignment match PYSKL's "first frame" rule however the clip was sampled.
    """
    num_clips = spec.num_test_clips if test_mode else 1
    if spec.sampling == "uniform":
        frames = uniform_sample_indices(
            num_frames, spec.clip_len, num_clips=num_clips, test_mode=test_mode, rng=rng
        ).reshape(-1)
        keypoint, score = _read_normalized(read_frames, frames, spec, layout)
    else:
        clips, scores = [], []
        for _ in range(num_clips):  # a handful of clips at most; each is vectorised over frames
            positions = crop_resize_positions(
                num_frames, spec.clip_len, ratio=spec.crop_ratio, test_mode=test_mode, rng=rng
            )
            lo, hi, weight = frames_for_positions(positions)
            kp, sc = _read_normalized(read_frames, np.concatenate([lo, hi]), spec, layout)
            w = weight.astype(np.float32)[None, :, None]
            n = len(lo)
            clips.append(kp[:, :n] * (1 - w[..., None]) + kp[:, n:] * w[..., None])
            if sc is not None:
                scores.append(sc[:, :n] * (1 - w) + sc[:, n:] * w)
        keypoint = np.concatenate(clips, axis=1)
        score = np.concatenate(scores, axis=1) if scores else None
    if spec.with_score:
        if score is None:
            score = (np.abs(keypoint).sum(-1) > 0).astype(
                np.float32
            )  # no confidences: 1 where a joint exists
        keypoint = np.concatenate([keypoint, score[..., None]], axis=-1)
    m, _, v, c = keypoint.shape
    clips_arr = keypoint.reshape(m, num_clips, spec.clip_len, v, c).transpose(1, 0, 2, 3, 4)
    return _pad_persons(clips_arr, spec.max_persons)


def _read_normalized(
    read_frames: FrameReader, frames: np.ndarray, spec: ClipSpec, layout: Layout
) -> tuple[np.ndarray, np.ndarray | None]:
    if spec.normalize == "none":
        return read_frames(frames)
    keypoint, score = read_frames(np.concatenate([[0], frames]))
    keypoint, score = normalize_sample(keypoint, score, layout, spec.normalize)
    return keypoint[:, 1:], None if score is None else score[:, 1:]


def _pad_persons(clips: np.ndarray, max_persons: int) -> np.ndarray:
    k, m, t, v, c = clips.shape
    if m >= max_persons:
        return np.ascontiguousarray(clips[:, :max_persons], dtype=np.float32)
    out = np.zeros((k, max_persons, t, v, c), dtype=np.float32)
    out[:, :m] = clips
    return out
