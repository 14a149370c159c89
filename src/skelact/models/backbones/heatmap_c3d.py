"""A light 3D-CNN over pose heatmap volumes: PoseC3D's SlowOnly trunk with its widths scaled down.

The network renders its own input (`HeatmapVolume`, on the batch's device) from the keypoint batch, so the
store, the loader, the batch augmentation, checkpoints and `Predictor` stay those of any keypoint model: the
heatmap settings travel in the checkpoint as model arguments.

Trunk (PYSKL's ``ResNet3dSlowOnly`` of the PoseC3D NTU configs, specs/deformable3d.md section 5) [official
code]: a 1×7×7 stem convolution with no stride and no pooling, then three stages of bottleneck blocks (4, 6,
3) of base widths 32, 64, 128 (outputs ×4), each stage halving height and width, the last also time; the first
stage is not inflated (1×1×1, 1×3×3, 1×1×1), the later ones are (3×1×1 first convolution); global average
pooling, dropout 0.5, one linear layer. ``width`` scales every width [design choice: 0.25 by default, so a CPU
can train it]; ``blocks`` sets the stage depths.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from torch import Tensor, nn

from skelact.errors import ConfigError, FormatError
from skelact.models.backbones.base import ClassifierHeadMixin, check_batch
from skelact.models.inputs.heatmap import HeatmapVolume, Plane
from skelact.models.inputs.raw_keypoints import check_raw_keypoint_channels
from skelact.models.registry import builds, register_model
from skelact.skeleton import Layout, get_layout

EXPANSION = 4


def _conv_bn(
    cin: int, cout: int, kernel: tuple[int, int, int], stride: tuple[int, int, int]
) -> nn.Sequential:
    padding = tuple(k // 2 for k in kernel)
    return nn.Sequential(
        nn.Conv3d(cin, cout, kernel, stride=stride, padding=padding, bias=False), nn.BatchNorm3d(cout)
    )


class Bottleneck3d(nn.Module):
    """SlowOnly's bottleneck: 1×1×1 (3×1×1 when inflated), 1×3×3 with the stride, 1×1×1 to planes × 4."""

    def __init__(self, cin: int, planes: int, stride: tuple[int, int, int], inflate: bool) -> None:
        super().__init__()
        cout = planes * EXPANSION
        self.body = nn.Sequential(
            _conv_bn(cin, planes, (3 if inflate else 1, 1, 1), (1, 1, 1)),
            nn.ReLU(inplace=True),
            _conv_bn(planes, planes, (1, 3, 3), stride),
            nn.ReLU(inplace=True),
            _conv_bn(planes, cout, (1, 1, 1), (1, 1, 1)),
        )
        needs_projection = cin != cout or stride != (1, 1, 1)
        self.shortcut = _conv_bn(cin, cout, (1, 1, 1), stride) if needs_projection else nn.Identity()
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.relu(self.body(x) + self.shortcut(x))


class HeatmapC3D(ClassifierHeadMixin, nn.Module):
    """(N, M, T, V, C) keypoints → heatmap volume (N, K, T, size, size) → SlowOnly trunk → logits.

    Args:
        layout, in_channels, num_classes: as every backbone; `in_channels` is `num_coords`, + 1 with a score.
        num_persons: accepted for the common signature; persons are merged in the heatmaps (max).
        num_coords: 2 (image keypoints, e.g. 2D + score: in_channels 3) or 3 (3D, drawn on `plane`).
        size, sigma, joints, limbs, padding, plane: the heatmaps (`HeatmapVolume`).
        width: multiplies the SlowOnly widths (32, 64, 128; outputs × 4).
        blocks: bottleneck blocks per stage (PoseC3D: 4, 6, 3).
        dropout: before the classifier (PoseC3D: 0.5).
    """

    def __init__(
        self,
        layout: Layout | str | Mapping[str, Any],
        in_channels: int,
        num_classes: int,
        num_persons: int = 2,
        num_coords: int = 3,
        size: int = 56,
        sigma: float = 0.6,
        joints: bool = True,
        limbs: bool = False,
        padding: float = 0.25,
        plane: Plane = "xy",
        width: float = 0.25,
        blocks: Sequence[int] = (4, 6, 3),
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        self.layout = get_layout(layout)
        score_channel = check_raw_keypoint_channels("heatmap_c3d", in_channels, num_coords)
        if width <= 0 or len(blocks) != 3 or min(blocks) < 1:
            raise ConfigError(f"heatmap_c3d: need width > 0 and three positive blocks, got {width}, {blocks}")
        self.in_channels = in_channels
        self.render = HeatmapVolume(
            self.layout,
            num_coords=num_coords,
            score_channel=score_channel,
            size=size,
            sigma=sigma,
            joints=joints,
            limbs=limbs,
            padding=padding,
            plane=plane,
        )
        base = max(1, round(32 * width))
        self.stem = nn.Sequential(_conv_bn(self.render.out_channels, base, (1, 7, 7), (1, 1, 1)), nn.ReLU())
        stages, cin = [], base
        settings = zip(blocks, (1, 2, 4), ((1, 2, 2), (1, 2, 2), (2, 2, 2)), (False, True, True), strict=True)
        for depth, factor, stride, inflate in settings:
            planes = base * factor
            layers = [Bottleneck3d(cin, planes, stride, inflate)]
            cin = planes * EXPANSION
            layers += [Bottleneck3d(cin, planes, (1, 1, 1), inflate) for _ in range(depth - 1)]
            stages.append(nn.Sequential(*layers))
        self.stages = nn.Sequential(*stages)
        self._build_head(cin, num_classes, dropout)

    def forward_features(self, x: Tensor) -> Tensor:
        _, c = check_batch(x, self.layout, type(self).__name__)
        if c != self.in_channels:
            raise FormatError(
                f"expected {self.in_channels} channels, got shape {tuple(x.shape)}", where="HeatmapC3D"
            )
        y = self.stages(self.stem(self.render(x).to(self.stem[0][0].weight.dtype)))
        return y.mean(dim=(2, 3, 4))


@register_model("heatmap_c3d")
@builds(HeatmapC3D)
def heatmap_c3d(**kwargs: Any) -> HeatmapC3D:
    """PoseC3D-style heatmap-volume model at a quarter of SlowOnly's widths.

    Parameters, 60 classes: 142,868 at the defaults on ntu25 (25 joint channels); 2,024,860 at width 1.0 on
    coco17 (17 channels, PoseC3D's SlowOnly trunk).
    """
    return HeatmapC3D(**kwargs)
