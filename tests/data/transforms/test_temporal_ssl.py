"""The pre-training crop of specs/halp.md section 3 with the existing crop-resize: s ~ U(0.1, 1), crop length
min(max(floor(n s), 64), n), resized to 64 frames (the interpolation itself: test_temporal.py)."""

from __future__ import annotations

import numpy as np

from skelact.data.transforms.temporal import crop_resize_positions


def _crop_length(positions: np.ndarray, clip_len: int = 64) -> float:
    """The crop length L behind positions (i + 0.5) L / clip_len - 0.5 (unclamped in the middle)."""
    return (positions[40] - positions[20]) * clip_len / 20


def test_ssl_crop_lengths_follow_the_official_formula():
    rng = np.random.default_rng(0)
    lengths = []
    for _ in range(2000):
        pos = crop_resize_positions(300, 64, ratio=(0.1, 1.0), rng=rng)
        assert pos.shape == (64,) and pos.min() >= 0 and pos.max() <= 299
        lengths.append(_crop_length(pos))
    lengths = np.round(lengths)
    assert lengths.min() == 64 and lengths.max() <= 300
    # floor(300 s) < 64 for s < 64 / 300: that share of crops is clamped up to exactly 64 frames.
    expected = (64 / 300 - 0.1) / 0.9
    assert abs((lengths == 64).mean() - expected) < 0.025
    assert abs(np.mean(lengths[lengths > 64]) - (64 + 300) / 2) < 5  # uniform above the clamp


def test_short_sequences_are_used_whole():
    rng = np.random.default_rng(1)
    for n in (10, 64):
        pos = crop_resize_positions(n, 64, ratio=(0.1, 1.0), rng=rng)
        np.testing.assert_allclose(pos, np.clip((np.arange(64) + 0.5) * n / 64 - 0.5, 0, n - 1))
