"""The encoders of a multi-modal model, one per named modality, built from its config and run together."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import Tensor, nn

from skelact.errors import ConfigError, FormatError
from skelact.models.inputs.raw_keypoints import check_raw_keypoint_channels
from skelact.models.temporal.base import KEYPOINT, build_encoder
from skelact.skeleton import Layout

# What a multi-modal model reads when its config names no modalities: joint and bone, each through an ST-GCN.
DEFAULT_MODALITIES: dict[str, dict[str, Any]] = {
    "joint": {"encoder": "gcn", "backbone": "stgcn", "stream": "j"},
    "bone": {"encoder": "gcn", "backbone": "stgcn", "stream": "b"},
}


def keypoint_context(
    layout: Layout, in_channels: int, num_coords: int, num_persons: int, model: str
) -> dict[str, Any]:
    """What skeleton encoders need to know of the keypoint input (raw coordinates, + 1 score channel)."""
    why = "its encoders compute their own streams (each encoder's `stream`) from the raw keypoints"
    score_channel = check_raw_keypoint_channels(model, in_channels, num_coords, why)
    return {
        "layout": layout,
        "num_coords": num_coords,
        "score_channel": score_channel,
        "num_persons": num_persons,
    }


class EncoderSet(nn.Module):
    """Named temporal encoders; `forward` maps the model's inputs to one (B, T'_m, D_m) sequence each.

    Args:
        modalities: name → ``{"encoder": NAME, **options}``, in the order the model uses them; None:
            `DEFAULT_MODALITIES`.
        context: the keypoint facts passed to encoders that take them (`keypoint_context`).
        model: the owning model's name, for messages.
    """

    def __init__(
        self, modalities: Mapping[str, Mapping[str, Any]] | None, context: Mapping[str, Any], model: str
    ):
        super().__init__()
        if modalities is None:
            modalities = DEFAULT_MODALITIES
        if not modalities or not isinstance(modalities, Mapping):
            raise ConfigError(
                f"{model}: model_args.modalities must name at least one modality, got {modalities!r}",
                hint='e.g. {"joint": {"encoder": "gcn", "stream": "j"}, "heatmap": {"encoder": "heatmap"}}',
            )
        encoders = {}
        for name, spec in modalities.items():
            if not str(name).isidentifier():
                raise ConfigError(
                    f"{model}: modality name {name!r} must be an identifier (letters, digits, _)"
                )
            encoders[str(name)] = build_encoder(spec, context, f"{model} model_args.modalities.{name}")
        self.encoders = nn.ModuleDict(encoders)
        self.model = model
        reads = [KEYPOINT]
        for encoder in self.encoders.values():
            reads += [r for r in encoder.reads if r not in reads]
        self.reads: tuple[str, ...] = tuple(reads)

    @property
    def names(self) -> list[str]:
        return list(self.encoders)

    @property
    def out_dims(self) -> list[int]:
        return [int(e.out_dim) for e in self.encoders.values()]

    def forward(self, keypoint: Tensor, modalities: Mapping[str, Tensor]) -> list[Tensor]:
        missing = [name for name in self.reads[1:] if name not in modalities]
        if missing:
            raise FormatError(
                f"the model reads sample modality {missing[0]!r}, which its input lacks",
                where=self.model,
                hint="train and test through a SkeletonDataModule (it loads what the model reads)",
            )
        inputs = {KEYPOINT: keypoint, **modalities}
        return [encoder(inputs) for encoder in self.encoders.values()]
