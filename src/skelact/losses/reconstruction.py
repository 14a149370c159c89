"""SkeletonMAE's reconstruction loss and its collapse monitor (specs/skeletonmae.md section 8).

Re-weighted cosine error over the masked joints V̄ of one graph, β = 2:

- ``literal``: Σ_{i ∈ V̄} ((1 − cos(x_i, z_i)) / |V̄|)^β, the paper's Eq. 2 as printed;
- ``mean``: (1 / |V̄|) Σ_{i ∈ V̄} (1 − cos(x_i, z_i))^β, GraphMAE's scaled cosine error with α = β, what the
  paper's words ("the average similarity gap") describe. The default [design choice].

The two differ by the factor |V̄|^(β−1) (literal = mean / |V̄|^(β−1)), constant for a fixed mask. Each graph's
error is computed with its own |V̄|; the loss is the mean over the graphs that have masked joints.
"""

from __future__ import annotations

from typing import Literal

import torch.nn.functional as F
from torch import Tensor

from skelact.errors import ConfigError

RCE_MODES = ("mean", "literal")
RCEMode = Literal["mean", "literal"]


def rce_per_graph(
    reconstruction: Tensor, target: Tensor, masked: Tensor, beta: float = 2.0, mode: RCEMode = "mean"
) -> Tensor:
    """(..., V, D) reconstruction and target, (..., V) bool masked joints → (...) RCE of each graph (0 for a
    graph without masked joints). Computed in float32."""
    if mode not in RCE_MODES:
        raise ConfigError(f"unknown rce_mode {mode!r}; choose one of {', '.join(RCE_MODES)}")
    if beta < 1:
        raise ConfigError(f"the RCE exponent beta must be >= 1, got {beta}")
    cos = F.cosine_similarity(reconstruction.float(), target.float(), dim=-1)
    weight = masked.to(cos.dtype)
    count = weight.sum(-1)
    if mode == "mean":
        error = ((1.0 - cos).clamp_min(0).pow(beta) * weight).sum(-1)
        return error / count.clamp_min(1.0)
    per_joint = (1.0 - cos).clamp_min(0) / count.clamp_min(1.0).unsqueeze(-1)
    return (per_joint.pow(beta) * weight).sum(-1)


def rce_loss(
    reconstruction: Tensor,
    target: Tensor,
    masked: Tensor,
    beta: float = 2.0,
    mode: RCEMode = "mean",
    graphs: Tensor | None = None,
) -> Tensor:
    """Mean RCE over the graphs with masked joints (and, with `graphs` (...) bool, only those graphs)."""
    per_graph = rce_per_graph(reconstruction, target, masked, beta, mode)
    counted = masked.any(-1)
    if graphs is not None:
        counted = counted & graphs
    weight = counted.to(per_graph.dtype)
    return (per_graph * weight).sum() / weight.sum().clamp_min(1.0)


def embedding_spread(features: Tensor, nodes: Tensor | None = None) -> Tensor:
    """The collapse monitor: the mean over feature dimensions of the standard deviation, over nodes, of the
    unit-normalised features (..., D). 0 means every node points the same way, where a cosine loss against
    those features is trivially 0 (the collapse the paper-literal target allows); `nodes` (...) bool picks
    the nodes counted."""
    unit = F.normalize(features.detach().float().reshape(-1, features.shape[-1]), dim=-1)
    if nodes is not None:
        unit = unit[nodes.reshape(-1)]
    if unit.shape[0] < 2:
        return unit.new_zeros(())
    return unit.std(dim=0).mean()
