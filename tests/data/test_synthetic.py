"""Tests for the synthetic action generator: API contract, determinism, physics, sensors, speed."""

from __future__ import annotations

import re
import time

import numpy as np
import pytest

from skelact.data.synthetic import ACTIONS, generate_dataset, generate_sample, subject_body
from skelact.data.synthetic.camera import VIEW_YAW_LIMIT
from skelact.data.synthetic.kinematics import J, euler_to_matrix
from skelact.data.synthetic.pose import keyframes
from skelact.errors import ConfigError
from skelact.skeleton import get_layout

NTU = get_layout("ntu25")
EXACT = {"noise": False, "drop": False, "second_person_prob": 0.0}
FEET = [J["left_ankle"], J["left_foot"], J["right_ankle"], J["right_foot"]]


def _exact(action: str, seed: int, **kwargs) -> np.ndarray:
    """Person 1's noise-free joints (T, 25, 3) in the camera frame."""
    return generate_sample(action, np.random.default_rng(seed), **EXACT, **kwargs).keypoint[0]


@pytest.fixture(scope="module")
def small3d():
    return generate_dataset(per_class=3, seed=7)


def test_action_names_and_order():
    assert ACTIONS == (
        "wave", "clap", "punch", "kick", "squat", "jump", "bow",
        "raise_both_arms", "turn", "walk_in_place", "sit_down", "throw",
    )  # fmt: skip


def test_dataset_covers_every_class_with_valid_samples(small3d):
    assert small3d.layout == "ntu25" and small3d.class_names == ACTIONS
    assert len(small3d) == 36
    assert np.bincount(small3d.labels, minlength=12).tolist() == [3] * 12
    ids = [s.sample_id for s in small3d]
    assert len(set(ids)) == 36
    for s in small3d:
        assert re.fullmatch(r"syn_c\d\d_s\d\d_\d{5}", s.sample_id)
        assert s.sample_id.startswith(f"syn_c{s.label:02d}_s{s.meta['subject']:02d}_")
        assert s.keypoint.dtype == np.float32 and s.keypoint.ndim == 4
        m, t, v, c = s.keypoint.shape
        assert (v, c) == (25, 3) and m in (1, 2) and 40 <= t <= 120
        assert s.score is None
        assert s.meta["num_persons"] == m and s.meta["source"] == "synthetic"
        assert s.meta["action"] == ACTIONS[s.label]
        assert 0.7 <= s.meta["speed"] <= 1.4 and s.meta["view"] in (0, 1, 2)
        assert -VIEW_YAW_LIMIT <= s.meta["yaw"] <= VIEW_YAW_LIMIT
        s.validate(num_joints=25, num_classes=12)


def test_subjects_are_balanced_per_class():
    data = generate_dataset(per_class=40, seed=1, num_subjects=20, second_person_prob=0.0)
    for label in range(12):
        subjects = data.subjects[data.labels == label]
        assert np.bincount(subjects, minlength=20).tolist() == [2] * 20


def test_same_seed_same_arrays_different_seed_different():
    a = generate_dataset(per_class=1, seed=3)
    b = generate_dataset(per_class=1, seed=3)
    c = generate_dataset(per_class=1, seed=4)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x.keypoint, y.keypoint)
        assert x.meta == y.meta and x.sample_id == y.sample_id
    assert any(
        x.keypoint.shape != z.keypoint.shape or not np.array_equal(x.keypoint, z.keypoint)
        for x, z in zip(a, c, strict=True)
    )
    s1 = generate_sample("kick", np.random.default_rng(11), dims=2)
    s2 = generate_sample("kick", np.random.default_rng(11), dims=2)
    np.testing.assert_array_equal(s1.keypoint, s2.keypoint)
    np.testing.assert_array_equal(s1.score, s2.score)


def test_global_numpy_rng_is_untouched():
    np.random.seed(123)
    expected = np.random.random()
    np.random.seed(123)
    generate_sample("wave", np.random.default_rng(0))
    assert np.random.random() == expected


def test_2d_output_is_the_projection_of_the_same_performance():
    s3 = generate_sample("throw", np.random.default_rng(5), dims=3, second_person_prob=1.0)
    s2 = generate_sample("throw", np.random.default_rng(5), dims=2, second_person_prob=1.0)
    assert s2.keypoint.shape == (2, s3.num_frames, 17, 2) and s2.keypoint.dtype == np.float32
    assert s2.score.shape == (2, s3.num_frames, 17) and s2.score.dtype == np.float32
    assert s2.meta["img_shape"] == (1080, 1920)
    for key in ("subject", "yaw", "speed", "mirrored", "num_persons"):
        assert s2.meta[key] == s3.meta[key]


