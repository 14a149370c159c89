"""Temporal index selection for one sample, in numpy on the loader workers (DESIGN.md data flow).

Two families reproduce the two reference pipelines (specs/formats-and-preprocessing.md):

- PYSKL's ``UniformSample`` (section 4.2, item 4): integer frame indices, loop-padded when the clip is short.
- CTR-GCN's crop-and-resize (section 4.1, training-time feeder): a random crop stretched to a fixed length by
  *bilinear interpolation along time* (``F.interpolate(mode="bilinear", align_corners=False)`` over a
  (joints x time) image), so it blends neighbouring frames instead of picking them. Here it is split into
  fractional positions (`crop_resize_positions`), the frames they need (`frames_for_positions`) and the blend
  (`interpolate_frames`), so a dataset can read just the needed frames from the store.

Plus CTR-GCN's NW-UCLA sampling (section 5): random sorted indices with repetition (train), evenly spaced
(test).
All randomness comes from a passed `np.random.Generator`; without one a fresh, unseeded generator is used.
"""

from __future__ import annotations

import numpy as np

from skelact.errors import ConfigError, FormatError


def _rng(rng: np.random.Generator | None) -> np.random.Generator:
    return rng if rng is not None else np.random.default_rng()


def _check_lengths(num_frames: int, clip_len: int, num_clips: int = 1) -> None:
    if num_frames < 1:
        raise FormatError(
            f"cannot sample frames from a sequence of {num_frames} frames", where="temporal sampling"
        )
    if clip_len < 1:
        raise ConfigError(f"clip_len must be at least 1, got {clip_len}")
    if num_clips < 1:
        raise ConfigError(f"num_clips must be at least 1, got {num_clips}")


def uniform_sample_indices(
    num_frames: int,
    clip_len: int,
    *,
    num_clips: int = 1,
    test_mode: bool = False,
    rng: np.random.Generator | None = None,
    test_seed: int = 255,
) -> np.ndarray:
    """PYSKL's UniformSample: (num_clips, clip_len) int64 frame indices in [0, num_frames).

    - fewer frames than `clip_len`: consecutive indices from a random start, wrapped around (loop padding);
    - `clip_len` to `2 * clip_len - 1` frames: all frames in order, skipping the surplus at random places;
    - otherwise: `clip_len` equal segments, one random frame from each.

    Test mode draws from a private generator seeded with `test_seed` (PYSKL reseeds numpy's global generator
    with 255, which we avoid), so a sample always gets the same clips; short sequences then start the clips
    at evenly spaced offsets instead of random ones.
    """
    _check_lengths(num_frames, clip_len, num_clips)
    gen = np.random.default_rng(test_seed) if test_mode else _rng(rng)
    t, n = num_frames, clip_len
    if t < n:
        if test_mode:
            clip = np.arange(num_clips, dtype=np.int64)
            # PYSKL: clip i starts at i when there are fewer frames than clips, else at i * t // num_clips.
            starts = clip if t < num_clips else clip * t // num_clips
        else:
            starts = gen.integers(0, t, size=num_clips)
        return (starts[:, None] + np.arange(n)) % t
    if t < 2 * n:
        # Each of the n + 1 gaps around the n output frames may hide one skipped frame; pick `t - n` distinct
        # gaps per clip (argsort of uniforms = a random subset), then shift each index by the skips before it.
        gaps = np.argsort(gen.random((num_clips, n + 1)), axis=1)[:, : t - n]
        skips = np.zeros((num_clips, n + 1), dtype=np.int64)
        np.put_along_axis(skips, gaps, 1, axis=1)
        return np.arange(n) + np.cumsum(skips, axis=1)[:, :n]
    bounds = np.arange(n + 1, dtype=np.int64) * t // n
    return bounds[:-1] + gen.integers(0, np.diff(bounds), size=(num_clips, n))


