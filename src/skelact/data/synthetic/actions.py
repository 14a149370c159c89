"""The twelve synthetic actions, each a trajectory of joint angles written into a `Pose`.

Every action is performed with the right side as the dominant one; left-handed performances are produced
later by mirroring the whole body. Angles are in degrees (see `Pose.add`); legs follow the convention of
`synthetic.pose` (thigh pitch relative to upright, knee flexion negative, foot pitch relative to the floor).
Sign reminders in the body frame (x left, y up, z back): +rx swings a hanging limb forward and tips an
upright segment backward; for the right arm +ry turns a forward-pointing arm outward (to the right) and
-rz raises it sideways; for the left arm the ry/rz signs flip; +ry of the spine brings the right
shoulder back.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from skelact.data.synthetic.kinematics import J
from skelact.data.synthetic.pose import MotionContext, Pose, keyframes, smoothstep

ARM = ("shoulder", "elbow", "wrist", "hand")


def _arm(side: str) -> list[str]:
    return [f"{side}_{part}" for part in ARM]


def _active(u: np.ndarray, reps: float, ramp: float = 0.25) -> np.ndarray:
    """1 while a one-shot episode runs, easing in and out over `ramp` of a repetition (for `engage`)."""
    return smoothstep(u / ramp) * smoothstep((reps - u) / ramp)


def _cycle(u: np.ndarray) -> np.ndarray:
    """Fractional progress within the current repetition (0 before, between and after repetitions)."""
    return u - np.floor(u)


def wave(c: MotionContext, p: Pose) -> None:
    """A raised hand waving: the forearm swings side to side above the elbow, or the whole arm sways
    overhead (one wave in three)."""
    env, phase = c.burst(period=1.0 / c.draw(1.5, 2.5), reps=c.pick(2, 6), ramp=0.4)
    osc = np.sin(phase)
    if c.rng.random() < 2 / 3:
        p.add("right_shoulder", rx=c.scaled(75, 105) * env, ry=c.draw(50, 95) * env, engage=env)
        p.add("right_elbow", rx=(c.draw(70, 100) + c.scaled(15, 35) * osc) * env, engage=env)
    else:
        elevation = min(c.scaled(140, 165), 175.0)
        p.add(
            "right_shoulder",
            rx=elevation * env,
            rz=(c.scaled(12, 25) * osc - c.draw(0, 20)) * env,
            engage=env,
        )
        p.add("right_elbow", rx=c.draw(5, 25) * env, engage=env)
    p.add("right_wrist", rx=c.draw(0, 12) * np.sin(phase + 0.6) * env, engage=env)
    p.add("spine_shoulder", rz=-c.draw(0, 5) * env)  # lean away from the raised arm
    p.add("neck", ry=-c.draw(0, 10) * env)


def clap(c: MotionContext, p: Pose) -> None:
    """Both hands meeting repeatedly in front of the chest.

    The inward swing that brings each palm to the midline is solved from the subject's own arm lengths,
    so every subject's hands really touch (palm centres about 5 cm apart).
    """
    env, phase = c.burst(period=1.0 / c.draw(1.8, 3.0), reps=c.pick(2, 8), ramp=0.3)
    flex, bend = c.draw(30, 75), c.draw(50, 85)  # hands meet from belly to face height
    upper = c.body.segment_length("right_elbow")
    lower = c.body.segment_length("right_wrist") + c.body.segment_length("right_hand")
    reach = upper * np.sin(np.radians(flex)) + lower * np.sin(np.radians(flex + bend))
    half_width = abs(c.body.offsets[J["right_shoulder"], 0])
    meet = np.degrees(np.arcsin(np.clip((half_width - 0.025) / reach, -1.0, 1.0)))
    apart = 0.5 + 0.5 * np.cos(phase)  # 0 at each clap
    inward = (meet - c.scaled(20, 40) * apart) * env
    for side, sign in (("left", 1.0), ("right", -1.0)):
        p.add(f"{side}_shoulder", rx=flex * env, ry=sign * inward)
        p.add(f"{side}_elbow", rx=bend * env)
        p.engage_all(_arm(side), env)


def punch(c: MotionContext, p: Pose) -> None:
    """Guard up, then one to four fast punches (straight, hook or uppercut) with a torso twist; one
    boxer in three alternates hands."""
    reps = c.pick(1, 4)
    u = c.episode(nominal=c.draw(0.55, 0.8), reps=reps, cover=0.85)
    guard = smoothstep(u / 0.3) * (1.0 - smoothstep((u - reps + 0.2) / 0.2))
    strike = keyframes(_cycle(u), [0, 0.3, 0.5, 0.8, 1.0], [0, 0, 1, 0.1, 0]) * guard
    g_flex, g_bend, g_in = c.draw(30, 50), c.draw(105, 130), c.draw(5, 20)
    style = c.pick(0, 2)
    reach_flex, reach_in, reach_abd, reach_bend = (
        (c.scaled(75, 95), c.draw(0, 15), 0.0, c.draw(0, 15)),  # straight
        (c.scaled(70, 90), c.draw(40, 60), c.scaled(40, 65), c.draw(85, 100)),  # hook: elbow out, swing in
        (c.scaled(65, 85), c.draw(10, 20), 0.0, c.draw(75, 95)),  # uppercut: bent arm rises
    )[style]
    rep = np.minimum(np.floor(u), reps - 1)
    lead = (rep % 2 == 1) if c.rng.random() < 1 / 3 else np.zeros_like(u, dtype=bool)  # alternating hands
    for side, sign, hits in (("right", -1.0, strike * ~lead), ("left", 1.0, strike * lead)):
        p.add(
            f"{side}_shoulder",
            rx=guard * g_flex + (reach_flex - g_flex) * hits,
            ry=sign * (guard * g_in + (reach_in - g_in) * hits),
            rz=sign * reach_abd * hits,
        )
        p.add(f"{side}_elbow", rx=guard * g_bend + (reach_bend - g_bend) * hits)
        p.add("spine_mid", ry=sign * c.scaled(10, 25) * hits)
        p.add("spine_base", ry=sign * c.draw(0, 8) * hits)
    p.engage_all(_arm("left") + _arm("right"), guard)


def kick(c: MotionContext, p: Pose) -> None:
    """The right leg winds up and swings out fast with the knee extending, then returns: a front kick, or
    (one in three) a side kick with the trunk leaning away."""
    reps = c.pick(1, 2)
    u = c.episode(nominal=c.draw(0.9, 1.3), reps=reps, cover=0.85)
    f = _cycle(u)
    keys = [0, 0.3, 0.5, 0.65, 1.0]
    strike = keyframes(f, keys, [0, 0, 1, 0.6, 0])
    high = c.scaled(55, 85)
    if c.rng.random() < 2 / 3:
        p.add("right_hip", rx=keyframes(f, keys, [0, -15, high, 0.6 * high, 0]), engage=_active(u, reps))
        p.add("right_knee", rx=keyframes(f, keys, [0, -70, -c.draw(0, 20), -45, 0]))
        p.add("spine_base", rx=c.draw(3, 12) * strike)  # lean back for balance
    else:
        side = keyframes(f, keys, [0, -15, -0.8 * high, -0.5 * high, 0])
        p.add("right_hip", rx=keyframes(f, keys, [0, 50, 20, 25, 0]), rz=side, engage=_active(u, reps))
        p.add("right_knee", rx=keyframes(f, keys, [0, -100, -c.draw(0, 20), -50, 0]))
        p.add("spine_base", rz=-c.draw(8, 20) * strike)  # lean to the left, away from the kick
    p.add("right_ankle", rx=-c.draw(0, 30) * strike)
    p.add("left_knee", rx=-c.draw(3, 12) * strike)  # soft standing knee
    p.add("left_shoulder", rx=c.draw(10, 35) * strike)
    p.add("right_shoulder", rx=-c.draw(5, 25) * strike)


def squat(c: MotionContext, p: Pose) -> None:
    """One to three squats: hips lower and go back with knee flexion, arms reach forward for balance."""
    u = c.episode(nominal=c.draw(1.6, 2.4), reps=c.pick(1, 3), cover=0.9)
    depth = keyframes(_cycle(u), [0, 0.4, 0.6, 1.0], [0, 1, 1, 0])
    thigh, shin_lean = min(c.scaled(50, 105), 110.0), c.draw(15, 35)  # half squats to deep squats
    for side in ("left", "right"):
        p.add(f"{side}_hip", rx=thigh * depth, engage=depth)
        p.add(f"{side}_knee", rx=-(thigh + shin_lean) * depth)
    p.add("spine_base", rx=-c.draw(20, 40) * depth)
    arms = c.draw(0, 90)
    for side in ("left", "right"):
        p.add(f"{side}_shoulder", rx=arms * depth, engage=depth)


def jump(c: MotionContext, p: Pose) -> None:
    """Crouch, arm swing and take-off, a ballistic flight, landing into a crouch, standing up."""
    reps = c.pick(1, 2)
    u = c.episode(nominal=c.draw(1.2, 1.5), reps=reps, cover=0.9)
    f = _cycle(u)
    active = _active(u, reps)
    keys = [0, 0.25, 0.38, 0.45, 0.62, 0.72, 0.85, 1.0]
    swing_arms = c.rng.random() < 0.7  # otherwise the arms stay as they rest (e.g. hands on hips)
    crouch = c.scaled(40, 60)
    thigh = keyframes(f, keys, [0, crouch, 10, 5, 10, 0.8 * crouch, 10, 0])
    knee = keyframes(f, keys, [0, -1.8 * crouch, -20, -10, -25, -1.5 * crouch, -15, 0])
    toes = keyframes(f, keys, [0, 0, -25, -35, -20, 0, 0, 0])
    for side in ("left", "right"):
        p.add(f"{side}_hip", rx=thigh, engage=active)
        p.add(f"{side}_knee", rx=knee)
        p.add(f"{side}_ankle", rx=toes)
        if swing_arms:
            p.add(f"{side}_shoulder", rx=keyframes(f, keys, [0, -35, 90, 150, 120, 20, 0, 0]) * c.amp)
            p.engage_all(_arm(side), active)
    p.add("spine_base", rx=keyframes(f, keys, [0, -25, -5, 0, 0, -20, -5, 0]))
    flight = np.clip((f - 0.42) / 0.24, 0.0, 1.0)
    p.lift += c.scaled(0.15, 0.35) * 4.0 * flight * (1.0 - flight)  # parabola: constant gravity


def bow(c: MotionContext, p: Pose) -> None:
    """The trunk pitches forward from the hips, holds, and comes back; the hips move back over the feet."""
    u = c.episode(nominal=c.draw(1.8, 3.0), cover=0.9)
    d = keyframes(u, [0, 0.35, 0.65, 1.0], [0, 1, 1, 0])
    a = c.scaled(20, 70)  # a polite nod-bow to a deep bow
    p.add("spine_base", rx=-0.55 * a * d)
    p.add("spine_mid", rx=-0.3 * a * d)
    p.add("spine_shoulder", rx=-0.15 * a * d)
    p.add("neck", rx=-c.draw(5, 20) * d)
    hang = (
        c.draw(0.3, 1.0) * a if c.rng.random() < 0.5 else 0.0
    )  # let the arms fall, or keep them as they rest
    for side in ("left", "right"):
        p.add(f"{side}_shoulder", rx=hang * d, engage=d if hang else None)
        p.add(f"{side}_elbow", engage=d if hang else None)
        p.add(f"{side}_hip", rx=c.draw(3, 10) * d)  # feet ahead of the hips: hips shift back


def raise_both_arms(c: MotionContext, p: Pose) -> None:
    """Both arms go overhead (forward, sideways or in between), hold, and come down; once or twice."""
    u = c.episode(nominal=c.draw(2.0, 3.2), reps=c.pick(1, 2), cover=0.9)
    d = keyframes(_cycle(u), [0, 0.3, 0.7, 1.0], [0, 1, 1, 0])
    elevation, plane = min(c.scaled(125, 170), 178.0), c.draw(0, 90)
    bend = min(c.draw(0, 20), 180.0 - elevation)  # a bent elbow overhead would fold the forearm inward
    for side, sign in (("left", -1.0), ("right", 1.0)):
        p.add(f"{side}_shoulder", rx=elevation * d, ry=sign * plane * d)
        p.add(f"{side}_elbow", rx=bend * d)
        p.engage_all(_arm(side), d)
    p.add("neck", rx=c.draw(0, 10) * d)
    p.add("spine_shoulder", rx=c.draw(0, 5) * d)


def turn(c: MotionContext, p: Pose) -> None:
    """The whole body turns about 180 degrees on the spot with small alternating steps: away from the
    camera, or (half of the time) from facing away back toward it."""
    u = c.episode(nominal=c.draw(1.8, 2.8), cover=0.85)
    angle = c.draw(150, 210) * (1.0 if c.rng.random() < 0.5 else -1.0)
    start = np.pi if c.rng.random() < 0.5 else 0.0
    p.yaw += start + np.radians(angle) * keyframes(u, [0, 1], [0, 1])
    step = np.sin(np.pi * c.pick(2, 4) * u)
    lift = c.scaled(15, 30)
    for side, s in (("left", step), ("right", -step)):
        raised = np.clip(s, 0.0, None) ** 1.5
        p.add(f"{side}_hip", rx=lift * raised)
        p.add(f"{side}_knee", rx=-1.5 * lift * raised)
        p.add(f"{side}_shoulder", rx=-8 * s)
    p.add("neck", ry=0.1 * angle * np.sin(np.pi * u))  # the head leads the turn


def walk_in_place(c: MotionContext, p: Pose) -> None:
    """Alternating knee lifts with the opposite arm swinging forward."""
    env, phase = c.burst(period=1.0 / c.draw(0.75, 1.0), reps=c.pick(2, 5), ramp=0.4)
    s = np.sin(phase)
    lift, ratio, swing, bend = c.scaled(30, 60), c.draw(1.3, 1.8), c.scaled(10, 30), c.draw(15, 45)
    for side, sign in (("left", 1.0), ("right", -1.0)):
        raised = np.clip(sign * s, 0.0, None) ** 1.5 * env
        p.add(f"{side}_hip", rx=lift * raised, engage=env)
        p.add(f"{side}_knee", rx=-ratio * lift * raised)
        p.add(f"{side}_ankle", rx=-10 * raised)
        p.add(f"{side}_shoulder", rx=-sign * swing * s * env)
        p.add(f"{side}_elbow", rx=(bend + 10 * sign * s) * env)
    p.add("spine_base", rz=3 * s * env)  # the pelvis hikes on the lifting side


def sit_down(c: MotionContext, p: Pose) -> None:
    """Hips go down and back onto an (invisible) seat, and the person stays seated."""
    u = c.episode(nominal=c.draw(1.3, 2.0), cover=0.8, finish_by=0.85)
    keys = [0, 0.5, 1.0]
    seat = c.draw(55, 95)  # thigh angle: from a high stool to a low chair
    for side in ("left", "right"):
        p.add(f"{side}_hip", rx=keyframes(u, keys, [0, 55, seat]), engage=u)
        p.add(f"{side}_knee", rx=keyframes(u, keys, [0, -55, -(seat + c.draw(-5, 15))]))
        p.add(f"{side}_shoulder", rx=keyframes(u, keys, [0, 45, 25]) * c.amp, engage=u)
        p.add(f"{side}_elbow", rx=keyframes(u, keys, [0, 20, 60]), engage=u)
    p.add("spine_base", rx=keyframes(u, keys, [0, -c.draw(25, 40), -c.draw(0, 15)]))
    p.add("spine_mid", rx=keyframes(u, keys, [0, -10, 0]))


def throw(c: MotionContext, p: Pose) -> None:
    """A throw: wind-up with the torso turned, a fast forward swing, follow-through. Overhand (the arm
    cocked back above the shoulder) or, one in three, underarm (the arm swinging back low and forward)."""
    u = c.episode(nominal=c.draw(1.2, 1.8), cover=0.9)
    keys = [0, 0.4, 0.55, 0.62, 0.75, 1.0]
    a, active = c.amp, _active(u, 1.0)
    if c.rng.random() < 2 / 3:
        p.add("right_shoulder", rx=keyframes(u, keys, [0, 95, 100, 110, 60, 0]))
        p.add("right_shoulder", ry=keyframes(u, keys, [0, 120, 70, 0, -25, 0]))
        p.add("right_elbow", rx=keyframes(u, keys, [0, 100, 90, 25, 15, 0]))
    else:
        p.add("right_shoulder", rx=keyframes(u, keys, [0, -50, -40, 50, 100, 0]) * a)
        p.add("right_elbow", rx=keyframes(u, keys, [0, 15, 20, 10, 20, 0]))
    p.engage_all(_arm("right") + _arm("left"), active)
    p.add("spine_mid", ry=keyframes(u, keys, [0, 25, 10, -15, -25, 0]) * a)
    p.add("spine_base", ry=keyframes(u, keys, [0, 12, 5, -8, -12, 0]) * a)
    p.add("spine_base", rx=keyframes(u, keys, [0, 5, 0, -15, -10, 0]) * a)
    p.add("left_shoulder", rx=keyframes(u, keys, [0, 50, 40, 10, 0, 0]) * a)
    p.add("left_hip", rx=keyframes(u, keys, [0, 20, 25, 15, 5, 0]) * c.draw(0, 1))  # optional step
    p.add("left_knee", rx=keyframes(u, keys, [0, -35, -15, -5, 0, 0]))


ACTION_FUNCTIONS: dict[str, Callable[[MotionContext, Pose], None]] = {
    "wave": wave,
    "clap": clap,
    "punch": punch,
    "kick": kick,
    "squat": squat,
    "jump": jump,
    "bow": bow,
    "raise_both_arms": raise_both_arms,
    "turn": turn,
    "walk_in_place": walk_in_place,
    "sit_down": sit_down,
    "throw": throw,
}
ACTIONS: tuple[str, ...] = tuple(ACTION_FUNCTIONS)  # class index = position (task brief order)
