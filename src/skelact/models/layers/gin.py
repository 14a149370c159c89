"""Graph Isomorphism Network layers on skeleton graphs (SkeletonMAE, specs/skeletonmae.md sections 3, 7).

One GIN layer: h'_v = MLP((1 + ε)·h_v + Σ_{u ∈ N(v)} h_u) with ε = 0 fixed and sum aggregation, i.e. the
features multiplied by A + I (A the layout's symmetric physical adjacency); MLP = Linear → BatchNorm →
PReLU → Linear; on every encoder layer, including the last, BatchNorm + PReLU follow (GraphMAE's graph
configs). The decoder's single layer ends linearly (`final_activation=False`).

"Grouped": G independent copies of the same network run side by side, one per group, in one batched matrix
product per linear map (`torch.baddbmm`). STRL keeps one SkeletonMAE encoder per person (spec section 10) and
runs the persons as groups, so there is no Python loop over persons; pre-training uses G = 1. Every
parameter and BatchNorm statistic has the group as its leading dimension, so G copies of a pre-trained
G = 1 network are its tensors repeated along that dimension (`load_into_groups`), bit for bit.

Input and output: (G, B, V, C), B graphs (frames × persons × samples) of V joints per group.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from skelact.errors import ConfigError
from skelact.skeleton import Layout, get_layout


def gin_adjacency(layout: Layout | str) -> Tensor:
    """(V, V) float A + I: the GIN sum over the neighbours plus the node itself (ε = 0)."""
    layout = get_layout(layout)
    v = layout.num_joints
    a = torch.eye(v)
    for i, j in layout.edges:
        if i != j:
            a[i, j] = a[j, i] = 1.0
    return a


class GroupedLinear(nn.Module):
    """(G, B, V, in) → (G, B, V, out) with a separate weight per group (nn.Linear's initialisation)."""

    def __init__(self, groups: int, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        bound = 1.0 / math.sqrt(in_features)
        self.weight = nn.Parameter(torch.empty(groups, in_features, out_features).uniform_(-bound, bound))
        self.bias = None
        if bias:
            self.bias = nn.Parameter(torch.empty(groups, 1, out_features).uniform_(-bound, bound))

    def forward(self, x: Tensor) -> Tensor:
        g, b, v, c = x.shape
        flat = x.reshape(g, b * v, c)
        weight = self.weight.to(flat.dtype)
        if self.bias is None:
            y = torch.bmm(flat, weight)
        else:
            y = torch.baddbmm(self.bias.to(flat.dtype), flat, weight)
        return y.view(g, b, v, -1)


class GroupedBatchNorm(nn.Module):
    """BatchNorm over the nodes of each group separately: statistics and affine parameters per (group,
    channel), stored (G, C) so that group copies are plain repeats."""

    def __init__(self, groups: int, channels: int, momentum: float = 0.1, eps: float = 1e-5) -> None:
        super().__init__()
        self.momentum, self.eps = momentum, eps
        self.weight = nn.Parameter(torch.ones(groups, channels))
        self.bias = nn.Parameter(torch.zeros(groups, channels))
        self.register_buffer("running_mean", torch.zeros(groups, channels))
        self.register_buffer("running_var", torch.ones(groups, channels))

    def forward(self, x: Tensor) -> Tensor:
        g, b, v, c = x.shape
        rows = x.permute(1, 2, 0, 3).reshape(b * v, g * c)  # one BatchNorm channel per (group, channel)
        y = F.batch_norm(
            rows,
            self.running_mean.view(-1),  # views: the running statistics are updated in place
            self.running_var.view(-1),
            self.weight.view(-1),
            self.bias.view(-1),
            self.training,
            self.momentum,
            self.eps,
        )
        return y.view(b, v, g, c).permute(2, 0, 1, 3)


class GroupedPReLU(nn.Module):
    """PReLU with one slope per group (GraphMAE's `nn.PReLU()`, a single slope, initialised to 0.25)."""

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.full((groups, 1, 1, 1), 0.25))

    def forward(self, x: Tensor) -> Tensor:
        return torch.where(x >= 0, x, self.weight.to(x.dtype) * x)


class GINLayer(nn.Module):
    """Aggregate with A + I, then MLP (Linear → BN → PReLU → Linear), then BN + PReLU unless final."""

    def __init__(
        self, groups: int, in_dim: int, hidden: int, out_dim: int, dropout: float, final_activation: bool
    ) -> None:
        super().__init__()
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.fc1 = GroupedLinear(groups, in_dim, hidden)
        self.norm1 = GroupedBatchNorm(groups, hidden)
        self.act1 = GroupedPReLU(groups)
        self.fc2 = GroupedLinear(groups, hidden, out_dim)
        self.norm2 = GroupedBatchNorm(groups, out_dim) if final_activation else None
        self.act2 = GroupedPReLU(groups) if final_activation else None

    def forward(self, x: Tensor, adjacency: Tensor) -> Tensor:
        h = torch.matmul(adjacency.to(x.dtype), self.drop(x))  # (V, V) @ (G, B, V, C): one batched product
        h = self.fc2(self.act1(self.norm1(self.fc1(h))))
        if self.norm2 is not None and self.act2 is not None:
            h = self.act2(self.norm2(h))
        return h


class GroupedGIN(nn.Module):
    """`num_layers` GIN layers in_dim → hidden → ... → out_dim on the layout's graph, G groups.

    Args:
        layout: the skeleton whose edges form A.
        in_dim, hidden, out_dim: widths (hidden is every layer's MLP width and the inner layers' output).
        num_layers: 3 for the SkeletonMAE encoder, 1 for its decoder.
        groups: independent copies (1 in pre-training, one per person in STRL).
        dropout: on each layer's input (GraphMAE's in_drop 0.2 in its graph configs).
        final_activation: BN + PReLU after the last layer (encoder) or a linear end (decoder).
    """

    def __init__(
        self,
        layout: Layout | str,
        in_dim: int,
        hidden: int,
        out_dim: int,
        num_layers: int,
        groups: int = 1,
        dropout: float = 0.0,
        final_activation: bool = True,
    ) -> None:
        super().__init__()
        if num_layers < 1 or groups < 1 or min(in_dim, hidden, out_dim) < 1:
            raise ConfigError(
                f"GroupedGIN needs positive widths, layers and groups, got in {in_dim}, hidden {hidden}, "
                f"out {out_dim}, layers {num_layers}, groups {groups}"
            )
        self.groups = groups
        self.register_buffer("adjacency", gin_adjacency(layout), persistent=False)
        widths = [in_dim] + [hidden] * (num_layers - 1) + [out_dim]
        self.layers = nn.ModuleList(
            GINLayer(groups, a, hidden, b, dropout, final_activation or i < num_layers - 1)
            for i, (a, b) in enumerate(itertools.pairwise(widths))
        )

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[0] != self.groups:
            raise ConfigError(f"GroupedGIN with {self.groups} groups got input of shape {tuple(x.shape)}")
        for layer in self.layers:
            x = layer(x, self.adjacency)
        return x

    @torch.no_grad()
    def load_into_groups(self, single: Mapping[str, Tensor]) -> None:
        """Copy a G = 1 network's state (same widths and layers) into every group, bit for bit."""
        own = self.state_dict()
        if set(single) != set(own):
            missing, extra = sorted(set(own) - set(single)), sorted(set(single) - set(own))
            raise ConfigError(
                f"the pre-trained GIN does not fit: missing {missing[:3] or 'nothing'}, "
                f"unexpected {extra[:3] or 'nothing'}"
            )
        for key, target in own.items():
            source = single[key]
            if source.shape[0] != 1 or source.shape[1:] != target.shape[1:]:
                raise ConfigError(
                    f"the pre-trained GIN does not fit: {key} has shape {tuple(source.shape)}, this network "
                    f"needs {tuple(target.shape)} (widths or layers differ)"
                )
            target.copy_(source.expand_as(target))
