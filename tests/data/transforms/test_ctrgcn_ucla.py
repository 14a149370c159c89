"""CTR-GCN's NW-UCLA feeder: skelact's clip equals a re-implementation of the official per-sample maths.

`official_getitem` below is written from the feeder's description (specs/formats-and-preprocessing.md
section 5 and the details listed in skelact/data/transforms/ctrgcn_ucla.py), deliberately not with skelact's
helpers: the rotation is written out coordinate by coordinate and the frame pool is built as a list. Both
sides get the same random draws: the view the generator gives first, then the pool positions.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from skelact.data.clips import ClipSpec, make_clips
from skelact.data.transforms.ctrgcn_ucla import (
    IDENTITY_VIEW,
    POOL_COPIES,
    ViewDraw,
    draw_view,
    feeder_normalize,
    pool_frames,
    sorted_random_frames,
)
from skelact.errors import ConfigError, FormatError, LayoutError
from skelact.skeleton.layout import get_layout

LAYOUT = get_layout("kinect20")
CLIP_LEN = 52
SPEC = ClipSpec(clip_len=CLIP_LEN, sampling="sorted_random", normalize="view_minmax", max_persons=1)


def official_getitem(
    value: np.ndarray, *, train: bool, view: ViewDraw, positions: np.ndarray | None
) -> np.ndarray:
    """The official __getitem__ maths on a (T, 20, 3) float64 clip: (52, 20, 3)."""
    if not train:
        view = ViewDraw(0, 0, 1.0)
    value = value - value[0, 1, :]  # 0-based joint 1 of frame 0
    x, y, z = value[..., 0], value[..., 1], value[..., 2]
    ax, ay = math.radians(view.angle_x), math.radians(view.angle_y)
    # Row vectors times Ry, then times Rx, then times the scale (Ry = [[c,0,-s],[0,1,0],[s,0,c]],
    # Rx = [[1,0,0],[0,c,s],[0,-s,c]]).
    x, z = x * math.cos(ay) + z * math.sin(ay), -x * math.sin(ay) + z * math.cos(ay)
    y, z = y * math.cos(ax) - z * math.sin(ax), y * math.sin(ax) + z * math.cos(ax)
    moved = np.stack([x, y, z], axis=-1) * view.scale
    flat = moved.reshape(-1, 3)
    low, high = flat.min(axis=0), flat.max(axis=0)
    scaled = ((flat - low) / (high - low) * 2 - 1).reshape(moved.shape)
    length = scaled.shape[0]
    if train:
        assert positions is not None
        pool = list(range(length)) * 100
        frames = sorted(pool[p] for p in positions)
    else:
        frames = np.linspace(0, length - 1, CLIP_LEN).astype(int)
    return scaled[frames]


def skelact_clip(value: np.ndarray, *, train: bool, seed: int) -> np.ndarray:
    """skelact's clip of a (T, 20, 3) sequence, as a dataset worker builds it: (52, 20, 3) float32."""
    keypoint = value[None]
    clips = make_clips(
        lambda frames: (keypoint[:, frames], None),
        value.shape[0],
        SPEC,
        LAYOUT,
        test_mode=not train,
        rng=np.random.default_rng(seed),
    )
    assert clips.shape == (1, 1, CLIP_LEN, 20, 3) and clips.dtype == np.float32
    return clips[0, 0]


def same_draws(length: int, seed: int) -> tuple[ViewDraw, np.ndarray]:
    """The draws `make_clips` makes from a fresh generator: the view, then distinct pool positions."""
    rng = np.random.default_rng(seed)
    view = draw_view(rng)
    return view, rng.choice(length * POOL_COPIES, size=CLIP_LEN, replace=False)


def check_against_official(value: np.ndarray, seed: int) -> None:
    view, positions = same_draws(value.shape[0], seed)
    for train in (True, False):
        ours = skelact_clip(value, train=train, seed=seed)
        reference = official_getitem(value, train=train, view=view, positions=positions)
        np.testing.assert_allclose(ours, reference.astype(np.float32), rtol=0, atol=2e-6)


def random_sequence(rng: np.random.Generator, length: int) -> np.ndarray:
    """A (T, 20, 3) Kinect-like clip in metres, with a few all-zero joints (two NW-UCLA clips have them)."""
    value = rng.normal([0.0, 0.2, 2.5], [0.3, 0.5, 0.4], size=(length, 20, 3))
    value[rng.random((length, 20)) < 0.02] = 0.0
    return value


