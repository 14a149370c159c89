"""CTR-GCN's channel-wise topology refinement graph convolution (Chen et al., ICCV 2021).

Maths of the official `unit_gcn` / `CTRGC` (Uason-Chen/CTR-GCN, model/ctrgcn.py), for each subset k:

    x1, x2 = mean_t conv1_k(x), mean_t conv2_k(x)                  (N, R, V)
    Q_k    = alpha * conv4_k(tanh(x1[..., u, None] - x2[..., None, v])) + PA_k      (N, C, V, V)
    z_k    = einsum("ncuv,nctv->nctu", Q_k, conv3_k(x))
    y      = ReLU(BN(sum_k z_k) + down(x))

The official code runs three CTRGC modules one after the other (12 small convolutions per unit). Here the
same maths runs as a few large operations, on the same parameters:

- conv1/conv2 are affine, so the temporal mean is taken first: they run on (N, C, V) instead of
  (N, C, T, V), T times less work, and the six of them (2 per subset) are one matmul;
- the three conv3 are one 1x1 convolution to K*C channels; the three conv4 one batched matmul;
- the K per-subset aggregations and their sum are one batched matmul over (subset, channel) and a sum.

Only rounding differs from the official order of operations (tests compare against a literal copy of the
official formulation at 1e-5).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor, nn

from skelact.models.layers.graph_conv import as_adjacency


def relation_channels(in_channels: int, rel_reduction: int = 8) -> int:
    """Width R of the relation features: in_channels // rel_reduction, but 8 for raw input of 3 or 9
    channels (official code) and for any input narrower than rel_reduction (e.g. joint + bone, 6 channels),
    where the official rule would give no channel at all [design choice, as PYSKL's CTRGC]."""
    if in_channels in (3, 9) or in_channels < rel_reduction:
        return 8
    return in_channels // rel_reduction


class CTRGraphConv(nn.Module):
    """(N, C_in, T, V) -> (N, C_out, T, V): CTR-GCN's unit_gcn with its K CTRGC subsets fused.

    Args:
        A: (K, V, V) graph in skelact's convention (``A[k, i, j]``: message j -> i), which is the
            orientation the official CTR-GCN contracts its graph in.
        adaptive: the graph ``PA`` is a learnable parameter initialised from A (official default), else a
            fixed buffer ``A``.
        residual: add ``down(x)`` (identity, or 1x1 conv + BN when the width changes) before the ReLU.
        rel_reduction: relation width R = in_channels // rel_reduction (8 for 3 or 9 input channels).
        rel_channels: R itself, overriding that rule (PSUMNet's corrected first layer and its released SAMG
            rule, specs/psumnet.md 4).

    Parameters (official name per subset k -> here): ``convs.k.conv1/conv2`` -> ``rel_weight[k, 0/1]`` and
    ``rel_bias[k, 0/1]``; ``convs.k.conv3`` -> rows ``k*C:(k+1)*C`` of ``value``; ``convs.k.conv4`` ->
    ``lift_weight[k]``, ``lift_bias[k]``; ``PA``, ``alpha``, ``bn``, ``down`` keep their names.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        A: Tensor | np.ndarray,
        adaptive: bool = True,
        residual: bool = True,
        rel_reduction: int = 8,
        rel_channels: int | None = None,
    ) -> None:
        super().__init__()
        A = as_adjacency(A)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.num_subsets = k = A.shape[0]
        if rel_channels is None:
            rel_channels = relation_channels(in_channels, rel_reduction)
        self.rel_channels = r = rel_channels
        self.adaptive = adaptive
        # False runs conv1/conv2 on every frame before the temporal mean, as the official code does: same
        # outputs up to rounding, ~9 % more MACs for CTR-GCN (benchmarks/model_cost.py counts both ways).
        self.pool_first = True

        self.rel_weight = nn.Parameter(torch.empty(k, 2, r, in_channels))
        self.rel_bias = nn.Parameter(torch.zeros(k, 2, r))
        self.value = nn.Conv2d(in_channels, k * out_channels, 1)
        self.lift_weight = nn.Parameter(torch.empty(k, out_channels, r))
        self.lift_bias = nn.Parameter(torch.zeros(k, out_channels))
        if adaptive:
            self.PA = nn.Parameter(A)
        else:
            self.register_buffer("A", A)
        self.alpha = nn.Parameter(torch.zeros(1))
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.down: nn.Module | None = None
        if residual:
            self.down = (
                nn.Identity()
                if in_channels == out_channels
                else nn.Sequential(nn.Conv2d(in_channels, out_channels, 1), nn.BatchNorm2d(out_channels))
            )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Official init: every 1x1 conv kaiming-normal (fan_out of ONE subset's conv), zero bias; BN weight 1
        except the output BN at 1e-6 (the unit starts as its residual); alpha 0 (Q starts as PA)."""
        c = self.out_channels
        nn.init.normal_(self.rel_weight, 0.0, math.sqrt(2.0 / self.rel_channels))
        nn.init.normal_(self.value.weight, 0.0, math.sqrt(2.0 / c))
        nn.init.normal_(self.lift_weight, 0.0, math.sqrt(2.0 / c))
        for bias in (self.rel_bias, self.value.bias, self.lift_bias):
            nn.init.zeros_(bias)
        nn.init.zeros_(self.alpha)
        if isinstance(self.down, nn.Sequential):
            nn.init.kaiming_normal_(self.down[0].weight, mode="fan_out")
            nn.init.zeros_(self.down[0].bias)
            nn.init.ones_(self.down[1].weight)
            nn.init.zeros_(self.down[1].bias)
        nn.init.constant_(self.bn.weight, 1e-6)
        nn.init.zeros_(self.bn.bias)

    def graph(self) -> Tensor:
        """The (K, V, V) shared graph PA (or the fixed A) that the refinement is added to."""
        return self.PA if self.adaptive else self.A

    def refined_graph(self, x: Tensor) -> Tensor:
        """Q: (N, K, C_out, V, V), the channel-wise refined topology per sample and subset, Q[..., u, v]
        weighting the message v -> u (the official orientation)."""
        return self._refined_graph_t(x).transpose(-1, -2)

    def _refined_graph_t(self, x: Tensor) -> Tensor:
        """Q transposed, (N, K, C_out, V_from, V_to), built in that layout so the aggregation matmul and its
        backward need no transposed copies."""
        n, _, _, v = x.shape
        k, r = self.num_subsets, self.rel_channels
        weight = self.rel_weight.view(k * 2 * r, -1)
        if self.pool_first:  # (N, C_in, V): mean before the affine conv1/conv2 equals mean after them
            rel = torch.matmul(weight, x.mean(dim=2))
        else:  # the official order: conv1/conv2 on every frame, then the temporal mean
            rel = torch.matmul(weight, x.flatten(2)).view(n, k * 2 * r, -1, v).mean(dim=2)
        rel = (rel + self.rel_bias.view(-1, 1)).view(n, k, 2, r, v)
        # tanh(x1[u] - x2[v]) stored at [..., v, u]
        diff_t = torch.tanh(rel[:, :, 0].unsqueeze(-2) - rel[:, :, 1].unsqueeze(-1))  # (N, K, R, V, V)
        # alpha * (W4 D + b4) + PA, with alpha folded into the small weight instead of the big product.
        refined = torch.matmul(self.lift_weight * self.alpha, diff_t.view(n, k, r, v * v))  # (N, K, C, V*V)
        graph_t = self.graph().transpose(1, 2).reshape(k, 1, v * v)
        offset = graph_t + (self.alpha * self.lift_bias).unsqueeze(-1)
        return (refined + offset).view(n, k, self.out_channels, v, v)

    def forward(self, x: Tensor) -> Tensor:
        n, _, t, v = x.shape
        k, c = self.num_subsets, self.out_channels
        value = self.value(x).view(n, k, c, t, v)
        # z[n, c, t, u] = sum_k sum_v value[n, k, c, t, v] Q[n, k, c, u, v]: one batched matmul + sum over k
        # (on 2 CPU cores faster, forward and backward, than concatenating (k, v) into one contraction,
        # which needs permuted copies of both operands).
        y = torch.matmul(value, self._refined_graph_t(x)).sum(dim=1)
        y = self.bn(y)
        if self.down is not None:
            y = y + self.down(x)
        return self.relu(y)
