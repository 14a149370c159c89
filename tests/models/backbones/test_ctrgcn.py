"""CTR-GCN: exact parameter counts and MACs, the official graph, and equality with the literal official
formulation (tests/models/backbones/literal.py) on the same weights."""

import numpy as np
import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from skelact.errors import ConfigError, FormatError
from skelact.models import create_model
from skelact.models.backbones import CTRGCN
from skelact.models.backbones.ctrgcn import convert_official_state_dict
from skelact.models.layers import CTRGraphConv
from skelact.skeleton import build_adjacency

# Official model/ctrgcn.py `Model` counts (reference-results.md section 9.1, issue 4).
PARAMS = {("ntu25", 60, 2): 1_446_672, ("ntu25", 120, 2): 1_462_092, ("kinect20", 10, 1): 1_426_892}
# Official inward edge lists, 1-based (child, parent): graph/ntu_rgb_d.py and graph/ucla.py.
OFFICIAL_INWARD = {
    "ntu25": [
        (1, 2), (2, 21), (3, 21), (4, 3), (5, 21), (6, 5), (7, 6), (8, 7), (9, 21), (10, 9), (11, 10),
        (12, 11), (13, 1), (14, 13), (15, 14), (16, 15), (17, 1), (18, 17), (19, 18), (20, 19), (22, 23),
        (23, 8), (24, 25), (25, 12),
    ],
    "kinect20": [
        (1, 2), (2, 3), (4, 3), (5, 3), (6, 5), (7, 6), (8, 7), (9, 3), (10, 9), (11, 10), (12, 11), (13, 1),
        (14, 13), (15, 14), (16, 15), (17, 1), (18, 17), (19, 18), (20, 19),
    ],
}  # fmt: skip


def official_spatial_graph(inward_1based: list[tuple[int, int]], v: int) -> np.ndarray:
    """graph/tools.py get_spatial_graph, literally: edge2mat puts link (i, j) at A[j, i]; normalize_digraph
    divides every column by its sum."""

    def edge2mat(links: list[tuple[int, int]]) -> np.ndarray:
        a = np.zeros((v, v))
        for i, j in links:
            a[j, i] = 1
        return a

    def normalize(a: np.ndarray) -> np.ndarray:
        col = a.sum(0)
        return a @ np.diag([1 / c if c > 0 else 0 for c in col])

    inward = [(i - 1, j - 1) for i, j in inward_1based]
    outward = [(j, i) for i, j in inward]
    return np.stack(
        [edge2mat([(i, i) for i in range(v)]), normalize(edge2mat(inward)), normalize(edge2mat(outward))]
    )


@pytest.mark.parametrize(("layout", "classes", "persons"), list(PARAMS))
def test_parameter_counts_are_official(layout, classes, persons):
    model = create_model("ctrgcn", layout=layout, in_channels=3, num_classes=classes, num_persons=persons)
    assert sum(p.numel() for p in model.parameters()) == PARAMS[layout, classes, persons]


def test_macs_match_the_official_count():
    """1.94 G MACs (FlopCounterMode FLOPs / 2) at 3 x 64 x 25 x 2 in the official order of operations; the
    default path pools before conv1/conv2 and runs 1.77 G for the same outputs."""
    model = create_model("ctrgcn", layout="ntu25", in_channels=3, num_classes=60).eval()
    x = torch.zeros(1, 2, 64, 25, 3)

    def macs() -> int:
        with FlopCounterMode(display=False) as counter:
            model(x)
        return counter.get_total_flops() // 2

    fast = macs()
    for unit in model.modules():
        if isinstance(unit, CTRGraphConv):
            unit.pool_first = False
    assert macs() == 1_939_164_160
    assert fast == 1_769_136_160


@pytest.mark.parametrize("layout", ["ntu25", "kinect20"])
def test_graph_is_the_official_one(layout):
    model = CTRGCN(layout, 3, 10, num_persons=1, base_channels=8)
    v = model.layout.num_joints
    expected = official_spatial_graph(OFFICIAL_INWARD[layout], v)
    for block in model.blocks:
        np.testing.assert_allclose(block.gcn.PA.detach().numpy(), expected, atol=1e-7)
    assert block.gcn.PA.requires_grad


def test_architecture():
    model = CTRGCN("ntu25", 3, 60)
    assert len(model.blocks) == 10 and model.num_features == 256
    assert model.blocks[0].residual is None
    assert isinstance(model.blocks[1].residual, torch.nn.Identity)
    assert model.blocks[4].residual.conv.stride == (2, 1) and model.blocks[7].tcn.stride == 2
    assert [b.gcn.rel_channels for b in model.blocks] == [8, 8, 8, 8, 8, 16, 16, 16, 32, 32]
    assert model.blocks[1].tcn.widths == [16, 16, 16, 16]  # 4 branches: dilations 1, 2, max, 1x1
    assert model.data_bn.num_features == 2 * 25 * 3


