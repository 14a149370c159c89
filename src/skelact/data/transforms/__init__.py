"""Transforms: per-sample temporal sampling and normalisation (numpy, loader workers) and batched
augmentation (torch, training device). Modality features are model inputs: `skelact.models.inputs`."""

from skelact.data.transforms.augment import (
    BatchAugment,
    gaussian_noise,
    joint_drop,
    random_flip,
    random_rotate,
    random_scale,
    random_shear,
    rotation_matrices,
)
from skelact.data.transforms.normalize import (
    NORMALIZE_METHODS,
    align_3d,
    center,
    default_center_joint,
    minmax_scale,
    normalize_2d,
    normalize_sample,
)
from skelact.data.transforms.temporal import (
    crop_resize_positions,
    evenly_spaced_indices,
    frames_for_positions,
    interpolate_frames,
    random_sorted_indices,
    uniform_sample_indices,
    valid_length,
)

__all__ = [
    "NORMALIZE_METHODS",
    "BatchAugment",
    "align_3d",
    "center",
    "crop_resize_positions",
    "default_center_joint",
    "evenly_spaced_indices",
    "frames_for_positions",
    "gaussian_noise",
    "interpolate_frames",
    "joint_drop",
    "minmax_scale",
    "normalize_2d",
    "normalize_sample",
    "random_flip",
    "random_rotate",
    "random_scale",
    "random_shear",
    "random_sorted_indices",
    "rotation_matrices",
    "uniform_sample_indices",
    "valid_length",
]