def test_2d_coordinates_and_scores():
    data = generate_dataset(per_class=2, seed=2, dims=2, second_person_prob=0.5)
    assert data.layout == "coco17"
    scores = np.concatenate([s.score.ravel() for s in data])
    assert scores.min() >= 0.0 and scores.max() <= 1.0
    assert 0.8 < np.median(scores[scores > 0]) < 0.98  # visible joints are confident
    assert (scores == 0).any() and ((scores > 0) & (scores < 0.5)).any()  # dropped and occluded joints
    for s in data:
        s.validate(num_joints=17, num_classes=12)
        visible = s.score > 0
        assert np.abs(s.keypoint[visible]).max() <= 1.0
        assert (s.keypoint[~visible] == 0).all()


def test_face_points_follow_the_head_in_2d():
    s = generate_sample(
        "wave", np.random.default_rng(0), dims=2, noise=False, drop=False, second_person_prob=0
    )
    kp, visible = s.keypoint[0], s.score[0] > 0
    coco = get_layout("coco17")
    nose, l_eye, r_eye = (coco.joint_index(n) for n in ("nose", "left_eye", "right_eye"))
    l_sh, l_ank = coco.joint_index("left_shoulder"), coco.joint_index("left_ankle")
    both = visible[:, nose] & visible[:, l_eye] & visible[:, r_eye]
    # image y points down: eyes above the nose, nose above the shoulders, shoulders above the ankles
    assert (kp[both, l_eye, 1] < kp[both, nose, 1]).all() and (kp[both, r_eye, 1] < kp[both, nose, 1]).all()
    assert (kp[:, nose, 1] < kp[:, l_sh, 1]).all() and (kp[:, l_sh, 1] < kp[:, l_ank, 1]).all()


def test_persons_count_follows_probability():
    one = [generate_sample(0, np.random.default_rng(i), second_person_prob=0.0) for i in range(5)]
    two = [generate_sample(0, np.random.default_rng(i), second_person_prob=1.0) for i in range(5)]
    assert all(s.num_persons == 1 for s in one) and all(s.num_persons == 2 for s in two)
    assert all(s.meta["bystander_subject"] >= 1000 for s in two)
    people = two[0].keypoint[:, :, J["spine_mid"]]
    assert np.linalg.norm(people[0] - people[1], axis=-1).min() > 0.5  # the bystander stands apart


@pytest.mark.parametrize("action", ACTIONS)
def test_bones_rigid_and_body_upright(action):
    kp = _exact(action, 17, subject=4)
    bones = np.linalg.norm(
        kp[:, [j for j, _ in NTU.bone_pairs]] - kp[:, [p for _, p in NTU.bone_pairs]], axis=-1
    )
    np.testing.assert_allclose(bones, np.broadcast_to(bones[0], bones.shape), atol=1e-5)
    assert (kp[:, J["head"], 1] > kp[:, FEET, 1].max(axis=1) + 0.5).all()  # head well above the feet
    assert (kp[:, :, 2] > 1.5).all()  # in front of the camera
    assert np.ptp(kp, axis=0).max() > 0.05  # nothing is static


def test_a_subject_keeps_one_body_across_samples():
    pairs = NTU.bone_pairs
    lengths = []
    for seed in range(6):  # includes mirrored and non-mirrored performances
        kp = _exact(ACTIONS[seed], seed, subject=9)
        lengths.append(np.linalg.norm(kp[0, [j for j, _ in pairs]] - kp[0, [p for _, p in pairs]], axis=-1))
    np.testing.assert_allclose(np.array(lengths), np.broadcast_to(lengths[0], (6, 25)), atol=1e-5)
    assert subject_body(9) is subject_body(9)
    assert 1.5 <= subject_body(9).height <= 1.95
    assert subject_body(3).height != subject_body(4).height


def test_jump_leaves_the_ground():
    for seed in range(4):
        kp = _exact("jump", seed)
        lowest = kp[:, FEET, 1].min(axis=1)
        assert (lowest - lowest[0]).max() > 0.1


