"""The temporal encoder registry: unknown names and options are one clear error; model facts reach only
the encoders that take them."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
import torch
from torch import Tensor, nn

from skelact.errors import ConfigError
from skelact.models.temporal import base
from skelact.models.temporal.base import build_encoder, build_temporal_encoder, list_temporal_encoders


class Frames(nn.Module):
    """A stand-in encoder of another modality: needs none of the keypoint facts."""

    reads = ("frame_index",)
    out_dim = 1

    def __init__(self, scale: float = 1.0) -> None:
        super().__init__()
        self.scale = scale

    def forward(self, inputs: Mapping[str, Tensor]) -> Tensor:
        return inputs["frame_index"].float().unsqueeze(-1) * self.scale


def test_gcn_and_heatmap_are_registered() -> None:
    assert {"gcn", "heatmap"} <= set(list_temporal_encoders())


def test_unknown_names_and_options_are_one_clear_error() -> None:
    with pytest.raises(ConfigError, match="unknown temporal encoder 'nope'") as err:
        build_temporal_encoder("nope")
    assert "gcn" in (err.value.hint or "")
    with pytest.raises(ConfigError, match="unexpected option 'widht'") as err:
        build_temporal_encoder("heatmap", layout="ntu25", widht=0.1)
    assert "width" in (err.value.hint or "")
    with pytest.raises(ConfigError, match=r"modalities\.joint: temporal encoder 'gcn' got unexpected option"):
        build_encoder({"encoder": "gcn", "strem": "b"}, {"layout": "ntu25"}, "m model_args.modalities.joint")
    with pytest.raises(ConfigError, match="must be a mapping with an 'encoder' name"):
        build_encoder({"stream": "b"}, {}, "m model_args.modalities.joint")


def test_model_facts_reach_only_the_encoders_that_take_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(base._ENCODERS, "frames", Frames)
    context = {"layout": "ntu25", "num_coords": 3, "score_channel": False, "num_persons": 2}
    encoder = build_encoder({"encoder": "frames", "scale": 2.0}, context, "here")
    out = encoder({"frame_index": torch.arange(4).view(1, 4)})
    assert encoder.scale == 2.0 and out[0, :, 0].tolist() == [0, 2, 4, 6]
    gcn = build_encoder(
        {"encoder": "gcn", "model_args": {"base_channels": 8}}, {**context, "num_persons": 1}, "x"
    )
    assert gcn.net.num_persons == 1
