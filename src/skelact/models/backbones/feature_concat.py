"""Multi-modal baselines on temporal encoders (specs/mmixer.md section 9): feature concatenation, trained
jointly, and the single-encoder classifier it is compared with.

Each modality's encoder (`skelact.models.temporal`) gives (B, T'_m, D_m); its temporal mean is taken, the
means are concatenated, then dropout and one linear layer. With one modality this is a plain classifier on
that encoder (``temporal_classifier``), the same encoder and pooling the fused models start from, so a
comparison isolates the fusion. Late fusion of separately trained models is `skelact ensemble`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

from skelact.models.backbones.base import ClassifierHeadMixin
from skelact.models.registry import builds, register_model
from skelact.models.temporal import EncoderSet, keypoint_context
from skelact.skeleton import Layout, get_layout


class FeatureConcat(ClassifierHeadMixin, nn.Module):
    """Named temporal encoders → temporal means → concatenation → dropout → linear.

    Args:
        layout, in_channels, num_classes, num_persons: as every backbone; the keypoint input must be the raw
            joint stream (modality j), as each encoder computes its own stream.
        modalities: name → ``{"encoder": NAME, **options}`` (`skelact.models.temporal`), e.g.
            ``{"joint": {"encoder": "gcn", "stream": "j"}, "heatmap": {"encoder": "heatmap"}}``; None: joint
            and bone ST-GCNs (`DEFAULT_MODALITIES`).
        num_coords: coordinates per joint (2 for 2D + score data, whose in_channels is 3).
        dropout: before the linear layer.
    """

    def __init__(
        self,
        layout: Layout | str | Mapping[str, Any],
        in_channels: int,
        num_classes: int,
        num_persons: int = 2,
        modalities: Mapping[str, Mapping[str, Any]] | None = None,
        num_coords: int = 3,
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        self.layout = get_layout(layout)
        context = keypoint_context(self.layout, in_channels, num_coords, num_persons, type(self).__name__)
        self.encoders = EncoderSet(modalities, context, type(self).__name__)
        self.inputs = self.encoders.reads
        self._build_head(sum(self.encoders.out_dims), num_classes, dropout)

    def forward_features(self, x: Tensor, **modalities: Tensor) -> Tensor:
        return torch.cat([s.mean(dim=1) for s in self.encoders(x, modalities)], dim=-1)

    def forward(self, x: Tensor, **modalities: Tensor) -> Tensor:
        return self.forward_head(self.forward_features(x, **modalities))


@register_model("feature_concat")
@builds(FeatureConcat)
def feature_concat(**kwargs: Any) -> FeatureConcat:
    """Jointly trained feature concatenation of any number of temporal encoders."""
    return FeatureConcat(**kwargs)


class TemporalClassifier(FeatureConcat):
    """One temporal encoder (`encoder`, with `encoder_args`) → mean over time → dropout → linear: the
    single-modality baseline of the multi-modal models, with the same encoder and pooling; its one modality
    is named after the encoder."""

    def __init__(
        self,
        layout: Layout | str | Mapping[str, Any],
        in_channels: int,
        num_classes: int,
        num_persons: int = 2,
        encoder: str = "gcn",
        encoder_args: Mapping[str, Any] | None = None,
        num_coords: int = 3,
        dropout: float = 0.5,
    ) -> None:
        super().__init__(
            layout,
            in_channels,
            num_classes,
            num_persons,
            modalities={encoder: {"encoder": encoder, **dict(encoder_args or {})}},
            num_coords=num_coords,
            dropout=dropout,
        )


@register_model("temporal_classifier")
@builds(TemporalClassifier)
def temporal_classifier(**kwargs: Any) -> TemporalClassifier:
    """A single temporal encoder's classifier (a joint-stream ST-GCN pooled over time by default)."""
    return TemporalClassifier(**kwargs)
