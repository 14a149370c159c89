"""Turning one stored sequence into fixed-length model input clips.

Shared by the training dataset and the predictor, so a checkpoint reproduces its training-time input handling
exactly (DESIGN.md principle 6). Without normalisation only the frames a clip needs are read; with it the
whole sequence is read and normalised first, because centring, alignment and min-max use the sequence's own
first valid frame and extent (PYSKL, CTR-GCN), which a sampled subset cannot know.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from skelact.data.transforms.axes import align_up, check_up_axis
from skelact.data.transforms.ctrgcn_ucla import (
    IDENTITY_VIEW,
    ViewDraw,
    draw_view,
    feeder_normalize,
    sorted_random_frames,
)
from skelact.data.transforms.normalize import NORMALIZE_METHODS, normalize_sample
from skelact.data.transforms.temporal import (
    crop_resize_positions,
    evenly_spaced_indices,
    frames_for_positions,
    nonzero_frame_count,
    uniform_sample_indices,
)
from skelact.errors import ConfigError
from skelact.skeleton.layout import Layout

SAMPLING_METHODS = ("uniform", "crop_resize", "sorted_random")
# The clip normalisations: `normalize_sample`'s, plus one that needs the clip's generator (a training view).
CLIP_NORMALIZE_METHODS: dict[str, str] = {
    **NORMALIZE_METHODS,
    "view_minmax": "CTR-GCN's NW-UCLA feeder: centre, training-time view rotation and scale, then min-max "
    "(skelact.data.transforms.ctrgcn_ucla)",
}
VALID_FRAME_RULES = ("last", "count")

# read_frames(frames) -> (keypoint (M, F, V, C), score (M, F, V) or None) for an int array of frame indices.
FrameReader = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray | None]]


@dataclass(frozen=True)
class ClipSpec:
    """How a sequence becomes model input; stored in checkpoints.

    Attributes:
        clip_len: frames per clip.
        sampling: "uniform" (PYSKL segment sampling), "crop_resize" (CTR-GCN random crop + interpolation) or
            "sorted_random" (CTR-GCN's NW-UCLA feeder: sorted random draws with repetition in training,
            evenly spaced at test; `skelact.data.transforms.ctrgcn_ucla`).
        num_test_clips: clips per sample at test time; their softmax scores are averaged.
        normalize: a `normalize_sample` method name ("none", "center", "center_align", "image", "box",
            "minmax") or "view_minmax": CTR-GCN's NW-UCLA feeder, which also draws its view augmentation in
            training, before the min-max (`skelact.data.transforms.ctrgcn_ucla`).
        max_persons: persons kept (extra persons dropped, missing ones zero-padded).
        with_score: append the keypoint score as a last channel (2D data with confidences).
        crop_ratio: crop fraction range for "crop_resize" training.
        valid_frames: the frames sampling draws from, always starting at frame 0: "last", up to the last
            frame with a non-zero coordinate (the stored length); "count", as many frames as have a
            non-zero sum (`nonzero_frame_count`, CTR-GCN's and PSUMNet's feeders: a gap or an empty start
            inside the sequence cuts as many frames off its end). "last" is the default because the count
            drops real frames; "count" reproduces the released feeders.
        up_axis: the axis that points up in the stored 3D coordinates ("y", "-y", "z", "-z", "x", "-x");
            the keypoints are turned so that it becomes +y before normalisation (`transforms.axes`).
            None keeps them as stored.
    """

    clip_len: int = 64
    sampling: Literal["uniform", "crop_resize", "sorted_random"] = "uniform"
    num_test_clips: int = 1
    normalize: str = "none"
    max_persons: int = 2
    with_score: bool = False
    crop_ratio: tuple[float, float] = (0.5, 1.0)
    valid_frames: Literal["last", "count"] = "last"
    up_axis: str | None = None

    def __post_init__(self) -> None:
        check_up_axis(self.up_axis)
        if self.sampling not in SAMPLING_METHODS:
            raise ConfigError(
                f"unknown sampling {self.sampling!r}; choose one of {', '.join(SAMPLING_METHODS)}"
            )
        if self.clip_len < 1 or self.num_test_clips < 1 or self.max_persons < 1:
            raise ConfigError("clip_len, num_test_clips and max_persons must be positive")
        if self.normalize not in CLIP_NORMALIZE_METHODS:
            known = ", ".join(CLIP_NORMALIZE_METHODS)
            raise ConfigError(f"unknown normalize method {self.normalize!r}; choose one of {known}")
        if self.valid_frames not in VALID_FRAME_RULES:
            known = ", ".join(VALID_FRAME_RULES)
            raise ConfigError(f"unknown valid_frames rule {self.valid_frames!r}; choose one of {known}")
        if self.sampling == "crop_resize" and self.num_test_clips > 1:
            raise ConfigError("crop_resize tests one deterministic central crop; set num_test_clips to 1")
        if self.sampling == "sorted_random" and self.num_test_clips > 1:
            raise ConfigError("sorted_random tests one evenly spaced clip; set num_test_clips to 1")
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
    image_size: tuple[int, int] | None = None,
) -> np.ndarray:
    """Build float32 clips (K, max_persons, clip_len, V, C') for one sequence of `num_frames` frames.

    K is `spec.num_test_clips` in test mode and 1 in training. `image_size` (height, width) is the frame
    size of 2D pixel keypoints, needed by ``normalize: image`` (see `image_size_from_meta`).
    """
    clips, _ = make_clips_and_frames(
        read_frames, num_frames, spec, layout, test_mode=test_mode, rng=rng, image_size=image_size
    )
    return clips


def make_clips_and_frames(
    read_frames: FrameReader,
    num_frames: int,
    spec: ClipSpec,
    layout: Layout,
    *,
    test_mode: bool,
    rng: np.random.Generator,
    image_size: tuple[int, int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """`make_clips`, and the (K, clip_len) int64 stored frame each clip frame was sampled from, so other
    modalities of the sample read the same instants (`skelact.data.modalities`). ``crop_resize``
    interpolates between two stored frames: the nearer one is reported."""
    num_clips = spec.num_test_clips if test_mode else 1
    # CTR-GCN's NW-UCLA feeder draws its view before its frames; so does this, from the same generator.
    view = draw_view(rng) if spec.normalize == "view_minmax" and not test_mode else IDENTITY_VIEW
    span = _valid_frames(read_frames, num_frames, spec)
    if spec.sampling in ("uniform", "sorted_random"):
        if spec.sampling == "uniform":
            frames = uniform_sample_indices(
                span, spec.clip_len, num_clips=num_clips, test_mode=test_mode, rng=rng
            ).reshape(-1)
        elif test_mode:
            frames = evenly_spaced_indices(span, spec.clip_len)
        else:
            frames = sorted_random_frames(span, spec.clip_len, rng)
        keypoint, score = _read_normalized(read_frames, num_frames, frames, spec, layout, image_size, view)
        shown = frames
    else:  # crop_resize: one clip, linearly interpolated between neighbouring frames (CTR-GCN)
        positions = crop_resize_positions(
            span, spec.clip_len, ratio=spec.crop_ratio, test_mode=test_mode, rng=rng
        )
        lo, hi, weight = frames_for_positions(positions)
        both, score_both = _read_normalized(
            read_frames, num_frames, np.concatenate([lo, hi]), spec, layout, image_size, view
        )
        n, w = len(lo), weight.astype(np.float32)[None, :, None]
        keypoint = both[:, :n] * (1 - w[..., None]) + both[:, n:] * w[..., None]
        score = None if score_both is None else score_both[:, :n] * (1 - w) + score_both[:, n:] * w
        shown = np.where(weight < 0.5, lo, hi)
    if spec.with_score:
        keypoint = np.concatenate([keypoint, score[..., None]], axis=-1)
    m, _, v, c = keypoint.shape
    clips = keypoint.reshape(m, num_clips, spec.clip_len, v, c).transpose(1, 0, 2, 3, 4)
    shown = np.asarray(shown, dtype=np.int64).reshape(num_clips, spec.clip_len)
    return _pad_persons(clips, spec.max_persons), shown


def image_size_from_meta(meta: Mapping[str, Any]) -> tuple[int, int] | None:
    """(height, width) from a sample's ``img_shape`` (PYSKL's annotation key, spec 2.3), if it has one."""
    shape = meta.get("img_shape")
    if shape is None:
        return None
    height, width = shape
    return int(height), int(width)


def _valid_frames(read_frames: FrameReader, num_frames: int, spec: ClipSpec) -> int:
    """How many frames, from frame 0, sampling draws from (`ClipSpec.valid_frames`); "count" reads the whole
    sequence and counts over the persons a clip keeps, as the feeders count over their padded persons."""
    if spec.valid_frames == "last":
        return num_frames
    keypoint, _ = read_frames(np.arange(num_frames))
    return nonzero_frame_count(np.asarray(keypoint[: spec.max_persons], dtype=np.float32))


def _read_normalized(
    read_frames: FrameReader,
    num_frames: int,
    frames: np.ndarray,
    spec: ClipSpec,
    layout: Layout,
    image_size: tuple[int, int] | None = None,
    view: ViewDraw = IDENTITY_VIEW,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Read `frames`, normalised as part of the whole sequence. With `with_score` and no stored confidences
    the score is 1 where a joint exists, decided before centring can move a joint onto the origin.
    `view` is the ``view_minmax`` augmentation (identity at test time)."""
    if spec.normalize == "none":
        keypoint, score = read_frames(frames)
        return align_up(keypoint, spec.up_axis), _presence_score(keypoint, score, spec)
    keypoint, score = read_frames(np.arange(num_frames))
    score = _presence_score(keypoint, score, spec)
    keypoint = align_up(keypoint, spec.up_axis)
    if spec.normalize == "view_minmax":  # float64 until the clip's final float32 cast, as the feeder
        keypoint = feeder_normalize(keypoint, layout, view)
    else:
        keypoint, score = normalize_sample(keypoint, score, layout, spec.normalize, image_size=image_size)
    return keypoint[:, frames], None if score is None else score[:, frames]


def _presence_score(keypoint: np.ndarray, score: np.ndarray | None, spec: ClipSpec) -> np.ndarray | None:
    if score is not None or not spec.with_score:
        return score
    return (np.abs(keypoint).sum(-1) > 0).astype(np.float32)


def _pad_persons(clips: np.ndarray, max_persons: int) -> np.ndarray:
    k, m, t, v, c = clips.shape
    if m >= max_persons:
        return np.ascontiguousarray(clips[:, :max_persons], dtype=np.float32)
    out = np.zeros((k, max_persons, t, v, c), dtype=np.float32)
    out[:, :m] = clips
    return out