def test_initialisation_follows_the_official_code():
    torch.manual_seed(0)
    model = CTRGCN("ntu25", 3, 60)
    gcn = model.blocks[1].gcn
    assert torch.all(gcn.alpha == 0) and torch.all(gcn.bn.weight == 1e-6)
    assert gcn.value.weight.std().item() == pytest.approx((2 / 64) ** 0.5, rel=0.05)  # fan_out of one subset
    assert gcn.rel_weight.std().item() == pytest.approx((2 / 8) ** 0.5, rel=0.05)
    assert model.head.fc.weight.std().item() == pytest.approx((2 / 60) ** 0.5, rel=0.05)
    tcn_bn = model.blocks[1].tcn.bn.weight
    assert tcn_bn.min() > 0.9 and tcn_bn.max() < 1.1 and tcn_bn.std() > 0  # N(1, 0.02)


@pytest.mark.parametrize(("layout", "persons", "classes"), [("ntu25", 2, 60), ("kinect20", 1, 10)])
def test_equals_literal_official_formulation(literal, layout, persons, classes):
    """Same weights (loaded through the official-checkpoint converter) -> same logits and gradients."""
    torch.manual_seed(0)
    A = torch.from_numpy(build_adjacency(layout))
    reference = literal.LiteralCTRGCN(A, classes, persons)
    shape = (4, persons, 12, A.shape[-1], 3)
    literal.randomise(reference, calibrate=shape)
    model = create_model("ctrgcn", layout=layout, in_channels=3, num_classes=classes, num_persons=persons)
    model.load_state_dict(convert_official_state_dict(reference.state_dict()), strict=True)
    x = torch.randn(shape, generator=torch.Generator().manual_seed(1))
    reference.eval(), model.eval()
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x), atol=1e-5, rtol=1e-5)
    reference.train(), model.train()
    torch.testing.assert_close(model(x), reference(x), atol=1e-5, rtol=1e-5)
    literal.assert_gradients_match(reference, model, convert_official_state_dict, x)


def test_official_order_of_operations_gives_the_same_outputs(literal):
    torch.manual_seed(0)
    model = create_model("ctrgcn", layout="kinect20", in_channels=3, num_classes=10, num_persons=1)
    literal.randomise(model, calibrate=(3, 1, 10, 20, 3))
    model.eval()
    x = torch.randn(2, 1, 10, 20, 3)
    with torch.no_grad():
        fast = model(x)
        for unit in model.modules():
            if isinstance(unit, CTRGraphConv):
                unit.pool_first = False
        torch.testing.assert_close(model(x), fast, atol=1e-5, rtol=1e-5)


def test_converter_rejects_unknown_keys(literal):
    reference = literal.LiteralCTRGCN(torch.from_numpy(build_adjacency("kinect20")), 10, 1)
    state = {"module." + k: v for k, v in reference.state_dict().items()}  # DataParallel prefix is fine
    convert_official_state_dict(state)
    state["module.l1.extra.weight"] = torch.zeros(1)
    with pytest.raises(ConfigError, match=r"does not know: \['l1.extra.weight'\]"):
        convert_official_state_dict(state)


def test_options_and_checks():
    model = create_model(
        "ctrgcn", layout="ntu25", in_channels=6, num_classes=5, base_channels=16, adaptive=False
    )
    assert "A" in dict(model.blocks[0].gcn.named_buffers())
    assert model(torch.randn(2, 2, 8, 25, 6)).shape == (2, 5)
    with pytest.raises(FormatError, match=r"expected 2 persons \(data_bn='MVC'\)"):
        model(torch.randn(1, 1, 8, 25, 6))
    with pytest.raises(ConfigError, match="not a multiple of 4 branches"):
        CTRGCN("ntu25", 3, 5, base_channels=10)
    model.reset_classifier(7)
    assert model.num_classes == 7 and model.head.fc.weight.std().item() == pytest.approx(
        (2 / 7) ** 0.5, rel=0.3
    )


def test_tiny_model_learns_separable_toy_problem():
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    model = create_model(
        "ctrgcn", layout="kinect20", in_channels=3, num_classes=2, num_persons=1, base_channels=8
    )
    labels = torch.arange(16) % 2
    x = 0.3 * torch.randn(16, 1, 8, 20, 3, generator=gen)
    x[:, :, :, 11] += (2.0 * labels - 1.0).view(-1, 1, 1, 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(15):
        loss = torch.nn.functional.cross_entropy(model(x), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0]
