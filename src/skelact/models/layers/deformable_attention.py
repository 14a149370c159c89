"""Multi-head attention that keeps its maps, and 3D deformable attention with 3D token search (3DTS).

specs/deformable3d.md section 4.2 (a): the queries are the appearance volume's tokens Z together with the two
cross-modal tokens [paper]; an offset network moves a strided reference grid of the volume by (Δt, Δy, Δx);
the volume is sampled trilinearly there (`sample_volume`, explicit (t, y, x) order); keys and values are the
sampled tokens together with the cross tokens [paper]. Each of the N = T'H'W' queries attends to N_s + 2
keys, N_s = N / (s_t s_y s_x): O(N N_s), not O(N²). DAT-style details (Xia et al., CVPR 2022) are design
choices: offset groups, a depth-wise 3D convolution of kernel ``s + 1`` (odd) and stride ``s`` centred on each
reference voxel, GELU, a 1×1×1 convolution to three channels with its weights and bias zero at start (training
begins from plain strided-grid attention), tanh times the offset range in voxels. No relative-position bias.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from skelact.errors import ConfigError
from skelact.models.layers.deformable_sampling import reference_grid, sample_volume


class Attention(nn.Module):
    """Multi-head attention with separate query and key/value inputs; `last_attention` holds the maps of the
    latest call (B, heads, Nq, Nk) when `keep_attention` is on (explanations, tests)."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        if dim % heads:
            raise ConfigError(f"attention: width {dim} is not divisible by {heads} heads")
        self.heads, self.scale = heads, (dim // heads) ** -0.5
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, 2 * dim)
        self.proj = nn.Linear(dim, dim)
        self.keep_attention = False
        self.last_attention: Tensor | None = None

    def split(self, x: Tensor) -> Tensor:
        b, n, c = x.shape
        return x.view(b, n, self.heads, c // self.heads).transpose(1, 2)

    def forward(self, query: Tensor, context: Tensor, key_mask: Tensor | None = None) -> Tensor:
        """(B, Nq, C) queries, (B, Nk, C) keys and values, an optional (B, Nk) bool mask of keys to use."""
        return self.attend(self.q(query), context, key_mask)

    def attend(self, projected_query: Tensor, context: Tensor, key_mask: Tensor | None = None) -> Tensor:
        """`forward` with the query projection already applied (3DTS reads the projected queries too)."""
        k, v = self.kv(context).chunk(2, dim=-1)
        return self.proj(self.mix(projected_query, k, v, key_mask))

    def mix(self, q: Tensor, k: Tensor, v: Tensor, key_mask: Tensor | None = None) -> Tensor:
        """Projected (B, Nq, C) queries, (B, Nk, C) keys and values → (B, Nq, C) head outputs before `proj`.

        The stride modules project each token once and gather the projections into their windows, and
        apply `proj` after averaging a token's copies (an affine map commutes with a mean)."""
        q, k, v = self.split(q), self.split(k), self.split(v)
        logits = (q * self.scale) @ k.transpose(-2, -1)
        if key_mask is not None:
            mask = key_mask.view(-1, 1, 1, key_mask.shape[-1])
            logits = logits.masked_fill(~mask, torch.finfo(logits.dtype).min)
        weights = logits.softmax(dim=-1)
        if self.keep_attention:
            self.last_attention = weights.detach()
        return (weights @ v).transpose(1, 2).flatten(2)


def offset_kernel(stride: int) -> int:
    """The offset network's kernel along an axis: odd, a little larger than the stride (1 → 3, 2 → 3, 4 → 5),
    so that with padding kernel // 2 its window is centred on each reference voxel."""
    return stride + 1 if stride % 2 == 0 else stride + 2


class TokenSearch3D(nn.Module):
    """3DTS: (B, C, T, H, W) query volume and (B, C, T, H, W) value volume → (B, N_s, C) sampled tokens.

    The channels are split into `groups`; each group predicts its own offsets from its query channels (one
    offset network shared by the groups, as DAT) and samples its own channels of the value volume there.
    `last_points` keeps the (B, groups, N_s, 3) sampling positions of the latest call (explanations, tests).
    """

    def __init__(
        self, dim: int, groups: int, stride: Sequence[int], offset_range: Sequence[float] | None = None
    ) -> None:
        super().__init__()
        if dim % groups:
            raise ConfigError(f"3D token search: width {dim} is not divisible by {groups} offset groups")
        if len(stride) != 3 or min(stride) < 1:
            raise ConfigError(
                f"3D token search: sample_stride needs three positive (t, y, x) values, got {stride}"
            )
        self.groups, self.stride = groups, tuple(int(s) for s in stride)
        span = tuple(float(s) for s in (offset_range if offset_range is not None else self.stride))
        if len(span) != 3 or min(span) < 0:
            raise ConfigError(f"3D token search: offset_range needs three values >= 0, got {offset_range}")
        width = dim // groups
        kernel = tuple(offset_kernel(s) for s in self.stride)
        self.offset = nn.Sequential(
            nn.Conv3d(width, width, kernel, self.stride, tuple(k // 2 for k in kernel), groups=width),
            nn.GELU(),
            nn.Conv3d(width, 3, 1),
        )
        nn.init.zeros_(self.offset[-1].weight)
        nn.init.zeros_(self.offset[-1].bias)
        self.register_buffer("span", torch.tensor(span).view(1, 3, 1, 1, 1), persistent=False)
        self.last_points: Tensor | None = None
        self.keep_points = False

    def forward(self, query: Tensor, value: Tensor) -> Tensor:
        b, c, t, h, w = value.shape
        g = self.groups
        offsets = (
            self.offset(query.reshape(b * g, c // g, t, h, w)).tanh() * self.span
        )  # (B·G, 3, T', H', W')
        grid = reference_grid((t, h, w), self.stride, device=value.device)  # (T', H', W', 3)
        points = grid.permute(3, 0, 1, 2).unsqueeze(0) + offsets.float()
        points = points.flatten(2).transpose(1, 2)  # (B·G, N_s, 3) as (t, y, x)
        if self.keep_points:
            self.last_points = points.detach().view(b, g, -1, 3)
        sampled = sample_volume(value.reshape(b * g, c // g, t, h, w), points)  # (B·G, N_s, C / G)
        return sampled.view(b, g, -1, c // g).permute(0, 2, 1, 3).flatten(2)


class DeformableAttention3D(nn.Module):
    """One pre-LN 3D deformable attention step over [cross tokens; volume tokens], then an MLP.

    (B, 2, C) cross tokens and (B, C, T, H, W) volume → both updated, shapes unchanged.
    """

    def __init__(
        self,
        dim: int,
        heads: int,
        stride: Sequence[int],
        offset_range: Sequence[float] | None = None,
        groups: int | None = None,
        mlp_ratio: float = 4.0,
    ) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.search = TokenSearch3D(dim, groups or heads, stride, offset_range)
        self.attention = Attention(dim, heads)
        self.mlp = MLP(dim, mlp_ratio)

    def forward(self, cross: Tensor, volume: Tensor) -> tuple[Tensor, Tensor]:
        b, c, t, h, w = volume.shape
        tokens = torch.cat([cross, volume.flatten(2).transpose(1, 2)], dim=1)  # (B, 2 + N, C)
        normed = self.norm(tokens)
        as_volume = normed[:, 2:].transpose(1, 2).reshape(b, c, t, h, w)
        queries = self.attention.q(normed)
        query_volume = queries[:, 2:].transpose(1, 2).reshape(b, c, t, h, w)
        sampled = self.search(query_volume, as_volume)  # (B, N_s, C)
        context = torch.cat([normed[:, :2], sampled], dim=1)
        tokens = tokens + self.attention.attend(queries, context)
        tokens = self.mlp(tokens)
        return tokens[:, :2], tokens[:, 2:].transpose(1, 2).reshape(b, c, t, h, w)


class MLP(nn.Module):
    """Pre-LN residual MLP: x + fc2(GELU(fc1(LN(x))))."""

    def __init__(self, dim: int, ratio: float) -> None:
        super().__init__()
        hidden = max(1, round(dim * ratio))
        self.body = nn.Sequential(
            nn.LayerNorm(dim), nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim)
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)
