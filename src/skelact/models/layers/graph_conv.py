"""Spatial graph convolution shared by ST-GCN, ST-GCN++ and CTR-GCN-style backbones.

One unit = a 1x1 convolution to K*out channels (one slice per adjacency subset), aggregation over the
joints with the K adjacency matrices, BatchNorm, optional residual, ReLU. This is the PYSKL `unit_gcn`
arrangement ("pre" convolution), which folds ST-GCN's edge-importance weighting into the adjacency.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
from torch import Tensor, nn

from skelact.errors import ConfigError

Adaptive = Literal["init", "importance", "offset"] | None
ADAPTIVE_MODES: tuple[Adaptive, ...] = (None, "init", "importance", "offset")


def as_adjacency(A: Tensor | np.ndarray) -> Tensor:
    """Float32 tensor copy of a (K, V, V) adjacency stack; ConfigError otherwise."""
    A = torch.as_tensor(A, dtype=torch.float32)
    if A.ndim != 3 or A.shape[1] != A.shape[2]:
        raise ConfigError(f"adjacency must have shape (K, V, V), got {tuple(A.shape)}")
    return A.detach().clone()


def graph_aggregate(y: Tensor, A: Tensor) -> Tensor:
    """x_out[n, c, t, i] = sum_k sum_j A[k, i, j] * y[n, k * C + c, t, j], as one matmul over (K, V).

    y: (N, K*C, T, V) -> (N, C, T, V). In the default memory format this is a batched matmul over the K
    subsets plus a sum over K: ~1.7x faster on CPU (forward + backward) than the equivalent einsum, which
    permutes y into a fresh buffer. For a model converted to channels-last memory, y is laid out as
    (N, T, V, K, C), so the (V, K) pair is contiguous and the aggregation is one copy-free
    (V, V*K) @ (N*T, V*K, C) product whose output is again channels-last.
    """
    n, kc, t, v = y.shape
    k = A.shape[0]
    c = kc // k
    if y.is_contiguous(memory_format=torch.channels_last) and not y.is_contiguous():
        agg = torch.matmul(
            A.permute(1, 2, 0).reshape(v, v * k), y.permute(0, 2, 3, 1).reshape(n * t, v * k, c)
        )
        return agg.view(n, t, v, c).permute(0, 3, 1, 2)
    return torch.matmul(y.reshape(n, k, c * t, v), A.transpose(1, 2)).sum(1).view(n, c, t, v)


class GraphConv(nn.Module):
    """(N*M, C_in, T, V) -> (N*M, C_out, T, V) spatial graph convolution.

    Args:
        A: adjacency stack (K, V, V), convention x_out[..., i] = sum_j A[k, i, j] x_in[..., j]
            (`skelact.skeleton.graph.build_adjacency`).
        adaptive: how the graph learns.
            ``None``: A fixed (a buffer).
            ``"importance"``: A * M with M learnable, initialised to ones -- ST-GCN's edge-importance
            weighting (Yan et al. 2018), the PYSKL ST-GCN default.
            ``"init"``: A itself is the learnable parameter (ST-GCN++'s default).
            ``"offset"``: A + B with B learnable and zero-initialised (2s-AGCN's B matrix).
        with_residual: add a residual around the unit (identity, or 1x1 conv + BN when channels change),
            as ST-GCN++ does; ST-GCN has none.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        A: Tensor | np.ndarray,
        adaptive: Adaptive = "importance",
        with_residual: bool = False,
    ) -> None:
        super().__init__()
        if adaptive not in ADAPTIVE_MODES:
            raise ConfigError(
                f"GraphConv: unknown adaptive mode {adaptive!r}",
                hint="use one of None, 'init', 'importance', 'offset'",
            )
        A = as_adjacency(A)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.num_subsets = A.shape[0]
        self.adaptive = adaptive

        if adaptive == "init":
            self.A = nn.Parameter(A)
        else:
            self.register_buffer("A", A)
        if adaptive == "importance":
            self.PA = nn.Parameter(torch.ones_like(A))
        elif adaptive == "offset":
            self.PA = nn.Parameter(torch.zeros_like(A))

        self.conv = nn.Conv2d(in_channels, out_channels * self.num_subsets, kernel_size=1)
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.down: nn.Module | None = None
        if with_residual:
            self.down = (
                nn.Identity()
                if in_channels == out_channels
                else nn.Sequential(nn.Conv2d(in_channels, out_channels, 1), nn.BatchNorm2d(out_channels))
            )

    def adjacency(self) -> Tensor:
        """The (K, V, V) graph actually used in the forward pass (after learning)."""
        if self.adaptive == "importance":
            return self.A * self.PA
        if self.adaptive == "offset":
            return self.A + self.PA
        return self.A

    def forward(self, x: Tensor) -> Tensor:
        y = self.bn(graph_aggregate(self.conv(x), self.adjacency()))
        if self.down is not None:
            y = y + self.down(x)
        return self.relu(y)
