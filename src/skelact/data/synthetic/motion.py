"""From an action's `Pose` to joint positions: posture blending, leg conventions, FK, floor contact, turning.

The output is the *body world* frame: floor at y = 0, the root above the origin at rest, the person facing
-z. Besides the 25 NTU joints it carries five face points (nose, eyes, ears) placed from the head's
orientation, which the 2D COCO-17 output needs.
"""

from __future__ import annotations

import numpy as np

from skelact.data.synthetic.actions import ACTION_FUNCTIONS
from skelact.data.synthetic.body import Body
from skelact.data.synthetic.idle import idle_angles, look_around, resting_posture
from skelact.data.synthetic.kinematics import (
    LAYOUT,
    NUM_JOINTS,
    ROOT,
    J,
    axis_rotation,
    euler_to_matrix,
    forward_kinematics,
)
from skelact.data.synthetic.pose import FPS, MotionContext, Pose

FACE_POINTS = ("nose", "left_eye", "right_eye", "left_ear", "right_ear")
# Face points in the head frame (x left, y up, z back) for a 1.75 m person, metres, relative to Kinect's
# head joint (the centre of the head): nose 10 cm ahead, eyes 8.5 cm ahead and 3.2 cm to each side, ears
# 7.5 cm to each side. An average head [design choice]; it scales with body height.
_FACE_OFFSETS = np.array(
    [
        [0.0, -0.01, -0.10],
        [0.032, 0.025, -0.085],
        [-0.032, 0.025, -0.085],
        [0.075, 0.01, 0.0],
        [-0.075, 0.01, 0.0],
    ]
)
NUM_POINTS = NUM_JOINTS + len(FACE_POINTS)
POINT_NAMES = LAYOUT.joint_names + FACE_POINTS
# Left/right swap of all 30 points: the layout's flip for the joints, eyes and ears swapped for the face.
POINT_FLIP = np.concatenate([LAYOUT.flip_permutation(), NUM_JOINTS + np.array([0, 2, 1, 4, 3])])

_HIPS = np.array([J["left_hip"], J["right_hip"]])
_KNEES = np.array([J["left_knee"], J["right_knee"]])
_ANKLES = np.array([J["left_ankle"], J["right_ankle"]])
_FEET = np.array([J["left_foot"], J["right_foot"]])
CONTACT_SOFTNESS = 0.015  # metres: a foot 5 cm above the other carries ~3 % of the weight


def perform(
    action: str | None, body: Body, num_frames: int, speed: float, amp: float, rng: np.random.Generator
) -> np.ndarray:
    """(T, 30, 3) body-world points of `body` performing `action` (None: standing idle)."""
    ctx = MotionContext(t=np.arange(num_frames) / FPS, speed=speed, amp=amp, body=body, rng=rng)
    posture = resting_posture(ctx)
    pose = Pose.still(num_frames)
    (look_around if action is None else ACTION_FUNCTIONS[action])(ctx, pose)
    return animate(body, pose, idle_angles(ctx), posture)


def local_angles(posture: np.ndarray, pose: Pose, idle_motion: np.ndarray) -> np.ndarray:
    """(T, V, 3) local Euler angles: resting posture where the action lets go, action, idle motion.

    Converts the legs from the action convention (thigh relative to upright, foot relative to the floor;
    see `synthetic.pose`) to angles relative to the parent segment.
    """
    engage = pose.engage[..., None]
    angles = posture * (1.0 - engage) + pose.angles + idle_motion * (1.0 - 0.8 * engage)
    thigh_pitch = angles[:, _HIPS, 0].copy()
    angles[:, _HIPS, 0] -= angles[:, [ROOT], 0]
    angles[:, _HIPS, 2] -= angles[:, [ROOT], 2]
    angles[:, _ANKLES, 0] -= thigh_pitch + angles[:, _KNEES, 0]
    return angles


def animate(body: Body, pose: Pose, idle_motion: np.ndarray, posture: np.ndarray | None = None) -> np.ndarray:
    """(T, 30, 3) points: FK, then the root is placed so the supporting foot rests on the floor.

    Floor contact is a soft minimum over the two feet (each foot's lowest of ankle and toe joint): the
    lower foot carries the weight, its horizontal position is held where it stood at rest (no foot
    sliding in a kick or a squat), and the root is lifted by `pose.lift` for a jump's flight.
    """
    posture = body.posture if posture is None else posture
    pos, rot = forward_kinematics(euler_to_matrix(local_angles(posture, pose, idle_motion)), body.offsets)
    face = pos[:, [J["head"]]] + np.einsum(
        "tab,pb->tpa", rot[:, J["head"]], _FACE_OFFSETS * body.height / 1.75
    )
    points = np.concatenate([pos, face], axis=1)

    contact = np.minimum(
        pos[:, _ANKLES, 1] - body.ankle_height, pos[:, _FEET, 1] - body.foot_height
    )  # (T, 2)
    weight = np.exp(-(contact - contact.min(axis=1, keepdims=True)) / CONTACT_SOFTNESS)
    weight /= weight.sum(axis=1, keepdims=True)
    feet = 0.5 * (pos[:, _ANKLES][..., [0, 2]] + pos[:, _FEET][..., [0, 2]])  # (T, 2 feet, xz)
    hold = (weight[..., None] * (body.feet_rest - feet)).sum(axis=1)
    root = np.stack([hold[:, 0], pose.lift - (weight * contact).sum(axis=1), hold[:, 1]], axis=-1)
    points += root[:, None]

    # A turn pivots the whole body about the vertical line through the root.
    axis = root * np.array([1.0, 0.0, 1.0])
    turned = np.einsum("tab,tpb->tpa", axis_rotation(pose.yaw, 1), points - axis[:, None])
    return turned + axis[:, None]
