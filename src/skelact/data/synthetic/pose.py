"""Building blocks of action trajectories: the `Pose` being written, the timing context, keyframe curves.

Leg convention (converted to local joint angles in `synthetic.motion`): for the hips the action writes the
*thigh's* pitch/roll relative to upright (not relative to the pelvis), the knee writes its flexion (negative
rx bends it), and the ankle writes the foot's pitch relative to the floor (0 = flat, negative = toes down).
So pitching the pelvis (a bow) does not swing the legs, and planted feet stay flat without each action
solving inverse kinematics.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from skelact.data.synthetic.body import Body
from skelact.data.synthetic.kinematics import NUM_JOINTS, J

FPS = 30.0  # Kinect v2 frame rate


def smoothstep(x: np.ndarray) -> np.ndarray:
    """0 below 0, 1 above 1, a C1 cubic in between: starts and stops without a jerk."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def keyframes(u: np.ndarray, times: Sequence[float], values: Sequence[float]) -> np.ndarray:
    """Monotone cubic Hermite curve through (times, values), zero velocity at both ends.

    Velocity is continuous through the keys, so a throw keeps its speed through the release instead of
    stopping at every key; tangents are limited as in Fritsch-Carlson, so the curve never overshoots a
    key (a held pose stays held, an arm raised to 178 degrees does not swing past vertical).
    `u` outside the key range holds the end values.
    """
    tk = np.asarray(times, dtype=np.float64)
    vk = np.asarray(values, dtype=np.float64)
    secant = np.diff(vk) / np.diff(tk)
    slope = np.zeros_like(vk)
    left, right = secant[:-1], secant[1:]
    same_direction = left * right > 0
    limit = 3.0 * np.minimum(np.abs(left), np.abs(right))
    centred = (vk[2:] - vk[:-2]) / (tk[2:] - tk[:-2])
    slope[1:-1] = np.where(same_direction, np.clip(centred, -limit, limit), 0.0)
    u = np.clip(u, tk[0], tk[-1])
    i = np.clip(np.searchsorted(tk, u, side="right") - 1, 0, len(tk) - 2)
    h = tk[i + 1] - tk[i]
    s = (u - tk[i]) / h
    s2, s3 = s * s, s * s * s
    return (
        (2 * s3 - 3 * s2 + 1) * vk[i]
        + (s3 - 2 * s2 + s) * h * slope[i]
        + (-2 * s3 + 3 * s2) * vk[i + 1]
        + (s3 - s2) * h * slope[i + 1]
    )


@dataclass
class Pose:
    """What an action writes: joint angles (radians) plus whole-body terms, all over time.

    Attributes:
        angles: (T, V, 3) Euler angles (rx, ry, rz) added to the subject's relaxed posture.
        engage: (T, V) in [0, 1]: how much the action takes a joint over from the relaxed posture and idle
            fidgeting (a clapping arm does not also hang loosely).
        lift: (T,) height of the feet above the floor contact (the flight of a jump), metres.
        yaw: (T,) whole-body heading, radians (a turn).
    """

    angles: np.ndarray
    engage: np.ndarray
    lift: np.ndarray
    yaw: np.ndarray

    @classmethod
    def still(cls, num_frames: int) -> Pose:
        return cls(
            angles=np.zeros((num_frames, NUM_JOINTS, 3)),
            engage=np.zeros((num_frames, NUM_JOINTS)),
            lift=np.zeros(num_frames),
            yaw=np.zeros(num_frames),
        )

    def add(
        self,
        joint: str,
        rx: np.ndarray | float = 0.0,
        ry: np.ndarray | float = 0.0,
        rz: np.ndarray | float = 0.0,
        engage: np.ndarray | float | None = None,
    ) -> None:
        """Add angles given in **degrees** (readable trajectories) to one joint; optionally engage it."""
        j = J[joint]
        self.angles[:, j, 0] += np.radians(rx)
        self.angles[:, j, 1] += np.radians(ry)
        self.angles[:, j, 2] += np.radians(rz)
        if engage is not None:
            self.engage[:, j] = np.maximum(self.engage[:, j], engage)

    def engage_all(self, joints: Sequence[str], weight: np.ndarray | float) -> None:
        idx = [J[name] for name in joints]
        self.engage[:, idx] = np.maximum(self.engage[:, idx], np.asarray(weight, dtype=np.float64)[..., None])


@dataclass
class MotionContext:
    """Time axis and per-sample draws shared by every action.

    `speed` already includes the subject's tempo; every duration an action picks is divided by it.
    `amp` multiplies action amplitudes (the subject's style times a per-sample draw).
    """

    t: np.ndarray
    speed: float
    amp: float
    body: Body
    rng: np.random.Generator

    @property
    def clip(self) -> float:
        """Clip duration in seconds."""
        return len(self.t) / FPS

    def draw(self, low: float, high: float) -> float:
        return float(self.rng.uniform(low, high))

    def pick(self, low: int, high: int) -> int:
        """Integer in [low, high] inclusive."""
        return int(self.rng.integers(low, high + 1))

    def scaled(self, low: float, high: float) -> float:
        """An amplitude drawn in [low, high] and scaled by the subject's style."""
        return self.draw(low, high) * self.amp

    def episode(
        self, nominal: float, reps: int = 1, cover: float = 0.9, finish_by: float = 1.0
    ) -> np.ndarray:
        """Progress u in [0, reps] of `reps` repetitions of a one-shot movement lasting `nominal` s each.

        The movement is slowed down by the playback speed, shortened to fit `cover` of the clip if needed
        (an actor in a short clip moves briskly) and starts at a random time (the phase offset), ending
        before `finish_by` of the clip.
        """
        total = min(reps * nominal / self.speed, cover * finish_by * self.clip)
        start = self.draw(0.0, finish_by * self.clip - total)
        return np.clip((self.t - start) / total, 0.0, 1.0) * reps

    def burst(self, period: float, reps: int, ramp: float = 0.35) -> tuple[np.ndarray, np.ndarray]:
        """Envelope (T,) in [0, 1] and phase (T,) in radians for `reps` cycles of a periodic movement.

        The envelope fades the movement in and out over `ramp` seconds; when the burst is longer than the
        clip it is cut on both sides at random, like a recording started mid-action.
        """
        period, ramp = period / self.speed, ramp / self.speed
        total = reps * period + 2 * ramp
        low, high = sorted((0.0, self.clip - total))
        start = self.draw(low, high)
        rise = smoothstep((self.t - start) / ramp)
        fall = smoothstep((self.t - start - total + ramp) / ramp)
        phase = 2 * np.pi * (self.t - start - ramp) / period
        return rise * (1.0 - fall), phase
