"""PSUMNet's unified part input: joint selection, [J, B, JM, BM] with the part's own bones (specs/psumnet.md
section 2)."""

from __future__ import annotations

import pytest
import torch

from skelact.errors import ConfigError, FormatError
from skelact.models.inputs.part_modality import PartModalityFeatures
from skelact.skeleton import get_layout
from skelact.skeleton.parts import part_layout

CASES = [
    ("ntu25", "body"), ("ntu25", "hands"), ("ntu25", "legs"),
    ("ntux67", "body"), ("ntux67", "hands"), ("ntux67", "legs"),
    ("kinect20", "hands"), ("kinect20", "legs"), ("coco17", "hands"), ("coco17", "legs"),
    ("shrec22", "hands"),
]  # fmt: skip


def keypoints(layout: str, n: int = 2, m: int = 2, t: int = 6, c: int = 3) -> torch.Tensor:
    """Random keypoints with no joint exactly at the origin (so nothing is masked as missing)."""
    x = torch.rand(n, m, t, get_layout(layout).num_joints, c, generator=torch.Generator().manual_seed(0))
    return x + 0.5


@pytest.mark.parametrize(("name", "part"), CASES)
@pytest.mark.parametrize("quirks", [False, True])
def test_unified_input_of_every_part(name: str, part: str, quirks: bool) -> None:
    mmdg = PartModalityFeatures(name, part, official_quirks=quirks)
    sub = part_layout(name, part, official_quirks=quirks)
    x = keypoints(name)
    out = mmdg(x)
    v = len(get_layout(name).part(part))
    assert out.shape == (2, 2, 6, v, 12) and mmdg.out_channels(3) == 12
    joint, bone, joint_motion, bone_motion = out.split(3, dim=-1)
    selected = x[:, :, :, list(get_layout(name).part(part))]
    torch.testing.assert_close(joint, selected)  # global coordinates, in stream order
    roots = [j for j, p in enumerate(sub.parents) if j == p]
    assert torch.all(bone[:, :, :, roots] == 0)  # the root bone of each part is zero
    children = [j for j, p in enumerate(sub.parents) if j != p]
    parents = [sub.parents[j] for j in children]
    torch.testing.assert_close(bone[..., children, :], selected[..., children, :] - selected[..., parents, :])
    assert torch.all(joint_motion[:, :, -1] == 0) and torch.all(bone_motion[:, :, -1] == 0)
    torch.testing.assert_close(joint_motion[:, :, :-1], selected[:, :, 1:] - selected[:, :, :-1])
    torch.testing.assert_close(bone_motion[:, :, :-1], bone[:, :, 1:] - bone[:, :, :-1])


def test_hand_tip_bone_is_tip_minus_hand() -> None:
    """NTU hands: tip and thumb both hang on the hand (not tip -> thumb as in the layout's bones)."""
    x = keypoints("ntu25")
    bone = PartModalityFeatures("ntu25", "hands", modality="b")(x)
    torch.testing.assert_close(bone[..., 5, :], x[..., 21, :] - x[..., 7, :])
    torch.testing.assert_close(bone[..., 6, :], x[..., 22, :] - x[..., 7, :])


def test_official_leg_bones() -> None:
    x = keypoints("ntu25")
    bone = PartModalityFeatures("ntu25", "legs", modality="b", official_quirks=True)(x)
    torch.testing.assert_close(bone[..., 4, :], x[..., 15, :] - x[..., 0, :])  # L-foot - spine base
    torch.testing.assert_close(bone[..., 5, :], x[..., 16, :] - x[..., 15, :])  # R-hip - L-foot
    assert torch.all(bone[..., 8, :] == 0)  # R-foot: no bone
    corrected = PartModalityFeatures("ntu25", "legs", modality="b")(x)
    torch.testing.assert_close(corrected[..., 5, :], x[..., 16, :] - x[..., 0, :])


def test_order_is_configurable_and_checked() -> None:
    x = keypoints("ntu25")
    default = PartModalityFeatures("ntu25", "legs")(x)
    reordered = PartModalityFeatures("ntu25", "legs", modality="bm,j")(x)
    assert reordered.shape[-1] == 6
    torch.testing.assert_close(reordered, torch.cat([default[..., 9:], default[..., :3]], dim=-1))
    with pytest.raises(ConfigError, match="unknown modality"):
        PartModalityFeatures("ntu25", "legs", modality="j,k2")
    with pytest.raises(FormatError, match="expected"):
        PartModalityFeatures("ntu25", "legs")(x[..., :20, :])


def test_score_channel_and_2d() -> None:
    x = keypoints("coco17", c=3)
    out = PartModalityFeatures("coco17", "hands", num_coords=2, score_channel=True)(x)
    assert out.shape[-1] == 12
    # The bone's score channel is the mean of the two joints' scores.
    torch.testing.assert_close(out[..., 1, 5], (x[..., 5, 2] + x[..., 0, 2]) / 2)
