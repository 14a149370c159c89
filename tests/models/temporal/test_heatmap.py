"""The heatmap temporal encoder: SlowOnly pooled over space only, (B, T / 2, D)."""

from __future__ import annotations

import torch

from skelact.models.temporal import build_temporal_encoder


def test_the_heatmap_encoder_keeps_half_the_frames_and_pools_space_only() -> None:
    torch.manual_seed(0)
    encoder = build_temporal_encoder(
        "heatmap", layout="kinect20", num_coords=3, size=16, width=0.125, blocks=(1, 1, 1)
    ).eval()
    x = torch.randn(2, 1, 8, 20, 3)
    with torch.no_grad():
        out = encoder({"keypoint": x})
        pooled = encoder.trunk.forward_features(x)  # the classifier's pooling over time and space
    assert (
        out.shape == (2, 4, encoder.out_dim) and encoder.out_dim == 64
    )  # 4 × base width round(32 × 0.125) × 4
    torch.testing.assert_close(out.mean(1), pooled, rtol=1e-5, atol=1e-6)
