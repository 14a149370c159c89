import pytest
import torch

from skelact.errors import ConfigError, FormatError, LayoutError
from skelact.models import create_model
from skelact.models.backbones import STGCN
from skelact.models.backbones.stgcn import stage_plan

# Regression guard: measured count for ntu25, 3 channels, 2 persons, 60 classes (reference-results.md §2
# quotes 3.1M for MMAction2's ST-GCN 3D).
STGCN_NTU60_PARAMS = 3_098_982


@pytest.fixture(scope="module")
def ntu_model() -> STGCN:
    torch.manual_seed(0)
    return create_model("stgcn", layout="ntu25", in_channels=3, num_classes=60)


def test_parameter_count(ntu_model):
    count = sum(p.numel() for p in ntu_model.parameters())
    assert count == STGCN_NTU60_PARAMS
    assert abs(count - 3.1e6) / 3.1e6 < 0.01


def test_architecture():
    assert stage_plan(64) == [
        (64, 64, 1), (64, 64, 1), (64, 64, 1), (64, 128, 2), (128, 128, 1), (128, 128, 1),
        (128, 256, 2), (256, 256, 1), (256, 256, 1),
    ]  # fmt: skip
    model = STGCN("ntu25", 3, 60)
    assert len(model.blocks) == 10 and model.num_features == 256
    assert model.blocks[0].residual is None  # the stem has no residual
    assert isinstance(model.blocks[1].residual, torch.nn.Identity)
    assert model.blocks[4].residual.conv.stride == (2, 1)
    assert model.blocks[0].gcn.A.shape == (3, 25, 25)  # spatial partition, K = 3
    assert model.data_bn.num_features == 2 * 25 * 3  # "MVC"


def test_output_shapes_ntu_3d(ntu_model):
    x = torch.randn(2, 2, 32, 25, 3)
    assert ntu_model(x).shape == (2, 60)
    assert ntu_model.forward_features(x).shape == (2, 256)


def test_output_shapes_coco_2d_with_score():
    model = create_model("stgcn", layout="coco17", in_channels=3, num_classes=7, num_persons=1)
    assert model(torch.randn(3, 1, 20, 17, 3)).shape == (3, 7)


def test_forward_is_head_of_features(ntu_model):
    ntu_model.eval()
    x = torch.randn(2, 2, 16, 25, 3)
    with torch.no_grad():
        torch.testing.assert_close(ntu_model(x), ntu_model.forward_head(ntu_model.forward_features(x)))
        assert torch.equal(ntu_model(x), ntu_model(x))  # deterministic in eval mode
    ntu_model.train()


def test_zero_person_padding_is_finite(ntu_model):
    x = torch.randn(2, 2, 16, 25, 3)
    x[:, 1] = 0.0  # second person absent
    assert torch.isfinite(ntu_model(x)).all()
    assert torch.isfinite(ntu_model(torch.zeros(2, 2, 16, 25, 3))).all()
    ntu_model.eval()
    with torch.no_grad():
        assert torch.isfinite(ntu_model(x)).all()
    ntu_model.train()


