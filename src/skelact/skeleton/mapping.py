"""Layout-to-layout joint mappings: keypoints of one skeleton expressed in another.

A mapping is a (V_target, V_source) weight matrix: each target joint is a weighted mean of source joints
(mostly a single joint picked by name; a few, such as OpenPose's neck, are midpoints). Applying it is one
matrix product, so whole sequences map at once. A target joint is missing (zero) when any of its source
joints is missing, so a midpoint never collapses towards the origin.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from skelact.errors import LayoutError
from skelact.skeleton.layout import Layout, get_layout

# A target joint: a source joint name, or a tuple of names whose mean it is.
JointRecipe = str | tuple[str, ...]


@dataclass(frozen=True)
class LayoutMapping:
    """Maps keypoints from `source` to `target` layout.

    Attributes:
        weights: (V_target, V_source), rows sum to 1.
        axis_sign: per-coordinate sign applied after mapping (e.g. to turn a y-down frame y-up).
        dims: the coordinate counts the mapping is meant for (2D image landmarks, 3D world landmarks).
    """

    source: str
    target: str
    weights: np.ndarray
    axis_sign: tuple[float, ...] = ()
    dims: tuple[int, ...] = (2, 3)
    note: str = ""

    def apply(
        self, keypoint: np.ndarray, score: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """(..., V_source, C) → (..., V_target, C); scores map as the minimum over each joint's sources."""
        keypoint = np.asarray(keypoint, dtype=np.float32)
        used = self.weights > 0
        present = (np.abs(keypoint).sum(-1) > 0).astype(np.float32)  # (..., V_source)
        complete = (present @ used.T.astype(np.float32)) >= used.sum(1)  # every source present
        out = np.einsum("wv,...vc->...wc", self.weights.astype(np.float32), keypoint) * complete[..., None]
        if self.axis_sign:
            out = out * np.asarray(self.axis_sign[: out.shape[-1]], dtype=np.float32)
        mapped_score = None
        if score is not None:
            # min over sources, vectorised: mask unused sources with +inf
            masked = np.where(used, np.asarray(score, dtype=np.float32)[..., None, :], np.inf)
            mapped_score = masked.min(-1) * complete
        return out.astype(np.float32), mapped_score


def _weights(source: Layout, target: Layout, recipes: Mapping[str, JointRecipe]) -> np.ndarray:
    weights = np.zeros((target.num_joints, source.num_joints), dtype=np.float64)
    for joint in target.joint_names:
        recipe = recipes.get(joint, joint)
        names = (recipe,) if isinstance(recipe, str) else recipe
        for name in names:
            weights[target.joint_index(joint), source.joint_index(name)] += 1.0 / len(names)
    return weights


# Recipes list only target joints whose source is not the joint of the same name.
_MEDIAPIPE_TO_OPENPOSE = {"neck": ("left_shoulder", "right_shoulder")}
# [design choice] MediaPipe has no spine, neck, head-centre or palm landmark: the spine joints are
# midpoints of hips and shoulders, the head the midpoint of the ears, the palm ("hand") the mean of wrist,
# index and pinky, the hand tip the index finger and the foot the foot index. MediaPipe world landmarks are
# y-down, Kinect camera space y-up, hence the sign; the x/z conventions are [unverified].
_MEDIAPIPE_TO_NTU = {
    "spine_base": ("left_hip", "right_hip"),
    "spine_mid": ("left_hip", "right_hip", "left_shoulder", "right_shoulder"),
    "spine_shoulder": ("left_shoulder", "right_shoulder"),
    "neck": ("left_shoulder", "right_shoulder", "nose"),
    "head": ("left_ear", "right_ear"),
    "left_hand": ("left_wrist", "left_index", "left_pinky"),
    "right_hand": ("right_wrist", "right_index", "right_pinky"),
    "left_hand_tip": "left_index",
    "right_hand_tip": "right_index",
    "left_foot": "left_foot_index",
    "right_foot": "right_foot_index",
}

_RECIPES: dict[tuple[str, str], tuple[Mapping[str, JointRecipe], tuple[float, ...], tuple[int, ...], str]] = {
    ("mediapipe33", "coco17"): (
        {},
        (),
        (2, 3),
        "COCO's 17 keypoints are MediaPipe landmarks of the same name",
    ),
    ("mediapipe33", "openpose18"): (
        _MEDIAPIPE_TO_OPENPOSE,
        (),
        (2, 3),
        "the neck is the shoulders' midpoint",
    ),
    ("mediapipe33", "ntu25"): (
        _MEDIAPIPE_TO_NTU,
        (1.0, -1.0, 1.0),
        (3,),
        "world landmarks (metres) to Kinect v2 joints; spine, neck, head and palms are midpoints",
    ),
}


def get_mapping(source: str | Layout, target: str | Layout) -> LayoutMapping:
    """The mapping from `source` to `target` layout, or a `LayoutError` listing the mappings that exist."""
    src, dst = get_layout(source), get_layout(target)
    key = (src.name, dst.name)
    if key not in _RECIPES:
        known = ", ".join(f"{a}→{b}" for a, b in _RECIPES) or "none"
        raise LayoutError(
            f"no joint mapping from layout {src.name!r} to {dst.name!r}",
            hint=f"mappings that exist: {known}; else use data in the model's own layout",
        )
    recipes, sign, dims, note = _RECIPES[key]
    return LayoutMapping(src.name, dst.name, _weights(src, dst, recipes), sign, dims, note)


def list_mappings() -> list[tuple[str, str]]:
    return sorted(_RECIPES)


def map_keypoints(
    keypoint: np.ndarray,
    source: str | Layout,
    target: str | Layout,
    score: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Map (..., V_source, C) keypoints to the target layout; refuses coordinate counts the mapping is not
    meant for (2D image landmarks cannot become 3D Kinect joints)."""
    mapping = get_mapping(source, target)
    channels = int(np.shape(keypoint)[-1])
    if channels not in mapping.dims:
        raise LayoutError(
            f"the {mapping.source}→{mapping.target} mapping takes {' or '.join(map(str, mapping.dims))}D "
            f"keypoints, got {channels} coordinates per joint",
            hint=mapping.note,
        )
    return mapping.apply(keypoint, score)
