"""Synthetic subjects: one fixed body (bone lengths, relaxed posture, personal style) per subject id.

A subject's body depends only on its id, never on a dataset seed, so "subject 7" is the same person in
every generated dataset and subject-wise splits separate bodies exactly as NTU's cross-subject split does.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from skelact.data.synthetic.kinematics import NUM_JOINTS, J, euler_to_matrix, forward_kinematics

_BODY_SEED = 20240613  # fixed entropy: subject bodies must not change between releases

# Rest-pose segment vectors as fractions of body height (parent -> joint, body frame: x left, y up, z back).
# Proportions follow common anthropometric ratios (e.g. thigh ~0.245 H, upper arm ~0.17 H) adapted to
# Kinect v2 joint placement (spine base at the pelvis, hand = palm centre, head = head centre)
# [design choice].
_SEGMENTS: dict[str, tuple[str, tuple[float, float, float]]] = {
    # joint: (proportion group, vector)
    "spine_mid": ("spine", (0.0, 0.145, 0.005)),
    "spine_shoulder": ("spine", (0.0, 0.14, -0.005)),
    "neck": ("neck", (0.0, 0.045, 0.0)),
    "head": ("neck", (0.0, 0.065, -0.005)),
    "left_shoulder": ("shoulder", (0.097, -0.012, 0.0)),
    "right_shoulder": ("shoulder", (-0.097, -0.012, 0.0)),
    "left_elbow": ("upper_arm", (0.0, -0.165, 0.0)),
    "right_elbow": ("upper_arm", (0.0, -0.165, 0.0)),
    "left_wrist": ("forearm", (0.0, -0.145, 0.0)),
    "right_wrist": ("forearm", (0.0, -0.145, 0.0)),
    "left_hand": ("hand", (0.0, -0.042, 0.0)),
    "right_hand": ("hand", (0.0, -0.042, 0.0)),
    "left_hand_tip": ("hand", (0.0, -0.045, 0.0)),
    "right_hand_tip": ("hand", (0.0, -0.045, 0.0)),
    "left_thumb": ("hand", (0.0, -0.015, -0.03)),
    "right_thumb": ("hand", (0.0, -0.015, -0.03)),
    "left_hip": ("hips", (0.05, -0.035, 0.0)),
    "right_hip": ("hips", (-0.05, -0.035, 0.0)),
    "left_knee": ("thigh", (0.0, -0.235, 0.0)),
    "right_knee": ("thigh", (0.0, -0.235, 0.0)),
    "left_ankle": ("shin", (0.0, -0.225, 0.0)),
    "right_ankle": ("shin", (0.0, -0.225, 0.0)),
    "left_foot": ("foot", (0.0, -0.03, -0.07)),
    "right_foot": ("foot", (0.0, -0.03, -0.07)),
}
_GROUPS = ("spine", "neck", "shoulder", "upper_arm", "forearm", "hand", "hips", "thigh", "shin", "foot")
ANKLE_HEIGHT = 0.04  # ankle joint above the floor at rest, fraction of height (Kinect ankle ~7 cm)
HEIGHT_RANGE = (1.5, 1.95)  # metres, task brief
PROPORTION_JITTER = 0.08  # +-8 % per proportion group, task brief


@dataclass(frozen=True)
class Body:
    """One subject.

    Attributes:
        subject: the subject id.
        height: body height in metres (head top over floor at rest, before proportion jitter).
        offsets: (V, 3) rest segment vectors in metres (left and right sides mirror each other, so a
            mirrored sample of a subject keeps the subject's bone lengths).
        posture: (V, 3) relaxed Euler angles (arms hanging slightly out, elbows slightly bent).
        ankle_height, foot_height: floor clearance of the ankle and foot joints at rest, metres.
        feet_rest: (2, 2) horizontal (x, z) position of each foot (left, right; mean of ankle and foot
            joints) at rest relative to the root: planted feet are held there.
        amplitude, tempo: personal style, multiplying action amplitudes and speeds.
        left_handed: the subject's dominant side.
    """

    subject: int
    height: float
    offsets: np.ndarray
    posture: np.ndarray
    ankle_height: float
    foot_height: float
    feet_rest: np.ndarray
    amplitude: float
    tempo: float
    left_handed: bool

    def segment_length(self, joint: str) -> float:
        return float(np.linalg.norm(self.offsets[J[joint]]))


@lru_cache(maxsize=256)
def subject_body(subject: int) -> Body:
    """The fixed body of `subject` (cached: bodies are immutable and drawn from the id alone)."""
    rng = np.random.default_rng([_BODY_SEED, int(subject)])
    height = rng.uniform(*HEIGHT_RANGE)
    scale = dict(
        zip(_GROUPS, 1.0 + rng.uniform(-PROPORTION_JITTER, PROPORTION_JITTER, len(_GROUPS)), strict=True)
    )
    offsets = np.zeros((NUM_JOINTS, 3))
    for name, (group, vector) in _SEGMENTS.items():
        offsets[J[name]] = np.asarray(vector) * height * scale[group]

    posture = np.zeros((NUM_JOINTS, 3))
    abduction = np.radians(rng.uniform(4.0, 10.0))  # arms hang slightly away from the body
    posture[J["left_shoulder"], 2], posture[J["right_shoulder"], 2] = abduction, -abduction
    posture[[J["left_elbow"], J["right_elbow"]], 0] = np.radians(rng.uniform(5.0, 15.0))
    posture[J["spine_shoulder"], 0] = np.radians(rng.uniform(-4.0, 4.0))  # slouch or straight back
    posture[J["neck"], 0] = np.radians(rng.uniform(-6.0, 6.0))
    stance = np.radians(rng.uniform(0.0, 4.0))  # feet a little apart
    posture[J["left_hip"], 2], posture[J["right_hip"], 2] = stance, -stance

    rest, _ = forward_kinematics(euler_to_matrix(posture)[None], offsets)
    ankles = rest[0, [J["left_ankle"], J["right_ankle"]]][:, [0, 2]]
    feet = rest[0, [J["left_foot"], J["right_foot"]]][:, [0, 2]]
    return Body(
        subject=int(subject),
        height=float(height),
        offsets=offsets,
        posture=posture,
        ankle_height=ANKLE_HEIGHT * height,
        foot_height=ANKLE_HEIGHT * height + offsets[J["left_foot"], 1],
        feet_rest=0.5 * (ankles + feet),
        amplitude=float(rng.uniform(0.85, 1.15)),
        tempo=float(rng.uniform(0.9, 1.1)),
        left_handed=bool(rng.random() < 0.3),
    )
