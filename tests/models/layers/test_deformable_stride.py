"""Joint windows along kinematic chains or body parts, temporal groups, and the attention maps of the stride
attention modules and of 3D deformable attention."""

from __future__ import annotations

import pytest
import torch

from skelact.errors import ConfigError, LayoutError
from skelact.models.layers.deformable_attention import Attention, DeformableAttention3D
from skelact.models.layers.deformable_stride import (
    JointStrideAttention,
    TemporalStrideAttention,
    chain_windows,
    kinematic_order,
    part_windows,
)
from skelact.skeleton import get_layout, list_layouts
from skelact.skeleton.parts import part_layout


@pytest.mark.parametrize("name", list_layouts())
def test_kinematic_order_walks_the_bone_tree_from_the_root(name: str) -> None:
    layout = get_layout(name)
    order = kinematic_order(layout)
    assert sorted(order) == list(range(layout.num_joints))
    position = {joint: k for k, joint in enumerate(order)}
    assert all(position[layout.parents[j]] <= position[j] for j in order)  # a parent before its children


def test_kinematic_order_keeps_a_limb_together() -> None:
    layout = get_layout("coco17")
    order = kinematic_order(layout)
    arm = [layout.joint_index(n) for n in ("left_shoulder", "left_elbow", "left_wrist")]
    start = order.index(arm[0])
    assert list(order[start : start + 3]) == arm


@pytest.mark.parametrize("name", list_layouts())
@pytest.mark.parametrize(("window", "stride"), [(5, 3), (3, 3), (4, 1), (1, 1), (40, 3)])
def test_joint_windows_cover_every_joint(name: str, window: int, stride: int) -> None:
    layout = get_layout(name)
    windows = chain_windows(layout, window, stride)
    assert {j for w in windows for j in w} == set(range(layout.num_joints))
    assert all(len(w) == min(window, layout.num_joints) for w in windows)
    JointStrideAttention(8, 2, layout.num_joints, windows)  # accepted: it refuses uncovered joints


def test_a_stride_longer_than_the_window_is_refused() -> None:
    with pytest.raises(ConfigError, match="skips joints"):
        chain_windows(get_layout("ntu25"), 4, 5)


def test_windows_and_stride_on_ntu25() -> None:
    windows = chain_windows(get_layout("ntu25"), 5, 3)
    order = kinematic_order(get_layout("ntu25"))
    assert windows[0] == order[:5] and windows[1] == order[3:8] and windows[-1] == order[-5:]
    assert len(windows) == 8  # starts 0, 3, ..., 18 and 20 flush with the end


def test_part_windows_are_the_layout_regions_and_a_layout_without_them_is_refused() -> None:
    layout = get_layout("ntu25")
    windows = part_windows(layout)
    assert windows == tuple(layout.regions.values()) and len(windows) == 6
    with pytest.raises(LayoutError, match="no body regions"):
        part_windows(part_layout("ntu25", "hands"))
    with pytest.raises(LayoutError, match="uncovered"):
        JointStrideAttention(8, 2, 25, windows[:-1])


def test_overlapping_windows_are_averaged() -> None:
    layout = get_layout("ntu25")
    module = JointStrideAttention(8, 2, 25, chain_windows(layout, 5, 3))
    torch.testing.assert_close(module.scatter.sum(dim=1), torch.ones(25))
    shared = module.windows[0][3]  # in windows 0 and 1
    assert sorted(module.scatter[shared][module.scatter[shared] > 0].tolist()) == [0.5, 0.5]


def _maps_sum_to_one(attention: Attention) -> torch.Tensor:
    maps = attention.last_attention
    assert maps is not None
    torch.testing.assert_close(maps.sum(-1), torch.ones(maps.shape[:-1]))
    return maps


def test_joint_stride_attention_maps_sum_to_one_and_ignore_padding() -> None:
    torch.manual_seed(0)
    layout = get_layout("ntu25")
    module = JointStrideAttention(8, 2, 25, part_windows(layout))  # regions of 2 to 7 joints: padded
    module.attention.keep_attention = True
    cross, pose = torch.randn(2, 2, 8), torch.randn(2, 1, 3, 25, 8)
    new_cross, new_pose = module(cross, pose)
    assert new_cross.shape == cross.shape and new_pose.shape == pose.shape
    maps = _maps_sum_to_one(module.attention)
    assert maps.shape == (2 * 3 * 6, 2, 2 + 7, 2 + 7)
    head = part_windows(layout)[0]  # the head: 2 joints, 5 padding slots
    assert maps[0, :, :, 2 + len(head) :].abs().max() == 0


@pytest.mark.parametrize(
    ("partition", "expected"), [("dilated", [[0, 2, 4], [1, 3, -1]]), ("chunked", [[0, 1, 2], [3, 4, -1]])]
)
def test_temporal_groups(partition: str, expected: list[list[int]]) -> None:
    module = TemporalStrideAttention(8, 2, groups=2, partition=partition)  # type: ignore[arg-type]
    assert module.frame_groups(5) == expected
    for frames in (1, 2, 7, 8):
        groups = module.frame_groups(frames)
        assert sorted(f for row in groups for f in row if f >= 0) == list(range(frames))


def test_temporal_stride_attention_maps_sum_to_one_and_frames_map_back_in_order() -> None:
    torch.manual_seed(0)
    module = TemporalStrideAttention(8, 2, groups=3, partition="dilated")
    module.attention.keep_attention = True
    cross, pose = torch.randn(2, 2, 8), torch.randn(2, 2, 7, 4, 8)
    new_cross, new_pose = module(cross, pose)
    assert new_cross.shape == cross.shape and new_pose.shape == pose.shape
    maps = _maps_sum_to_one(module.attention)
    assert maps.shape == (2 * 2 * 4 * 3, 2, 2 + 3, 2 + 3)
    # frames in different groups do not see each other: changing frame 1 leaves frames 0 and 3 (group 0)
    changed = pose.clone()
    changed[:, :, 1] += 1.0
    _, out = module(cross, changed)
    torch.testing.assert_close(out[:, :, [0, 3, 6]], new_pose[:, :, [0, 3, 6]], atol=1e-3, rtol=0)
    assert not torch.allclose(out[:, :, 1], new_pose[:, :, 1])


def test_bad_partition_is_refused() -> None:
    with pytest.raises(ConfigError, match="partition"):
        TemporalStrideAttention(8, 2, groups=2, partition="zigzag")  # type: ignore[arg-type]


def test_deformable_attention_maps_sum_to_one_over_cross_and_sampled_tokens() -> None:
    torch.manual_seed(0)
    module = DeformableAttention3D(8, heads=2, stride=(1, 2, 2))
    module.attention.keep_attention = True
    cross, volume = torch.randn(2, 2, 8), torch.randn(2, 8, 3, 4, 6)
    new_cross, new_volume = module(cross, volume)
    assert new_cross.shape == cross.shape and new_volume.shape == volume.shape
    maps = _maps_sum_to_one(module.attention)
    # every query (2 cross + 72 volume tokens) reads 2 cross + 3·2·3 sampled tokens: O(N·N_s), not O(N²)
    assert maps.shape == (2, 2, 2 + 3 * 4 * 6, 2 + 3 * 2 * 3)
