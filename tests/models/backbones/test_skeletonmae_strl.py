"""The SkeletonMAE encoder and the STRL network: shapes for 2D and 3D, one and two persons; STRL's encoder
copies hold a SkeletonMAE encoder's weights bit for bit after loading."""

from __future__ import annotations

import pytest
import torch

from skelact.errors import ConfigError, FormatError
from skelact.models import create_model


@pytest.mark.parametrize(
    ("layout", "channels", "coords", "persons"),
    [("coco17", 3, 2, 2), ("coco17", 2, None, 1), ("kinect20", 3, None, 1), ("ntu25", 3, None, 2)],
)
def test_shapes_for_2d_and_3d_and_one_or_two_persons(
    layout: str, channels: int, coords: int | None, persons: int
) -> None:
    torch.manual_seed(0)
    v = {"coco17": 17, "kinect20": 20, "ntu25": 25}[layout]
    x = torch.randn(3, persons, 12, v, channels)
    encoder = create_model(
        "skeletonmae", layout=layout, in_channels=channels, num_classes=5, num_persons=persons, coords=coords
    )
    assert encoder.embed_joints(x).shape == (3, persons, 12, v, 64)
    assert encoder.forward_features(x).shape == (3, 64) and encoder(x).shape == (3, 5)
    strl = create_model(
        "strl", layout=layout, in_channels=channels, num_classes=5, num_persons=persons, coords=coords,
        num_layers=2, max_frames=16,
    )  # fmt: skip
    assert strl.forward_features(x).shape == (3, 256) and strl(x).shape == (3, 5)
    strl(x).sum().backward()
    assert all(p.grad is not None for p in strl.parameters())


def test_a_score_channel_is_not_embedded() -> None:
    encoder = create_model("skeletonmae", layout="coco17", in_channels=3, num_classes=5, coords=2).eval()
    x = torch.randn(2, 2, 6, 17, 3)
    y = x.clone()
    y[..., 2] = torch.rand_like(y[..., 2])
    torch.testing.assert_close(encoder(x), encoder(y))


def test_strl_encoders_hold_the_pretrained_weights_bit_for_bit() -> None:
    torch.manual_seed(0)
    encoder = create_model("skeletonmae", layout="coco17", in_channels=2, num_classes=5, num_persons=2)
    strl = create_model("strl", layout="coco17", in_channels=2, num_classes=5, num_persons=2)
    strl.load_skeletonmae_encoder(encoder.state_dict())
    assert torch.equal(strl.embed.weight, encoder.embed.weight)
    assert torch.equal(strl.embed.bias, encoder.embed.bias)
    source = encoder.encoder.state_dict()
    assert len(strl.layers) == 3
    for layer in strl.layers:
        for key, value in layer.encoder.state_dict().items():
            assert value.shape[0] == 2  # one copy per person
            for person in range(2):
                assert torch.equal(value[person], source[key][0]), key


def test_strl_refuses_other_persons_frames_or_encoder_widths() -> None:
    strl = create_model("strl", layout="coco17", in_channels=2, num_classes=5, num_persons=2, max_frames=8)
    with pytest.raises(FormatError, match="expected 2 persons, at most 8 frames"):
        strl(torch.randn(1, 1, 8, 17, 2))
    with pytest.raises(FormatError, match="at most 8 frames"):
        strl(torch.randn(1, 2, 9, 17, 2))
    other = create_model("skeletonmae", layout="coco17", in_channels=2, num_classes=5, gin_hidden=32)
    with pytest.raises(ConfigError, match="does not fit"):
        strl.load_skeletonmae_encoder(other.state_dict())
