"""Local joint-stride and temporal-stride attention over pose tokens, each with the two cross tokens.

specs/deformable3d.md section 4.2 (b), (c). Pose tokens are (B, M, T, V, C); every attention call sees a few
pose tokens plus the two cross-modal tokens, and the copies of the cross tokens updated by the different calls
are averaged back to one pair (the cross tokens are the only carriers between the modalities).

- Joint windows [design choice]: the joints in kinematic order (a depth-first walk of the layout's bone tree,
  so consecutive joints run along a limb), windows of `window` joints every `stride` joints, the last window
  flush with the end so every joint is covered; a joint in several windows gets the mean of its outputs.
  Switch ``"parts"``: one window per body region of the layout (head, torso, two arms, two legs), padded to
  the largest and masked. Windows stay within a person and a frame.
- Temporal groups [design choice]: the T tokens of one joint of one person split into `groups` sets of
  T / groups tokens: ``"dilated"`` takes every groups-th frame ({t : t mod groups = k}, spanning the clip),
  ``"chunked"`` contiguous chunks. Both give every call the same T / groups tokens, so alternating them across
  blocks mixes global and local context at equal cost (the spec's chunks "of length s_t" would make the
  chunked calls far smaller than the dilated ones). A clip shorter than a multiple of `groups` is padded with
  masked tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
from torch import Tensor, nn

from skelact.errors import ConfigError, LayoutError
from skelact.models.layers.deformable_attention import MLP, Attention
from skelact.skeleton.layout import REGION_NAMES, Layout

JointGrouping = Literal["chains", "parts"]
TemporalPartition = Literal["dilated", "chunked"]


def kinematic_order(layout: Layout) -> tuple[int, ...]:
    """Every joint once, depth-first from each root (a joint that is its own parent) through its children in
    index order: limbs become runs of consecutive joints."""
    children: dict[int, list[int]] = {j: [] for j in range(layout.num_joints)}
    roots = []
    for joint, parent in enumerate(layout.parents):
        (roots.append(joint) if parent == joint else children[parent].append(joint))
    order: list[int] = []
    stack = sorted(roots, reverse=True)
    while stack:
        joint = stack.pop()
        if joint in order:
            continue
        order.append(joint)
        stack.extend(sorted(children[joint], reverse=True))
    order += [j for j in range(layout.num_joints) if j not in order]  # joints on a parent cycle, if any
    return tuple(order)


def chain_windows(layout: Layout, window: int, stride: int) -> tuple[tuple[int, ...], ...]:
    """Windows of `window` joints along `kinematic_order`, one every `stride`, the last flush with the end."""
    if window < 1 or not 1 <= stride <= window:
        raise ConfigError(
            f"joint windows: need window >= 1 and 1 <= stride <= window (a longer stride skips joints), got "
            f"window {window} and stride {stride}"
        )
    order = kinematic_order(layout)
    size = min(window, len(order))
    starts = list(range(0, len(order) - size + 1, stride))
    if starts[-1] + size < len(order):
        starts.append(len(order) - size)
    return tuple(order[s : s + size] for s in starts)


def part_windows(layout: Layout) -> tuple[tuple[int, ...], ...]:
    """One window per body region of the layout, in `REGION_NAMES` order."""
    if not layout.regions:
        raise LayoutError(
            f"layout {layout.name!r} declares no body regions for joint_grouping 'parts'",
            hint="use joint_grouping 'chains', or add regions to the layout file (docs/custom-data.md)",
        )
    return tuple(layout.regions[name] for name in REGION_NAMES)


def joint_windows(
    layout: Layout, grouping: JointGrouping, window: int, stride: int
) -> tuple[tuple[int, ...], ...]:
    if grouping == "chains":
        return chain_windows(layout, window, stride)
    if grouping == "parts":
        return part_windows(layout)
    raise ConfigError(f"joint_grouping must be 'chains' or 'parts', got {grouping!r}")


class JointStrideAttention(nn.Module):
    """(B, 2, C) cross tokens, (B, M, T, V, C) pose tokens → both updated; attention inside joint windows.

    `last_attention` (when `attention.keep_attention` is on) is (B·M·T·windows, heads, 2 + w, 2 + w), keys
    and queries ordered [cross tokens, the window's joints]; `windows` says which joints those are.
    """

    def __init__(
        self, dim: int, heads: int, num_joints: int, windows: Sequence[Sequence[int]], mlp_ratio: float = 4.0
    ) -> None:
        super().__init__()
        self.windows = tuple(tuple(int(j) for j in w) for w in windows)
        covered = {j for w in self.windows for j in w}
        if covered != set(range(num_joints)):
            missing = sorted(set(range(num_joints)) - covered)
            raise LayoutError(f"joint windows leave joints {missing} uncovered (of {num_joints})")
        width = max(len(w) for w in self.windows)
        index = torch.zeros(len(self.windows), width, dtype=torch.long)
        valid = torch.zeros(len(self.windows), width, dtype=torch.bool)
        for k, w in enumerate(self.windows):
            index[k, : len(w)] = torch.tensor(w)
            valid[k, : len(w)] = True
        # joint j's output = mean over the window slots holding j: a (V, windows·width) averaging matrix
        scatter = torch.zeros(num_joints, index.numel())
        scatter[index.flatten()[valid.flatten()], torch.arange(index.numel())[valid.flatten()]] = 1.0
        scatter = scatter / scatter.sum(dim=1, keepdim=True)
        self.register_buffer("index", index.flatten(), persistent=False)
        self.register_buffer(
            "key_mask",
            torch.cat([torch.ones(len(self.windows), 2, dtype=torch.bool), valid], 1),
            persistent=False,
        )
        self.register_buffer("scatter", scatter, persistent=False)
        self.width = width
        self.norm = nn.LayerNorm(dim)
        self.attention = Attention(dim, heads)
        self.mlp = MLP(dim, mlp_ratio)

    def forward(self, cross: Tensor, pose: Tensor) -> tuple[Tensor, Tensor]:
        b, m, t, v, c = pose.shape
        n_windows, calls = len(self.windows), m * t * len(self.windows)
        pose_qkv = project(self.attention, self.norm(pose).reshape(b * m * t, v, c))
        cross_qkv = project(self.attention, self.norm(cross))
        q, k, v_ = (
            torch.cat(
                [
                    cc.unsqueeze(1).expand(b, calls, 2, c).reshape(-1, 2, c),
                    pc.index_select(1, self.index).view(b * calls, self.width, c),
                ],
                dim=1,
            )
            for cc, pc in zip(cross_qkv, pose_qkv, strict=True)
        )
        out = self.attention.mix(q, k, v_, self.key_mask.repeat(b * m * t, 1))
        cross = cross + self.attention.proj(out[:, :2].reshape(b, calls, 2, c).mean(dim=1))
        mean = self.scatter @ out[:, 2:].reshape(b * m * t, n_windows * self.width, c)  # (B·M·T, V, C)
        pose = pose + self.attention.proj(mean).view(b, m, t, v, c)
        return self.mlp(cross), self.mlp(pose)

    def joint_map(self, shape: tuple[int, int, int]) -> Tensor:
        """(B, M, T, V): how much the cross tokens attended to each joint in the latest call (mean over heads,
        the two cross tokens and the windows holding the joint); needs `attention.keep_attention`."""
        maps = self.attention.last_attention
        if maps is None:
            raise ConfigError("joint_map needs attention.keep_attention on during the forward pass")
        b, m, t = shape
        cross_to_joints = maps[:, :, :2, 2:].mean(dim=(1, 2)).reshape(b * m * t, -1)  # (B·M·T, windows·w)
        return (cross_to_joints @ self.scatter.t()).view(b, m, t, -1)


def project(attention: Attention, tokens: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Queries, keys and values of `tokens`, each token projected once before it is copied into calls."""
    k, v = attention.kv(tokens).chunk(2, dim=-1)
    return attention.q(tokens), k, v


class TemporalStrideAttention(nn.Module):
    """(B, 2, C) cross tokens, (B, M, T, V, C) pose tokens → both updated; each joint's frames attend within
    `groups` dilated or chunked sets (see the module docstring)."""

    def __init__(
        self, dim: int, heads: int, groups: int, partition: TemporalPartition, mlp_ratio: float = 4.0
    ) -> None:
        super().__init__()
        if groups < 1 or partition not in ("dilated", "chunked"):
            raise ConfigError(
                f"temporal stride attention: need groups >= 1 and partition 'dilated' or 'chunked', got "
                f"{groups} and {partition!r}"
            )
        self.groups, self.partition = groups, partition
        self.norm = nn.LayerNorm(dim)
        self.attention = Attention(dim, heads)
        self.mlp = MLP(dim, mlp_ratio)

    def frame_groups(self, frames: int) -> list[list[int]]:
        """The frame indices each attention call sees, -1 for a padding slot: `groups` lists of T / groups."""
        groups = min(self.groups, frames)
        length = -(-frames // groups)
        if self.partition == "dilated":
            slots = [[k + groups * i for i in range(length)] for k in range(groups)]
        else:
            slots = [[k * length + i for i in range(length)] for k in range(groups)]
        return [[f if f < frames else -1 for f in row] for row in slots]

    def forward(self, cross: Tensor, pose: Tensor) -> tuple[Tensor, Tensor]:
        b, m, t, v, c = pose.shape
        groups = self.frame_groups(t)
        g, length = len(groups), len(groups[0])
        flat = [f for row in groups for f in row]
        # padding slots read an appended zero token (index t) and are masked as keys
        order = torch.tensor([f if f >= 0 else t for f in flat], device=pose.device)
        inverse = torch.tensor([flat.index(f) for f in range(t)], device=pose.device)
        key_mask = torch.tensor([[True, True] + [f >= 0 for f in row] for row in groups], device=pose.device)
        normed = self.norm(pose).permute(0, 1, 3, 2, 4).reshape(b * m * v, t, c)
        normed = torch.cat([normed, normed.new_zeros(b * m * v, 1, c)], dim=1)
        pose_qkv = project(self.attention, normed)
        cross_qkv = project(self.attention, self.norm(cross))
        calls = m * v * g
        q, k, v_ = (
            torch.cat(
                [
                    cc.unsqueeze(1).expand(b, calls, 2, c).reshape(-1, 2, c),
                    pc.index_select(1, order).view(b * calls, length, c),
                ],
                dim=1,
            )
            for cc, pc in zip(cross_qkv, pose_qkv, strict=True)
        )
        out = self.attention.mix(q, k, v_, key_mask.repeat(b * m * v, 1))
        cross = cross + self.attention.proj(out[:, :2].reshape(b, calls, 2, c).mean(dim=1))
        delta = self.attention.proj(out[:, 2:].reshape(b * m * v, g * length, c).index_select(1, inverse))
        pose = pose + delta.view(b, m, v, t, c).permute(0, 1, 3, 2, 4)
        return self.mlp(cross), self.mlp(pose)

    def frame_map(self, shape: tuple[int, int, int, int]) -> Tensor:
        """(B, M, T, V): how much the cross tokens attended to each frame of each joint in the latest call
        (mean over heads and the two cross tokens; each set of frames shares one softmax with the cross
        tokens); needs `attention.keep_attention`."""
        maps = self.attention.last_attention
        if maps is None:
            raise ConfigError("frame_map needs attention.keep_attention on during the forward pass")
        b, m, t, v = shape
        groups = self.frame_groups(t)
        flat = [f for row in groups for f in row]
        inverse = torch.tensor([flat.index(f) for f in range(t)], device=maps.device)
        cross_to_frames = maps[:, :, :2, 2:].mean(dim=(1, 2)).reshape(b * m * v, -1).index_select(1, inverse)
        return cross_to_frames.view(b, m, v, t).transpose(2, 3)
