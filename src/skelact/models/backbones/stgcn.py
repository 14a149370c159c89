"""ST-GCN (Yan et al., AAAI 2018) as re-implemented by PYSKL / MMAction2 (`STGCN` with default options).

Input (N, M, T, V, C) -> data BatchNorm -> persons folded into the batch -> 10 blocks
(GraphConv -> TemporalConv 9x1 + residual -> ReLU) -> mean over space-time and persons -> linear head.
The shared parts (input checks, data BN, pooling, head) are in `base.GraphBackbone`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Literal

import torch
from torch import Tensor, nn

from skelact.errors import ConfigError
from skelact.models.backbones.base import DataBN, GraphBackbone
from skelact.models.layers import GraphConv, TemporalConv
from skelact.models.layers.graph_conv import Adaptive
from skelact.models.registry import builds, register_model
from skelact.skeleton import Layout
from skelact.skeleton.graph import build_adjacency
from skelact.skeleton.layouts import graph_variant

# Stage plan of PYSKL's STGCN defaults: 10 stages; channels double and time halves at stages 5 and 8.
NUM_STAGES = 10
INFLATE_STAGES = (5, 8)
DOWN_STAGES = (5, 8)
TEMPORAL_KERNEL = 9

GraphConvention = Literal["ctrgcn", "pyskl"]
GRAPH_CONVENTIONS: tuple[GraphConvention, ...] = ("ctrgcn", "pyskl")
# (in_channels, out_channels, stride, dropout) -> module mapping (N*M, in, T, V) -> (N*M, out, T/stride, V)
TemporalFactory = Callable[[int, int, int, float], nn.Module]


def _default_temporal(in_channels: int, out_channels: int, stride: int, dropout: float) -> nn.Module:
    return TemporalConv(in_channels, out_channels, TEMPORAL_KERNEL, stride, dropout)


def stage_plan(base_channels: int) -> list[tuple[int, int, int]]:
    """(in, out, stride) per block after the stem: 64x3, 128 (s2) x3, 256 (s2) x3 for base 64."""
    plan, channels = [], base_channels
    for stage in range(2, NUM_STAGES + 1):
        out = channels * 2 if stage in INFLATE_STAGES else channels
        plan.append((channels, out, 2 if stage in DOWN_STAGES else 1))
        channels = out
    return plan


class STGCNBlock(nn.Module):
    """GraphConv -> temporal unit, plus a residual (identity, or 1x1 conv + BN when the shape changes)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        A: Tensor,
        stride: int = 1,
        residual: bool = True,
        adaptive: Adaptive = "importance",
        gcn_with_residual: bool = False,
        dropout: float = 0.0,
        temporal: TemporalFactory = _default_temporal,
    ) -> None:
        super().__init__()
        self.gcn = GraphConv(in_channels, out_channels, A, adaptive=adaptive, with_residual=gcn_with_residual)
        self.tcn = temporal(out_channels, out_channels, stride, dropout)
        self.residual: nn.Module | None = None
        if residual:
            same = in_channels == out_channels and stride == 1
            self.residual = nn.Identity() if same else TemporalConv(in_channels, out_channels, 1, stride)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        y = self.tcn(self.gcn(x))
        if self.residual is not None:
            y = y + self.residual(x)
        return self.relu(y)


def model_graph(
    layout: Layout,
    strategy: str = "spatial",
    variant: str | None = None,
    convention: GraphConvention = "ctrgcn",
) -> Tensor:
    """(K, V, V) adjacency in skelact's convention (``A[k, i, j]``: message j -> i) for a model.

    `variant` picks another codebase's edge set for the layout (`skelact.skeleton.layouts.graph_variant`).
    `convention` says how that codebase contracts its matrices: CTR-GCN sums ``A[i, j] x[j]`` into joint i
    (skelact's convention); ST-GCN and PYSKL build the same matrices but sum ``A[j, i] x[j]`` (einsum
    ``'nkctv,kvw->nctw'``), so their graph is our matrix transposed: with column normalisation each joint
    then averages what it receives instead of each sender splitting what it sends.
    """
    if convention not in GRAPH_CONVENTIONS:
        raise ConfigError(f"unknown graph convention {convention!r}", hint="'ctrgcn' or 'pyskl'")
    A = torch.from_numpy(build_adjacency(graph_variant(layout, variant), strategy=strategy))
    return A.transpose(1, 2).contiguous() if convention == "pyskl" else A


class STGCN(GraphBackbone):
    """ST-GCN backbone + classification head (`GraphBackbone` gives the shared contract).

    Input (N, M, T, V, C) -> data BN -> 10 blocks (GraphConv -> temporal unit + residual -> ReLU) -> mean
    over frames, joints and persons -> linear head. ST-GCN++-style variants reuse this class through
    `adaptive`, `gcn_with_residual`, `temporal`, `graph_variant` and `graph_convention` (`model_graph`).
    """

    def __init__(
        self,
        layout: Layout | str,
        in_channels: int,
        num_classes: int,
        num_persons: int = 2,
        base_channels: int = 64,
        graph_strategy: str = "spatial",
        adaptive: Adaptive = "importance",
        dropout: float = 0.0,
        data_bn: DataBN = True,
        head_dropout: float = 0.0,
        gcn_with_residual: bool = False,
        temporal: TemporalFactory = _default_temporal,
        graph_variant: str | None = None,
        graph_convention: GraphConvention = "ctrgcn",
    ) -> None:
        super().__init__(layout, in_channels, num_persons, data_bn)
        A = model_graph(self.layout, graph_strategy, graph_variant, graph_convention)
        block_args = dict(adaptive=adaptive, gcn_with_residual=gcn_with_residual, temporal=temporal)
        # The first block has no residual and no temporal dropout (PYSKL pops its tcn_dropout).
        plan = stage_plan(base_channels)
        blocks = [STGCNBlock(in_channels, base_channels, A, 1, False, dropout=0.0, **block_args)]
        blocks += [
            STGCNBlock(c_in, c_out, A, stride, dropout=dropout, **block_args) for c_in, c_out, stride in plan
        ]
        self.blocks = nn.Sequential(*blocks)
        self._build_head(plan[-1][1], num_classes, head_dropout)


