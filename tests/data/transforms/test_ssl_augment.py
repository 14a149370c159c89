"""SSLAugment (specs/halp.md section 3): exactly one of shear or joint corruption per sample, with the
official probabilities and ranges, joint counts from the layout, seeded and shape-preserving."""

from __future__ import annotations

import pytest
import torch

from skelact.data.transforms.ssl_augment import SSLAugment, corrupted_joint_count, joint_corruption
from skelact.errors import ConfigError, LayoutError
from skelact.skeleton import get_layout


def _batch(n: int, m: int = 2, t: int = 6, v: int = 25, c: int = 3, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, m, t, v, c, generator=torch.Generator().manual_seed(seed))


def _classify(x: torch.Tensor, out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per sample: the number of joints that changed, and whether every changed joint became zero."""
    changed = (out != x).any(-1).any(2).any(1)  # (N, V)
    zeroed = ((out == 0).all(-1).all(2).all(1) | ~changed).all(1)
    return changed.sum(1), zeroed


def _fit_matrix(src: torch.Tensor, dst: torch.Tensor) -> torch.Tensor:
    """The (c, c) matrix A with dst = A src for rows of points (least squares, float64)."""
    solution = torch.linalg.lstsq(src.double(), dst.double()).solution  # src @ A^T = dst
    return solution.T


def test_each_sample_gets_exactly_one_op_with_the_official_forms():
    x = _batch(32)
    out = SSLAugment("ntu25")(x, generator=torch.Generator().manual_seed(1))
    assert out.shape == x.shape and out.dtype == x.dtype
    counts, zeroed = _classify(x, out)
    assert set(counts.tolist()) <= {15, 25}  # corruption touches 15 joints, a shear all 25
    assert 0 < int((counts == 15).sum()) < 32
    for i in range(32):
        src, dst = x[i].reshape(-1, 3), out[i].reshape(-1, 3)
        if counts[i] == 25:  # shear: one matrix for every joint, 1 on the diagonal, |off-diagonal| <= 1
            shear = _fit_matrix(src, dst)
            torch.testing.assert_close(shear.diagonal(), torch.ones(3, dtype=torch.float64))
            assert shear.abs().max() <= 1.0 + 1e-6
            torch.testing.assert_close(src.double() @ shear.T, dst.double(), atol=1e-5, rtol=1e-5)
            continue
        moved = (out[i] != x[i]).any(-1).any(0).any(0)  # the 15 joints, the same in all frames and persons
        kept = ~moved
        assert torch.equal(out[i][:, :, kept], x[i][:, :, kept])
        if zeroed[i]:
            assert torch.equal(out[i][:, :, moved], torch.zeros_like(out[i][:, :, moved]))
        else:  # one random matrix with entries in [-1, 1] for all of them
            src, dst = x[i][:, :, moved].reshape(-1, 3), out[i][:, :, moved].reshape(-1, 3)
            matrix = _fit_matrix(src, dst)
            assert matrix.abs().max() <= 1.0 + 1e-6
            torch.testing.assert_close(src.double() @ matrix.T, dst.double(), atol=1e-5, rtol=1e-5)


def test_probabilities_and_joint_choice_match_the_official_feeder():
    n = 4000
    x = _batch(n, m=1, t=2)
    out = SSLAugment("ntu25")(x, generator=torch.Generator().manual_seed(2))
    counts, zeroed = _classify(x, out)
    corrupted = counts == 15
    assert abs(corrupted.float().mean().item() - 0.5) < 0.04  # shear or corruption, p = 1/2 each
    assert abs(zeroed[corrupted].float().mean().item() - 0.5) < 0.05  # zero or matrix, p = 1/2 each
    hit = (out != x)[corrupted].any(-1).flatten(1, 2).any(1)  # (corrupted samples, V)
    frequency = hit.float().mean(0)  # each joint picked with probability 15/25
    assert (frequency - 0.6).abs().max() < 0.08


def test_joint_count_comes_from_the_layout():
    assert corrupted_joint_count(get_layout("ntu25")) == 15  # the official count
    assert corrupted_joint_count(get_layout("kinect20")) == 12
    assert corrupted_joint_count(get_layout("coco17")) == 10
    aug = SSLAugment("kinect20", p_shear=0.0)
    x = _batch(8, m=1, v=20)
    counts, _ = _classify(x, aug(x, generator=torch.Generator().manual_seed(0)))
    assert counts.tolist() == [12] * 8
    counts, _ = _classify(x, SSLAugment("kinect20", p_shear=0.0, corrupt_joints=3)(x))
    assert counts.tolist() == [3] * 8


def test_probability_extremes_select_one_op():
    x = _batch(16)
    counts, _ = _classify(x, SSLAugment("ntu25", p_shear=1.0)(x))
    assert counts.tolist() == [25] * 16
    counts, zeroed = _classify(x, SSLAugment("ntu25", p_shear=0.0, p_zero=1.0)(x))
    assert counts.tolist() == [15] * 16 and bool(zeroed.all())


def test_seeded_repeatable_and_identity_in_eval_mode():
    x = _batch(8)
    aug = SSLAugment("ntu25")
    first = aug(x, generator=torch.Generator().manual_seed(5))
    assert torch.equal(first, aug(x, generator=torch.Generator().manual_seed(5)))
    assert not torch.equal(first, aug(x, generator=torch.Generator().manual_seed(6)))
    aug.eval()
    assert aug(x) is x


def test_missing_joints_stay_zero_and_scores_follow_zeroing():
    x = _batch(32, c=3)
    x[:, 1] = 0.0  # an absent second person
    x[:, 0, :, 4] = 0.0  # a missing joint
    out = SSLAugment("ntu25")(x, generator=torch.Generator().manual_seed(3))
    assert torch.equal(out[:, 1], torch.zeros_like(out[:, 1]))
    assert torch.equal(out[:, 0, :, 4], torch.zeros_like(out[:, 0, :, 4]))

    pose2d = _batch(32, c=3, seed=4)
    pose2d[..., 2] = torch.rand(pose2d.shape[:-1], generator=torch.Generator().manual_seed(0)) + 0.1
    out = SSLAugment("ntu25", num_coords=2, p_shear=0.0)(pose2d, generator=torch.Generator().manual_seed(0))
    gone = (out[..., :2] == 0).all(-1)
    assert bool(gone.any())
    assert torch.equal(out[..., 2][gone], torch.zeros_like(out[..., 2][gone]))  # zeroed joints: no score
    assert torch.equal(out[..., 2][~gone], pose2d[..., 2][~gone])  # the score is never mixed


def test_low_precision_batches_keep_their_dtype():
    x = _batch(8).to(torch.bfloat16)
    out = SSLAugment("ntu25")(x, generator=torch.Generator().manual_seed(0))
    assert out.dtype == torch.bfloat16 and torch.isfinite(out.float()).all()


def test_bad_settings_and_inputs_are_clear_errors():
    with pytest.raises(ConfigError, match="corrupt_joints must be 1 to 25"):
        SSLAugment("ntu25", corrupt_joints=26)
    with pytest.raises(ConfigError, match="p_shear must be in"):
        SSLAugment("ntu25", p_shear=1.5)
    with pytest.raises(ConfigError, match="num_coords must be 2 or 3"):
        SSLAugment("ntu25", num_coords=4)
    with pytest.raises(LayoutError, match="batch has 20 joints, layout 'ntu25' 25"):
        SSLAugment("ntu25")(_batch(2, v=20))
    with pytest.raises(ConfigError, match="1 to 25 joints"):
        joint_corruption(_batch(2), 0)
