"""The feature-concatenation baseline: the concatenated temporal means of its encoders, then the head; the
single-encoder classifier is the same with one encoder."""

from __future__ import annotations

import torch

from skelact.models import create_model

JOINT = {"encoder": "gcn", "backbone": "stgcn", "stream": "j", "model_args": {"base_channels": 4}}
HEATMAP = {"encoder": "heatmap", "size": 12, "width": 0.125, "blocks": [1, 1, 1]}


def test_features_are_the_concatenated_temporal_means() -> None:
    torch.manual_seed(0)
    model = create_model(
        "feature_concat", layout="kinect20", in_channels=3, num_classes=4, num_persons=1,
        modalities={"joint": JOINT, "heatmap": HEATMAP},
    ).eval()  # fmt: skip
    x = torch.randn(2, 1, 8, 20, 3)
    with torch.no_grad():
        joint, heatmap = (e({"keypoint": x}) for e in model.encoders.encoders.values())
        expected = torch.cat([joint.mean(1), heatmap.mean(1)], dim=-1)
        torch.testing.assert_close(model.forward_features(x), expected)
        torch.testing.assert_close(model(x), model.head(expected))
    assert model.num_features == 16 + 64 and model.head.drop.p == 0.5


def test_the_single_encoder_classifier_is_one_encoder_and_a_head() -> None:
    model = create_model(
        "temporal_classifier", layout="kinect20", in_channels=3, num_classes=4, num_persons=1,
        encoder="gcn", encoder_args={k: v for k, v in JOINT.items() if k != "encoder"}, dropout=0.0,
    )  # fmt: skip
    assert list(model.encoders.encoders) == ["gcn"] and model.num_features == 16
    assert model(torch.randn(3, 1, 8, 20, 3)).shape == (3, 4)
