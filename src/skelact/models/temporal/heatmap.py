"""The heatmap-volume model as a temporal encoder: `HeatmapVolume` + the ``heatmap_c3d`` trunk, pooled over
space only, giving (B, T', D) with T' = T / 2 (the trunk's last stage halves time) and D its output width."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from torch import Tensor, nn

from skelact.models.inputs.heatmap import Plane
from skelact.models.registry import create_model
from skelact.models.temporal.base import KEYPOINT, register_temporal_encoder
from skelact.skeleton import Layout


@register_temporal_encoder("heatmap")
class HeatmapSequenceEncoder(nn.Module):
    """(B, M, T, V, C) keypoints → heatmaps (B, K, T, size, size) → SlowOnly trunk → mean over H, W.

    Args:
        layout, num_coords, score_channel: the keypoint input (filled by the model).
        size, sigma, joints, limbs, padding, plane, width, blocks: as ``heatmap_c3d``
            (docs/methods/heatmaps.md).
    """

    reads: tuple[str, ...] = (KEYPOINT,)

    def __init__(
        self,
        layout: Layout | str | Mapping[str, Any],
        num_coords: int = 3,
        score_channel: bool = False,
        size: int = 56,
        sigma: float = 0.6,
        joints: bool = True,
        limbs: bool = False,
        padding: float = 0.25,
        plane: Plane = "xy",
        width: float = 0.25,
        blocks: Sequence[int] = (4, 6, 3),
    ) -> None:
        super().__init__()
        trunk = create_model(
            "heatmap_c3d",
            layout=layout,
            in_channels=num_coords + int(score_channel),
            num_classes=1,
            num_coords=num_coords,
            size=size,
            sigma=sigma,
            joints=joints,
            limbs=limbs,
            padding=padding,
            plane=plane,
            width=width,
            blocks=tuple(blocks),
            dropout=0.0,
        )
        trunk.head = nn.Identity()
        self.trunk = trunk
        self.out_dim = int(trunk.num_features)

    def forward(self, inputs: Mapping[str, Tensor]) -> Tensor:
        trunk = self.trunk
        volume = trunk.render(inputs[KEYPOINT]).to(trunk.stem[0][0].weight.dtype)
        y = trunk.stages(trunk.stem(volume))  # (B, D, T', H', W')
        return y.mean(dim=(3, 4)).transpose(1, 2)
