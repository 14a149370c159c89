"""SkeletonSample validation: every malformed input gets one FormatError that says what and where."""

from __future__ import annotations

import numpy as np
import pytest

from skelact.data.sample import SkeletonSample
from skelact.errors import FormatError


def sample(shape: tuple[int, ...] = (2, 10, 25, 3), **kwargs: object) -> SkeletonSample:
    return SkeletonSample(keypoint=np.zeros(shape, dtype=np.float64), sample_id="S001", **kwargs)


def test_valid_sample_is_converted_to_float32() -> None:
    s = sample(label=np.int64(3), score=np.ones((2, 10, 25))).validate(num_joints=25, num_classes=60)
    assert s.keypoint.dtype == np.float32 and s.score is not None and s.score.dtype == np.float32
    assert (s.num_persons, s.num_frames, s.num_joints, s.num_channels) == (2, 10, 25, 3)
    assert s.label == 3 and type(s.label) is int


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ((10, 25, 3), "4 axes"),
        ((0, 10, 25, 3), "zero persons"),
        ((1, 0, 25, 3), "zero frames"),
        ((1, 10, 25, 4), "2 or 3 coordinates"),
    ],
)
def test_bad_shapes(shape: tuple[int, ...], message: str) -> None:
    with pytest.raises(FormatError, match=message) as info:
        sample(shape).validate()
    assert "S001" in str(info.value)


def test_wrong_joint_count_names_the_file() -> None:
    with pytest.raises(FormatError, match=r"^data/a\.skeleton \(sample 'S001'\): expected 25 joints, got 17"):
        sample((1, 5, 17, 3)).validate(num_joints=25, source="data/a.skeleton")


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_values_are_located(bad: float) -> None:
    s = sample((2, 10, 25, 3))
    s.keypoint[1, 7, 4, 2] = bad
    with pytest.raises(FormatError, match="person 1, frame 7, joint 4"):
        s.validate()


@pytest.mark.parametrize(("label", "message"), [(60, "outside 0..59"), (-3, "outside"), (1.5, "integer")])
def test_bad_labels(label: object, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        sample(label=label).validate(num_classes=60)


def test_unknown_label_allowed_without_class_count() -> None:
    assert sample(label=-1).validate().label == -1
    with pytest.raises(FormatError, match="negative"):
        sample(label=-2).validate()


def test_score_shape_must_match() -> None:
    with pytest.raises(FormatError, match="score must have shape"):
        sample(score=np.ones((2, 10, 24))).validate()
    with pytest.raises(FormatError, match="score has NaN"):
        sample(score=np.full((2, 10, 25), np.nan)).validate()
