"""Modality features: bones, motion, masking, score channel, channel order, gradients, tracing."""

from __future__ import annotations

import pytest
import torch

from skelact.errors import ConfigError, FormatError
from skelact.models.inputs.modality import MODALITIES, ModalityFeatures, parse_modality
from skelact.skeleton import get_layout

NTU = get_layout("ntu25")
COCO = get_layout("coco17")
DEVICES = ["cpu", *(["cuda"] if torch.cuda.is_available() else [])]


def _batch(c: int = 3, v: int = 25, dtype: torch.dtype = torch.float64, t: int = 5) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return (torch.rand(2, 2, t, v, c, generator=g, dtype=torch.float64) + 0.1).to(dtype)


def test_parse_modality():
    assert MODALITIES == ("j", "b", "jm", "bm", "k", "km")
    assert parse_modality("j") == ("j",)
    assert parse_modality("b, j") == ("b", "j")
    assert parse_modality(["joint", "Bone-Motion", "jm"]) == ("j", "bm", "jm")
    with pytest.raises(ConfigError, match="unknown modality 'jb'") as err:
        parse_modality("jb")
    assert "joint_motion" in str(err.value)
    with pytest.raises(ConfigError, match="listed twice"):
        parse_modality("j,joint")
    with pytest.raises(ConfigError, match="empty modality"):
        parse_modality(" , ")


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_bone_is_joint_minus_parent_and_root_is_zero(dtype):
    x = _batch(dtype=dtype)
    x[0, 0, 1, 20] = 0.0  # spine_shoulder missing: the parent of 1, 2, 4, 8, 20
    out = ModalityFeatures(NTU, "b")(x)
    assert out.dtype == dtype and out.shape == x.shape
    assert not out[..., 20, :].any()  # root (its own parent)
    torch.testing.assert_close(out[..., 0, :], x[..., 0, :] - x[..., 1, :])  # spine base -> spine middle
    torch.testing.assert_close(out[..., 21, :], x[..., 21, :] - x[..., 22, :])  # hand tip -> thumb
    assert not out[0, 0, 1, [1, 2, 4, 8]].any()  # missing parent
    torch.testing.assert_close(out[0, 0, 2, 1], x[0, 0, 2, 1] - x[0, 0, 2, 20])


def test_motion_last_frame_zero_and_masked():
    x = _batch()
    x[1, 1, 2, 3] = 0.0  # joint missing in frame 2: motions 1->2 and 2->3 vanish
    out = ModalityFeatures(NTU, ["jm"])(x)
    assert not out[:, :, -1].any()
    torch.testing.assert_close(out[:, :, :-1], (x[:, :, 1:] - x[:, :, :-1]) * (out[:, :, :-1] != 0))
    torch.testing.assert_close(out[0, 0, 0], x[0, 0, 1] - x[0, 0, 0])
    assert not out[1, 1, 1, 3].any() and not out[1, 1, 2, 3].any()
    assert out[1, 1, 3, 3].all()


def test_unmasked_differences_subtract_at_missing_joints_too():
    """mask_missing=False (the released feeders): a joint appearing or disappearing is a jump from or to the
    origin, a bone with a missing end the other end's coordinates."""
    x = _batch()
    x[1, 1, 2, 3] = 0.0  # joint 3 (head) missing in frame 2
    x[0, 0, 1, 20] = 0.0  # spine shoulder (parent of 1, 2, 4, 8) missing in frame 1
    out = ModalityFeatures(NTU, "j,b,jm,bm", mask_missing=False)(x)
    joint, bone, joint_motion, bone_motion = out.split(3, dim=-1)
    torch.testing.assert_close(joint, x, rtol=0, atol=0)
    parents = torch.tensor(NTU.parents)
    plain_bone = x - x[..., parents, :]
    torch.testing.assert_close(bone, plain_bone, rtol=0, atol=0)
    torch.testing.assert_close(bone[0, 0, 1, 2], x[0, 0, 1, 2])  # neck - missing spine shoulder
    torch.testing.assert_close(joint_motion[:, :, :-1], x[:, :, 1:] - x[:, :, :-1], rtol=0, atol=0)
    torch.testing.assert_close(joint_motion[1, 1, 1, 3], -x[1, 1, 1, 3])  # to the origin
    torch.testing.assert_close(bone_motion[:, :, :-1], plain_bone[:, :, 1:] - plain_bone[:, :, :-1])
    assert not joint_motion[:, :, -1].any() and not bone_motion[:, :, -1].any()
    masked = ModalityFeatures(NTU, "j,b,jm,bm")(x)
    differs = (masked != out).any(-1)
    assert differs[1, 1, 1, 3] and differs[0, 0, 1, 2]  # the default masks exactly there
    torch.testing.assert_close(masked[0, 1], out[0, 1], rtol=0, atol=0)  # nothing missing: equal


