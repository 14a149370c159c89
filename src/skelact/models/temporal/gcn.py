"""A registered graph backbone as a temporal encoder: its blocks pooled over joints and persons only.

Any model with ``forward_sequence`` (every `GraphBackbone`: stgcn, stgcnpp, ctrgcn, psumnet_*) works; the
stream it sees (joint, bone, joint motion, bone motion, ...) is computed from the keypoints by the same
`ModalityFeatures` the single-stream models use, so "joint and bone as two modalities" is two encoders on
one keypoint batch. T' is the clip length over the backbone's temporal strides (T / 4 for ST-GCN and
CTR-GCN's plan). Persons are averaged, as the backbones' own pooling does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from torch import Tensor, nn

from skelact.errors import ConfigError
from skelact.models.inputs.modality import ModalityFeatures
from skelact.models.registry import create_model
from skelact.models.temporal.base import KEYPOINT, register_temporal_encoder
from skelact.skeleton import Layout


@register_temporal_encoder("gcn")
class GraphSequenceEncoder(nn.Module):
    """(B, M, T, V, C) keypoints → stream features → graph blocks → (B, T', num_features).

    Args:
        layout, num_coords, score_channel, num_persons: the keypoint input (filled by the model).
        backbone: registry name of a graph backbone (`skelact.models.list_models()`).
        stream: the modality features it reads, e.g. "j", "b", "jm", "bm" or "j,b" (channels concatenated).
        model_args: options of the backbone (e.g. ``{"base_channels": 16}``).
    """

    reads: tuple[str, ...] = (KEYPOINT,)

    def __init__(
        self,
        layout: Layout | str | Mapping[str, Any],
        num_coords: int = 3,
        score_channel: bool = False,
        num_persons: int = 2,
        backbone: str = "stgcn",
        stream: str | Sequence[str] = "j",
        model_args: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.features = ModalityFeatures(layout, stream, num_coords=num_coords, score_channel=score_channel)
        net = create_model(
            backbone,
            layout=self.features.layout,
            in_channels=self.features.out_channels(),
            num_classes=1,
            num_persons=num_persons,
            **dict(model_args or {}),
        )
        if not hasattr(net, "forward_sequence"):
            raise ConfigError(
                f"model {backbone!r} pools time away: it has no forward_sequence",
                hint="use a graph backbone (stgcn, stgcnpp, ctrgcn, psumnet_body, ...)",
            )
        net.head = nn.Identity()  # the classifier lives in the multi-modal model; no unused parameters
        self.net = net
        self.out_dim = int(net.num_features)

    def forward(self, inputs: Mapping[str, Tensor]) -> Tensor:
        return self.net.forward_sequence(self.features(inputs[KEYPOINT]))