@pytest.mark.parametrize("length", [1, 2, 7, 51, 52, 53, 120, 201])
def test_clip_equals_the_official_getitem_on_the_same_draws(length: int):
    rng = np.random.default_rng(length)
    for seed in range(3):
        check_against_official(random_sequence(rng, length), seed=seed)


def test_clip_equals_the_official_getitem_on_nw_ucla_files(shared_data: Path):
    folder = shared_data / "nw_ucla" / "all_sqe"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent")
    # The two training clips with all-zero joints, the two 1-frame clips (views 2, 3), a test-view clip.
    names = ["a04_s01_e01_v01", "a04_s04_e02_v01", "a02_s09_e04_v02", "a02_s09_e04_v03", "a01_s01_e00_v03"]
    for seed, name in enumerate(names):
        value = np.asarray(json.loads((folder / f"{name}.json").read_text())["skeletons"], dtype=np.float64)
        check_against_official(value, seed=seed)


def test_the_check_sees_a_wrong_rotation_sign():
    """The comparison is sharp enough to catch the easiest mistake: the other sign convention."""
    value = random_sequence(np.random.default_rng(0), 30)
    view = ViewDraw(25, -40, 1.0)
    flipped = ViewDraw(-25, 40, 1.0)
    ours = feeder_normalize(value[None], LAYOUT, view)[0]
    assert not np.allclose(ours, official_getitem(value, train=True, view=flipped, positions=np.arange(30)))
    np.testing.assert_allclose(ours, official_getitem(value, train=True, view=view, positions=np.arange(30)))


def test_scale_and_centre_cancel_in_the_min_max():
    value = random_sequence(np.random.default_rng(1), 40)[None]
    small = feeder_normalize(value, LAYOUT, ViewDraw(10, 20, 0.5))
    large = feeder_normalize(value + 3.0, LAYOUT, ViewDraw(10, 20, 1.5))
    np.testing.assert_allclose(small, large, atol=1e-12)
    flat = feeder_normalize(value, LAYOUT).reshape(-1, 3)
    np.testing.assert_allclose(flat.min(axis=0), -1.0)
    np.testing.assert_allclose(flat.max(axis=0), 1.0)


def test_view_draws_cover_whole_degrees_and_the_scale_range():
    rng = np.random.default_rng(0)
    views = [draw_view(rng) for _ in range(4000)]
    angles = np.array([(v.angle_x, v.angle_y) for v in views])
    scales = np.array([v.scale for v in views])
    assert angles.min() == -60 and angles.max() == 60 and angles.dtype.kind == "i"
    assert len(np.unique(angles)) == 121
    assert 0.5 <= scales.min() < 0.51 and 1.49 < scales.max() < 1.5


def test_sorted_random_frames_repeat_a_frame_at_most_pool_copies_times():
    rng = np.random.default_rng(0)
    frames = sorted_random_frames(3, 52, rng)
    assert frames.dtype == np.int64 and np.all(np.diff(frames) >= 0)
    assert frames.min() >= 0 and frames.max() <= 2
    np.testing.assert_array_equal(sorted_random_frames(1, 52, rng), np.zeros(52))
    assert np.bincount(sorted_random_frames(1, 100, rng)).max() == 100
    with pytest.raises(ConfigError, match="clip_len 101"):
        sorted_random_frames(1, 101, rng)
    np.testing.assert_array_equal(pool_frames(np.array([7, 0, 5, 3]), 3), [0, 0, 1, 2])


def test_test_clips_use_the_identity_view():
    value = random_sequence(np.random.default_rng(2), 60)
    clip = skelact_clip(value, train=False, seed=0)
    frames = np.linspace(0, 59, CLIP_LEN).astype(np.int64)
    expected = feeder_normalize(value[None], LAYOUT, IDENTITY_VIEW)[0, frames]
    np.testing.assert_array_equal(clip, expected.astype(np.float32))


def test_sorted_random_clips_are_deterministic_at_test_and_one_clip_only():
    value = random_sequence(np.random.default_rng(3), 90)
    first = skelact_clip(value, train=False, seed=0)
    np.testing.assert_array_equal(first, skelact_clip(value, train=False, seed=1))
    train = [skelact_clip(value, train=True, seed=seed) for seed in (0, 1)]
    assert not np.array_equal(*train)
    with pytest.raises(ConfigError, match="num_test_clips"):
        ClipSpec(sampling="sorted_random", num_test_clips=2)


def test_bad_input_names_the_transform():
    with pytest.raises(FormatError, match="view_minmax"):
        feeder_normalize(np.zeros((1, 4, 20, 2)), LAYOUT)
    with pytest.raises(LayoutError, match="kinect20"):
        feeder_normalize(np.zeros((1, 4, 25, 3)), LAYOUT)
