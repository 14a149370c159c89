"""Up-axis alignment: the declared axis becomes +y by a proper rotation, zeros stay zero, 2D is refused."""

from __future__ import annotations

import numpy as np
import pytest

from skelact.data.transforms.axes import UP_AXES, align_up, up_rotation
from skelact.errors import ConfigError, FormatError

UNIT = {"x": [1, 0, 0], "y": [0, 1, 0], "z": [0, 0, 1]}


@pytest.mark.parametrize("up_axis", UP_AXES)
def test_the_declared_axis_becomes_up_without_a_mirror(up_axis: str) -> None:
    sign = -1.0 if up_axis.startswith("-") else 1.0
    vector = sign * np.array(UNIT[up_axis[-1]], dtype=np.float64)
    np.testing.assert_allclose(align_up(vector[None], up_axis)[0], [0.0, 1.0, 0.0], atol=1e-12)
    rotation = up_rotation(up_axis)
    assert np.linalg.det(rotation) == pytest.approx(1.0)  # a rotation: the performer's left stays left
    np.testing.assert_allclose(rotation @ rotation.T, np.eye(3), atol=1e-12)


def test_missing_joints_stay_zero_and_y_keeps_the_data() -> None:
    keypoint = np.random.default_rng(0).normal(size=(2, 5, 4, 3)).astype(np.float32)
    keypoint[1, 2] = 0.0
    turned = align_up(keypoint, "z")
    assert turned.dtype == np.float32 and np.all(turned[1, 2] == 0.0)
    np.testing.assert_allclose(turned[..., 1], keypoint[..., 2])  # z-up data: height is now y
    assert align_up(keypoint, "y") is keypoint and align_up(keypoint, None) is keypoint


def test_bad_axis_and_2d_keypoints_are_clear_errors() -> None:
    with pytest.raises(ConfigError, match="unknown up_axis 'up'"):
        align_up(np.zeros((1, 1, 1, 3)), "up")
    with pytest.raises(FormatError, match="applies to 3D keypoints, got 2"):
        align_up(np.zeros((1, 1, 1, 2)), "-y")
