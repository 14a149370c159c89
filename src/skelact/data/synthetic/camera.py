"""The camera: placing people in front of it, self-occlusion, and the pinhole projection to COCO-17.

Camera frame (Kinect-like, task brief): x right, y up, z away from the camera, metres, origin at the lens.
The floor lies `height` below the lens; the camera is tilted up or down by `pitch` to keep the person framed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skelact.data.synthetic.kinematics import J, axis_rotation
from skelact.data.synthetic.motion import NUM_POINTS, POINT_FLIP, POINT_NAMES

IMAGE_SHAPE = (1080, 1920)  # (height, width) in pixels, a full-HD camera (task brief)
DISTANCE_RANGE = (2.5, 4.5)  # metres from the camera, NTU-like (task brief)
VIEW_YAW_LIMIT = 90.0  # camera yaw around the person: anywhere in the frontal half (NTU cameras: -45, 0, +45,
# and its performers turn further); wide views keep raw-coordinate classifiers honest [design choice]
CAMERA_HEIGHT_RANGE = (0.5, 2.0)  # metres above the floor
AIM_HEIGHT = 1.05  # metres above the floor the camera is pointed at, so standing people are framed

# COCO-17 keypoints from the 30 synthetic points. Approximation [design choice]: COCO's shoulders, elbows,
# wrists, hips, knees and ankles are taken as Kinect's joints of the same name (Kinect's hip joints sit a
# few centimetres nearer the midline than an annotator's hips); nose, eyes and ears are points fixed in
# the head's frame (see `synthetic.motion`), so they turn and nod with the head.
_COCO_NAMES = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip
COCO_FROM_POINTS = np.array([POINT_NAMES.index(name) for name in _COCO_NAMES])
_FACE = np.arange(len(J), NUM_POINTS)


@dataclass(frozen=True)
class Camera:
    """Lens height above the floor (m), upward tilt (rad; negative looks down) and focal length (px)."""

    height: float
    pitch: float
    focal: float


def draw_camera(rng: np.random.Generator, distance: float) -> Camera:
    """A camera 0.5-2.0 m high, aimed near the person's mid-height (+-4 degrees), focal ~1000 px.

    NTU's recording setups vary camera height and distance from setup to setup; the height range here
    is a [design choice] of the same spirit, and with it the tilt that keeps the person framed.
    """
    height = rng.uniform(*CAMERA_HEIGHT_RANGE)
    pitch = np.arctan2(AIM_HEIGHT - height, distance) + np.radians(rng.uniform(-4.0, 4.0))
    return Camera(height=float(height), pitch=float(pitch), focal=float(rng.uniform(950.0, 1050.0)))


def yaw_bucket(yaw_deg: float) -> int:
    """View id: 0 seen from the person's right-front (< -15 deg), 1 frontal, 2 from the left-front (> 15)."""
    return int(np.digitize(yaw_deg, [-15.0, 15.0]))


def place(points: np.ndarray, *, x: float, z: float, yaw_deg: float, mirrored: bool) -> np.ndarray:
    """(T, 30, 3) body-world points -> the level frame under the lens: optional mirror, view yaw, move.

    The level frame has the camera's axes before its tilt: x right, y up (floor at -camera height, added
    by `to_camera`), z horizontal away from the camera.
    """
    if mirrored:  # the left-handed performance of the same action
        points = points[:, POINT_FLIP] * np.array([-1.0, 1.0, 1.0])
    return points @ axis_rotation(np.radians(yaw_deg), 1).T + np.array([x, 0.0, z])


def to_camera(level: np.ndarray, camera: Camera) -> np.ndarray:
    """Level-frame points -> camera frame: drop the floor below the lens, then tilt."""
    world = level - np.array([0.0, camera.height, 0.0])
    # Tilting the camera up by `pitch` rotates the scene down (y' = y cos - z sin) about the lens's x axis.
    return world @ axis_rotation(camera.pitch, 0).T


def self_occluded(level: np.ndarray) -> np.ndarray:
    """(..., 30) bool: points hidden behind the person's own torso or head, seen from the camera.

    Tested in the level frame (before the camera's tilt, so a tilted camera does not make the feet look
    "behind" the chest): a limb point more than 8 cm farther than the spine-middle joint, within 18 cm of
    it sideways and within the torso's height is behind the torso; a face point farther than the head's
    centre faces away [design choice: a cheap stand-in for a depth-buffer test, good enough to make
    back-facing and turned-away joints less certain].
    """
    depth, height = level[..., 2], level[..., 1]
    spine = level[..., [J["spine_mid"]], :]
    top, bottom = level[..., [J["spine_shoulder"]], 1], level[..., [J["spine_base"]], 1] - 0.1
    hidden = (
        (depth - spine[..., 2] > 0.08)
        & (np.abs(level[..., 0] - spine[..., 0]) < 0.18)
        & (height < top)
        & (height > bottom)
    )
    hidden[..., [J["spine_base"], J["spine_mid"], J["spine_shoulder"], J["neck"], J["head"]]] = False
    hidden[..., _FACE] = depth[..., _FACE] > level[..., [J["head"]], 2] + 0.01
    return hidden


def project(points: np.ndarray, focal: float) -> np.ndarray:
    """Pinhole projection to coordinates normalised by image size: x/(W/2) - 1, y/(H/2) - 1 in pixels.

    The principal point is the image centre and image y points down, so +1 is the bottom edge. Points
    behind the lens get +-inf-like values that the caller treats as out of frame.
    """
    h, w = IMAGE_SHAPE
    z = np.maximum(points[..., 2], 1e-3)
    u = w / 2 + focal * points[..., 0] / z
    v = h / 2 - focal * points[..., 1] / z
    return np.stack([u / (w / 2) - 1.0, v / (h / 2) - 1.0], axis=-1)
