"""The time-keeping GCN encoder: (B, T', D) with T' the backbone's temporal output length, its stream
computed from the keypoints, and the backbone's own pooling recovered by a mean over T'."""

from __future__ import annotations

import pytest
import torch

from skelact.errors import ConfigError
from skelact.models.inputs.modality import ModalityFeatures
from skelact.models.temporal import build_temporal_encoder


def keypoints(n: int = 2, m: int = 2, t: int = 16, v: int = 25, c: int = 3) -> torch.Tensor:
    return torch.randn(n, m, t, v, c, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize(("backbone", "width"), [("stgcn", 8), ("stgcnpp", 12), ("ctrgcn", 8)])
def test_the_sequence_keeps_the_backbone_s_temporal_length(backbone: str, width: int) -> None:
    encoder = build_temporal_encoder(
        "gcn", layout="ntu25", backbone=backbone, model_args={"base_channels": width}
    ).eval()
    x = keypoints()
    with torch.no_grad():
        out = encoder({"keypoint": x})
        blocks = encoder.net.blocks(encoder.net._fold_persons(x))  # (N*M, F, T', V)
    assert encoder.reads == ("keypoint",)
    assert out.shape == (2, blocks.shape[2], encoder.out_dim) == (2, 4, 4 * width)  # two stride-2 stages
    with torch.no_grad():  # the mean over T' is exactly the backbone's own pooled embedding
        torch.testing.assert_close(out.mean(1), encoder.net.forward_features(x), rtol=1e-5, atol=1e-6)


def test_the_stream_is_computed_from_the_keypoints() -> None:
    torch.manual_seed(0)
    bone = build_temporal_encoder("gcn", layout="ntu25", stream="b", model_args={"base_channels": 8}).eval()
    x = keypoints()
    features = ModalityFeatures("ntu25", "b")
    with torch.no_grad():
        expected = bone.net.forward_sequence(features(x))
        torch.testing.assert_close(bone({"keypoint": x}), expected)
        assert not torch.allclose(bone({"keypoint": x}), bone.net.forward_sequence(x))


def test_psumnet_streams_keep_time_too() -> None:
    encoder = build_temporal_encoder(
        "gcn", layout="ntu25", backbone="psumnet_body", stream="j", model_args={"base_channels": 8}
    )
    assert encoder({"keypoint": keypoints()}).shape[:2] == (2, 4)


def test_a_backbone_without_a_time_axis_is_refused() -> None:
    with pytest.raises(ConfigError, match="pools time away"):
        build_temporal_encoder("gcn", layout="ntu25", backbone="isc_bigru", model_args={"hidden_size": 8})
