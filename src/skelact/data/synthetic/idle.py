"""What people do besides the action: resting arm postures, passing gestures, weight shifts, fidgeting,
breathing and sway. Together they make sure no clip is static and that the action is not the only thing
moving, as in real recordings."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from skelact.data.synthetic.kinematics import J
from skelact.data.synthetic.pose import MotionContext, Pose, smoothstep

# Arm configurations as (shoulder rx, ry, rz, elbow rx, ry) in degrees for the right arm (the left mirrors
# them), solved by a grid search of hand and elbow targets on a mid-sized body [design choice].
# Resting arms: how the arms stay while the action does not use them (NTU actors stand in all of these).
ARM_RESTS = {
    "hands_on_hips": (0, 0, -50, 100, -90),
    "arms_crossed": (30, 10, 10, 100, -100),
    "hands_clasped": (-20, -80, -10, 80, 20),
    "hands_behind_back": (-30, -20, -20, 80, -80),
}
RELAXED_ARMS_PROB = 0.4  # otherwise one of ARM_RESTS, uniformly
# One-arm gestures people make around an action (real clips are full of them).
GESTURES = {
    "touch_face": (20, -50, -20, 150, 10),
    "scratch_head": (130, 90, -20, 120, 20),
    "check_watch": (10, 40, 10, 90, -80),
    "hand_on_chest": (-10, -30, -10, 140, -30),
}
GESTURE_PROB = 0.5
WEIGHT_SHIFT_PROB = 0.4


def _arm_config(posture: np.ndarray, values: Sequence[float], side: str, jitter: np.ndarray) -> None:
    """Write one arm configuration (right-arm degrees, mirrored for the left) into posture (..., V, 3)."""
    sign = 1.0 if side == "right" else -1.0
    sx, sy, sz, ex, ey = np.asarray(values, dtype=np.float64) + jitter
    posture[..., J[f"{side}_shoulder"], :] = np.radians([sx, sign * sy, sign * sz])
    posture[..., J[f"{side}_elbow"], :] = np.radians([ex, sign * ey, 0.0])


def resting_posture(c: MotionContext) -> np.ndarray:
    """(T, V, 3) radians: the subject's posture with the sample's resting arms, one optional gesture and
    one optional weight shift. The action's `engage` later blends this out where the action moves."""
    posture = c.body.posture.copy()
    if c.rng.random() >= RELAXED_ARMS_PROB:
        rest = ARM_RESTS[tuple(ARM_RESTS)[c.pick(0, len(ARM_RESTS) - 1)]]
        for side in ("left", "right"):
            _arm_config(posture, rest, side, c.rng.uniform(-8.0, 8.0, 5))
    posture = np.repeat(posture[None], len(c.t), axis=0)
    if c.rng.random() < GESTURE_PROB:
        gesture = np.array(posture[0])
        side = "right" if c.rng.random() < 0.5 else "left"
        _arm_config(
            gesture, GESTURES[tuple(GESTURES)[c.pick(0, len(GESTURES) - 1)]], side, c.rng.uniform(-8, 8, 5)
        )
        posture += _window(c, c.draw(0.8, 2.0), c.draw(0.25, 0.4))[:, None, None] * (gesture - posture[0])
    if c.rng.random() < WEIGHT_SHIFT_PROB:  # both thighs roll together: the pelvis slides over one foot
        shift = _window(c, c.draw(1.0, 3.0), c.draw(0.3, 0.6)) * np.radians(c.draw(-7.0, 7.0))
        posture[:, [J["left_hip"], J["right_hip"]], 2] += shift[:, None]
    return posture


def _window(c: MotionContext, duration: float, ramp: float) -> np.ndarray:
    """(T,) 0 -> 1 -> 0 envelope held for about `duration` s at a random time (may run past the clip)."""
    start = c.draw(-0.5 * duration, c.clip - 0.5 * duration)
    return smoothstep((c.t - start) / ramp) * (1.0 - smoothstep((c.t - start - duration) / ramp))


# Idle fidgeting amplitude per joint, degrees: the spine and legs barely move, arms and head more.
IDLE_AMPLITUDE = {
    "spine_base": 1.0, "spine_mid": 1.0, "spine_shoulder": 1.0, "neck": 4.0, "head": 3.0,
    "left_shoulder": 4.0, "right_shoulder": 4.0, "left_elbow": 5.0, "right_elbow": 5.0,
    "left_wrist": 8.0, "right_wrist": 8.0, "left_hand": 6.0, "right_hand": 6.0,
    "left_hip": 1.0, "right_hip": 1.0, "left_knee": 1.5, "right_knee": 1.5,
}  # fmt: skip


def idle_angles(c: MotionContext, components: int = 3) -> np.ndarray:
    """(T, V, 3) radians of natural idle motion: fidgeting, breathing and postural sway.

    Fidgeting is a sum of a few slow random sinusoids per joint and axis; breathing pitches the upper
    spine at 12-20 breaths per minute; sway tips both thighs together (an ankle strategy), so the body
    drifts over planted feet instead of sliding them.
    """
    amp = np.zeros(len(J))
    amp[[J[name] for name in IDLE_AMPLITUDE]] = list(IDLE_AMPLITUDE.values())
    freq = c.rng.uniform(0.1, 0.7, (components, len(J), 3))
    phase = c.rng.uniform(0, 2 * np.pi, (components, len(J), 3))
    weight = c.rng.normal(0.0, 1.0, (components, len(J), 3)) / np.sqrt(components)
    waves = np.sin(2 * np.pi * freq * c.t[:, None, None, None] + phase) * weight  # (T, K, V, 3)
    angles = waves.sum(axis=1) * amp[:, None]
    breath = np.sin(2 * np.pi * c.draw(0.2, 0.33) * c.t + c.draw(0, 2 * np.pi))
    angles[:, J["spine_shoulder"], 0] += c.draw(0.5, 1.5) * breath
    sway_pitch, sway_roll = (
        c.draw(0.3, 1.2) * np.sin(2 * np.pi * c.draw(0.1, 0.4) * c.t + c.draw(0, 2 * np.pi)) for _ in range(2)
    )
    hips = [J["left_hip"], J["right_hip"]]
    angles[:, hips, 0] += sway_pitch[:, None]
    angles[:, hips, 2] += sway_roll[:, None]
    return np.radians(angles)


def look_around(c: MotionContext, p: Pose) -> None:
    """Standing around (bystanders): only a slow look around on top of the idle motion."""
    p.add("neck", ry=c.draw(-25, 25) * np.sin(2 * np.pi * c.draw(0.05, 0.2) * c.t + c.draw(0, 2 * np.pi)))
