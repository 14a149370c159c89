"""The spatial half of the ISC/CMD/HaLP pre-training augmentation, batched on the training device.

specs/halp.md section 3 (the official feeder, ``feeder/augmentations.py``): each view of each sample gets
exactly one of two ops, chosen with probability 1/2 each:

- **shear**: p' = S p with 1 on the diagonal of S and U(-1, 1) off it (`random_shear`);
- **joint corruption**: k joints, the same in every frame and for every person, are either zeroed (p = 1/2) or
  multiplied by one random matrix with entries U(-1, 1).

The official code always corrupts 15 joints of NTU's 25. The count comes from the layout here: 15 scaled by
V / 25 and rounded (`corrupted_joint_count`: 15 on ntu25, 12 on kinect20, 10 on coco17), and can be set
explicitly. The temporal half (crop-resize of s ~ U(0.1, 1) to 64 frames) runs per sample on the loader
workers: `SkeletonDataModule(num_views=2, sampling="crop_resize", crop_ratio=(0.1, 1.0))`.

The official code multiplies corrupted joints as row vectors (p' = p A) and shears as column vectors
(p' = S p); with i.i.d. symmetric entries A and its transpose have the same distribution, so both ops use
`_transform`'s p' = A p. Missing (all-zero) joints stay zero (both ops are linear); a zeroed joint is
missing, so its score channel, if any, is zeroed too. Every draw is made for every sample whichever op it
gets, so a batch's augmentation depends only on the generator's state, not on the other samples' choices.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

# Private helpers of the batched ops, shared so both modules draw and transform the same way.
from skelact.data.transforms.augment import _coords, _rand, _transform, _uniform, random_shear
from skelact.errors import ConfigError, LayoutError
from skelact.skeleton.layout import Layout, get_layout

# The official corruption: 15 of NTU's 25 joints (specs/halp.md section 3).
OFFICIAL_CORRUPTED_JOINTS, OFFICIAL_NUM_JOINTS = 15, 25


def corrupted_joint_count(layout: Layout) -> int:
    """15 joints scaled by V / 25 and rounded, at least 1 (the official 15 of 25 on ntu25)."""
    scaled = round(OFFICIAL_CORRUPTED_JOINTS * layout.num_joints / OFFICIAL_NUM_JOINTS)
    return max(1, min(layout.num_joints, scaled))


def joint_corruption(
    x: Tensor,
    num_joints: int,
    *,
    p_zero: float = 0.5,
    max_value: float = 1.0,
    num_coords: int | None = None,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Corrupt `num_joints` random joints per sample, the same ones in every frame and person: with
    probability `p_zero` zero them (score included), otherwise map their coordinates by one random matrix
    with entries U(-max_value, max_value). (N, M, T, V, C) -> same shape and dtype."""
    c = _coords(x, num_coords)
    n, v = x.shape[0], x.shape[3]
    if not 1 <= num_joints <= v:
        raise ConfigError(f"joint corruption needs 1 to {v} joints, got {num_joints}")
    if not 0.0 <= p_zero <= 1.0:
        raise ConfigError(f"p_zero must be in [0, 1], got {p_zero}")
    # The `num_joints` largest of V uniforms per sample: a uniformly random subset, without a loop.
    picked = _rand((n, v), x, generator).topk(num_joints, dim=1).indices
    chosen = torch.zeros(n, v, dtype=torch.bool, device=x.device).scatter_(1, picked, True)
    zero = _rand((n,), x, generator) < p_zero
    moved = _transform(x, _uniform((n, c, c), float(max_value), x, generator), c)
    corrupted = torch.where(zero.view(n, 1, 1, 1, 1), torch.zeros_like(x), moved)
    return torch.where(chosen.view(n, 1, 1, v, 1), corrupted, x)


class SSLAugment(nn.Module):
    """One of shear or joint corruption per sample (specs/halp.md section 3), in training mode only.

    Args:
        layout: the skeleton (its joint count sets the corrupted-joint count).
        num_coords: leading coordinate channels (2 or 3); a trailing score channel is only zeroed.
        p_shear: probability of the shear; joint corruption otherwise (official: 0.5).
        max_shear: shear off-diagonal range U(-s, s) (official: 1).
        corrupt_joints: joints per corruption; default `corrupted_joint_count(layout)` (15 on ntu25).
        p_zero: probability that a corruption zeroes the joints rather than mixing their coordinates.
        corrupt_range: entries of the corruption matrix are U(-r, r) (official: 1).

    `forward(x, generator)` maps (N, M, T, V, C) to the same shape; for two views, call it on each (or on
    both folded into the batch: every sample draws its own op).
    """

    def __init__(
        self,
        layout: Layout | str | Mapping[str, Any],
        num_coords: int = 3,
        *,
        p_shear: float = 0.5,
        max_shear: float = 1.0,
        corrupt_joints: int | None = None,
        p_zero: float = 0.5,
        corrupt_range: float = 1.0,
    ) -> None:
        super().__init__()
        self.layout = get_layout(layout)
        if num_coords not in (2, 3):
            raise ConfigError(f"num_coords must be 2 or 3, got {num_coords}")
        for name, p in (("p_shear", p_shear), ("p_zero", p_zero)):
            if not 0.0 <= p <= 1.0:
                raise ConfigError(f"{name} must be in [0, 1], got {p}")
        if max_shear < 0 or corrupt_range < 0:
            raise ConfigError(f"max_shear and corrupt_range must be >= 0, got {max_shear}, {corrupt_range}")
        joints = corrupted_joint_count(self.layout) if corrupt_joints is None else int(corrupt_joints)
        if not 1 <= joints <= self.layout.num_joints:
            raise ConfigError(
                f"corrupt_joints must be 1 to {self.layout.num_joints} for layout {self.layout.name!r}, "
                f"got {corrupt_joints}"
            )
        self.num_coords, self.p_shear, self.max_shear = num_coords, p_shear, max_shear
        self.corrupt_joints, self.p_zero, self.corrupt_range = joints, p_zero, corrupt_range

    def forward(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        _coords(x, self.num_coords)
        if x.shape[3] != self.layout.num_joints:
            raise LayoutError(
                f"SSLAugment: batch has {x.shape[3]} joints, layout {self.layout.name!r} "
                f"{self.layout.num_joints}"
            )
        if not self.training:
            return x
        shear = _rand((x.shape[0],), x, generator) < self.p_shear
        sheared = random_shear(x, self.max_shear, num_coords=self.num_coords, generator=generator)
        corrupted = joint_corruption(
            x,
            self.corrupt_joints,
            p_zero=self.p_zero,
            max_value=self.corrupt_range,
            num_coords=self.num_coords,
            generator=generator,
        )
        return torch.where(shear.view(-1, 1, 1, 1, 1), sheared, corrupted)

    def extra_repr(self) -> str:
        return (
            f"layout={self.layout.name}, num_coords={self.num_coords}, p_shear={self.p_shear}, "
            f"max_shear={self.max_shear}, corrupt_joints={self.corrupt_joints}, p_zero={self.p_zero}, "
            f"corrupt_range={self.corrupt_range}"
        )