def test_squat_lowers_the_hips_and_comes_back():
    for seed in range(4):
        hips = _exact("squat", seed)[:, J["spine_base"], 1]
        assert hips[0] - hips.min() > 0.12
        assert abs(hips[-1] - hips[0]) < 0.05


def test_sit_down_stays_down():
    for seed in range(4):
        hips = _exact("sit_down", seed)[:, J["spine_base"], 1]
        assert hips[0] - hips[-1] > 0.1


def test_clap_hands_meet_in_front_of_the_chest():
    for seed in range(4):
        kp = _exact("clap", seed, min_frames=90)
        gap = np.linalg.norm(kp[:, J["left_hand"]] - kp[:, J["right_hand"]], axis=-1)
        assert gap.min() < 0.10
        assert gap.max() > gap.min() + 0.1  # and part again


def test_raise_both_arms_puts_both_hands_above_the_head():
    kp = _exact("raise_both_arms", 0)
    above = (kp[:, [J["left_hand"], J["right_hand"]], 1] > kp[:, [J["head"]], 1]).all(axis=1)
    assert above.any() and not above[0]


def test_sensor_noise_and_dropped_joints():
    noisy = generate_sample("bow", np.random.default_rng(8), second_person_prob=0.0)
    clean = generate_sample("bow", np.random.default_rng(8), **EXACT)
    present = (noisy.keypoint != 0).any(-1)
    diff = (noisy.keypoint - clean.keypoint)[present]
    assert 0.007 < diff.std() < 0.02  # about 1 cm
    assert not (clean.keypoint == 0).all(-1).any()
    dropped = sum(
        int((generate_sample(0, np.random.default_rng(i)).keypoint == 0).all(-1).sum()) for i in range(10)
    )
    assert 0 < dropped < 10 * 40  # a few joint-frames per clip, not whole skeletons


def test_bad_arguments_raise_config_errors():
    rng = np.random.default_rng(0)
    with pytest.raises(ConfigError, match="unknown synthetic action 'dance'"):
        generate_sample("dance", rng)
    with pytest.raises(ConfigError, match=r"0\.\.11"):
        generate_sample(12, rng)
    with pytest.raises(ConfigError, match="dims must be 2"):
        generate_sample("wave", rng, dims=4)
    with pytest.raises(ConfigError, match="min_frames <= max_frames"):
        generate_sample("wave", rng, min_frames=50, max_frames=40)
    with pytest.raises(ConfigError, match="second_person_prob"):
        generate_sample("wave", rng, second_person_prob=1.5)
    with pytest.raises(ConfigError, match="subject"):
        generate_sample("wave", rng, subject=-1)
    with pytest.raises(ConfigError, match="positive"):
        generate_dataset(per_class=0)


def test_frame_range_is_respected():
    lengths = {
        generate_sample("turn", np.random.default_rng(i), min_frames=50, max_frames=52).num_frames
        for i in range(20)
    }
    assert lengths <= {50, 51, 52} and len(lengths) > 1


def test_keyframes_pass_through_keys_without_overshoot():
    u = np.linspace(0, 1, 201)
    curve = keyframes(u, [0, 0.3, 0.7, 1.0], [0, 1, 1, 0])
    assert curve.max() <= 1.0 + 1e-12 and curve.min() >= -1e-12
    np.testing.assert_allclose(
        keyframes(np.array([0.0, 0.3, 0.5, 1.0]), [0, 0.3, 0.7, 1.0], [0, 1, 1, 0]), [0, 1, 1, 0]
    )


def test_euler_rotations_are_proper_and_ordered():
    angles = np.random.default_rng(0).uniform(-3, 3, (10, 3))
    R = euler_to_matrix(angles)
    np.testing.assert_allclose(R @ np.swapaxes(R, -1, -2), np.broadcast_to(np.eye(3), R.shape), atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(R), 1.0)
    # +rx swings a hanging limb forward (-z); R = Ry @ Rz @ Rx
    np.testing.assert_allclose(euler_to_matrix(np.radians([90.0, 0, 0])) @ [0, -1, 0], [0, 0, -1], atol=1e-12)
    np.testing.assert_allclose(
        euler_to_matrix(np.radians([90.0, 90.0, 0])) @ [0, -1, 0], [-1, 0, 0], atol=1e-12
    )


def test_generation_is_fast():
    start = time.perf_counter()
    for label in range(12):
        for i in range(20):
            generate_sample(label, np.random.default_rng([label, i]))
    assert time.perf_counter() - start < 3.0