def test_gradients_reach_every_parameter(ntu_model):
    ntu_model.zero_grad(set_to_none=True)
    ntu_model(torch.randn(2, 2, 16, 25, 3)).logsumexp(1).sum().backward()
    missing = [n for n, p in ntu_model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert missing == []
    ntu_model.zero_grad(set_to_none=True)


def test_fold_persons_layout():
    """(N, M, T, V, C) -> (N*M, C, T, V) with MVC statistics indexed (person, joint, coordinate)."""
    model = STGCN("ntu25", 3, 4, base_channels=4).eval()
    x = torch.randn(2, 2, 5, 25, 3)
    with torch.no_grad():
        model.data_bn.running_mean.copy_(torch.arange(150.0))
        model.data_bn.running_var.fill_(1.0 - model.data_bn.eps)
        folded = model._fold_persons(x)
    mean = torch.arange(150.0).view(2, 25, 3)  # [m, v, c]
    expected = (x - mean[None, :, None]).permute(0, 1, 4, 2, 3).reshape(4, 3, 5, 25)
    torch.testing.assert_close(folded, expected)

    plain = STGCN("ntu25", 3, 4, base_channels=4, data_bn=False)
    assert isinstance(plain.data_bn, torch.nn.Identity)
    assert torch.equal(plain._fold_persons(x)[3, 1, 4, 7], x[1, 1, 4, 7, 1])


def test_shared_data_bn_is_person_order_invariant():
    torch.manual_seed(0)
    model = STGCN("ntu25", 3, 4, base_channels=8, data_bn="VC").eval()
    assert model.data_bn.num_features == 75
    x = torch.randn(2, 3, 8, 25, 3)  # VC does not tie the model to num_persons
    with torch.no_grad():
        torch.testing.assert_close(model(x), model(x.flip(1)), atol=1e-5, rtol=1e-5)


def test_input_checks(ntu_model):
    with pytest.raises(LayoutError, match="layout 'ntu25' with 25 joints got 17 joints"):
        ntu_model(torch.randn(1, 2, 8, 17, 3))
    with pytest.raises(FormatError, match="expected 3 channels"):
        ntu_model(torch.randn(1, 2, 8, 25, 2))
    with pytest.raises(FormatError, match=r"expected 2 persons \(data_bn='MVC'\).*hint: pad or crop"):
        ntu_model(torch.randn(1, 1, 8, 25, 3))
    with pytest.raises(FormatError, match=r"expected a batch \(N, M, T, V, C\)"):
        ntu_model(torch.randn(2, 8, 25, 3))
    with pytest.raises(ConfigError, match="data_bn must be True, False, 'MVC' or 'VC', got 'CV'"):
        STGCN("ntu25", 3, 4, data_bn="CV")


def test_reset_classifier():
    model = STGCN("ntu25", 3, 60, base_channels=4)
    trunk = model.blocks
    model.reset_classifier(11)
    assert model.num_classes == 11 and model.blocks is trunk
    assert model(torch.randn(1, 2, 8, 25, 3)).shape == (1, 11)


def test_tiny_model_learns_separable_toy_problem():
    """Class = sign of a constant offset on the right hand: a tiny ST-GCN must fit it in a few steps."""
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    model = create_model(
        "stgcn", layout="ntu25", in_channels=3, num_classes=2, num_persons=1, base_channels=8
    )
    labels = torch.arange(32) % 2
    x = 0.3 * torch.randn(32, 1, 8, 25, 3, generator=gen)
    x[:, :, :, 11] += (2.0 * labels - 1.0).view(-1, 1, 1, 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(20):
        logits = model(x)
        loss = torch.nn.functional.cross_entropy(logits, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[0] == pytest.approx(0.693, abs=0.02)  # head init N(0, 0.01): uniform start
    assert losses[-1] < 0.25 * losses[0]
    # Training-mode predictions: 20 steps are too few for BatchNorm's running statistics to settle.
    assert torch.equal(logits.argmax(1), labels)


@pytest.mark.parametrize("convention", ["ctrgcn", "pyskl"])
def test_equals_literal_formulation(literal, convention):
    """Same weights -> same logits and gradients as a literal PYSKL-style ST-GCN (loop over subsets,
    einsum per subset) given the graph in PYSKL's orientation."""
    from skelact.models.backbones.stgcn import convert_pyskl_state_dict

    torch.manual_seed(0)
    model = create_model(
        "stgcn", layout="kinect20", in_channels=3, num_classes=10, num_persons=1, graph_convention=convention
    )
    A_pyskl = model.blocks[0].gcn.A.transpose(1, 2)
    reference = literal.LiteralPysklSTGCN(A_pyskl, 10, 1, 3, "unit_tcn")
    shape = (4, 1, 12, 20, 3)
    literal.randomise(reference, calibrate=shape)
    with torch.no_grad():
        for name, p in reference.named_parameters():
            if name.endswith(".PA"):  # edge importance away from ones, so it matters
                p.copy_(1.0 + 0.3 * torch.randn(p.shape))
    model.load_state_dict(convert_pyskl_state_dict(reference.state_dict()), strict=True)
    x = torch.randn(shape)
    reference.eval(), model.eval()
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x), atol=1e-5, rtol=1e-5)
    reference.train(), model.train()
    torch.testing.assert_close(model(x), reference(x), atol=1e-5, rtol=1e-5)
    literal.assert_gradients_match(reference, model, convert_pyskl_state_dict, x)


def test_graph_convention_transposes_the_adjacency():
    ctr = STGCN("ntu25", 3, 4, base_channels=4)
    pyskl = STGCN("ntu25", 3, 4, base_channels=4, graph_convention="pyskl", graph_variant="pyskl")
    assert not torch.equal(ctr.blocks[0].gcn.A, ctr.blocks[0].gcn.A.transpose(1, 2))
    same_edges = STGCN("ntu25", 3, 4, base_channels=4, graph_convention="pyskl")
    torch.testing.assert_close(same_edges.blocks[0].gcn.A, ctr.blocks[0].gcn.A.transpose(1, 2))
    assert pyskl.blocks[0].gcn.A.shape == (3, 25, 25)
    with pytest.raises(ConfigError, match="unknown graph convention 'mine'"):
        STGCN("ntu25", 3, 4, base_channels=4, graph_convention="mine")
