"""ST-GCN++ (Duan et al., "PYSKL", ACM MM 2022): PYSKL's `STGCN` with gcn_adaptive='init',
gcn_with_res=True, tcn_type='mstcn' (configs/stgcn++), specs/brl.md section 2.

Differences from ST-GCN: the whole (K, V, V) graph is one learnable tensor initialised from the spatial
partition; the graph convolution has its own residual; the temporal unit is PYSKL's six-branch multi-scale
convolution; the data BN is shared by the persons ("VC"). The graph is PYSKL's: its NTU edge set (hand tip
and thumb on the hand, `skelact.skeleton.layouts.GRAPH_VARIANTS`) contracted in PYSKL's orientation
(`stgcn.model_graph`). PYSKL keeps PyTorch's default initialisation in the backbone; the head is
N(0, 0.01) as its GCNHead.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from skelact.models.backbones.base import DataBN
from skelact.models.backbones.stgcn import STGCN, GraphConvention
from skelact.models.layers import MultiScaleTemporalConv
from skelact.models.registry import builds, register_model
from skelact.skeleton import Layout


def _pyskl_mstcn(in_channels: int, out_channels: int, stride: int, dropout: float) -> nn.Module:
    return MultiScaleTemporalConv(in_channels, out_channels, stride, style="pyskl", dropout=dropout)


class STGCNPP(STGCN):
    """ST-GCN++ backbone + head; an `STGCN` with PYSKL's ST-GCN++ options (see the module docstring)."""

    def __init__(
        self,
        layout: Layout | str,
        in_channels: int,
        num_classes: int,
        num_persons: int = 2,
        base_channels: int = 64,
        graph_strategy: str = "spatial",
        dropout: float = 0.0,
        data_bn: DataBN = "VC",
        head_dropout: float = 0.0,
        graph_variant: str | None = "pyskl",
        graph_convention: GraphConvention = "pyskl",
    ) -> None:
        super().__init__(
            layout,
            in_channels,
            num_classes,
            num_persons=num_persons,
            base_channels=base_channels,
            graph_strategy=graph_strategy,
            adaptive="init",
            dropout=dropout,
            data_bn=data_bn,
            head_dropout=head_dropout,
            gcn_with_residual=True,
            temporal=_pyskl_mstcn,
            graph_variant=graph_variant,
            graph_convention=graph_convention,
        )


@register_model("stgcnpp")
@builds(STGCNPP)
def stgcnpp(**kwargs: Any) -> STGCNPP:
    """ST-GCN++ as in PYSKL (10 blocks of 64-128-256, learnable graph, multi-scale TCN).

    Cost of one sample, measured with benchmarks/model_cost.py (torch 2.13):

    - ntu25, 3 x 64 x 25 x 2, 60 classes: 1,403,144 params (PYSKL quotes 1.39M; specs/brl.md derives
      1,403,144), 1.87 G MACs; 3 x 100 x 25 x 2: 2.93 G MACs (MMAction2 quotes 2.96 G FLOPs for 3D).
    - kinect20, 3 x 52 x 20 x 1, 10 classes: 1,383,514 params.

    `dropout` is the temporal units' dropout (PYSKL tcn_dropout; none in the first block).
    """
    return STGCNPP(**kwargs)
