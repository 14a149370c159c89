"""GIN layers on skeleton graphs (SkeletonMAE): the A + I aggregation, groups as independent copies, the
bit-for-bit copy of a pre-trained network into every group; region masks and the [MASK] token."""

from __future__ import annotations

import pytest
import torch

from skelact.errors import ConfigError
from skelact.models.layers.gin import GroupedGIN, gin_adjacency
from skelact.models.layers.region_mask import RegionMasker, apply_mask_token
from skelact.skeleton import get_layout


def test_adjacency_is_the_layouts_edges_plus_self_loops() -> None:
    layout = get_layout("coco17")
    a = gin_adjacency(layout)
    assert torch.equal(a, a.T) and torch.equal(a.diagonal(), torch.ones(17))
    assert int(a.sum()) == 17 + 2 * len(layout.edges)
    assert a[8, 6] == 1 and a[8, 10] == 1 and a[8, 9] == 0  # right elbow: shoulder and wrist


def test_groups_are_independent_copies_and_load_bit_for_bit() -> None:
    torch.manual_seed(0)
    single = GroupedGIN("coco17", 6, 10, 6, num_layers=3, groups=1).eval()
    grouped = GroupedGIN("coco17", 6, 10, 6, num_layers=3, groups=2).eval()
    with torch.no_grad():  # non-trivial running statistics
        for name, buffer in single.named_buffers():
            if name.endswith(("running_mean", "running_var")):
                buffer.uniform_(0.5, 1.5)
    grouped.load_into_groups(single.state_dict())
    for key, value in grouped.state_dict().items():
        for g in range(2):
            assert torch.equal(value[g], single.state_dict()[key][0]), key
    x = torch.randn(2, 5, 17, 6)
    out = grouped(x)
    for g in range(2):
        torch.testing.assert_close(out[g : g + 1], single(x[g : g + 1]))


def test_one_message_pass_reaches_only_neighbours() -> None:
    torch.manual_seed(0)
    gin = GroupedGIN("coco17", 4, 8, 4, num_layers=1, final_activation=False).eval()
    x = torch.zeros(1, 1, 17, 4)
    base = gin(x)
    x[0, 0, 10] = 1.0  # right wrist: its only neighbour is the right elbow
    changed = (gin(x) - base).abs().sum(-1)[0, 0] > 1e-7
    assert changed.nonzero().flatten().tolist() == [8, 10]


def test_a_network_of_other_widths_is_refused() -> None:
    single = GroupedGIN("coco17", 6, 10, 6, num_layers=2)
    with pytest.raises(ConfigError, match="does not fit"):
        GroupedGIN("coco17", 6, 12, 6, num_layers=2, groups=2).load_into_groups(single.state_dict())
    with pytest.raises(ConfigError, match="missing"):
        GroupedGIN("coco17", 6, 10, 6, num_layers=3, groups=2).load_into_groups(single.state_dict())


def test_the_mask_token_replaces_exactly_the_masked_joints() -> None:
    masker = RegionMasker("coco17")  # right arm + right leg
    masked = masker(3)
    assert masked.shape == (3, 17) and masked[0].nonzero().flatten().tolist() == [8, 10, 14, 16]
    features = torch.randn(3, 2, 4, 17, 5)
    token = torch.randn(5)
    out = apply_mask_token(features, masked, token)
    hit = (out == token).all(-1)  # (N, M, T, V)
    assert torch.equal(hit, masked[:, None, None, :].expand_as(hit))
    assert torch.equal(out[:, :, :, ~masked[0]], features[:, :, :, ~masked[0]])


def test_random_regions_mask_k_whole_regions_per_sequence() -> None:
    layout = get_layout("ntu25")
    masker = RegionMasker(layout, random_regions=2)
    masks = masker(200, torch.Generator().manual_seed(0))
    sizes = {name: len(joints) for name, joints in layout.regions.items()}
    seen = set()
    for mask in masks:
        hit = [name for name, joints in layout.regions.items() if mask[list(joints)].all()]
        assert len(hit) == 2 and int(mask.sum()) == sum(sizes[h] for h in hit)
        seen.add(tuple(hit))
    assert len(seen) == 15  # every pair of the six regions appears
    with pytest.raises(ConfigError, match=r"random_regions must be in 1\.\.5"):
        RegionMasker(layout, random_regions=6)


def test_grouped_batchnorm_is_a_batchnorm_per_group_with_running_statistics() -> None:
    from skelact.models.layers.gin import GroupedBatchNorm

    bn = GroupedBatchNorm(2, 3)
    x = torch.randn(2, 5, 4, 3) * 2 + 1
    y = bn(x)
    for g in range(2):
        reference = torch.nn.BatchNorm1d(3)
        torch.testing.assert_close(y[g].reshape(-1, 3), reference(x[g].reshape(-1, 3)))
        torch.testing.assert_close(bn.running_mean[g], reference.running_mean)
        torch.testing.assert_close(bn.running_var[g], reference.running_var)
