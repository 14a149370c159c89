"""SkeletonMAE's region masking (specs/skeletonmae.md section 6): which joints of a sequence are hidden.

The masking unit is a body region of the layout (`Layout.regions`, V0..V5 = head, torso, left arm, right
arm, left leg, right leg). Either a fixed set of regions (the paper's experiments; default right arm + right
leg, {V3, V5}) or, per sequence, k regions drawn at random (the paper's "randomly selected" wording). The
same joints are masked in every frame and for every person of a sequence [design choice, as the paper's
Fig. 6]. Only node features are masked; the graph is always given.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from skelact.errors import ConfigError
from skelact.skeleton import Layout, get_layout
from skelact.skeleton.layout import REGION_NAMES

DEFAULT_MASK_REGIONS = ("right_arm", "right_leg")


class RegionMasker(nn.Module):
    """Draws (N, V) boolean masks, True on the masked joints of each of N sequences.

    Args:
        layout: the skeleton; it must declare regions.
        regions: the fixed regions (names or indices 0..5), used when `random_regions` is None.
        random_regions: k; each sequence masks k of the six regions drawn uniformly without replacement.
    """

    def __init__(
        self,
        layout: Layout | str,
        regions: Sequence[str | int] = DEFAULT_MASK_REGIONS,
        random_regions: int | None = None,
    ) -> None:
        super().__init__()
        layout = get_layout(layout)
        membership = torch.zeros(len(REGION_NAMES), layout.num_joints, dtype=torch.bool)
        for r, name in enumerate(REGION_NAMES):
            membership[r, list(layout.region_joints([name]))] = True
        fixed = torch.zeros(layout.num_joints, dtype=torch.bool)
        if random_regions is None:
            if not regions:
                raise ConfigError("mask_regions is empty: name at least one region to mask")
            fixed[list(layout.region_joints(regions))] = True
        elif not 1 <= random_regions < len(REGION_NAMES):
            raise ConfigError(f"random_regions must be in 1..{len(REGION_NAMES) - 1}, got {random_regions}")
        self.random_regions = random_regions
        self.register_buffer("membership", membership, persistent=False)
        self.register_buffer("fixed", fixed, persistent=False)

    def forward(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        if self.random_regions is None:
            return self.fixed.expand(n, -1)
        order = torch.rand(n, len(REGION_NAMES), generator=generator).argsort(dim=1)
        chosen = torch.zeros(n, len(REGION_NAMES), dtype=torch.bool)
        chosen.scatter_(1, order[:, : self.random_regions], True)
        chosen = chosen.to(self.membership.device)
        return (chosen.unsqueeze(-1) & self.membership).any(dim=1)


def apply_mask_token(features: Tensor, masked: Tensor, token: Tensor) -> Tensor:
    """Replace the features of the masked joints by the [MASK] token.

    features (N, M, T, V, D), masked (N, V) bool (the same joints in every frame and person), token (D,).
    """
    n, _, _, v, _ = features.shape
    return torch.where(masked.view(n, 1, 1, v, 1), token.to(features.dtype), features)
