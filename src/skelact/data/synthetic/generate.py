"""Synthetic samples and datasets: who acts, how fast, where, seen from which camera, through which sensor."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from skelact.data.sample import SkeletonSample
from skelact.data.synthetic.actions import ACTIONS
from skelact.data.synthetic.body import subject_body
from skelact.data.synthetic.camera import (
    COCO_FROM_POINTS,
    DISTANCE_RANGE,
    IMAGE_SHAPE,
    VIEW_YAW_LIMIT,
    draw_camera,
    place,
    project,
    self_occluded,
    to_camera,
    yaw_bucket,
)
from skelact.data.synthetic.kinematics import NUM_JOINTS
from skelact.data.synthetic.motion import perform
from skelact.data.synthetic.sensor import sense_2d, sense_3d
from skelact.errors import ConfigError

DEFAULT_NUM_SUBJECTS = 20
SPEED_RANGE = (0.7, 1.4)  # playback speed (task brief)
DOMINANT_SIDE_PROB = 0.8  # how often a subject acts with their dominant hand [design choice]
BYSTANDER_IDS = 1000  # bystanders are subjects 1000..1999, never actors, so they never leak across splits
BYSTANDER_ACTS_PROB = 0.4  # otherwise the bystander stands idle


@dataclass
class SyntheticDataset:
    """Generated samples with their class names and layout name ("ntu25" for 3D, "coco17" for 2D)."""

    samples: list[SkeletonSample]
    class_names: tuple[str, ...]
    layout: str

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> SkeletonSample:
        return self.samples[index]

    def __iter__(self) -> Iterator[SkeletonSample]:
        return iter(self.samples)

    @property
    def labels(self) -> np.ndarray:
        return np.array([s.label for s in self.samples], dtype=np.int64)

    @property
    def subjects(self) -> np.ndarray:
        return np.array([s.meta["subject"] for s in self.samples], dtype=np.int64)


def action_index(action: int | str) -> int:
    """Class index of an action name or index; ConfigError for anything else."""
    if isinstance(action, str):
        if action not in ACTIONS:
            raise ConfigError(
                f"unknown synthetic action {action!r}", hint=f"choose one of {', '.join(ACTIONS)}"
            )
        return ACTIONS.index(action)
    if isinstance(action, (int, np.integer)) and not isinstance(action, bool) and 0 <= action < len(ACTIONS):
        return int(action)
    raise ConfigError(f"synthetic action index must be in 0..{len(ACTIONS) - 1}, got {action!r}")


def _check_options(dims: int, second_person_prob: float, min_frames: int, max_frames: int) -> None:
    if dims not in (2, 3):
        raise ConfigError(
            f"synthetic dims must be 2 (COCO-17 image coordinates) or 3 (NTU-25 metres), got {dims!r}"
        )
    if not 0.0 <= second_person_prob <= 1.0:
        raise ConfigError(f"second_person_prob must be in [0, 1], got {second_person_prob!r}")
    if not 1 <= min_frames <= max_frames:
        raise ConfigError(
            f"need 1 <= min_frames <= max_frames, got min_frames={min_frames}, max_frames={max_frames}"
        )


def generate_sample(
    action: int | str,
    rng: np.random.Generator,
    *,
    dims: int = 3,
    subject: int | None = None,
    second_person_prob: float = 0.25,
    min_frames: int = 40,
    max_frames: int = 120,
    noise: bool = True,
    drop: bool = True,
    index: int = 0,
) -> SkeletonSample:
    """One synthetic clip of `action`, fully determined by `rng`'s state.

    3D: NTU-25 joints in metres in a Kinect-like camera frame. 2D: COCO-17 keypoints normalised by image
    size with scores. Every draw before the sensor step is the same for both, so the same generator state
    gives the 2D view of the same 3D performance. `subject` None draws one of the 20 default subjects.
    `noise=False`/`drop=False` switch off sensor noise and dropped joints (exact physics, for tests);
    `index` numbers the sample id.
    """
    label = action_index(action)
    _check_options(dims, second_person_prob, min_frames, max_frames)
    if subject is not None and (
        isinstance(subject, bool) or not isinstance(subject, (int, np.integer)) or subject < 0
    ):
        raise ConfigError(f"subject must be a non-negative integer id, got {subject!r}")
    if subject is None:
        subject = int(rng.integers(DEFAULT_NUM_SUBJECTS))
    body = subject_body(subject)
    num_frames = int(rng.integers(min_frames, max_frames + 1))
    speed = float(rng.uniform(*SPEED_RANGE))
    mirrored = bool(rng.random() < (DOMINANT_SIDE_PROB if body.left_handed else 1.0 - DOMINANT_SIDE_PROB))
    yaw = float(rng.uniform(-VIEW_YAW_LIMIT, VIEW_YAW_LIMIT))
    distance = float(rng.uniform(*DISTANCE_RANGE))
    camera = draw_camera(rng, distance)
    lateral = float(rng.uniform(-0.4, 0.4))

    motion = perform(
        ACTIONS[label], body, num_frames, speed * body.tempo, body.amplitude * rng.uniform(0.9, 1.1), rng
    )
    persons = [place(motion, x=lateral, z=distance, yaw_deg=yaw, mirrored=mirrored)]
    meta_extra: dict[str, object] = {}
    if rng.random() < second_person_prob:
        other, meta_extra["bystander_subject"] = _bystander(rng, num_frames, lateral, distance)
        persons.append(other)

    level = np.stack(persons)  # (M, T, 30, 3), camera axes before the tilt
    occluded = self_occluded(level)
    points = to_camera(level, camera)
    if dims == 3:
        keypoint = sense_3d(
            rng, points[..., :NUM_JOINTS, :], occluded[..., :NUM_JOINTS], noise=noise, drop=drop
        )
        score = None
    else:
        coords = project(points[..., COCO_FROM_POINTS, :], camera.focal)
        keypoint, score = sense_2d(rng, coords, occluded[..., COCO_FROM_POINTS], noise=noise, drop=drop)
        meta_extra["img_shape"] = IMAGE_SHAPE

    meta = {
        "source": "synthetic",
        "action": ACTIONS[label],
        "subject": int(subject),
        "view": yaw_bucket(yaw),
        "yaw": yaw,
        "distance": distance,
        "speed": speed,
        "mirrored": mirrored,
        "num_persons": len(persons),
        **meta_extra,
    }
    sample = SkeletonSample(
        keypoint=keypoint,
        label=label,
        score=score,
        meta=meta,
        sample_id=f"syn_c{label:02d}_s{subject:02d}_{index:05d}",
    )
    return sample.validate(num_joints=keypoint.shape[2], num_classes=len(ACTIONS))


def _bystander(
    rng: np.random.Generator, num_frames: int, lateral: float, distance: float
) -> tuple[np.ndarray, int]:
    """A second person 0.9-1.6 m to one side, idle or doing some other action at reduced amplitude."""
    bystander = BYSTANDER_IDS + int(rng.integers(BYSTANDER_IDS))
    body = subject_body(bystander)
    action = ACTIONS[int(rng.integers(len(ACTIONS)))] if rng.random() < BYSTANDER_ACTS_PROB else None
    motion = perform(action, body, num_frames, float(rng.uniform(*SPEED_RANGE)), 0.7 * body.amplitude, rng)
    side = 1.0 if rng.random() < 0.5 else -1.0
    x = lateral + side * rng.uniform(0.9, 1.6)
    z = float(np.clip(distance + rng.uniform(-0.6, 0.6), 2.0, 5.0))
    yaw = float(rng.uniform(-60.0, 60.0))
    return place(motion, x=x, z=z, yaw_deg=yaw, mirrored=bool(rng.random() < 0.5)), bystander


def generate_dataset(
    per_class: int = 100,
    *,
    seed: int = 0,
    dims: int = 3,
    num_subjects: int = DEFAULT_NUM_SUBJECTS,
    second_person_prob: float = 0.25,
) -> SyntheticDataset:
    """`per_class` samples of each of the 12 actions, subjects balanced within each class.

    Sample i of class c is generated from its own generator seeded by (seed, c, i), so any one sample can
    be regenerated alone and the 2D and 3D datasets of one seed show the same performances.
    """
    if per_class < 1 or num_subjects < 1:
        raise ConfigError(f"per_class and num_subjects must be positive, got {per_class} and {num_subjects}")
    if seed < 0:
        raise ConfigError(f"synthetic dataset seed must be non-negative, got {seed}")
    _check_options(dims, second_person_prob, 1, 1)
    order = np.random.default_rng([seed, 1 << 20])  # subject assignment only
    samples = []
    for label in range(len(ACTIONS)):
        # Each class continues the round-robin over subjects where the previous class stopped, so that small
        # datasets (per_class < num_subjects) still use every subject, and large ones stay balanced per class.
        start = (label * per_class) % num_subjects
        pool = np.roll(np.arange(num_subjects), -start)
        subjects = order.permutation(np.resize(pool, per_class))
        for i, subject in enumerate(subjects):
            samples.append(
                generate_sample(
                    label,
                    np.random.default_rng([seed, label, i]),
                    dims=dims,
                    subject=int(subject),
                    second_person_prob=second_person_prob,
                    index=len(samples),
                )
            )
    return SyntheticDataset(samples=samples, class_names=ACTIONS, layout="ntu25" if dims == 3 else "coco17")
