"""Pose heatmap volumes: peaks at the keypoints, score weighting, flips, shapes."""

from __future__ import annotations

import pytest
import torch

from skelact.errors import ConfigError, FormatError
from skelact.models.inputs.heatmap import HeatmapVolume, limb_pairs
from skelact.skeleton.layout import get_layout

SIZE = 56


def anchored_clip(generator: torch.Generator, frames: int = 3) -> torch.Tensor:
    """(1, 1, T, 17, 3) coco17 keypoints + score in [0, 1]², joints 0 and 1 pinned to the box's corners
    (0, 0) and (1, 1), so the crop is known: side 1.25 about (0.5, 0.5)."""
    xy = torch.rand(1, 1, frames, 17, 2, generator=generator) * 0.9 + 0.05
    xy[..., 0, :], xy[..., 1, :] = 0.0, 1.0
    xy[..., 0, :] += (
        1e-3  # not exactly (0, 0): a joint with zero coordinates is only "missing" without a score
    )
    score = torch.ones(1, 1, frames, 17, 1)
    return torch.cat([xy, score], dim=-1)


def expected_pixels(clip: torch.Tensor) -> torch.Tensor:
    lo, hi = clip[..., :2].amin(dim=(0, 1, 2, 3)), clip[..., :2].amax(dim=(0, 1, 2, 3))
    side = (hi - lo).max() * 1.25
    return (clip[..., :2] - (lo + hi) / 2) / side * SIZE + (SIZE - 1) / 2


def test_each_gaussian_peaks_at_its_keypoint() -> None:
    render = HeatmapVolume("coco17", num_coords=2, score_channel=True)
    clip = anchored_clip(torch.Generator().manual_seed(0))
    volume = render(clip)[0]  # (V, T, H, W)
    expected = expected_pixels(clip)[0, 0].permute(1, 0, 2)  # (V, T, 2) as (column, row)
    flat = volume.flatten(-2).argmax(-1)
    peak = torch.stack([flat % SIZE, flat // SIZE], dim=-1).float()
    assert (peak - expected).abs().max() <= 0.5
    # sub-pixel: the heatmap's centre of mass lies at the keypoint too
    grid = torch.arange(SIZE, dtype=torch.float32)
    mass = volume.sum(dim=(-2, -1))
    centroid = torch.stack(
        [(volume.sum(-2) * grid).sum(-1) / mass, (volume.sum(-1) * grid).sum(-1) / mass], dim=-1
    )
    inside = (expected > 2) & (expected < SIZE - 3)  # a Gaussian cut by the border is off-centre
    assert (centroid - expected).abs()[inside].max() <= 0.5


def test_peak_value_is_the_best_score_over_persons() -> None:
    render = HeatmapVolume("coco17", num_coords=2, score_channel=True)
    clip = anchored_clip(torch.Generator().manual_seed(1), frames=1).repeat(1, 2, 1, 1, 1)
    clip[0, 0, ..., 2, 2], clip[0, 1, ..., 2, 2] = 0.3, 0.8
    merged, first, second = (render(c)[0, 2] for c in (clip, clip[:, :1], clip[:, 1:]))
    torch.testing.assert_close(merged, second)  # the max, not the sum
    torch.testing.assert_close(first * (0.8 / 0.3), second)


def test_zero_where_the_score_is_zero() -> None:
    render = HeatmapVolume("coco17", num_coords=2, score_channel=True, limbs=True)
    clip = anchored_clip(torch.Generator().manual_seed(2))
    clip[..., 5, 2] = 0.0  # left shoulder unseen in every frame
    clip[..., 1, 8, 2] = 0.0  # left elbow unseen in frame 1
    volume = render(clip)[0]
    assert volume[5].abs().max() == 0
    assert volume[8, 1].abs().max() == 0 and volume[8, 0].max() > 0.5
    limbs = limb_pairs(get_layout("coco17"))
    for k, (child, parent) in enumerate(limbs):
        if 5 in (child, parent):
            assert volume[17 + k].abs().max() == 0
    assert volume[:5].amax(dim=(-2, -1)).min() > 0.5


def test_missing_joints_draw_nothing_without_a_score_channel() -> None:
    render = HeatmapVolume("ntu25", num_coords=3)
    clip = torch.rand(1, 1, 2, 25, 3) + 0.1
    clip[..., 7, :] = 0.0
    volume = render(clip)[0]
    assert volume[7].abs().max() == 0 and volume[6].max() > 0.5


@pytest.mark.parametrize(("layout", "coords"), [("coco17", 2), ("ntu25", 3)])
def test_horizontal_flip_swaps_left_and_right_channels(layout: str, coords: int) -> None:
    render = HeatmapVolume(layout, num_coords=coords, limbs=True)
    clip = torch.randn(2, 2, 3, render.layout.num_joints, coords, generator=torch.Generator().manual_seed(3))
    mirrored = clip[..., render.layout.flip_permutation(), :].clone()
    mirrored[..., 0] = -mirrored[..., 0]
    torch.testing.assert_close(render(mirrored), render.flip(render(clip)), atol=1e-5, rtol=0)
    assert render.channel_flip_permutation() != list(range(render.out_channels))


def test_shapes_and_channels() -> None:
    clip = torch.randn(3, 2, 5, 17, 3)
    assert HeatmapVolume("coco17", score_channel=True)(clip).shape == (3, 17, 5, 56, 56)
    both = HeatmapVolume("coco17", score_channel=True, limbs=True, size=32)
    assert both(clip).shape == (3, 17 + len(limb_pairs(both.layout)), 5, 32, 32)
    limbs_only = HeatmapVolume("coco17", score_channel=True, joints=False, limbs=True)
    assert limbs_only.out_channels == len(limb_pairs(both.layout))
    assert HeatmapVolume("coco17", score_channel=True)(torch.zeros(1, 1, 2, 17, 3)).abs().max() == 0


def test_bad_settings_and_input_are_one_clear_error() -> None:
    with pytest.raises(ConfigError, match="joints and limbs"):
        HeatmapVolume("coco17", joints=False, limbs=False)
    with pytest.raises(ConfigError, match="plane"):
        HeatmapVolume("ntu25", num_coords=3, plane="yy")  # type: ignore[arg-type]
    with pytest.raises(FormatError, match="heatmap volume"):
        HeatmapVolume("coco17")(torch.zeros(1, 1, 2, 17, 3))
