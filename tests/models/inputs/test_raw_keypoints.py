import pytest

from skelact.errors import ConfigError
from skelact.models.inputs.raw_keypoints import check_raw_keypoint_channels


def test_a_score_channel_is_told_apart_from_plain_coordinates():
    assert check_raw_keypoint_channels("m", 3, 3) is False
    assert check_raw_keypoint_channels("m", 3, 2) is True


def test_another_width_is_one_error_naming_the_model_and_why():
    with pytest.raises(ConfigError, match=r"mmixer: in_channels 6 is neither num_coords 3.*raw keypoints"):
        check_raw_keypoint_channels("mmixer", 6, 3, why="it reads the raw keypoints")
