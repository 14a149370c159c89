"""CTR-GCN (Chen et al., "Channel-wise Topology Refinement Graph Convolution", ICCV 2021), the official model
(Uason-Chen/CTR-GCN, model/ctrgcn.py) with the same parameters, initialisation and maths.

Input (N, M, T, V, C) -> data BN over (M, V, C) -> 10 TCN_GCN units (CTRGraphConv -> multi-scale TCN with
kernel 5, dilations 1 and 2, + residual -> ReLU), widths 64 x4, 128 (stride 2) x3, 256 (stride 2) x3 ->
mean over frames, joints and persons -> dropout -> linear. The graph is the layout's spatial partition
[I, inward, outward], column-normalised, contracted as the official code does (`ctr_graph_conv`).
Official checkpoints load through `convert_official_state_dict`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from skelact.errors import ConfigError
from skelact.models.backbones.base import DataBN, GraphBackbone
from skelact.models.backbones.stgcn import GraphConvention, model_graph, stage_plan
from skelact.models.layers import CTRGraphConv, MultiScaleTemporalConv, TemporalConv
from skelact.models.registry import builds, register_model
from skelact.skeleton import Layout


def init_official_head(fc: nn.Linear) -> None:
    """Official: fc weight N(0, sqrt(2 / num_classes)); PyTorch's default bias."""
    nn.init.normal_(fc.weight, 0.0, math.sqrt(2.0 / fc.out_features))
    bound = 1.0 / math.sqrt(fc.in_features)
    nn.init.uniform_(fc.bias, -bound, bound)


