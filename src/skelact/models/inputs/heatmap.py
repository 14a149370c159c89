"""Pose heatmap volumes (PoseC3D pseudo-images) rendered from keypoints, batched in torch on the device.

The semantics follow PYSKL's ``GeneratePoseTarget`` (specs/deformable3d.md section 5) [official code]:

- one Gaussian per joint, ``exp(-d² / (2 σ²))`` with σ = 0.6 px, cut to a square window of ±3σ around the
  joint, multiplied by the joint's score; persons are merged by a maximum, not a sum;
- optional limb heatmaps, one channel per layout bone (child, parent): the same Gaussian of the distance to
  the segment, cut at 3σ, weighted by the smaller of the two end scores; with both on, limb channels follow
  the joint channels;
- a joint whose score is below 1e-4 (PYSKL's ``eps``) draws nothing; without a score channel a joint scores 1
  where any coordinate is non-zero and 0 where it is missing (all zero);
- a person-compact crop [design choice, PYSKL's ``PoseCompact`` at ``hw_ratio`` 1]: the box of all present
  joints of the clip (all persons, all frames), enlarged by ``padding`` (0.25) and made square about its
  centre, is mapped onto the ``size`` × ``size`` grid, pixel centres at integer positions, the box's edges at
  -0.5 and size - 0.5. PoseC3D's training-time RandomResizedCrop is not reproduced: the coordinate
  augmentations (`BatchAugment`) act before rendering instead.

Projection [design choice]: 2D keypoints are image coordinates (x right, y down) and are drawn as they are.
3D keypoints are drawn on a plane of the (up-axis aligned, ``data.up_axis``) coordinates: ``plane="xy"``
(default) drops the depth z and draws the front view with y up; ``"zy"`` the side view, ``"xz"`` the top view.

Memory is one (N, M, T, V, H, W) float tensor for the joint Gaussians (persons are merged by a max, which
needs them all); nothing loops in Python over joints, frames or persons.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import torch
from torch import Tensor, nn

from skelact.errors import ConfigError, FormatError, LayoutError
from skelact.skeleton.layout import Layout, get_layout

SCORE_EPS = 1e-4  # PYSKL's eps: a joint scoring less draws nothing
PLANES: dict[str, tuple[int, int, bool]] = {  # 3D: (column axis, row axis, row axis points up)
    "xy": (0, 1, True),
    "zy": (2, 1, True),
    "xz": (0, 2, False),
}
Plane = Literal["xy", "zy", "xz"]


def limb_pairs(layout: Layout) -> tuple[tuple[int, int], ...]:
    """The limbs drawn: every bone (child, parent) of the layout, the root's zero bone left out."""
    return tuple((c, p) for c, p in layout.bone_pairs if c != p)


def limb_flip_permutation(layout: Layout) -> list[int]:
    """Limb channel order after a horizontal flip: limb k goes where its mirror image (left/right joints
    swapped) is; one LayoutError if a limb has no mirror among the bones."""
    perm = layout.flip_permutation()
    limbs = limb_pairs(layout)
    where = {frozenset(limb): k for k, limb in enumerate(limbs)}
    out = []
    for a, b in limbs:
        mirrored = where.get(frozenset((int(perm[a]), int(perm[b]))))
        if mirrored is None:
            raise LayoutError(f"layout {layout.name!r}: bone ({a}, {b}) has no mirror image among its bones")
        out.append(mirrored)
    return out


