"""ResNet-18/34 image trunks with torchvision's module names, so torchvision state dicts load unchanged.

Why not torchvision itself: the torchvision 0.28.0 wheel our package index offers (the release built for
torch 2.13) is linked against the CUDA build of torch; with the CPU build that skelact installs it fails at
import ("operator torchvision::nms does not exist"), and its mere presence then breaks ``import
lightning.pytorch``, which imports torchvision when it finds it installed. The BasicBlock ResNet is a few
dozen lines; this file writes it with the same attribute names (``conv1``, ``bn1``, ``layer1.0.conv1``,
``layer2.0.downsample.0``, ...), the same v1.5 layout (stride on the first 3x3 convolution of a stage) and
the same initialisation (Kaiming normal, fan-out, for convolutions; BatchNorm weight 1, bias 0), so a
state dict saved from ``torchvision.models.resnet18()`` loads with ``strict=True`` once its ``fc.*`` entries
are dropped. ``tests/models/temporal/test_rgb_resnet.py`` compares both when torchvision imports cleanly.
"""

from __future__ import annotations

from torch import Tensor, nn

from skelact.errors import ConfigError

STAGES = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3)}
WIDTHS = (64, 128, 256, 512)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with a residual connection; `downsample` matches the shortcut's shape."""

    def __init__(self, in_channels: int, channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.downsample: nn.Module | None = None
        if stride != 1 or in_channels != channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, channels, 1, stride, bias=False), nn.BatchNorm2d(channels)
            )

    def forward(self, x: Tensor) -> Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + shortcut)


class ResNetTrunk(nn.Module):
    """(N, 3, H, W) -> (N, 512): stem, four stages, global average pooling. No classifier."""

    def __init__(self, depth: int = 18) -> None:
        super().__init__()
        if depth not in STAGES:
            raise ConfigError(f"ResNet depth must be one of {sorted(STAGES)}, got {depth}")
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        in_channels = 64
        for index, (blocks, width) in enumerate(zip(STAGES[depth], WIDTHS, strict=True)):
            stride = 1 if index == 0 else 2
            layers = [BasicBlock(in_channels, width, stride)]
            layers += [BasicBlock(width, width) for _ in range(blocks - 1)]
            setattr(self, f"layer{index + 1}", nn.Sequential(*layers))
            in_channels = width
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.num_features = in_channels
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def forward(self, x: Tensor) -> Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.avgpool(x).flatten(1)
