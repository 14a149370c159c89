"""The one check every model that reads raw keypoints (not a precomputed stream) makes of its input width."""

from __future__ import annotations

from skelact.errors import ConfigError


def check_raw_keypoint_channels(model: str, in_channels: int, num_coords: int, why: str = "") -> bool:
    """True when the keypoints carry a score channel (in_channels = num_coords + 1), False without one
    (= num_coords); one ConfigError naming `model` otherwise (`why`: what the model does with them)."""
    if in_channels not in (num_coords, num_coords + 1):
        raise ConfigError(
            f"{model}: in_channels {in_channels} is neither num_coords {num_coords} nor num_coords + 1 "
            f"(a score channel){': ' + why if why else ''}",
            hint="use modality j; for 2D + score data set model_args num_coords 2",
        )
    return in_channels > num_coords
