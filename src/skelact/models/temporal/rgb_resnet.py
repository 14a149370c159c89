"""`RGBFrameEncoder`: a ResNet-18/34 applied frame by frame to RGB crops, keeping time.

M-Mixer's RGB branch (specs/mmixer.md 5.1: a frame-level ImageNet ResNet, global average pooling to 512-d,
as the authors' sibling ActionMAE code does). Input: the batch's ``rgb`` modality with the clip axis
flattened, (B, T, 3, H, W), uint8 (0..255, as `skelact.data.rgb.RgbCrops` gives it) or float in [0, 1].
Each frame is normalised with the ImageNet mean and std, all B*T frames go through the trunk in one call,
and the pooled 512-d features come back as (B, T, 512), then through an optional Linear to `out_dim`.

The trunk is torchvision's ResNet written with its module names (`resnet_trunk`, which says why skelact
does not import torchvision). Weights: random initialisation by default; `weights` names a local file, a
torchvision ResNet state dict (e.g. saved from ``torchvision.models.resnet18(weights="IMAGENET1K_V1")`` on
a machine that may download; its ``fc`` entries are ignored). Nothing is ever downloaded.

Cost per frame at the CPU default 112x112 (`torch.utils.flop_counter`, docs/rgb.md): ResNet-18 0.49 GMACs,
11.18 M parameters (no ``fc``); ResNet-34 0.97 GMACs, 21.28 M. 224x224 costs four times as much.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import torch
from torch import Tensor, nn

from skelact.errors import ConfigError
from skelact.models.temporal.base import register_temporal_encoder
from skelact.models.temporal.resnet_trunk import ResNetTrunk

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class ImageNetNormalize(nn.Module):
    """(..., 3, H, W) frames, uint8 0..255 or float in [0, 1] -> float32 normalised with ImageNet's channel
    mean and std, the statistics torchvision's ResNet weights expect (buffers, not saved in checkpoints)."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(3, 1, 1), persistent=False)

    def forward(self, frames: Tensor) -> Tensor:
        x = frames.float() / 255.0 if frames.dtype == torch.uint8 else frames.float()
        return (x - self.mean) / self.std


def load_trunk_weights(trunk: nn.Module, path: str | Path) -> None:
    """Load a local torchvision ResNet state dict (optionally under "state_dict"), ignoring ``fc.*``;
    any other missing or unexpected key, or a wrong shape, is one error naming the file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(
            f"RGB encoder weights file {path} does not exist", hint="weights are never downloaded"
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # a pickle with objects, a truncated file, not a torch file at all
        raise ConfigError(f"cannot read RGB encoder weights {path}: {err}") from None
    if isinstance(state, Mapping) and isinstance(state.get("state_dict"), Mapping):
        state = state["state_dict"]
    if not isinstance(state, Mapping):
        raise ConfigError(f"RGB encoder weights {path} hold a {type(state).__name__}, not a state dict")
    state = {k: v for k, v in state.items() if not k.startswith("fc.")}
    try:
        trunk.load_state_dict(state, strict=True)
    except RuntimeError as err:
        first = str(err).splitlines()[1].strip() if len(str(err).splitlines()) > 1 else str(err)
        raise ConfigError(
            f"RGB encoder weights {path} do not fit this ResNet: {first}",
            hint="give a torchvision resnet18/resnet34 state dict matching `depth`",
        ) from None


@register_temporal_encoder("rgb_resnet")
class RGBFrameEncoder(nn.Module):
    """Per-frame ResNet features of the ``rgb`` modality: (B, T, 3, H, W) -> (B, T, out_dim).

    Args:
        depth: 18 (default) or 34.
        out_dim: width of an optional Linear after the 512-d pooled features; None keeps 512.
        weights: local state-dict file for the trunk (torchvision layout); None: random initialisation.
    """

    reads: tuple[str, ...] = ("rgb",)

    def __init__(
        self, depth: Literal[18, 34] = 18, out_dim: int | None = None, weights: str | None = None
    ) -> None:
        super().__init__()
        self.trunk = ResNetTrunk(depth)
        if weights is not None:
            load_trunk_weights(self.trunk, weights)
        features = self.trunk.num_features
        self.proj: nn.Module = nn.Identity() if out_dim is None else nn.Linear(features, out_dim)
        self.out_dim = features if out_dim is None else int(out_dim)
        self.normalize = ImageNetNormalize()

    def forward(self, inputs: Mapping[str, Tensor]) -> Tensor:
        frames = inputs["rgb"]
        if frames.ndim != 5 or frames.shape[2] != 3:
            raise ConfigError(
                f"RGBFrameEncoder expects rgb of shape (B, T, 3, H, W), got {tuple(frames.shape)}"
            )
        batch, steps = frames.shape[:2]
        x = self.normalize(frames.flatten(0, 1))
        return self.proj(self.trunk(x).view(batch, steps, -1))

    def extra_repr(self) -> str:
        return f"reads={self.reads}, out_dim={self.out_dim}"
