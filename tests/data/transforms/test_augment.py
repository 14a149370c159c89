"""Batched augmentation: geometry, zeros preserved, score untouched, determinism, BatchAugment."""

from __future__ import annotations

import math

import pytest
import torch

from skelact.data.transforms.augment import (
    BatchAugment,
    gaussian_noise,
    joint_drop,
    random_flip,
    random_rotate,
    random_scale,
    random_shear,
    rotation_matrices,
)
from skelact.errors import ConfigError, FormatError, LayoutError
from skelact.skeleton import get_layout

NTU = get_layout("ntu25")
DEVICES = ["cpu", *(["cuda"] if torch.cuda.is_available() else [])]


def _batch(n: int = 4, c: int = 3, seed: int = 0, dtype: torch.dtype = torch.float32, device: str = "cpu"):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 2, 6, 25, c, generator=g, dtype=torch.float64) + 0.1
    x[0, 1] = 0.0  # a missing person
    x[1, 0, 2, 5] = 0.0  # a missing joint
    return x.to(device=device, dtype=dtype)


def _bones(x: torch.Tensor) -> torch.Tensor:
    parents = torch.tensor(NTU.parents, device=x.device)
    return (x - x[..., parents, :]).norm(dim=-1)


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_rotation_matrices_order_and_orthonormality():
    r = rotation_matrices(
        torch.tensor([[0.0, 0.0, math.pi / 2], [math.pi / 2, 0.0, 0.0]], dtype=torch.float64)
    )
    torch.testing.assert_close(
        r[0] @ torch.tensor([1.0, 0, 0], dtype=torch.float64), torch.tensor([0.0, 1, 0]).double()
    )
    torch.testing.assert_close(
        r[1] @ torch.tensor([0.0, 1, 0], dtype=torch.float64), torch.tensor([0.0, 0, 1]).double()
    )
    angles = torch.rand(5, 3, dtype=torch.float64)
    mats = rotation_matrices(angles)
    torch.testing.assert_close(mats @ mats.transpose(1, 2), torch.eye(3, dtype=torch.float64).expand(5, 3, 3))
    torch.testing.assert_close(torch.linalg.det(mats), torch.ones(5, dtype=torch.float64))
    # Rz @ Ry @ Rx
    a = angles[0]
    expected = rotation_matrices(torch.stack([a * torch.tensor([0, 0, 1.0]).double()]))[0]
    expected = expected @ rotation_matrices(torch.stack([a * torch.tensor([0, 1.0, 0]).double()]))[0]
    expected = expected @ rotation_matrices(torch.stack([a * torch.tensor([1.0, 0, 0]).double()]))[0]
    torch.testing.assert_close(mats[0], expected)


@pytest.mark.parametrize("device", DEVICES)
def test_random_rotate_preserves_bone_lengths_zeros_and_score(device):
    x = _batch(c=4, device=device)  # xyz + score
    out = random_rotate(x, 0.3, num_coords=3, generator=_gen())
    torch.testing.assert_close(_bones(out[..., :3]), _bones(x[..., :3]))
    assert not out[0, 1].any() and not out[1, 0, 2, 5].any()
    torch.testing.assert_close(out[..., 3], x[..., 3], rtol=0, atol=0)
    assert not torch.allclose(out, x)
    torch.testing.assert_close(out, random_rotate(x, 0.3, num_coords=3, generator=_gen()))  # repeatable


def test_random_rotate_respects_per_axis_bounds_and_2d():
    x = _batch(n=64, seed=1)
    out = random_rotate(x, (0.0, 0.0, 0.2), generator=_gen(1))
    torch.testing.assert_close(out[..., 2], x[..., 2])  # only about z: z unchanged
    x2 = torch.zeros(200, 1, 1, 25, 2)
    x2[..., 0] = 1.0
    out2 = random_rotate(x2, 0.1, generator=_gen(2))
    angle = torch.atan2(out2[..., 1], out2[..., 0])
    assert (
        angle.abs().max() <= 0.1 + 1e-6 and angle.abs().max() > 0.09
    )  # U(-0.1, 0.1), not PYSKL's U(-0.1, 1.0)
    assert angle.min() < 0 < angle.max()
    torch.testing.assert_close(out2.norm(dim=-1), x2.norm(dim=-1))
    torch.testing.assert_close(random_rotate(x, 0.0), x)


def test_random_scale_factors_per_axis_within_bounds():
    x = _batch(n=32, seed=2)
    out = random_scale(x, 0.1, generator=_gen())
    ratio = out[:, 0, 0, 0] / x[:, 0, 0, 0]  # (N, 3) factors
    torch.testing.assert_close(out[:, 0], x[:, 0] * ratio[:, None, None, :])
    assert ((ratio >= 0.9) & (ratio <= 1.1)).all() and ratio.std() > 0.01
    assert not out[0, 1].any()
    with pytest.raises(ConfigError, match="max_delta"):
        random_scale(x, (0.1, 0.2))