class HeatmapVolume(nn.Module):
    """(N, M, T, V, C) keypoints → (N, K, T, size, size) heatmaps, K = V joint and/or L limb channels.

    Args:
        layout: the skeleton (limbs and the flip permutation come from it).
        num_coords: 2 (image coordinates) or 3 (drawn on `plane`).
        score_channel: the last input channel is the joint score (2D + score data).
        size: heatmap height and width in pixels (56, PoseC3D's NTU setting).
        sigma: Gaussian standard deviation in pixels (0.6, PYSKL's keypoint setting).
        joints, limbs: draw joint channels, limb channels, or both.
        padding: the compact crop's margin, a fraction of the box's side (PYSKL ``PoseCompact`` 0.25).
        plane: the projection of 3D keypoints ("xy", "zy", "xz"; see the module docstring).
    """

    def __init__(
        self,
        layout: Layout | str | Mapping[str, Any],
        num_coords: int = 2,
        score_channel: bool = False,
        size: int = 56,
        sigma: float = 0.6,
        joints: bool = True,
        limbs: bool = False,
        padding: float = 0.25,
        plane: Plane = "xy",
    ) -> None:
        super().__init__()
        if num_coords not in (2, 3):
            raise ConfigError(f"heatmaps: num_coords must be 2 or 3, got {num_coords}")
        if not (joints or limbs):
            raise ConfigError("heatmaps: draw joints, limbs or both (joints and limbs are both off)")
        if size < 2 or sigma <= 0 or padding < 0:
            raise ConfigError(
                f"heatmaps: need size >= 2, sigma > 0, padding >= 0; got {size}, {sigma}, {padding}"
            )
        if plane not in PLANES:
            raise ConfigError(f"heatmaps: unknown plane {plane!r}; choose one of {', '.join(PLANES)}")
        self.layout = get_layout(layout)
        self.num_coords, self.score_channel = num_coords, score_channel
        self.size, self.sigma, self.padding, self.plane = size, float(sigma), float(padding), plane
        self.joints, self.limbs = joints, limbs
        limbs_idx = torch.tensor(limb_pairs(self.layout) or [(0, 0)], dtype=torch.long)
        self.register_buffer("limb_index", limbs_idx, persistent=False)
        self.register_buffer("grid", torch.arange(size, dtype=torch.float32), persistent=False)

    @property
    def in_channels(self) -> int:
        return self.num_coords + int(self.score_channel)

    @property
    def out_channels(self) -> int:
        return self.layout.num_joints * int(self.joints) + len(limb_pairs(self.layout)) * int(self.limbs)

    def channel_flip_permutation(self) -> list[int]:
        """Output channel order after a horizontal flip (left/right joints and limbs swapped)."""
        out: list[int] = []
        if self.joints:
            out += [int(j) for j in self.layout.flip_permutation()]
        if self.limbs:
            offset = self.layout.num_joints if self.joints else 0
            out += [offset + k for k in limb_flip_permutation(self.layout)]
        return out

    def flip(self, volume: Tensor) -> Tensor:
        """The horizontal mirror of a rendered (N, K, T, H, W) volume: columns reversed, left and right
        swapped."""
        index = torch.tensor(self.channel_flip_permutation(), device=volume.device)
        return volume.flip(-1).index_select(1, index)

    def pixel_coordinates(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(N, M, T, V, C) → (column, row) pixel positions (N, M, T, V) each, and the scores (N, M, T, V)."""
        coords = x[..., : self.num_coords].float()
        present = (coords != 0).any(dim=-1).float()
        score = x[..., self.num_coords].float() if self.score_channel else present
        score = torch.where(score < SCORE_EPS, torch.zeros_like(score), score)
        if self.num_coords == 2:
            col, row = coords[..., 0], coords[..., 1]
        else:
            c_axis, r_axis, up = PLANES[self.plane]
            col, row = coords[..., c_axis], coords[..., r_axis]
            row = -row if up else row
        uv = torch.stack([col, row], dim=-1)  # (N, M, T, V, 2)
        present = (score > 0).unsqueeze(-1)
        big = torch.finfo(uv.dtype).max
        flat = uv.flatten(1, 3)  # (N, M*T*V, 2)
        mask = present.flatten(1, 3)
        lo = torch.where(mask, flat, torch.full_like(flat, big)).amin(dim=1)  # (N, 2)
        hi = torch.where(mask, flat, torch.full_like(flat, -big)).amax(dim=1)
        empty = ~mask.any(dim=1)  # a clip without a present joint: any box, nothing is drawn
        lo = torch.where(empty, torch.zeros_like(lo), lo)
        hi = torch.where(empty, torch.zeros_like(hi), hi)
        centre = (lo + hi) / 2
        side = ((hi - lo).amax(dim=-1) * (1 + self.padding)).clamp_min(1e-6)  # (N,)
        shape = (-1, 1, 1, 1, 1)
        pixel = (uv - centre.view(-1, 1, 1, 1, 2)) / side.view(shape) * self.size + (self.size - 1) / 2
        return pixel[..., 0], pixel[..., 1], score

    def _joint_maps(self, col: Tensor, row: Tensor, score: Tensor) -> Tensor:
        """(N, M, T, V) → (N, V, T, H, W): separable Gaussians in a ±3σ square, score-weighted, max over M."""
        two_var, reach = 2 * self.sigma**2, 3 * self.sigma
        dx = self.grid - col.unsqueeze(-1)  # (N, M, T, V, W)
        dy = self.grid - row.unsqueeze(-1)
        gx = torch.exp(-(dx**2) / two_var) * (dx.abs() <= reach)
        gy = torch.exp(-(dy**2) / two_var) * (dy.abs() <= reach) * score.unsqueeze(-1)
        maps = gy.unsqueeze(-1) * gx.unsqueeze(-2)  # (N, M, T, V, H, W)
        return maps.amax(dim=1).transpose(1, 2)

    def _limb_maps(self, col: Tensor, row: Tensor, score: Tensor) -> Tensor:
        """(N, M, T, V) → (N, L, T, H, W): Gaussians of the distance to each bone segment, cut at 3σ.

        With p - a = (px, py), e = b - a and t = clamp((p - a)·e / |e|², 0, 1), the squared distance is
        |p - a - t e|²; computed in place where it can be, as the full-size tensors dominate the cost."""
        a, b = self.limb_index[:, 1], self.limb_index[:, 0]  # parent → child
        ax, ay = col[..., a, None, None], row[..., a, None, None]  # (N, M, T, L, 1, 1)
        ex, ey = col[..., b, None, None] - ax, row[..., b, None, None] - ay
        length2 = (ex**2 + ey**2).clamp_min(1e-12)
        px = self.grid.view(-1) - ax  # (N, M, T, L, 1, W)
        py = self.grid.view(-1, 1) - ay  # (N, M, T, L, H, 1)
        t = (px * ex + py * ey).div_(length2).clamp_(0, 1)  # (N, M, T, L, H, W)
        d2 = (t * ex).neg_().add_(px).square_()
        d2.add_((t * ey).neg_().add_(py).square_())
        keep = d2 <= (3 * self.sigma) ** 2
        weight = torch.minimum(score[..., a], score[..., b])[..., None, None]
        maps = d2.mul_(-1 / (2 * self.sigma**2)).exp_().mul_(keep).mul_(weight)
        return maps.amax(dim=1).transpose(1, 2)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 5 or x.shape[-1] != self.in_channels or x.shape[3] != self.layout.num_joints:
            raise FormatError(
                f"expected (N, M, T, {self.layout.num_joints}, {self.in_channels}), got {tuple(x.shape)}",
                where="heatmap volume",
            )
        col, row, score = self.pixel_coordinates(x)
        parts = []
        if self.joints:
            parts.append(self._joint_maps(col, row, score))
        if self.limbs:
            parts.append(self._limb_maps(col, row, score))
        return torch.cat(parts, dim=1) if len(parts) > 1 else parts[0]

    def extra_repr(self) -> str:
        return (
            f"layout={self.layout.name}, num_coords={self.num_coords}, score_channel={self.score_channel}, "
            f"size={self.size}, sigma={self.sigma}, joints={self.joints}, limbs={self.limbs}, "
            f"padding={self.padding}, plane={self.plane}"
        )