def crop_resize_positions(
    valid_len: int,
    clip_len: int,
    *,
    ratio: tuple[float, float] = (0.5, 1.0),
    min_len: int = 64,
    test_mode: bool = False,
    test_keep: float = 0.95,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """CTR-GCN's ``valid_crop_resize`` as (clip_len,) float64 fractional positions in [0, valid_len - 1].

    Train: p ~ U(ratio); crop length floor(L * p) clamped to [min(min_len, L), L]; random start.
    Test: the central `test_keep` of the sequence (CTR-GCN trims int((1 - 0.95) * L / 2) frames at each end).
    The resize follows torch's linear interpolation with ``align_corners=False``: output frame i reads source
    position (i + 0.5) * crop / clip_len - 0.5, clamped into the crop, so `interpolate_frames` reproduces
    CTR-GCN's ``F.interpolate(..., mode="bilinear")`` exactly.
    """
    _check_lengths(valid_len, clip_len)
    lo, hi = ratio
    if not 0.0 < lo <= hi:
        raise ConfigError(f"crop ratio must satisfy 0 < low <= high, got {ratio}")
    if not 0.0 < test_keep <= 1.0:
        raise ConfigError(f"test_keep must be in (0, 1], got {test_keep}")
    if test_mode:
        trim = int((1.0 - test_keep) * valid_len / 2)
        start, length = trim, valid_len - 2 * trim
    else:
        gen = _rng(rng)
        p = gen.uniform(lo, hi)
        length = int(np.clip(np.floor(valid_len * p), min(min_len, valid_len), valid_len))
        start = int(gen.integers(0, valid_len - length + 1))
    source = (np.arange(clip_len) + 0.5) * (length / clip_len) - 0.5
    return start + np.clip(source, 0.0, length - 1)


def frames_for_positions(positions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lo, hi, w): the frames each position blends, as ``(1 - w) * frame[lo] + w * frame[hi]``.

    A dataset reading from the store can load the contiguous range ``lo.min() .. hi.max()`` only and pass
    ``positions - lo.min()`` to `interpolate_frames`.
    """
    pos = np.asarray(positions, dtype=np.float64)
    lo = np.floor(pos).astype(np.int64)
    hi = np.ceil(pos).astype(np.int64)
    return lo, hi, pos - lo


def interpolate_frames(keypoint: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Linearly blend frames at fractional `positions` along axis 1 of (M, T, V, C) or (M, T, V).

    Exact at integer positions. Like CTR-GCN, a frame next to a missing (zero) one is blended toward zero.
    """
    if keypoint.ndim not in (3, 4):
        raise FormatError(
            f"expected (persons, frames, joints[, coords]), got shape {keypoint.shape}",
            where="interpolate_frames",
        )
    lo, hi, w = frames_for_positions(positions)
    num_frames = keypoint.shape[1]
    if lo.size and (lo.min() < 0 or hi.max() >= num_frames):
        raise FormatError(
            f"positions need frames {int(lo.min())}..{int(hi.max())} but only {num_frames} are available",
            where="interpolate_frames",
        )
    w = w.reshape((1, -1) + (1,) * (keypoint.ndim - 2))
    out = keypoint[:, lo] * (1.0 - w) + keypoint[:, hi] * w
    return out.astype(keypoint.dtype, copy=False)


def valid_length(keypoint: np.ndarray) -> int:
    """Frames up to and including the last one that is not all zero (trailing zero padding excluded)."""
    if keypoint.ndim < 2:
        raise FormatError(f"expected frames on axis 1, got shape {keypoint.shape}", where="valid_length")
    axes = tuple(a for a in range(keypoint.ndim) if a != 1)
    nonzero = np.flatnonzero(np.any(keypoint != 0, axis=axes))
    return int(nonzero[-1]) + 1 if nonzero.size else 0


def nonzero_frame_count(keypoint: np.ndarray) -> int:
    """CTR-GCN's and PSUMNet's feeders' valid length: how many frames of (M, T, V, C) have a non-zero sum
    (over coordinates, then persons, then joints, the feeders' order), wherever they are.

    Unlike `valid_length` this counts, so a gap inside a sequence (every person absent) or an empty start
    shortens the frames the feeders sample from the end, and a frame whose values cancel counts as empty.
    """
    if keypoint.ndim != 4:
        raise FormatError(
            f"expected (persons, frames, joints, coords), got shape {keypoint.shape}",
            where="nonzero_frame_count",
        )
    return int(np.count_nonzero(keypoint.sum(axis=-1).sum(axis=0).sum(axis=-1)))


def random_sorted_indices(
    num_frames: int, clip_len: int, rng: np.random.Generator | None = None
) -> np.ndarray:
    """NW-UCLA training (CTR-GCN, spec section 5): `clip_len` frames drawn with repetition, kept in order.

    Independent draws; the released feeder's own draw (without replacement from 100 copies of every frame) is
    `skelact.data.transforms.ctrgcn_ucla.sorted_random_frames` (``sampling: sorted_random``)."""
    _check_lengths(num_frames, clip_len)
    return np.sort(_rng(rng).integers(0, num_frames, size=clip_len))


def evenly_spaced_indices(num_frames: int, clip_len: int) -> np.ndarray:
    """NW-UCLA test (CTR-GCN, spec section 5): `clip_len` evenly spaced frames from first to last, truncated
    to integers, as the released feeder does (``astype(int)``) [official code]."""
    _check_lengths(num_frames, clip_len)
    return np.linspace(0, num_frames - 1, clip_len).astype(np.int64)
