"""Sensor imperfections: Kinect-like 3D jitter and glitches, and a 2D pose estimator's noise and scores."""

from __future__ import annotations

import numpy as np

from skelact.data.synthetic.camera import IMAGE_SHAPE

NOISE_3D = 0.01  # metres, Gaussian per coordinate (task brief: ~1 cm)
NOISE_3D_OCCLUDED = 0.025  # Kinect's "inferred" (occluded) joints are guessed, hence noisier [design choice]
NOISE_2D_PX = 2.5  # pixels, a 2D estimator on a visible joint [design choice]
NOISE_2D_OCCLUDED_PX = 8.0  # pixels, a 2D estimator guessing a hidden joint [design choice]
GLITCHES_PER_PERSON = 2.0  # mean number of dropouts per person and clip (Poisson)
GLITCH_MAX_FRAMES = 4  # a dropout zeroes one joint for 1..4 frames, like a lost Kinect joint


def dropout_mask(
    rng: np.random.Generator,
    shape: tuple[int, int, int],
    mean_events: float = GLITCHES_PER_PERSON,
    max_frames: int = GLITCH_MAX_FRAMES,
) -> np.ndarray:
    """(M, T, V) bool: a Poisson number of glitches per person, each losing one joint for a few frames."""
    persons, frames, joints = shape
    counts = rng.poisson(mean_events, size=persons)
    total = int(counts.sum())
    person = np.repeat(np.arange(persons), counts)
    joint = rng.integers(0, joints, total)
    start = rng.integers(0, frames, total)
    stop = start + rng.integers(1, max_frames + 1, total)
    time = np.arange(frames)
    event, frame = np.nonzero((time >= start[:, None]) & (time < stop[:, None]))
    mask = np.zeros(shape, dtype=bool)
    mask[person[event], frame, joint[event]] = True
    return mask


def sense_3d(
    rng: np.random.Generator, points: np.ndarray, occluded: np.ndarray, *, noise: bool, drop: bool
) -> np.ndarray:
    """(M, T, V, 3) float32 camera-frame joints as a depth sensor reports them; lost joints are zeros."""
    out = points.copy()
    if noise:
        sigma = np.where(occluded, NOISE_3D_OCCLUDED, NOISE_3D)[..., None]
        out += rng.normal(0.0, 1.0, out.shape) * sigma
    if drop:
        out[dropout_mask(rng, occluded.shape)] = 0.0
    return out.astype(np.float32)


def sense_2d(
    rng: np.random.Generator, coords: np.ndarray, occluded: np.ndarray, *, noise: bool, drop: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Keypoints (M, T, V, 2) and scores (M, T, V) as a 2D pose estimator reports them, both float32.

    Scores: about 0.9 for visible joints, 0.1-0.45 for self-occluded ones (the estimator guesses), 0 for
    joints it lost or that fall outside the image; such joints get zero coordinates (skelact's "missing").
    """
    out = coords.copy()
    if noise:
        half = np.array([IMAGE_SHAPE[1] / 2, IMAGE_SHAPE[0] / 2])  # pixels per normalised unit
        sigma = np.where(occluded, NOISE_2D_OCCLUDED_PX, NOISE_2D_PX)[..., None] / half
        out += rng.normal(0.0, 1.0, out.shape) * sigma
    visible_score = np.clip(rng.normal(0.9, 0.05, occluded.shape), 0.5, 1.0)
    score = np.where(occluded, rng.uniform(0.1, 0.45, occluded.shape), visible_score)
    lost = (np.abs(out) > 1.0).any(axis=-1)
    if drop:
        lost |= dropout_mask(rng, occluded.shape)
    out[lost] = 0.0
    score[lost] = 0.0
    return out.astype(np.float32), score.astype(np.float32)
