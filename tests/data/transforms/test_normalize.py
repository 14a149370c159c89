"""Per-sample normalisation: centring modes, 3D view alignment, 2D scaling, the named methods."""

from __future__ import annotations

import numpy as np
import pytest

from skelact.data.transforms.normalize import (
    NORMALIZE_METHODS,
    align_3d,
    center,
    default_center_joint,
    minmax_scale,
    normalize_2d,
    normalize_sample,
)
from skelact.errors import ConfigError, FormatError, LayoutError
from skelact.skeleton import get_layout

NTU = get_layout("ntu25")
COCO = get_layout("coco17")


def _sample(seed: int = 0, m: int = 2, t: int = 5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(0.5, 2.0, size=(m, t, 25, 3)).astype(np.float32)


def _random_rotation(seed: int) -> np.ndarray:
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def test_default_center_joint_is_spine_top_else_layout_centre():
    assert default_center_joint(NTU) == 1  # spine middle, as PYSKL / CTR-GCN / MS-G3D
    assert default_center_joint(COCO) == 0


def test_center_first_valid_frame_keeps_missing_joints_zero():
    kp = _sample()
    kp[0, 0] = 0.0  # person 0 absent in frame 0
    kp[1, 3] = 0.0  # person 1 absent in frame 3
    kp[1, 2, 7] = 0.0  # one missing joint
    out = center(kp, NTU)
    origin = kp[0, 1, 1]
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out[0, 1, 1], [0.0, 0.0, 0.0])
    np.testing.assert_allclose(out[1, 4, 9], kp[1, 4, 9] - origin, rtol=1e-6)
    assert not out[0, 0].any() and not out[1, 3].any() and not out[1, 2, 7].any()


def test_center_first_frame_and_per_frame():
    kp = _sample(1)
    out = center(kp, NTU, mode="first_frame", joint=20)
    np.testing.assert_allclose(out[1, 3, 4], kp[1, 3, 4] - kp[0, 0, 20], rtol=1e-6)
    per = center(kp, NTU, mode="per_frame")
    np.testing.assert_array_equal(per[0, :, 1], np.zeros((5, 3)))  # every frame's own origin
    np.testing.assert_allclose(per[1, 2, 0], kp[1, 2, 0] - kp[0, 2, 1], rtol=1e-6)


def test_center_errors():
    with pytest.raises(ConfigError, match="centring mode"):
        center(_sample(), NTU, mode="middle")  # type: ignore[arg-type]
    with pytest.raises(LayoutError, match="17"):
        center(_sample(), COCO)
    with pytest.raises(FormatError, match="persons, frames"):
        center(np.zeros((5, 25, 3)), NTU)


def _canonical_skeleton(t: int = 4) -> np.ndarray:
    """Person 0's first frame has its spine on +z and its shoulders on +x (perpendicular)."""
    kp = _sample(2, t=t) - 1.0
    kp[0, 0, 1] = kp[0, 0, 0] + [0.0, 0.0, 0.3]
    kp[0, 0, 8] = kp[0, 0, 4] + [0.4, 0.0, 0.0]
    return kp


def test_align_3d_undoes_an_arbitrary_rotation():
    canonical = _canonical_skeleton()
    canonical[1, 2] = 0.0  # a missing person-frame
    for seed in range(5):
        rotated = (canonical.astype(np.float64) @ _random_rotation(seed).T).astype(np.float32)
        out = align_3d(rotated, NTU)
        np.testing.assert_allclose(out, canonical, atol=1e-5)
        assert not out[1, 2].any()
        spine, shoulders = out[0, 0, 1] - out[0, 0, 0], out[0, 0, 8] - out[0, 0, 4]
        np.testing.assert_allclose(spine / np.linalg.norm(spine), [0, 0, 1], atol=1e-6)
        np.testing.assert_allclose(shoulders / np.linalg.norm(shoulders), [1, 0, 0], atol=1e-6)


def test_align_3d_uses_first_valid_frame_and_preserves_lengths():
    kp = _sample(3) - 1.0
    kp[0, 0] = 0.0
    out = align_3d(kp, NTU)
    np.testing.assert_allclose(np.linalg.norm(out, axis=-1), np.linalg.norm(kp, axis=-1), rtol=1e-5)
    shoulders = out[0, 1, 8] - out[0, 1, 4]
    np.testing.assert_allclose(
        shoulders[1:], [0, 0], atol=1e-5
    )  # reference behaviour: shoulders exactly on +x
    assert shoulders[0] > 0


def test_align_3d_exact_spine_keeps_spine_on_z_when_shoulders_are_not_perpendicular():
    kp = _sample(4) - 1.0
    out = align_3d(kp, NTU, exact_spine=True)
    spine = out[0, 0, 1] - out[0, 0, 0]
    shoulders = out[0, 0, 8] - out[0, 0, 4]
    np.testing.assert_allclose(spine[:2], [0, 0], atol=1e-5)
    assert spine[2] > 0 and shoulders[0] > 0
    assert shoulders[1] == pytest.approx(0, abs=1e-5)


