"""Layout-to-layout joint mappings (mediapipe33 → coco17 / openpose18 / ntu25)."""

from __future__ import annotations

import numpy as np
import pytest

from skelact.errors import LayoutError
from skelact.skeleton import get_layout, get_mapping, list_mappings, map_keypoints


def _landmarks(frames: int = 4, dims: int = 2) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.uniform(0.1, 1.0, size=(1, frames, 33, dims)).astype(np.float32)


def test_mediapipe_to_coco_picks_the_joints_of_the_same_name() -> None:
    source = _landmarks()
    mapped, _ = map_keypoints(source, "mediapipe33", "coco17")
    mp, coco = get_layout("mediapipe33"), get_layout("coco17")
    for j, name in enumerate(coco.joint_names):
        np.testing.assert_array_equal(mapped[..., j, :], source[..., mp.joint_index(name), :])


def test_mediapipe_to_openpose_neck_is_the_shoulders_midpoint() -> None:
    source = _landmarks()
    mapped, _ = map_keypoints(source, "mediapipe33", "openpose18")
    mp = get_layout("mediapipe33")
    expected = (
        source[..., mp.joint_index("left_shoulder"), :] + source[..., mp.joint_index("right_shoulder"), :]
    ) / 2
    np.testing.assert_allclose(
        mapped[..., get_layout("openpose18").joint_index("neck"), :], expected, rtol=1e-6
    )
    assert mapped.shape == (1, 4, 18, 2)


def test_a_missing_source_joint_makes_the_target_missing_and_scores_follow() -> None:
    source = _landmarks()
    score = np.full(source.shape[:-1], 0.9, dtype=np.float32)
    mp = get_layout("mediapipe33")
    source[0, 1, mp.joint_index("left_shoulder")] = 0.0  # lost in frame 1
    score[0, 2, mp.joint_index("right_shoulder")] = 0.2
    mapped, mapped_score = map_keypoints(source, "mediapipe33", "openpose18", score)
    neck = get_layout("openpose18").joint_index("neck")
    assert np.all(mapped[0, 1, neck] == 0) and mapped_score[0, 1, neck] == 0  # never half a midpoint
    assert mapped_score[0, 2, neck] == pytest.approx(0.2)  # the weakest source
    assert np.all(mapped[0, 0, neck] != 0)


def test_world_landmarks_map_to_ntu25_y_up() -> None:
    world = _landmarks(dims=3)
    mapped, _ = map_keypoints(world, "mediapipe33", "ntu25")
    mp, ntu = get_layout("mediapipe33"), get_layout("ntu25")
    np.testing.assert_allclose(
        mapped[..., ntu.joint_index("left_elbow"), :],
        world[..., mp.joint_index("left_elbow"), :] * np.array([1, -1, 1]),
    )
    assert mapped.shape == (1, 4, 25, 3)


def test_unknown_mapping_and_wrong_dimensionality_are_clear_errors() -> None:
    with pytest.raises(LayoutError, match="no joint mapping from layout 'coco17' to 'ntu25'"):
        get_mapping("coco17", "ntu25")
    with pytest.raises(LayoutError, match="takes 3D keypoints, got 2"):
        map_keypoints(_landmarks(dims=2), "mediapipe33", "ntu25")
    assert ("mediapipe33", "coco17") in list_mappings()
