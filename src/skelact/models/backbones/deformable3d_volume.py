"""Appearance volumes for the 3D deformable transformer: the (B, C, T', H', W') volume Z that 3DTS searches.

The paper builds Z from RGB video with a CNN [paper]; without video, skelact renders PoseC3D-style pose
heatmaps from the keypoints and encodes them with a light 3D CNN (specs/deformable3d.md section 5, the
skeleton-only substitute). A builder is a module registered by name with `register_volume`:

- ``reads``: the sample modalities it needs (the model's ``inputs`` are built from it);
- ``out_channels`` = the transformer width, ``grid`` = (H', W'), ``frame_stride`` = input frames per T' step;
- ``forward(keypoint, modalities) -> (B, C, T', H', W')``;
- ``joint_voxels(keypoint) -> (B, M, T, V, 3)``: each joint's (t, y, x) position in the volume's voxels, for
  pose tokens sampled from the volume (Option B).

``"rgb"`` (it reads ``("keypoint", "rgb")``) builds Z from the person crops with a ResNet-18 up to its third
stage (`RGBAppearance`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from skelact.errors import ConfigError, FormatError
from skelact.models.backbones.heatmap_c3d import EXPANSION, Bottleneck3d
from skelact.models.inputs.heatmap import HeatmapVolume, Plane
from skelact.skeleton.layout import Layout

_VOLUMES: dict[str, Callable[..., nn.Module]] = {}
VOLUME_READS: dict[str, tuple[str, ...]] = {}


def register_volume(
    name: str, reads: tuple[str, ...]
) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    """Register an appearance-volume builder under `name`; `reads` are the sample modalities it needs."""

    def decorator(builder: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if name in _VOLUMES:
            raise ConfigError(f"appearance volume {name!r} is registered twice")
        _VOLUMES[name], VOLUME_READS[name] = builder, reads
        return builder

    return decorator


def build_volume(name: str, **kwargs: Any) -> nn.Module:
    if name not in _VOLUMES:
        raise ConfigError(f"unknown appearance volume {name!r}", hint=f"known: {', '.join(sorted(_VOLUMES))}")
    return _VOLUMES[name](**kwargs)


@register_volume("heatmap", reads=("keypoint",))
class HeatmapAppearance(nn.Module):
    """Keypoints → PoseC3D heatmaps (`HeatmapVolume`) → a SlowOnly-style stem and stages → 1×1×1 to `dim`.

    Stages as `HeatmapC3D`'s (bottlenecks, the first not inflated in time), each halving height and width;
    the last also divides time by `temporal_stride`. ``width`` scales the base widths 32, 64, 128, ...
    ``frame_step`` renders every frame_step-th frame only (the CPU-sized setting: the 3D CNN's cost is linear
    in the frames it sees; the pose tokens keep every frame).
    """

    reads: ClassVar[tuple[str, ...]] = ("keypoint",)

    def __init__(
        self,
        layout: Layout,
        num_coords: int,
        score_channel: bool,
        dim: int,
        size: int = 32,
        sigma: float = 0.6,
        limbs: bool = False,
        padding: float = 0.25,
        plane: Plane = "xy",
        width: float = 0.25,
        blocks: Sequence[int] = (1, 1),
        temporal_stride: int = 1,
        frame_step: int = 1,
    ) -> None:
        super().__init__()
        if width <= 0 or not blocks or min(blocks) < 1 or temporal_stride < 1 or frame_step < 1:
            raise ConfigError(
                f"heatmap volume: need volume_width > 0, positive volume_blocks, volume_temporal_stride >= 1 "
                f"and volume_frame_step >= 1, got {width}, {list(blocks)}, {temporal_stride}, {frame_step}"
            )
        self.render = HeatmapVolume(
            layout,
            num_coords,
            score_channel,
            size=size,
            sigma=sigma,
            limbs=limbs,
            padding=padding,
            plane=plane,
        )
        base = max(1, round(32 * width))
        self.stem = nn.Sequential(
            nn.Conv3d(self.render.out_channels, base, (1, 7, 7), padding=(0, 3, 3), bias=False),
            nn.BatchNorm3d(base),
            nn.ReLU(inplace=True),
        )
        layers, cin = [], base
        for k, depth in enumerate(blocks):
            planes = base * 2**k
            last = k == len(blocks) - 1
            stride = (temporal_stride if last else 1, 2, 2)
            layers.append(Bottleneck3d(cin, planes, stride, inflate=k > 0))
            cin = planes * EXPANSION
            layers += [Bottleneck3d(cin, planes, (1, 1, 1), inflate=k > 0) for _ in range(depth - 1)]
        self.stages = nn.Sequential(*layers)
        self.project = nn.Conv3d(cin, dim, 1)
        self.frame_step = frame_step
        self.out_channels, self.frame_stride = dim, temporal_stride * frame_step
        self.pixel_stride = 2 ** len(blocks)
        side = size
        for _ in blocks:
            side = (side - 1) // 2 + 1  # a 3-wide, stride-2, padding-1 convolution
        self.grid = (side, side)

    def forward(self, keypoint: Tensor, modalities: Mapping[str, Tensor]) -> Tensor:
        if self.frame_step > 1:
            keypoint = keypoint[:, :, :: self.frame_step]
        heatmaps = self.render(keypoint).to(self.project.weight.dtype)
        return self.project(self.stages(self.stem(heatmaps)))

    def joint_voxels(self, keypoint: Tensor) -> Tensor:
        """(B, M, T, V, 3) (t, y, x): output voxel i of a stride-2 stage is centred on input pixel 2i, so a
        pixel p lands at p / pixel_stride; frame t at t / frame_stride."""
        col, row, _ = self.render.pixel_coordinates(keypoint)
        frames = torch.arange(keypoint.shape[2], device=keypoint.device, dtype=col.dtype)
        t = (frames / self.frame_stride).view(1, 1, -1, 1).expand_as(col)
        return torch.stack([t, row / self.pixel_stride, col / self.pixel_stride], dim=-1)


@register_volume("rgb", reads=("keypoint", "rgb"))
class RGBAppearance(nn.Module):
    """Person crops (the ``rgb`` sample modality, docs/rgb.md) → ResNet-18 stem and stages 1-3, frame by
    frame → 1×1×1 to `dim`: the paper's appearance volume from video (specs/deformable3d.md 4.1) [design
    choice: stage 3, stride 16, so 112-pixel crops give a 7 × 7 grid; the ResNet is skelact's own, with
    torchvision's names (`skelact.models.temporal.resnet_trunk`), random init].

    ``size`` is the crop side the data gives (``data.modality_options.rgb.size``); ``frame_step`` keeps every
    frame_step-th frame. The heatmap options of the shared builder interface do not apply and are ignored.
    Pose tokens sampled from this volume (Option B) would need each crop's box, which the model does not
    see: `joint_voxels` refuses.
    """

    reads: ClassVar[tuple[str, ...]] = ("keypoint", "rgb")

    def __init__(self, dim: int, size: int = 112, frame_step: int = 1, **_heatmap_options: Any) -> None:
        super().__init__()
        if size < 16 or frame_step < 1:
            raise ConfigError(
                f"rgb volume: need size >= 16 and volume_frame_step >= 1, got {size} and {frame_step}"
            )
        from skelact.models.temporal.resnet_trunk import ResNetTrunk
        from skelact.models.temporal.rgb_resnet import ImageNetNormalize

        trunk = ResNetTrunk(18)
        self.stem = nn.Sequential(trunk.conv1, trunk.bn1, trunk.relu, trunk.maxpool)
        self.stages = nn.Sequential(trunk.layer1, trunk.layer2, trunk.layer3)
        channels = trunk.layer3[-1].conv2.out_channels
        self.project = nn.Conv3d(channels, dim, 1)
        self.normalize = ImageNetNormalize()
        self.size, self.frame_step = size, frame_step
        self.out_channels, self.frame_stride, self.pixel_stride = dim, frame_step, 16
        side = size
        for stride in (2, 2, 1, 2, 2):  # conv1, maxpool, layer1, layer2, layer3
            side = (side - 1) // stride + 1
        self.grid = (side, side)

    def forward(self, keypoint: Tensor, modalities: Mapping[str, Tensor]) -> Tensor:
        frames = modalities.get("rgb")
        expected = (3, self.size, self.size)
        if frames is None or frames.ndim != 5 or tuple(frames.shape[2:]) != expected:
            shape = None if frames is None else tuple(frames.shape)
            raise FormatError(
                f"rgb volume expects rgb crops (B, T, 3, {self.size}, {self.size}), got {shape}",
                where="Deformable3D",
                hint="set data.modality_options.rgb.size to the model's size",
            )
        frames = frames[:, :: self.frame_step]
        batch, steps = frames.shape[:2]
        x = self.normalize(frames.flatten(0, 1)).to(self.project.weight.dtype)
        maps = self.stages(self.stem(x))  # (B·T', C, h, w)
        volume = maps.view(batch, steps, *maps.shape[1:]).transpose(1, 2)
        return self.project(volume)

    def joint_voxels(self, keypoint: Tensor) -> Tensor:
        raise ConfigError(
            "deformable3d: pose_tokens 'volume' (Option B) is not available with the rgb volume: the joints' "
            "places in the crops are not known to the model",
            hint="use pose_tokens coords (Option A) with volume rgb",
        )