def test_align_3d_degenerate_and_antiparallel_vectors():
    kp = _canonical_skeleton()
    kp[0, 0, 1] = kp[0, 0, 0]  # zero spine: only the shoulder rotation happens
    turned = (kp.astype(np.float64) @ _random_rotation(7).T).astype(np.float32)
    out = align_3d(turned, NTU)
    shoulders = out[0, 0, 8] - out[0, 0, 4]
    np.testing.assert_allclose(shoulders, [0.4, 0, 0], atol=1e-5)
    down = _canonical_skeleton()
    down[..., 1:] *= -1  # half turn about x: spine points along -z (PYSKL would leave it so)
    out = align_3d(down, NTU)
    np.testing.assert_allclose(out[0, 0, 1] - out[0, 0, 0], [0, 0, 0.3], atol=1e-5)
    np.testing.assert_allclose(out[0, 0, 8] - out[0, 0, 4], [0.4, 0, 0], atol=1e-5)


def test_align_3d_errors():
    with pytest.raises(LayoutError, match="spine and shoulders"):
        align_3d(np.ones((1, 2, 17, 3)), COCO)
    with pytest.raises(FormatError, match="3D coordinates"):
        align_3d(np.ones((1, 2, 25, 2)), NTU)
    empty = np.zeros((1, 3, 25, 3), dtype=np.float32)
    np.testing.assert_array_equal(align_3d(empty, NTU), empty)


def test_normalize_2d_by_image_size():
    kp = np.zeros((1, 1, 17, 2), dtype=np.float32)
    kp[0, 0, 0] = [1440, 270]
    kp[0, 0, 1] = [960, 1080]
    kp[0, 0, 2] = [100, 100]
    score = np.full((1, 1, 17), 0.9, dtype=np.float32)
    score[0, 0, 2] = 0.01  # at the threshold: dropped
    out, new_score = normalize_2d(kp, score, image_size=(1080, 1920))
    np.testing.assert_allclose(out[0, 0, 0], [0.5, -0.5])
    np.testing.assert_allclose(out[0, 0, 1], [0.0, 1.0])
    np.testing.assert_array_equal(out[0, 0, 2:], 0.0)  # dropped and missing joints stay zero, not -1
    assert new_score is not None and new_score[0, 0, 2] == 0 and new_score[0, 0, 0] == pytest.approx(0.9)
    assert score[0, 0, 2] == pytest.approx(0.01)  # input untouched


def test_normalize_2d_by_bounding_box_keeps_aspect_ratio():
    kp = np.zeros((2, 2, 17, 2), dtype=np.float32)
    kp[0, 0, 3] = [10, 20]
    kp[1, 1, 5] = [30, 60]
    kp[0, 1, 4] = [20, 50]
    out, score = normalize_2d(kp)
    assert score is None
    np.testing.assert_allclose(out[0, 0, 3], [-0.5, -1.0])
    np.testing.assert_allclose(out[1, 1, 5], [0.5, 1.0])
    np.testing.assert_allclose(out[0, 1, 4], [0.0, 0.5])
    assert np.count_nonzero(out.any(-1)) == 3
    with pytest.raises(ConfigError, match="image_size"):
        normalize_2d(kp, image_size=(0, 10))
    with pytest.raises(FormatError, match="score shape"):
        normalize_2d(kp, np.ones((2, 2, 5)))


def test_minmax_scale_per_axis():
    kp = _sample(5)
    kp[1, 4] = 0.0
    out = minmax_scale(kp)
    present = out.any(-1)
    np.testing.assert_allclose(out[present].min(0), [-1, -1, -1], atol=1e-6)
    np.testing.assert_allclose(out[present].max(0), [1, 1, 1], atol=1e-6)
    assert not out[1, 4].any()


def test_normalize_sample_dispatch():
    kp = _sample(6)
    same, score = normalize_sample(kp, None, NTU, "none")
    assert same is kp and score is None
    np.testing.assert_array_equal(normalize_sample(kp, None, NTU, "center")[0], center(kp, NTU))
    np.testing.assert_array_equal(
        normalize_sample(kp, None, NTU, "center_align")[0], align_3d(center(kp, NTU), NTU)
    )
    np.testing.assert_array_equal(
        normalize_sample(kp, None, NTU, "center_per_frame_align")[0],
        align_3d(center(kp, NTU, mode="per_frame"), NTU),
    )
    np.testing.assert_array_equal(normalize_sample(kp, None, NTU, "minmax")[0], minmax_scale(kp))
    kp2 = np.abs(kp[..., :2]) * 100 + 1
    out, _ = normalize_sample(kp2, None, NTU, "image", image_size=(1080, 1920))
    np.testing.assert_allclose(out[0, 0, 0, 0], (kp2[0, 0, 0, 0] - 960) / 960, rtol=1e-6)
    assert set(NORMALIZE_METHODS) >= {"none", "center", "center_align", "image", "box"}
    with pytest.raises(ConfigError, match="unknown normalisation method 'pyskl'") as err:
        normalize_sample(kp, None, NTU, "pyskl")
    assert "center_align" in str(err.value)
    with pytest.raises(ConfigError, match="needs image_size"):
        normalize_sample(kp2, None, NTU, "image")
