"""BRL's skip modality k (joint minus grandparent, zero where the parent is the root) and its motion km."""

from __future__ import annotations

import torch

from skelact.models.inputs.modality import ModalityFeatures, parse_modality

# specs/brl.md section 3: (joint, reference) pairs of GenSkeFeat's "k" for NTU, 0-based.
NTU_SKIP = [
    (0, 20), (1, 1), (2, 2), (3, 20), (4, 4), (5, 20), (6, 4), (7, 5), (8, 8), (9, 20), (10, 8), (11, 9),
    (12, 1), (13, 0), (14, 12), (15, 13), (16, 1), (17, 0), (18, 16), (19, 17), (21, 7), (20, 20), (22, 6),
    (23, 11), (24, 10),
]  # fmt: skip


def test_skip_matches_brl_pairs_on_ntu25() -> None:
    x = torch.randn(2, 2, 5, 25, 3)
    k = ModalityFeatures("ntu25", "k")(x)
    joint, ref = zip(*sorted(NTU_SKIP), strict=True)
    assert torch.allclose(k, x[:, :, :, list(joint)] - x[:, :, :, list(ref)])
    assert (k[:, :, :, [1, 2, 4, 8, 20]] == 0).all()


def test_skip_motion_is_the_temporal_difference_of_skip() -> None:
    x = torch.randn(1, 1, 6, 20, 3)
    features = ModalityFeatures("kinect20", "k,km")(x)
    k, km = features[..., :3], features[..., 3:]
    assert torch.allclose(km[:, :, :-1], k[:, :, 1:] - k[:, :, :-1]) and (km[:, :, -1] == 0).all()
    assert parse_modality("skip, skip_motion") == ("k", "km")