def test_random_shear_matrix_shape():
    x = torch.zeros(50, 1, 1, 25, 3, dtype=torch.float64)
    x[..., 0, :] = torch.tensor([1.0, 0, 0], dtype=torch.float64)  # joint 0 = e_x; others missing
    out = random_shear(x, 0.5, generator=_gen())
    assert (out[..., 0, 0] == 1).all()  # diagonal is one
    assert out[..., 0, 1:].abs().max() <= 0.5 and out[..., 0, 1:].abs().max() > 0.4
    assert not out[..., 1:, :].any()
    torch.testing.assert_close(random_shear(x, 0.0), x)


@pytest.mark.parametrize("device", DEVICES)
def test_random_flip_swaps_named_joints_and_is_an_involution(device):
    x = _batch(c=4, device=device)
    out = random_flip(x, NTU, p=1.0, generator=_gen())
    left, right = NTU.joint_index("left_shoulder"), NTU.joint_index("right_shoulder")
    torch.testing.assert_close(out[..., right, 0], -x[..., left, 0])
    torch.testing.assert_close(out[..., right, 1:], x[..., left, 1:])  # y, z and score move unchanged
    torch.testing.assert_close(out[..., 1, :], x[..., 1, :] * torch.tensor([-1.0, 1, 1, 1], device=device))
    torch.testing.assert_close(random_flip(out, NTU, p=1.0), x)
    plain = random_flip(x, NTU, p=1.0, mirror=False)
    torch.testing.assert_close(plain[..., right, :], x[..., left, :])
    torch.testing.assert_close(random_flip(x, NTU, p=0.0), x)


def test_random_flip_chooses_whole_samples():
    x = _batch(n=64)
    out = random_flip(x, NTU, p=0.5, generator=_gen(3))
    flipped = random_flip(x, NTU, p=1.0)
    same = (out == x).flatten(1).all(1)
    mirrored = (out == flipped).flatten(1).all(1)
    assert (same ^ mirrored).all() and 10 < mirrored.sum() < 54
    with pytest.raises(LayoutError, match="17"):
        random_flip(torch.zeros(1, 1, 1, 17, 3), NTU)


def test_gaussian_noise_only_on_present_coordinates():
    x = _batch(n=64, c=3)
    x = torch.cat([x, torch.full_like(x[..., :1], 0.7)], dim=-1)
    out = gaussian_noise(x, 0.05, num_coords=3, generator=_gen())
    noise = (out - x)[..., :3]
    assert not out[0, 1, ..., :3].any() and not out[1, 0, 2, 5, :3].any()
    assert (out[..., 3] == 0.7).all()
    assert noise[1:, 0].std().item() == pytest.approx(0.05, rel=0.1)


def test_joint_drop():
    x = _batch(n=32)
    torch.testing.assert_close(joint_drop(x, 0.0), x)
    assert not joint_drop(x, 1.0).any()
    dropped = ~joint_drop(torch.ones(32, 2, 6, 25, 3), 0.3, generator=_gen()).any(-1)
    assert dropped.float().mean().item() == pytest.approx(0.3, abs=0.03)
    whole = ~joint_drop(torch.ones(32, 2, 6, 25, 3), 0.3, whole_sequence=True, generator=_gen()).any(-1)
    assert (whole == whole[:, :, :1]).all()  # the same joints in every frame


def test_input_validation():
    with pytest.raises(FormatError, match="N, M, T, V, C"):
        random_rotate(torch.zeros(2, 6, 25, 3), 0.3)
    with pytest.raises(FormatError, match="float"):
        random_rotate(torch.zeros(1, 1, 1, 25, 3, dtype=torch.long), 0.3)
    with pytest.raises(ConfigError, match="num_coords"):
        random_rotate(torch.zeros(1, 1, 1, 25, 4), 0.3)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.bfloat16])
def test_batch_augment_training_only_and_dtype(dtype):
    aug = BatchAugment.from_config(
        NTU, {"rotate": 0.3, "scale": 0.1, "flip": 0.5, "noise": 0.01, "joint_drop": 0.1}
    )
    x = _batch(dtype=dtype)
    out = aug(x, generator=_gen())
    assert out.dtype == dtype and out.shape == x.shape and not torch.equal(out, x)
    assert not out[0, 1].any()
    torch.testing.assert_close(out, aug(x, generator=_gen()))
    aug.eval()
    assert aug(x) is x
    assert "rotate=0.3" in repr(aug) and "shear" not in repr(aug)


def test_batch_augment_config_errors_and_identity():
    with pytest.raises(ConfigError, match="unknown augmentation option"):
        BatchAugment.from_config("ntu25", {"rotation": 0.3})
    with pytest.raises(ConfigError, match=r"flip=1\.5"):
        BatchAugment(NTU, flip=1.5)
    x = _batch()
    assert BatchAugment("ntu25")(x) is x  # nothing enabled
    two_d = BatchAugment(NTU, num_coords=2, rotate=0.2, scale=(0.1, 0.0))
    out = two_d(torch.cat([x[..., :2], x[..., 2:] * 0 + 0.5], dim=-1), generator=_gen())
    assert (out[..., 2] == 0.5).all()
