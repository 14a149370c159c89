"""The pose-estimator interface: a frame in, every detected person's keypoints out.

A backend returns all people it finds in a frame (MediaPipe finds one; a detector-based backend finds many),
so the tracker downstream is the same for both. Coordinates are pixels; `world` holds metric 3D keypoints
when the backend has them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass
class FramePoses:
    """People detected in one frame.

    Attributes:
        keypoint: (P, V, 2) pixel coordinates (x right, y down).
        score: (P, V) per-joint confidence in [0, 1].
        world: (P, V, 3) metric coordinates, or None when the backend has none.
    """

    keypoint: np.ndarray
    score: np.ndarray
    world: np.ndarray | None = None

    @classmethod
    def empty(cls, num_joints: int, with_world: bool = False) -> FramePoses:
        return cls(
            np.zeros((0, num_joints, 2), np.float32),
            np.zeros((0, num_joints), np.float32),
            np.zeros((0, num_joints, 3), np.float32) if with_world else None,
        )

    @property
    def num_people(self) -> int:
        return int(self.keypoint.shape[0])


@dataclass
class VideoPoses:
    """Per-frame detections of a whole video, plus what later steps need to know about it."""

    frames: list[FramePoses]
    layout: str
    width: int
    height: int
    fps: float
    meta: dict[str, object] = field(default_factory=dict)


@runtime_checkable
class PoseEstimator(Protocol):
    """What a pose backend provides. `layout` names its joint order (a `skelact.skeleton` layout)."""

    layout: str
    multi_person: bool

    def __call__(self, frame_rgb: np.ndarray) -> FramePoses:
        """Detect people in one RGB uint8 (H, W, 3) frame."""
        ...

    def close(self) -> None:
        """Release the backend's resources."""
        ...
