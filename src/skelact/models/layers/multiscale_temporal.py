"""Multi-scale temporal convolution: parallel dilated (k x 1) convolutions, a max-pool and a 1x1 branch.

Two published arrangements share this module (``style``):

- ``"ctrgcn"`` — CTR-GCN's ``MultiScale_TemporalConv`` (official model/ctrgcn.py), defaults kernel 5,
  dilations (1, 2), so 4 branches of C/4 channels: per dilation 1x1 conv -> BN -> ReLU -> (k x 1) conv ->
  BN; 1x1 -> BN -> ReLU -> max-pool 3 -> BN; strided 1x1 -> BN; concatenated. Optional residual
  (identity, or 1x1 conv + BN), off inside CTR-GCN's block.
- ``"pyskl"`` — PYSKL's ``mstcn`` (ST-GCN++), defaults kernel 3, dilations (1, 2, 3, 4), so 6 branches of
  C//6 channels, the first taking the remainder; the (k x 1) convs and the 1x1 branch have no BN, the
  max-pool branch no BN after the pool; concatenated -> BN -> ReLU -> 1x1 conv -> BN -> dropout.

The branches' leading 1x1 convolutions read the same input, so they run as one convolution with one BN
(per-channel statistics are unchanged by concatenation), and CTR-GCN's four trailing BNs are one BN over
the concatenation. The strided 1x1 branch stays separate: its BN (CTR-GCN) normalises over the strided
frames only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import torch
from torch import Tensor, nn

from skelact.errors import ConfigError
from skelact.models.layers.temporal_conv import TemporalConv

Style = Literal["ctrgcn", "pyskl"]
STYLE_DEFAULTS: dict[str, tuple[int, tuple[int, ...]]] = {"ctrgcn": (5, (1, 2)), "pyskl": (3, (1, 2, 3, 4))}


def branch_widths(out_channels: int, num_branches: int, style: Style) -> list[int]:
    """Channels per branch; PYSKL gives the first branch the remainder, CTR-GCN requires a multiple."""
    width = out_channels // num_branches
    if style == "ctrgcn" and out_channels % num_branches:
        raise ConfigError(
            f"MultiScaleTemporalConv: {out_channels} channels is not a multiple of {num_branches} branches"
        )
    if width == 0:
        raise ConfigError(f"MultiScaleTemporalConv: {out_channels} channels for {num_branches} branches")
    return [out_channels - width * (num_branches - 1)] + [width] * (num_branches - 1)


class MultiScaleTemporalConv(nn.Module):
    """(N, C_in, T, V) -> (N, C_out, ceil(T / stride), V); see the module docstring for the two styles."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int = 1,
        style: Style = "ctrgcn",
        kernel_size: int | None = None,
        dilations: Sequence[int] | None = None,
        residual: bool = False,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if style not in STYLE_DEFAULTS:
            raise ConfigError(f"MultiScaleTemporalConv: unknown style {style!r}", hint="'ctrgcn' or 'pyskl'")
        default_kernel, default_dilations = STYLE_DEFAULTS[style]
        kernel_size = default_kernel if kernel_size is None else kernel_size
        dilations = tuple(default_dilations if dilations is None else dilations)
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ConfigError(f"MultiScaleTemporalConv: kernel_size must be odd and > 0, got {kernel_size}")
        self.style = style
        self.stride = stride
        self.widths = widths = branch_widths(out_channels, len(dilations) + 2, style)
        pre_width = sum(widths[:-1])  # the dilated branches and the max-pool branch

        self.pre = nn.Conv2d(in_channels, pre_width, 1)
        self.pre_bn = nn.BatchNorm2d(pre_width)
        self.relu = nn.ReLU(inplace=True)
        with_norm = style == "ctrgcn"
        self.temporal = nn.ModuleList(
            nn.Conv2d(
                w,
                w,
                (kernel_size, 1),
                stride=(stride, 1),
                padding=((kernel_size - 1) * d // 2, 0),
                dilation=(d, 1),
            )
            for w, d in zip(widths[: len(dilations)], dilations, strict=True)
        )
        self.pool = nn.MaxPool2d((3, 1), stride=(stride, 1), padding=(1, 0))
        self.pointwise = nn.Conv2d(in_channels, widths[-1], 1, stride=(stride, 1))
        self.bn: nn.Module
        if with_norm:
            self.transform = None
            self.bn = nn.BatchNorm2d(out_channels)  # the four branch-final BNs, concatenated
        else:
            self.transform = nn.Sequential(
                nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True), nn.Conv2d(out_channels, out_channels, 1)
            )
            self.bn = nn.BatchNorm2d(out_channels)
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.residual: nn.Module | None = None
        if residual:
            same = in_channels == out_channels and stride == 1
            self.residual = nn.Identity() if same else TemporalConv(in_channels, out_channels, 1, stride)
        if style == "ctrgcn":
            self._init_ctrgcn()

    def _init_ctrgcn(self) -> None:
        """CTR-GCN's `weights_init`: convs kaiming-normal (fan_out of each branch's own conv), zero bias;
        BN weights N(1, 0.02), zero bias."""
        widths = self.widths
        with torch.no_grad():
            start = 0
            for w in widths[:-1]:
                nn.init.normal_(self.pre.weight[start : start + w], 0.0, math.sqrt(2.0 / w))
                start += w
        for conv in (*self.temporal, self.pointwise):
            nn.init.kaiming_normal_(conv.weight, mode="fan_out")
        for conv in (self.pre, *self.temporal, self.pointwise):
            nn.init.zeros_(conv.bias)
        for bn in (self.pre_bn, self.bn):
            nn.init.normal_(bn.weight, 1.0, 0.02)
            nn.init.zeros_(bn.bias)

    def forward(self, x: Tensor) -> Tensor:
        h = self.relu(self.pre_bn(self.pre(x)))
        outs, start = [], 0
        for conv, w in zip(self.temporal, self.widths[: len(self.temporal)], strict=True):
            outs.append(conv(h[:, start : start + w]))
            start += w
        outs.append(self.pool(h[:, start:]))
        outs.append(self.pointwise(x))
        y = torch.cat(outs, dim=1)
        if self.transform is not None:
            y = self.transform(y)
        y = self.drop(self.bn(y))
        if self.residual is not None:
            y = y + self.residual(x)
        return y
