"""Temporal sampling: PYSKL UniformSample, CTR-GCN crop-resize, NW-UCLA sampling."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from skelact.data.transforms.temporal import (
    crop_resize_positions,
    evenly_spaced_indices,
    frames_for_positions,
    interpolate_frames,
    nonzero_frame_count,
    random_sorted_indices,
    uniform_sample_indices,
    valid_length,
)
from skelact.errors import ConfigError, FormatError


def test_uniform_short_sequence_loops_from_a_random_start():
    rng = np.random.default_rng(0)
    inds = uniform_sample_indices(3, 5, num_clips=50, rng=rng)
    assert inds.shape == (50, 5) and inds.dtype == np.int64
    np.testing.assert_array_equal(inds, (inds[:, :1] + np.arange(5)) % 3)
    assert set(inds[:, 0]) == {0, 1, 2}


def test_uniform_short_sequence_test_mode_uses_evenly_spaced_starts():
    np.testing.assert_array_equal(
        uniform_sample_indices(3, 5, num_clips=2, test_mode=True), [[0, 1, 2, 0, 1], [1, 2, 0, 1, 2]]
    )
    # fewer frames than clips: clip i starts at frame i (wrapped), as PYSKL does
    np.testing.assert_array_equal(
        uniform_sample_indices(2, 5, num_clips=3, test_mode=True),
        [[0, 1, 0, 1, 0], [1, 0, 1, 0, 1], [0, 1, 0, 1, 0]],
    )


def test_uniform_between_one_and_two_clip_lengths_keeps_order_and_skips_the_surplus():
    inds = uniform_sample_indices(7, 5, num_clips=500, rng=np.random.default_rng(1))
    assert inds.min() == 0 and inds.max() == 6
    assert (np.diff(inds, axis=1) >= 1).all()  # strictly increasing: no frame twice
    # PYSKL picks distinct gaps among the 6 around the 5 outputs: at most one frame skipped per gap, so the
    # C(6, 2) = 15 subsets without two adjacent skipped frames occur (not all C(7, 5) = 21).
    assert (np.diff(inds, axis=1) <= 2).all()
    subsets = {tuple(r) for r in inds}
    assert len(subsets) == 15
    assert all(not any(a + 1 == b for a, b in _pairs(sorted(set(range(7)) - set(s)))) for s in subsets)
    np.testing.assert_array_equal(uniform_sample_indices(5, 5, rng=np.random.default_rng(2)), [np.arange(5)])


def _pairs(values: list[int]) -> list[tuple[int, int]]:
    return list(itertools.pairwise(values))


def test_uniform_long_sequence_takes_one_frame_per_segment():
    inds = uniform_sample_indices(11, 5, num_clips=400, rng=np.random.default_rng(3))
    bounds = np.array([0, 2, 4, 6, 8, 11])  # i * 11 // 5
    assert ((inds >= bounds[:-1]) & (inds < bounds[1:])).all()
    assert [sorted(set(inds[:, i])) for i in range(5)] == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9, 10]]


def test_uniform_test_mode_is_deterministic_and_ignores_the_generator():
    a = uniform_sample_indices(300, 100, num_clips=10, test_mode=True, rng=np.random.default_rng(5))
    b = uniform_sample_indices(300, 100, num_clips=10, test_mode=True)
    c = uniform_sample_indices(300, 100, num_clips=10, test_mode=True, test_seed=7)
    assert a.shape == (10, 100)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert not np.array_equal(a[0], a[1])  # clips differ from each other


def test_uniform_rejects_bad_lengths():
    with pytest.raises(FormatError, match="0 frames"):
        uniform_sample_indices(0, 10)
    with pytest.raises(ConfigError, match="clip_len"):
        uniform_sample_indices(10, 0)
    with pytest.raises(ConfigError, match="num_clips"):
        uniform_sample_indices(10, 5, num_clips=0)


def test_crop_resize_test_mode_central_95_percent():
    pos = crop_resize_positions(100, 64, test_mode=True)
    # trim int(0.05 * 100 / 2) = 2 frames each end -> crop [2, 98), 96 frames; step 96 / 64 = 1.5
    assert pos.shape == (64,)
    assert pos[0] == pytest.approx(2.25) and pos[1] == pytest.approx(3.75) and pos[-1] == pytest.approx(96.75)


def test_crop_resize_short_sequence_uses_everything():
    # L = 30 < min_len 64: the crop is the whole sequence whatever p is
    for seed in range(3):
        pos = crop_resize_positions(30, 64, rng=np.random.default_rng(seed))
        expected = np.clip((np.arange(64) + 0.5) * 30 / 64 - 0.5, 0, 29)
        np.testing.assert_allclose(pos, expected)


def test_crop_resize_random_crop_stays_inside_and_has_the_drawn_length():
    for seed in range(20):
        pos = crop_resize_positions(200, 64, ratio=(0.5, 0.5), rng=np.random.default_rng(seed))
        start = pos[0] - 0.5 * 100 / 64 + 0.5  # crop length floor(200 * 0.5) = 100
        assert start == pytest.approx(round(start)) and 0 <= round(start) <= 100
        np.testing.assert_allclose(pos - round(start), (np.arange(64) + 0.5) * 100 / 64 - 0.5)
    pos = crop_resize_positions(200, 64, rng=np.random.default_rng(0), min_len=150)
    assert pos[-1] - pos[0] >= 150 - 150 / 64 - 1e-9  # crop at least min_len long


@pytest.mark.parametrize(("length", "keep"), [(20, 0.95), (150, 0.95), (64, 1.0), (7, 0.6)])
def test_interpolation_reproduces_ctrgcn_bilinear_resize(length, keep):
    rng = np.random.default_rng(length)
    data = rng.normal(size=(2, length, 25, 3)).astype(np.float32)
    pos = crop_resize_positions(length, 64, test_mode=True, test_keep=keep)
    ours = interpolate_frames(data, pos)
    trim = int((1 - keep) * length / 2)
    crop = torch.from_numpy(data[:, trim : length - trim])  # CTR-GCN: (C*V*M, time) image, bilinear to 64
    image = crop.permute(0, 2, 3, 1).reshape(1, 1, -1, crop.shape[1])
    ref = F.interpolate(image, size=(image.shape[2], 64), mode="bilinear", align_corners=False)
    ref = ref.reshape(2, 25, 3, 64).permute(0, 3, 1, 2).numpy()
    assert ours.dtype == np.float32 and ours.shape == (2, 64, 25, 3)
    np.testing.assert_allclose(ours, ref, atol=1e-5)


def test_frames_for_positions_and_exact_interpolation():
    lo, hi, w = frames_for_positions(np.array([0.0, 1.25, 3.0]))
    np.testing.assert_array_equal(lo, [0, 1, 3])
    np.testing.assert_array_equal(hi, [0, 2, 3])
    np.testing.assert_allclose(w, [0.0, 0.25, 0.0])
    score = np.arange(12, dtype=np.float32).reshape(1, 4, 3)  # (M, T, V)
    out = interpolate_frames(score, np.array([0.0, 1.25, 3.0]))
    np.testing.assert_array_equal(out[0, 0], score[0, 0])
    np.testing.assert_array_equal(out[0, 2], score[0, 3])
    np.testing.assert_allclose(out[0, 1], 0.75 * score[0, 1] + 0.25 * score[0, 2])
    with pytest.raises(FormatError, match="only 4 are available"):
        interpolate_frames(score, np.array([3.5]))
    with pytest.raises(FormatError, match="persons, frames"):
        interpolate_frames(np.zeros((4, 3)), np.array([0.0]))


def test_valid_length_counts_up_to_the_last_non_zero_frame():
    kp = np.zeros((2, 7, 25, 3), dtype=np.float32)
    kp[0, 0:2] = 1.0
    kp[1, 3, 5] = 0.5  # frame 2 empty inside, frames 4..6 padding
    assert valid_length(kp) == 4
    assert valid_length(kp[..., 0]) == 4  # (M, T, V) too
    assert valid_length(np.zeros((1, 5, 25, 3))) == 0


def test_nonzero_frame_count_is_the_released_feeders_count():
    """CTR-GCN's and PSUMNet's feeders: the number of frames whose values do not sum to zero, anywhere."""
    kp = np.zeros((2, 9, 25, 3), dtype=np.float32)
    kp[0, 1:3] = 1.0  # frame 0 empty: a person appears at frame 1
    kp[1, 4:7] = 0.5  # frame 3 empty inside, frames 7, 8 padding
    kp[:, 5] = 0.0
    kp[0, 5, 0, 0], kp[1, 5, 3, 2] = 2.0, -2.0  # frame 5 holds values, but their sum is zero
    assert nonzero_frame_count(kp) == 4  # frames 1, 2, 4, 6
    assert valid_length(kp) == 7  # skelact's default: up to the last non-zero frame
    assert nonzero_frame_count(np.zeros((1, 5, 25, 3))) == 0
    with pytest.raises(FormatError, match="persons, frames, joints, coords"):
        nonzero_frame_count(kp[..., 0])


def test_nw_ucla_sampling():
    rng = np.random.default_rng(0)
    inds = random_sorted_indices(2, 10, rng)
    assert inds.shape == (10,) and (np.diff(inds) >= 0).all() and set(inds) == {0, 1}
    np.testing.assert_array_equal(
        random_sorted_indices(50, 52, np.random.default_rng(4)),
        random_sorted_indices(50, 52, np.random.default_rng(4)),
    )
    np.testing.assert_array_equal(evenly_spaced_indices(10, 4), [0, 3, 6, 9])
    np.testing.assert_array_equal(evenly_spaced_indices(3, 7), [0, 0, 0, 1, 1, 1, 2])
    assert evenly_spaced_indices(201, 52).dtype == np.int64
