"""Convolutions over frames in either memory layout of a graph backbone's activations.

The backbones' layers are written for (N, C, T, V) activations. CTR-GCN and PSUMNet run theirs as
(N, C, V, T), frames last (`CTRGraphConv`'s docstring says why); the same (k x 1) temporal weights then act
as (1 x k) kernels over the last axis. These helpers apply a layer's own parameters in either layout, so
the parameters, their shapes and the checkpoints are the same in both.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn


def conv_over_frames(conv: nn.Conv2d, x: Tensor, time_last: bool) -> Tensor:
    """`conv` (a (k x 1) Conv2d built for (N, C, T, V)) applied to x; x is (N, C, V, T) when `time_last`."""
    if not time_last:
        return conv(x)
    weight = conv.weight
    return F.conv2d(
        x,
        weight.view(weight.shape[0], weight.shape[1], 1, weight.shape[2]),
        conv.bias,
        (1, conv.stride[0]),
        (0, conv.padding[0]),  # type: ignore[index]
        (1, conv.dilation[0]),
        conv.groups,
    )


def max_pool_over_frames(pool: nn.MaxPool2d, x: Tensor, time_last: bool) -> Tensor:
    """`pool` (a (k x 1) MaxPool2d built for (N, C, T, V)) applied to x in either layout."""
    if not time_last:
        return pool(x)
    kernel, stride, padding = (
        p[0] if isinstance(p, tuple) else p for p in (pool.kernel_size, pool.stride, pool.padding)
    )
    return F.max_pool2d(x, (1, kernel), (1, stride), (0, padding), ceil_mode=pool.ceil_mode)
