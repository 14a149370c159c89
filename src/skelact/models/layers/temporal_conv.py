"""Temporal convolutions: a (k x 1) convolution over frames, joint by joint.

`TemporalConv` is ST-GCN's temporal unit (PYSKL `unit_tcn`). The multi-scale variant used by ST-GCN++ and
CTR-GCN will live next to it and share the (N*M, C, T, V) contract.
"""

from __future__ import annotations

from torch import Tensor, nn

from skelact.errors import ConfigError


class TemporalConv(nn.Module):
    """(N*M, C_in, T, V) -> (N*M, C_out, ceil(T / stride), V): conv (k, 1) -> BN -> dropout.

    No activation: in ST-GCN the ReLU follows the residual sum, in the block.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 9,
        stride: int = 1,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if kernel_size < 1 or kernel_size % 2 == 0:
            # Even kernels would shift the sequence by half a frame with symmetric padding.
            raise ConfigError(f"TemporalConv: kernel_size must be odd and positive, got {kernel_size}")
        pad = (kernel_size - 1) // 2
        self.conv = nn.Conv2d(
            in_channels, out_channels, kernel_size=(kernel_size, 1), stride=(stride, 1), padding=(pad, 0)
        )
        self.bn = nn.BatchNorm2d(out_channels)
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        return self.drop(self.bn(self.conv(x)))
