"""ST-GCN (Yan et al., AAAI 2018) as re-implemented by PYSKL / MMAction2 (`STGCN` with default options).

Input (N, M, T, V, C) -> data BatchNorm -> persons folded into the batch -> 10 blocks
(GraphConv -> TemporalConv 9x1 + residual -> ReLU) -> mean over space-time and persons -> linear head.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch
from torch import Tensor, nn

from skelact.errors import ConfigError, FormatError, LayoutError
from skelact.models.heads import ClassificationHead
from skelact.models.layers import GraphConv, TemporalConv
from skelact.models.layers.graph_conv import Adaptive
from skelact.models.registry import register_model
from skelact.skeleton import Layout, get_layout
from skelact.skeleton.graph import build_adjacency

# Stage plan of PYSKL's STGCN defaults: 10 stages; channels double and time halves at stages 5 and 8.
NUM_STAGES = 10
INFLATE_STAGES = (5, 8)
DOWN_STAGES = (5, 8)
TEMPORAL_KERNEL = 9

DataBN = bool | Literal["MVC", "VC"]
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


class STGCN(nn.Module):
    """ST-GCN backbone + classification head; the timm-like contract shared by every skelact backbone.

    `forward(x)` maps (N, M, T, V, C) to logits (N, num_classes); `forward_features` gives the pooled
    (N, num_features) embedding (mean over persons, frames and joints, as PYSKL's GCNHead pools);
    `forward_head` maps it to logits. Absent (all-zero) persons count in that mean, as in PYSKL.
    ST-GCN++-style variants reuse this class through `adaptive`, `gcn_with_residual` and `temporal`.

    `data_bn`: True or "MVC" normalises each (person, joint, coordinate) channel separately (original ST-GCN;
    ties the model to `num_persons`); "VC" shares statistics across persons (PYSKL's default); False: none.
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
    ) -> None:
        super().__init__()
        self.layout = get_layout(layout)
        self.in_channels = in_channels
        self.num_persons = num_persons
        num_joints = self.layout.num_joints
        A = torch.from_numpy(build_adjacency(self.layout, strategy=graph_strategy))

        bn_mode = "MVC" if data_bn is True else data_bn
        if bn_mode == "MVC":
            self.data_bn: nn.Module = nn.BatchNorm1d(num_persons * num_joints * in_channels)
        elif bn_mode == "VC":
            self.data_bn = nn.BatchNorm1d(num_joints * in_channels)
        elif bn_mode is False:
            self.data_bn = nn.Identity()
        else:
            raise ConfigError(f"STGCN: data_bn must be True, False, 'MVC' or 'VC', got {data_bn!r}")
        self.data_bn_mode: str | None = bn_mode or None

        block_args = dict(adaptive=adaptive, gcn_with_residual=gcn_with_residual, dropout=dropout)
        # The first block has no residual (ST-GCN, PYSKL).
        plan = stage_plan(base_channels)
        blocks = [STGCNBlock(in_channels, base_channels, A, 1, False, temporal=temporal, **block_args)]
        blocks += [
            STGCNBlock(c_in, c_out, A, stride, temporal=temporal, **block_args)
            for c_in, c_out, stride in plan
        ]
        self.blocks = nn.Sequential(*blocks)
        self.num_features = plan[-1][1]
        self.head = ClassificationHead(self.num_features, num_classes, head_dropout)

    @property
    def num_classes(self) -> int:
        return self.head.num_classes

    def reset_classifier(self, num_classes: int, dropout: float = 0.0) -> None:
        """Replace the head (fine-tuning, linear probing) and keep the trunk."""
        self.head = ClassificationHead(self.num_features, num_classes, dropout)

    def _check_input(self, x: Tensor) -> None:
        if x.ndim != 5:
            raise FormatError(f"expected a batch (N, M, T, V, C), got shape {tuple(x.shape)}", where="STGCN")
        _, m, _, v, c = x.shape
        if v != self.layout.num_joints:
            raise LayoutError(
                f"STGCN built for layout {self.layout.name!r} with {self.layout.num_joints} joints "
                f"got {v} joints (input shape {tuple(x.shape)})"
            )
        if c != self.in_channels:
            raise FormatError(
                f"expected {self.in_channels} channels, got shape {tuple(x.shape)}", where="STGCN"
            )
        if self.data_bn_mode == "MVC" and m != self.num_persons:
            raise FormatError(
                f"expected {self.num_persons} persons (data_bn='MVC'), got shape {tuple(x.shape)}",
                where="STGCN",
                hint="pad or crop persons to num_persons, or build the model with data_bn='VC'",
            )

    def _fold_persons(self, x: Tensor) -> Tensor:
        """(N, M, T, V, C) -> data BN -> (N*M, C, T, V): persons join the batch once, here.

        The result is contiguous (N, C, T, V). Channels-last memory would make this fold free, but on 2 CPU
        cores the whole model was not clearly faster that way (within measurement noise, at most ~10 %), and
        every later layer would have to avoid `.view`; the input is small (C = 3), so two copies cost little.
        """
        n, m, t, v, c = x.shape
        if self.data_bn_mode is None:
            return x.permute(0, 1, 4, 2, 3).reshape(n * m, c, t, v)
        groups = n if self.data_bn_mode == "MVC" else n * m
        x = self.data_bn(x.permute(0, 1, 3, 4, 2).reshape(groups, -1, t))  # channels ordered (M,) V, C
        return x.view(n, m, v, c, t).permute(0, 1, 3, 4, 2).reshape(n * m, c, t, v)

    def forward_features(self, x: Tensor) -> Tensor:
        self._check_input(x)
        n, m = x.shape[:2]
        y = self.blocks(self._fold_persons(x))
        return y.mean(dim=(2, 3)).view(n, m, -1).mean(dim=1)

    def forward_head(self, features: Tensor) -> Tensor:
        return self.head(features)

    def forward(self, x: Tensor) -> Tensor:
        return self.forward_head(self.forward_features(x))


@register_model("stgcn")
def stgcn(
    *,
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
) -> STGCN:
    """ST-GCN with PYSKL's default options (spatial partition, edge importance, 10 blocks of 64-128-256).

    Cost of one sample, 60 classes, measured with benchmarks/model_cost.py (torch 2.13):

    - ntu25, 3 x 100 x 25 x 2 (C x T x V x M): 3,098,982 params, 5.70 G MACs
      (reference-results.md section 2: MMAction2 quotes 3.1M / 5.7G for ST-GCN 3D).
    - ntu25, 3 x 64 x 25 x 2: 3,098,982 params, 3.65 G MACs.
    - coco17, 3 x 100 x 17 x 2 (x, y, score): 3,088,806 params, 3.81 G MACs (MMAction2: 3.1M / 3.8G, 2D).

    `data_bn="VC"` (PYSKL's own default) has 150 fewer parameters for ntu25 3D.
    """
    return STGCN(
        layout,
        in_channels,
        num_classes,
        num_persons=num_persons,
        base_channels=base_channels,
        graph_strategy=graph_strategy,
        adaptive=adaptive,
        dropout=dropout,
        data_bn=data_bn,
        head_dropout=head_dropout,
    )
