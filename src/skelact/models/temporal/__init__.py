"""Temporal encoders (per-modality, time kept) and their registry; importing this package registers them."""

from skelact.models.temporal import gcn as _gcn  # noqa: F401  (registers "gcn")
from skelact.models.temporal import heatmap as _heatmap  # noqa: F401  (registers "heatmap")
from skelact.models.temporal import rgb_resnet as _rgb_resnet  # noqa: F401  (registers "rgb_resnet")
from skelact.models.temporal.base import (
    TemporalEncoder,
    build_encoder,
    build_temporal_encoder,
    list_temporal_encoders,
    register_temporal_encoder,
)
from skelact.models.temporal.multimodal import EncoderSet, keypoint_context

__all__ = [
    "EncoderSet",
    "TemporalEncoder",
    "build_encoder",
    "build_temporal_encoder",
    "keypoint_context",
    "list_temporal_encoders",
    "register_temporal_encoder",
]
