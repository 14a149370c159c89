"""Rotations and forward kinematics on the NTU-25 skeleton, vectorised over time.

Frames: the *body frame* has x = the person's left, y = up, z = the person's back (forward is -z), so a
person at rest facing the camera is already in the camera's axes (x right, y up, z away from the camera).
Every joint carries a local rotation, built from Euler angles (rx, ry, rz) as R = Ry(ry) @ Rz(rz) @ Rx(rx):
rx pitches in the sagittal plane, rz rolls in the frontal plane, ry turns about the vertical axis. The
rotation of joint j moves the segments hanging from j (the shoulder's rotation moves the upper arm).
"""

from __future__ import annotations

import numpy as np

from skelact.skeleton.layout import get_layout

LAYOUT = get_layout("ntu25")
J: dict[str, int] = {name: i for i, name in enumerate(LAYOUT.joint_names)}
NUM_JOINTS = LAYOUT.num_joints

# The physical kinematic tree. It differs from the layout's *bone* list (specs/formats-and-preprocessing.md
# §1.1) only at the hand: the bone list chains tip -> thumb -> hand, while physically both hang on the hand.
# Rigid attachment keeps every layout bone (tip-thumb included) constant in length.
_TREE = {
    "spine_base": "spine_base", "spine_mid": "spine_base", "spine_shoulder": "spine_mid",
    "neck": "spine_shoulder", "head": "neck",
    "left_shoulder": "spine_shoulder", "left_elbow": "left_shoulder", "left_wrist": "left_elbow",
    "left_hand": "left_wrist", "left_hand_tip": "left_hand", "left_thumb": "left_hand",
    "right_shoulder": "spine_shoulder", "right_elbow": "right_shoulder", "right_wrist": "right_elbow",
    "right_hand": "right_wrist", "right_hand_tip": "right_hand", "right_thumb": "right_hand",
    "left_hip": "spine_base", "left_knee": "left_hip", "left_ankle": "left_knee", "left_foot": "left_ankle",
    "right_hip": "spine_base", "right_knee": "right_hip", "right_ankle": "right_knee",
    "right_foot": "right_ankle",
}  # fmt: skip
FK_PARENTS = np.array([J[_TREE[name]] for name in LAYOUT.joint_names])
ROOT = J["spine_base"]


def _levels(parents: np.ndarray, root: int) -> list[np.ndarray]:
    """Joints grouped by depth below the root, so FK runs one vectorised step per level (8 for NTU)."""
    depth = np.zeros(len(parents), dtype=int)
    for _ in range(len(parents)):  # fixed-point on a 25-node tree; runs once at import
        depth = np.where(np.arange(len(parents)) == root, 0, depth[parents] + 1)
    return [np.flatnonzero(depth == d) for d in range(1, depth.max() + 1)]


FK_LEVELS = _levels(FK_PARENTS, ROOT)


def axis_rotation(angle: np.ndarray, axis: int) -> np.ndarray:
    """Rotation matrices (..., 3, 3) about coordinate axis 0 (x), 1 (y) or 2 (z)."""
    angle = np.asarray(angle, dtype=np.float64)
    c, s = np.cos(angle), np.sin(angle)
    R = np.zeros((*angle.shape, 3, 3))
    i, j = [(1, 2), (2, 0), (0, 1)][axis]  # the plane each axis rotates, right-hand rule
    R[..., axis, axis] = 1.0
    R[..., i, i] = c
    R[..., j, j] = c
    R[..., i, j] = -s
    R[..., j, i] = s
    return R


def euler_to_matrix(angles: np.ndarray) -> np.ndarray:
    """(..., 3) Euler angles (rx, ry, rz) in radians -> (..., 3, 3) rotations R = Ry @ Rz @ Rx."""
    return (
        axis_rotation(angles[..., 1], 1) @ axis_rotation(angles[..., 2], 2) @ axis_rotation(angles[..., 0], 0)
    )


def forward_kinematics(local: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Joint positions (T, V, 3) relative to the root and global rotations (T, V, 3, 3).

    `local` (T, V, 3, 3) are joint rotations relative to the parent; `offsets` (V, 3) are the rest-pose
    vectors from each joint's parent to the joint, in the parent's frame. Joints of one depth level are
    placed together: position = parent position + parent rotation @ offset.
    """
    T = local.shape[0]
    pos = np.zeros((T, NUM_JOINTS, 3))
    rot = np.empty_like(local)
    rot[:, ROOT] = local[:, ROOT]
    for level in FK_LEVELS:
        par = FK_PARENTS[level]
        pos[:, level] = pos[:, par] + np.einsum("tjab,jb->tja", rot[:, par], offsets[level])
        rot[:, level] = rot[:, par] @ local[:, level]
    return pos, rot
