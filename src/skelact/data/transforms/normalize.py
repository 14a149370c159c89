"""Per-sample normalisation in numpy on the loader workers: centring, 3D view alignment, 2D scaling.

Input is one sample's (M, T, V, C) keypoints; an all-zero joint is missing and stays exactly zero.
Which codebase does what is in specs/formats-and-preprocessing.md sections 2.3, 4.1, 4.2, 4.4, 4.6 and 5.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from skelact.errors import ConfigError, FormatError, LayoutError
from skelact.skeleton.layout import Layout

CenterMode = Literal["first_frame", "per_frame", "first_valid_frame"]

#: Named methods for `normalize_sample` (the dataset's `normalize:` config value).
NORMALIZE_METHODS: dict[str, str] = {
    "none": "keep coordinates as stored",
    "center": "subtract person 0's centre joint in its first valid frame (CTR-GCN, spec 4.1)",
    "center_align": "centre as above, then spine to +z and shoulders to +x (PYSKL PreNormalize3D, spec 4.2)",
    "center_per_frame_align": "centre on person 0's joint in each frame, then align (MS-G3D, spec 4.4)",
    # CTR-GCN's NW-UCLA feeder centres first, but min-max scaling removes any translation anyway; it also
    # rotates and scales (train) before the min-max, while skelact augments on the device afterwards.
    "minmax": "min-max scale each axis of the clip to [-1, 1] (CTR-GCN NW-UCLA, spec 5)",
    "image": "2D: map pixels to [-1, 1] by image centre and half-size (PYSKL PreNormalize2D, spec 2.3)",
    "box": "2D: map to [-1, 1] by the skeleton's own bounding box, aspect ratio kept",
}

_Z = np.array([0.0, 0.0, 1.0])
_X = np.array([1.0, 0.0, 0.0])


def _check(keypoint: np.ndarray, layout: Layout | None = None, *, what: str) -> np.ndarray:
    kp = np.asarray(keypoint)
    if kp.ndim != 4:
        raise FormatError(
            f"expected keypoint (persons, frames, joints, coords), got shape {kp.shape}", where=what
        )
    if layout is not None and kp.shape[2] != layout.num_joints:
        raise LayoutError(
            f"{what}: keypoint has {kp.shape[2]} joints, layout {layout.name!r} {layout.num_joints}"
        )
    return kp


def _present(kp: np.ndarray) -> np.ndarray:
    """(..., 1) mask of joints that are not all zero."""
    return np.any(kp != 0, axis=-1, keepdims=True)


def _first_valid_frame(person: np.ndarray) -> int | None:
    """Index of the first frame in which a (T, V, C) person has any non-zero joint."""
    frames = np.flatnonzero(np.any(person != 0, axis=(1, 2)))
    return int(frames[0]) if frames.size else None


def default_center_joint(layout: Layout) -> int:
    """The joint to centre on: the top of the spine if the layout has one, else the layout centre.

    PYSKL, CTR-GCN and MS-G3D all centre NTU skeletons on the spine middle (0-based joint 1, ntu25's spine
    top), not on the graph centre (spine shoulder), so the spine top is the right default wherever it exists.
    """
    return layout.spine[1] if layout.spine is not None else layout.center


def center(
    keypoint: np.ndarray,
    layout: Layout,
    *,
    joint: int | None = None,
    mode: CenterMode = "first_valid_frame",
) -> np.ndarray:
    """Subtract person 0's `joint` from every present joint of every person.

    Modes: ``"first_valid_frame"`` (CTR-GCN; also PYSKL, which first drops frames where person 0 is empty),
    ``"first_frame"`` (frame 0 as stored), ``"per_frame"`` (MS-G3D: each frame its own origin; frames where
    person 0's joint is missing are left unshifted). Note the centre joint itself becomes exactly zero in the
    reference frame, as in every reference codebase.
    """
    kp = _check(keypoint, layout, what="center")
    joint = default_center_joint(layout) if joint is None else joint
    if not 0 <= joint < kp.shape[2]:
        raise LayoutError(f"center: joint {joint} outside 0..{kp.shape[2] - 1}")
    if mode == "per_frame":
        origin = kp[0:1, :, joint : joint + 1, :]
    elif mode in ("first_frame", "first_valid_frame"):
        t = 0 if mode == "first_frame" else _first_valid_frame(kp[0])
        if t is None:
            return kp.copy()
        origin = kp[0, t, joint]
    else:
        raise ConfigError(f"unknown centring mode {mode!r} (use first_frame, per_frame or first_valid_frame)")
    return ((kp - origin) * _present(kp)).astype(kp.dtype, copy=False)


def _rotation_onto(v: np.ndarray, target: np.ndarray, half_turn_axis: np.ndarray) -> np.ndarray:
    """3x3 rotation taking direction `v` onto unit `target` (Rodrigues); identity if `v` is (nearly) zero.

    PYSKL returns the identity when `v` is anti-parallel to the target; we turn half-way round
    `half_turn_axis` (perpendicular to the target) instead, so the alignment always succeeds.
    """
    norm = np.linalg.norm(v)
    if norm < 1e-9:
        return np.eye(3)
    u = v / norm
    cos = float(u @ target)
    axis = np.cross(u, target)
    sin = float(np.linalg.norm(axis))
    if sin < 1e-9:
        return np.eye(3) if cos > 0 else 2.0 * np.outer(half_turn_axis, half_turn_axis) - np.eye(3)
    k = axis / sin
    skew = np.array([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
    return np.eye(3) + sin * skew + (1.0 - cos) * (skew @ skew)


def align_3d(keypoint: np.ndarray, layout: Layout, *, exact_spine: bool = False) -> np.ndarray:
    """PYSKL's PreNormalize3D rotation (also MS-G3D's): rotate the whole sequence so person 0's spine
    (layout.spine base -> top) in its first valid frame points along +z, then its shoulder vector
    (right - left) along +x.

    As in the references, the second rotation turns the shoulder vector itself onto +x, which tilts the spine
    slightly off +z when the shoulders are not perpendicular to it; ``exact_spine=True`` instead turns about
    +z only (aligning the shoulders' horizontal projection) so the spine stays exactly on +z.
    A zero spine or shoulder vector skips that rotation. Zeros stay zero (the map is linear).
    """
    if layout.spine is None or layout.shoulders is None:
        raise LayoutError(f"align_3d needs a layout with spine and shoulders; {layout.name!r} lacks them")
    kp = _check(keypoint, layout, what="align_3d")
    if kp.shape[3] != 3:
        raise FormatError(f"align_3d needs 3D coordinates, got {kp.shape[3]} per joint", where="align_3d")
    t = _first_valid_frame(kp[0])
    if t is None:
        return kp.copy()
    frame = kp[0, t].astype(np.float64)
    (base, top), (left, right) = layout.spine, layout.shoulders
    first = _rotation_onto(frame[top] - frame[base], _Z, half_turn_axis=_X)
    shoulder = first @ (frame[right] - frame[left])
    if exact_spine:
        shoulder[2] = 0.0
    rotation = _rotation_onto(shoulder, _X, half_turn_axis=_Z) @ first
    return (kp @ rotation.T).astype(kp.dtype, copy=False)


def normalize_2d(
    keypoint: np.ndarray,
    score: np.ndarray | None = None,
    *,
    image_size: tuple[int, int] | None = None,
    score_threshold: float = 0.01,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Map 2D pixel keypoints to [-1, 1]; return (keypoint, score).

    With `image_size` = (height, width): subtract the image centre, divide by half the width (x) and height
    (y), as PYSKL's PreNormalize2D. Without it: centre on the bounding box of all present joints of all
    persons and frames and divide both axes by half its longer side, so the aspect ratio is kept.
    Joints whose score is <= `score_threshold` (spec 2.3: 0.01) are zeroed, score included; channels after
    x, y are only masked.
    """
    kp = _check(keypoint, what="normalize_2d")
    if kp.shape[3] < 2:
        raise FormatError(f"normalize_2d needs x and y, got {kp.shape[3]} coordinates", where="normalize_2d")
    present = _present(kp)[..., 0]
    if score is not None:
        score = np.asarray(score)
        if score.shape != kp.shape[:3]:
            raise FormatError(
                f"score shape {score.shape} does not match keypoint {kp.shape[:3]}", where="normalize_2d"
            )
        present &= score > score_threshold
    xy = kp[..., :2].astype(np.float64)
    if image_size is not None:
        height, width = image_size
        if height <= 0 or width <= 0:
            raise ConfigError(f"image_size must be positive (height, width), got {image_size}")
        mid, half = np.array([width / 2, height / 2]), np.array([width / 2, height / 2])
    elif present.any():
        points = xy[present]
        low, high = points.min(axis=0), points.max(axis=0)
        mid, extent = (low + high) / 2, float((high - low).max()) / 2
        half = np.array([extent, extent]) if extent > 0 else np.ones(2)  # a single point: only shift it
    else:
        mid, half = np.zeros(2), np.ones(2)
    out = kp.astype(np.float64)
    out[..., :2] = (xy - mid) / half
    out *= present[..., None]
    new_score = None if score is None else np.where(present, score, 0).astype(score.dtype, copy=False)
    return out.astype(kp.dtype, copy=False), new_score


def minmax_scale(keypoint: np.ndarray) -> np.ndarray:
    """Scale each coordinate axis so the clip's present joints span [-1, 1] (CTR-GCN NW-UCLA, spec 5 step 3).

    An axis with no spread is only shifted to 0.
    """
    kp = _check(keypoint, what="minmax_scale")
    present = _present(kp)
    if not present.any():
        return kp.copy()
    points = kp[present[..., 0]].astype(np.float64)
    low, high = points.min(axis=0), points.max(axis=0)
    half = (high - low) / 2
    half[half == 0] = 1.0
    return (((kp - (low + high) / 2) / half) * present).astype(kp.dtype, copy=False)


def normalize_sample(
    keypoint: np.ndarray,
    score: np.ndarray | None,
    layout: Layout,
    method: str,
    *,
    image_size: tuple[int, int] | None = None,
    score_threshold: float = 0.01,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Apply one named method from `NORMALIZE_METHODS`; returns (keypoint, score).

    Centring uses person 0's first valid frame in every method: that is CTR-GCN's choice and equals PYSKL's
    frame 0 after its empty-frame drop. Normalise the full sequence before temporal sampling to match them.
    """
    if method not in NORMALIZE_METHODS:
        raise ConfigError(
            f"unknown normalisation method {method!r}", hint=f"choose one of: {', '.join(NORMALIZE_METHODS)}"
        )
    if method == "none":
        return keypoint, score
    if method in ("image", "box"):
        if method == "image" and image_size is None:
            raise ConfigError(
                "normalisation 'image' needs image_size (height, width); use 'box' when unknown"
            )
        size = image_size if method == "image" else None
        return normalize_2d(keypoint, score, image_size=size, score_threshold=score_threshold)
    if method == "minmax":
        return minmax_scale(keypoint), score
    mode: CenterMode = "per_frame" if method == "center_per_frame_align" else "first_valid_frame"
    out = center(keypoint, layout, mode=mode)
    if method != "center":
        out = align_3d(out, layout)
    return out, score
