"""CTR-GCN's NW-UCLA feeder, per sample, in numpy on loader workers (specs/formats-and-preprocessing.md 5).

The official feeder treats each clip in one order: centre on the spine joint of frame 0; in training, rotate
about x and y and scale; then min-max every coordinate axis of the whole clip to [-1, 1]; then take 52 frames,
sorted random draws with repetition in training, evenly spaced at test. Because the min-max comes last, the
centring and the isotropic scale cancel (up to rounding) and only the rotation changes the clip. skelact's
default NW-UCLA pipeline instead min-maxes in the loader and rotates and scales the batch on the device
afterwards, with one scale factor per axis, which does act. `ClipSpec(normalize="view_minmax",
sampling="sorted_random")` selects this module (configs/recipes/nw_ucla_official.yaml).

What the spec leaves open is read from the released feeder (``feeders/feeder_ucla.py`` of the official
CTR-GCN repository) [official code]:

- the centre is 0-based joint 1 (the spine; the layout's spine top) of person 0 in stored frame 0;
- the angles are whole degrees drawn uniformly from -60..60 inclusive, the scale from U(0.5, 1.5);
- coordinates are row vectors multiplied on the right by Ry Rx S, with Rx = [[1, 0, 0], [0, c, s], [0, -s, c]]
  and Ry = [[c, 0, -s], [0, 1, 0], [s, 0, c]];
- the min-max runs over every joint of every frame, all-zero (missing) joints included, which the centring
  has moved (two NW-UCLA training clips have such joints); an axis without spread, where the feeder would
  divide by zero, maps to -1 here;
- training frames are 52 draws *without* replacement from a pool holding every frame 100 times, sorted, so a
  frame repeats at most 100 times; test frames are ``linspace(0, T - 1, 52)`` truncated to integers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skelact.data.transforms.normalize import default_center_joint
from skelact.errors import ConfigError, FormatError, LayoutError
from skelact.skeleton.layout import Layout

MAX_DEGREES = 60
SCALE_RANGE = (0.5, 1.5)
POOL_COPIES = 100


@dataclass(frozen=True)
class ViewDraw:
    """One clip's view augmentation: whole-degree angles about x and y and an isotropic scale."""

    angle_x: int = 0
    angle_y: int = 0
    scale: float = 1.0


IDENTITY_VIEW = ViewDraw()


def draw_view(rng: np.random.Generator) -> ViewDraw:
    """The training draw of the feeder: angles uniform in -60..60 degrees (whole), then scale U(0.5, 1.5)."""
    angle_x, angle_y = rng.integers(-MAX_DEGREES, MAX_DEGREES + 1, size=2)
    return ViewDraw(int(angle_x), int(angle_y), float(rng.uniform(*SCALE_RANGE)))


def view_matrix(view: ViewDraw) -> np.ndarray:
    """(3, 3) float64 matrix A that moves row-vector coordinates p to p @ A (the feeder's Ry Rx S)."""
    ax, ay = np.radians(view.angle_x), np.radians(view.angle_y)
    cx, sx, cy, sy = np.cos(ax), np.sin(ax), np.cos(ay), np.sin(ay)
    rot_x = np.array([[1.0, 0.0, 0.0], [0.0, cx, sx], [0.0, -sx, cx]])
    rot_y = np.array([[cy, 0.0, -sy], [0.0, 1.0, 0.0], [sy, 0.0, cy]])
    return rot_y @ (rot_x @ (view.scale * np.eye(3)))  # grouped as the feeder groups it


def feeder_normalize(keypoint: np.ndarray, layout: Layout, view: ViewDraw = IDENTITY_VIEW) -> np.ndarray:
    """(M, T, V, 3) keypoints as the feeder transforms a whole clip: centre, rotate and scale by `view`,
    min-max each axis to [-1, 1]; float64. At test time the feeder uses the identity view."""
    kp = np.asarray(keypoint, dtype=np.float64)
    if kp.ndim != 4 or kp.shape[3] != 3:
        raise FormatError(
            f"expected 3D keypoints (persons, frames, joints, 3), got shape {kp.shape}",
            where="normalize view_minmax",
        )
    if kp.shape[2] != layout.num_joints:
        raise LayoutError(
            f"normalize view_minmax: keypoint has {kp.shape[2]} joints, layout {layout.name!r} "
            f"{layout.num_joints}"
        )
    if kp.shape[1] == 0:
        raise FormatError("cannot normalise a clip without frames", where="normalize view_minmax")
    moved = (kp - kp[0, 0, default_center_joint(layout)]) @ view_matrix(view)
    points = moved.reshape(-1, 3)
    low, high = points.min(axis=0), points.max(axis=0)
    span = high - low
    span[span == 0] = 1.0
    return (moved - low) / span * 2.0 - 1.0


def sorted_random_frames(
    num_frames: int, clip_len: int, rng: np.random.Generator, copies: int = POOL_COPIES
) -> np.ndarray:
    """Training frames: `clip_len` distinct positions of a pool holding each of the `num_frames` frames
    `copies` times, as sorted frame indices (int64)."""
    if num_frames < 1:
        raise FormatError(
            f"cannot sample frames from a sequence of {num_frames} frames", where="sorted_random"
        )
    pool = num_frames * copies
    if clip_len > pool:
        raise ConfigError(
            f"sorted_random draws clip_len {clip_len} frames without replacement from {copies} copies of "
            f"{num_frames} frame(s); use clip_len <= {pool}"
        )
    return pool_frames(rng.choice(pool, size=clip_len, replace=False), num_frames)


def pool_frames(positions: np.ndarray, num_frames: int) -> np.ndarray:
    """Sorted frame indices of pool `positions`: the pool lists the frames 0..T-1, then again, and so on."""
    return np.sort(np.asarray(positions, dtype=np.int64) % num_frames)