def test_channel_order_bone_motion_and_out_channels():
    x = _batch()
    feats = ModalityFeatures(NTU, "b,j,bm,jm")
    out = feats(x)
    assert feats.out_channels(3) == 12 and feats.out_channels() == 12 and out.shape[-1] == 12
    bone = ModalityFeatures(NTU, "b")(x)
    torch.testing.assert_close(out[..., 0:3], bone)
    torch.testing.assert_close(out[..., 3:6], x)
    torch.testing.assert_close(
        out[
            ...,
            6:9,
        ],
        ModalityFeatures(NTU, "jm")(bone),
    )  # bm = motion of the bone
    torch.testing.assert_close(out[..., 9:12], ModalityFeatures(NTU, "jm")(x))


def test_score_channel_is_the_mean_of_the_two_scores():
    x = _batch(c=3, v=17)  # x, y, score on COCO-17
    feats = ModalityFeatures(COCO, "j,b,jm", num_coords=2, score_channel=True)
    out = feats(x)
    assert out.shape[-1] == 9
    bone, motion = out[..., 3:6], out[..., 6:9]
    torch.testing.assert_close(bone[..., 7, :2], x[..., 7, :2] - x[..., 5, :2])  # left elbow -> left shoulder
    torch.testing.assert_close(bone[..., 7, 2], (x[..., 7, 2] + x[..., 5, 2]) / 2)
    assert not bone[..., 0, :2].any()
    torch.testing.assert_close(bone[..., 0, 2], x[..., 0, 2])  # root: zero bone, score = mean(s, s)
    torch.testing.assert_close(motion[:, :, 0, :, 2], (x[:, :, 0, :, 2] + x[:, :, 1, :, 2]) / 2)
    assert not motion[:, :, -1].any()


def test_gradients_flow():
    x = _batch(t=4).requires_grad_(True)
    ModalityFeatures(NTU, "j,jm")(x).sum().backward()
    # d/dx of sum(x) + sum_{t<T-1}(x[t+1] - x[t]): 1 + (-1 at t = 0, +1 at t = T-1)
    expected = torch.ones_like(x)
    expected[:, :, 0] -= 1
    expected[:, :, -1] += 1
    torch.testing.assert_close(x.grad, expected)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("device", DEVICES)
def test_trace_matches_eager_on_new_shapes(device):
    feats = ModalityFeatures(NTU, "j,b,jm,bm").to(device)
    traced = torch.jit.trace(feats, _batch(dtype=torch.float32, t=8).to(device))
    other = _batch(dtype=torch.float32, t=3).to(device)[:1]
    other[0, 1] = 0.0
    torch.testing.assert_close(traced(other), feats(other))


def test_torch_export_with_dynamic_batch_and_time():
    feats = ModalityFeatures(COCO, "j,b,jm,bm", num_coords=2, score_channel=True)
    # T >= 3: export specialises a size of 1, and the motion's T - 1 frames must stay symbolic
    dims = {0: torch.export.Dim("N", min=1, max=1024), 2: torch.export.Dim("T", min=3, max=4096)}
    program = torch.export.export(feats, (_batch(v=17, dtype=torch.float32, t=8),), dynamic_shapes=(dims,))
    other = _batch(v=17, dtype=torch.float32, t=5)[:1]
    torch.testing.assert_close(program.module()(other), feats(other))


def test_shape_errors():
    with pytest.raises(FormatError, match=r"expected \(N, M, T, 25, 3\)"):
        ModalityFeatures(NTU)(torch.zeros(1, 1, 4, 25, 4))
    with pytest.raises(ConfigError, match="num_coords"):
        ModalityFeatures(NTU, num_coords=4)