@register_model("stgcn")
@builds(STGCN)
def stgcn(**kwargs: Any) -> STGCN:
    """ST-GCN with PYSKL's default options (spatial partition, edge importance, 10 blocks of 64-128-256).

    The defaults keep skelact's first ST-GCN exactly: the layout's own graph (CTR-GCN's for ntu25)
    contracted in CTR-GCN's convention. PYSKL's ST-GCN exactly is ``graph_variant="pyskl",
    graph_convention="pyskl", data_bn="VC"`` (see `model_graph`).

    Cost of one sample, 60 classes, measured with benchmarks/model_cost.py (torch 2.13):

    - ntu25, 3 x 100 x 25 x 2 (C x T x V x M): 3,098,982 params, 5.70 G MACs
      (reference-results.md section 2: MMAction2 quotes 3.1M / 5.7G for ST-GCN 3D).
    - ntu25, 3 x 64 x 25 x 2: 3,098,982 params, 3.65 G MACs.
    - coco17, 3 x 100 x 17 x 2 (x, y, score): 3,088,806 params, 3.81 G MACs (MMAction2: 3.1M / 3.8G, 2D).

    `data_bn="VC"` (PYSKL's own default) has 150 fewer parameters for ntu25 3D.
    """
    return STGCN(**kwargs)


# --------------------------------------------------------------------------------- PYSKL checkpoints

_BN_FIELDS = ("weight", "bias", "running_mean", "running_var")


def convert_pyskl_state_dict(state_dict: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """Map a PYSKL ST-GCN / ST-GCN++ state dict onto `STGCN` / `STGCNPP` names.

    PYSKL keys: ``backbone.gcn.<i>.gcn.{A,PA,conv,bn,down}``, ``backbone.gcn.<i>.tcn...`` (unit_tcn or
    mstcn branches), ``backbone.gcn.<i>.residual``, ``backbone.data_bn``, ``cls_head.fc_cls`` (``fc`` is
    accepted too). PYSKL contracts its graph over the first joint index, so ``A`` and ``PA`` are transposed
    into skelact's convention whatever `graph_convention` the receiving model was built with. mstcn's
    per-branch 1x1 convs and BNs are concatenated in branch order (BN ``num_batches_tracked`` from the
    first branch). Raises ConfigError on keys it does not know.
    """
    sd = {k.removeprefix("module.").removeprefix("backbone."): v for k, v in state_dict.items()}
    out: dict[str, Tensor] = {}
    used: set[str] = set()

    def take(key: str) -> Tensor:
        used.add(key)
        return sd[key]

    for key in [k for k in sd if k.startswith("data_bn.")]:
        out[key] = take(key)
    for head in ("cls_head.fc_cls", "fc"):
        if f"{head}.weight" in sd:
            out["head.fc.weight"], out["head.fc.bias"] = take(f"{head}.weight"), take(f"{head}.bias")

    blocks = sorted({int(m.group(1)) for k in sd if (m := re.match(r"gcn\.(\d+)\.", k))})
    for i in blocks:
        src, dst = f"gcn.{i}", f"blocks.{i}"
        for key in [k for k in sd if k.startswith((f"{src}.gcn.", f"{src}.residual."))]:
            value = take(key)
            if key.endswith((".gcn.A", ".gcn.PA")):
                value = value.transpose(-1, -2).contiguous()
            out[dst + key[len(src) :]] = value
        t = f"{src}.tcn"
        if f"{t}.branches.0.0.weight" not in sd:  # unit_tcn: same names
            for key in [k for k in sd if k.startswith(f"{t}.")]:
                out[dst + key[len(src) :]] = take(key)
            continue
        num_branches = len({int(m.group(1)) for k in sd if (m := re.match(rf"{t}\.branches\.(\d+)\.", k))})
        pre = range(num_branches - 1)  # the dilated branches and the max-pool branch
        for field in ("weight", "bias"):
            out[f"{dst}.tcn.pre.{field}"] = torch.cat([take(f"{t}.branches.{b}.0.{field}") for b in pre])
            out[f"{dst}.tcn.pointwise.{field}"] = take(f"{t}.branches.{num_branches - 1}.{field}")
            for b in range(num_branches - 2):
                out[f"{dst}.tcn.temporal.{b}.{field}"] = take(f"{t}.branches.{b}.3.conv.{field}")
        for field in _BN_FIELDS:
            out[f"{dst}.tcn.pre_bn.{field}"] = torch.cat([take(f"{t}.branches.{b}.1.{field}") for b in pre])
        out[f"{dst}.tcn.pre_bn.num_batches_tracked"] = take(f"{t}.branches.0.1.num_batches_tracked")
        used.update(f"{t}.branches.{b}.1.num_batches_tracked" for b in pre)
        for key in [k for k in sd if k.startswith((f"{t}.transform.", f"{t}.bn."))]:
            out[dst + key[len(src) :]] = take(key)

    if unknown := sorted(set(sd) - used):
        raise ConfigError(f"PYSKL state dict has keys this converter does not know: {unknown[:5]}")
    return out
