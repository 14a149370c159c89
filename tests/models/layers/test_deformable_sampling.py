"""The (t, y, x) trilinear sampler and 3D token search: axis order, exactness at zero offsets, gradients."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from skelact.errors import FormatError
from skelact.models.layers.deformable_attention import TokenSearch3D, offset_kernel
from skelact.models.layers.deformable_sampling import reference_grid, sample_volume

SHAPE = (5, 6, 7)  # T, H, W all different, so a swapped axis cannot go unnoticed


def _all_voxels() -> torch.Tensor:
    t, h, w = SHAPE
    return reference_grid(SHAPE, (1, 1, 1)).view(1, t * h * w, 3)


@pytest.mark.parametrize("where", [(0, 0, 0), (1, 2, 3), (4, 5, 6), (3, 0, 6)])
def test_a_single_bright_voxel_is_read_exactly_where_it_is(where: tuple[int, int, int]) -> None:
    volume = torch.zeros(1, 1, *SHAPE)
    volume[0, 0, where[0], where[1], where[2]] = 1.0
    samples = sample_volume(volume, _all_voxels()).view(*SHAPE)
    assert samples[where] == 1.0 and samples.sum() == 1.0
    # half a voxel along one axis at a time reads half of it: the axes are not mixed up
    for axis, size in enumerate(SHAPE):
        point = torch.tensor(where, dtype=torch.float32)
        point[axis] += 0.5 if where[axis] < size - 1 else -0.5
        assert sample_volume(volume, point.view(1, 1, 3)).item() == pytest.approx(0.5)


def test_shifting_the_volume_along_one_axis_moves_the_samples_along_that_axis() -> None:
    volume = torch.rand(1, 3, *SHAPE, generator=torch.Generator().manual_seed(0))
    points = torch.tensor([[[1.25, 2.5, 3.75], [2.0, 1.5, 4.0]]])
    for axis in range(3):
        shifted = volume.roll(1, dims=2 + axis)  # content moves one voxel towards higher indices
        moved = points.clone()
        moved[..., axis] += 1
        torch.testing.assert_close(sample_volume(shifted, moved), sample_volume(volume, points))


def test_it_agrees_with_grid_sample_given_x_y_t_normalised_coordinates() -> None:
    """Pins the convention: grid_sample on a 5-D input wants the grid as (x, y, t) in [-1, 1]."""
    generator = torch.Generator().manual_seed(1)
    volume = torch.rand(2, 4, *SHAPE, generator=generator)
    sizes = torch.tensor(SHAPE, dtype=torch.float32)
    points = torch.rand(2, 50, 3, generator=generator) * (sizes + 2) - 1  # some outside the volume
    normalised = (points / (sizes - 1) * 2 - 1).flip(-1)  # (t, y, x) voxels → (x, y, t) in [-1, 1]
    expected = F.grid_sample(
        volume, normalised.view(2, 50, 1, 1, 3), align_corners=True, padding_mode="zeros"
    )
    torch.testing.assert_close(sample_volume(volume, points), expected.view(2, 4, 50).transpose(1, 2))


def test_bad_shapes_are_one_clear_error() -> None:
    with pytest.raises(FormatError, match="expected a"):
        sample_volume(torch.zeros(1, 1, 2, 2), torch.zeros(1, 3, 3))


@pytest.mark.parametrize("stride", [(1, 1, 1), (2, 2, 2), (1, 2, 3), (4, 3, 2)])
def test_zero_offsets_reproduce_strided_grid_sampling_exactly(stride: tuple[int, int, int]) -> None:
    torch.manual_seed(0)
    search = TokenSearch3D(dim=8, groups=2, stride=stride)  # the offset network's last layer starts at zero
    query, value = torch.randn(2, 8, *SHAPE), torch.randn(2, 8, *SHAPE)
    strided = value[:, :, :: stride[0], :: stride[1], :: stride[2]].flatten(2).transpose(1, 2)
    assert torch.equal(search(query, value), strided)


def test_offsets_receive_gradients_and_move_the_samples() -> None:
    torch.manual_seed(0)
    search = TokenSearch3D(dim=8, groups=2, stride=(1, 2, 2))
    query, value = torch.randn(2, 8, *SHAPE), torch.randn(2, 8, *SHAPE)
    search(query, value).square().sum().backward()
    last = search.offset[-1]
    assert last.weight.grad is not None and last.weight.grad.abs().sum() > 0
    assert last.bias.grad is not None and last.bias.grad.abs().sum() > 0
    with torch.no_grad():
        last.bias.copy_(torch.tensor([0.0, 10.0, 0.0]))  # tanh(10) ≈ 1: one offset range (2 voxels) along y
    search.keep_points = True
    search(query, value)
    grid = reference_grid(SHAPE, (1, 2, 2)).view(-1, 3)
    moved = search.last_points[0, 0] - grid
    torch.testing.assert_close(moved, torch.tensor([0.0, 2.0, 0.0]).expand_as(moved), atol=1e-6, rtol=0)


def test_the_offset_network_covers_the_reference_grid() -> None:
    assert [offset_kernel(s) for s in (1, 2, 3, 4)] == [3, 3, 5, 5]
    for frames in range(1, 10):
        search = TokenSearch3D(dim=4, groups=1, stride=(4, 3, 2))
        value = torch.randn(1, 4, frames, 7, 5)
        assert search(value, value).shape == (1, len(range(0, frames, 4)) * 3 * 3, 4)
