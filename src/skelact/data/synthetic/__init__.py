"""Procedural skeleton actions: the embedded default dataset (no download, fully deterministic from a seed).

Twelve physically plausible actions (`ACTIONS`) are animated by forward kinematics on per-subject NTU-25
bodies, varied in body, speed, timing, handedness, viewpoint and distance, and seen through a Kinect-like
3D sensor or, projected by a pinhole camera, as COCO-17 2D keypoints with scores.
"""

from skelact.data.synthetic.actions import ACTIONS
from skelact.data.synthetic.body import Body, subject_body
from skelact.data.synthetic.generate import (
    DEFAULT_NUM_SUBJECTS,
    SyntheticDataset,
    action_index,
    generate_dataset,
    generate_sample,
)

__all__ = [
    "ACTIONS",
    "DEFAULT_NUM_SUBJECTS",
    "Body",
    "SyntheticDataset",
    "action_index",
    "generate_dataset",
    "generate_sample",
    "subject_body",
]