class CTRGCNBlock(nn.Module):
    """The official TCN_GCN_unit: ReLU(tcn(gcn(x)) + residual(x))."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        A: Tensor,
        stride: int = 1,
        residual: bool = True,
        adaptive: bool = True,
        kernel_size: int = 5,
        dilations: Sequence[int] = (1, 2),
        rel_channels: int | None = None,
    ) -> None:
        super().__init__()
        self.gcn = CTRGraphConv(in_channels, out_channels, A, adaptive=adaptive, rel_channels=rel_channels)
        self.tcn = MultiScaleTemporalConv(
            out_channels, out_channels, stride, style="ctrgcn", kernel_size=kernel_size, dilations=dilations
        )
        self.residual: nn.Module | None = None
        if residual:
            if in_channels == out_channels and stride == 1:
                self.residual = nn.Identity()
            else:
                self.residual = TemporalConv(in_channels, out_channels, 1, stride)
                nn.init.kaiming_normal_(self.residual.conv.weight, mode="fan_out")
                nn.init.zeros_(self.residual.conv.bias)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        y = self.tcn(self.gcn(x))
        if self.residual is not None:
            y = y + self.residual(x)
        return self.relu(y)


class CTRGCN(GraphBackbone):
    """CTR-GCN backbone + head; see the module docstring. `dropout` is the official `drop_out` before fc."""

    def __init__(
        self,
        layout: Layout | str,
        in_channels: int,
        num_classes: int,
        num_persons: int = 2,
        base_channels: int = 64,
        adaptive: bool = True,
        dropout: float = 0.0,
        data_bn: DataBN = True,
        kernel_size: int = 5,
        dilations: Sequence[int] = (1, 2),
        graph_variant: str | None = None,
        graph_convention: GraphConvention = "ctrgcn",
    ) -> None:
        super().__init__(layout, in_channels, num_persons, data_bn)
        A = model_graph(self.layout, "spatial", graph_variant, graph_convention)
        opts = dict(adaptive=adaptive, kernel_size=kernel_size, dilations=tuple(dilations))
        plan = stage_plan(base_channels)
        blocks = [CTRGCNBlock(in_channels, base_channels, A, 1, residual=False, **opts)]
        blocks += [CTRGCNBlock(c_in, c_out, A, stride, **opts) for c_in, c_out, stride in plan]
        self.blocks = nn.Sequential(*blocks)
        self._build_head(plan[-1][1], num_classes, dropout)
        self._init_head()

    def _init_head(self) -> None:
        init_official_head(self.head.fc)

    def reset_classifier(self, num_classes: int, dropout: float = 0.0) -> None:
        super().reset_classifier(num_classes, dropout)
        self._init_head()


@register_model("ctrgcn")
@builds(CTRGCN)
def ctrgcn(**kwargs: Any) -> CTRGCN:
    """CTR-GCN as in the official repository (defaults = its NTU and NW-UCLA configs).

    Cost of one sample, measured with benchmarks/model_cost.py (torch 2.13); the parameter counts equal
    the official model's:

    - ntu25, 3 x 64 x 25 x 2, 60 classes: 1,446,672 params, 1.94 G MACs (120 classes: 1,462,092).
    - kinect20, 3 x 52 x 20 x 1, 10 classes: 1,426,892 params.
    """
    return CTRGCN(**kwargs)


# --------------------------------------------------------------------------------- official checkpoints

_BN_FIELDS = ("weight", "bias", "running_mean", "running_var")


def convert_official_state_dict(state_dict: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """Map an official CTR-GCN state dict (``l1.gcn1.convs.0.conv1.weight``, ...) onto `CTRGCN`'s names.

    Per-subset and per-branch tensors are stacked or concatenated in subset / branch order; concatenated
    BatchNorms keep the first branch's ``num_batches_tracked``. A ``module.`` prefix (DataParallel) is
    dropped. Raises ConfigError on keys it does not know.
    """
    sd = {k.removeprefix("module."): v for k, v in state_dict.items()}
    out: dict[str, Tensor] = {}
    used: set[str] = set()

    def take(key: str) -> Tensor:
        used.add(key)
        return sd[key]

    for key in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked"):
        out[f"data_bn.{key}"] = take(f"data_bn.{key}")
    out["head.fc.weight"], out["head.fc.bias"] = take("fc.weight"), take("fc.bias")

    layers = sorted({int(m.group(1)) for k in sd if (m := re.match(r"l(\d+)\.", k))})
    for layer in layers:
        src, dst = f"l{layer}", f"blocks.{layer - 1}"
        subsets = sorted({int(m.group(1)) for k in sd if (m := re.match(rf"{src}\.gcn1\.convs\.(\d+)\.", k))})
        g, gd = f"{src}.gcn1", f"{dst}.gcn"
        conv = [f"{g}.convs.{s}" for s in subsets]
        for field in ("weight", "bias"):
            pair = [torch.stack([take(f"{c}.conv1.{field}"), take(f"{c}.conv2.{field}")]) for c in conv]
            rel = torch.stack(pair)  # (K, 2, R[, C_in, 1, 1])
            out[f"{gd}.rel_{field}"] = rel.flatten(3) if field == "weight" else rel
            out[f"{gd}.value.{field}"] = torch.cat([take(f"{c}.conv3.{field}") for c in conv])
            lift = torch.stack([take(f"{c}.conv4.{field}") for c in conv])
            out[f"{gd}.lift_{field}"] = lift.flatten(2) if field == "weight" else lift
        if f"{g}.PA" in sd:  # adaptive=False keeps A outside the state dict, as ours keeps it in a buffer
            out[f"{gd}.PA"] = take(f"{g}.PA")
        out[f"{gd}.alpha"] = take(f"{g}.alpha")
        for rest in [k for k in sd if k.startswith((f"{g}.bn.", f"{g}.down."))]:
            out[f"{gd}.{rest[len(g) + 1 :]}"] = take(rest)

        t, td = f"{src}.tcn1.branches", f"{dst}.tcn"
        num_branches = len({int(m.group(1)) for k in sd if (m := re.match(rf"{t}\.(\d+)\.", k))})
        dilated = range(num_branches - 2)
        pooled, point = num_branches - 2, num_branches - 1
        pre = [*dilated, pooled]
        out[f"{td}.pre.weight"] = torch.cat([take(f"{t}.{b}.0.weight") for b in pre])
        out[f"{td}.pre.bias"] = torch.cat([take(f"{t}.{b}.0.bias") for b in pre])
        final_bn = [*(f"{t}.{b}.3.bn" for b in dilated), f"{t}.{pooled}.4", f"{t}.{point}.1"]
        for name, parts in (("pre_bn", [f"{t}.{b}.1" for b in pre]), ("bn", final_bn)):
            for field in _BN_FIELDS:
                out[f"{td}.{name}.{field}"] = torch.cat([take(f"{p}.{field}") for p in parts])
            out[f"{td}.{name}.num_batches_tracked"] = take(f"{parts[0]}.num_batches_tracked")
            used.update(f"{p}.num_batches_tracked" for p in parts)
        for b in dilated:
            for field in ("weight", "bias"):
                out[f"{td}.temporal.{b}.{field}"] = take(f"{t}.{b}.3.conv.{field}")
        for field in ("weight", "bias"):
            out[f"{td}.pointwise.{field}"] = take(f"{t}.{point}.0.{field}")
        for rest in [k for k in sd if k.startswith(f"{src}.residual.")]:
            out[f"{dst}.{rest[len(src) + 1 :]}"] = take(rest)

    if unknown := sorted(set(sd) - used):
        raise ConfigError(f"official CTR-GCN state dict has keys this converter does not know: {unknown[:5]}")
    return out
