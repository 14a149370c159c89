import pytest
import torch

from skelact.models.layers import CTRGraphConv
from skelact.models.layers.ctr_graph_conv import relation_channels

K, V = 3, 6


def literal_unit(unit: CTRGraphConv, x: torch.Tensor) -> torch.Tensor:
    """The official unit_gcn in eval mode, subset by subset, from the fused parameters."""
    c = unit.out_channels
    y = 0.0
    for k in range(unit.num_subsets):
        w1, w2 = unit.rel_weight[k, 0], unit.rel_weight[k, 1]
        b1, b2 = unit.rel_bias[k, 0], unit.rel_bias[k, 1]
        x1 = (torch.einsum("rc,nctv->nrtv", w1, x) + b1[:, None, None]).mean(2)
        x2 = (torch.einsum("rc,nctv->nrtv", w2, x) + b2[:, None, None]).mean(2)
        w3 = unit.value.weight[k * c : (k + 1) * c, :, 0, 0]
        x3 = torch.einsum("oc,nctv->notv", w3, x) + unit.value.bias[k * c : (k + 1) * c, None, None]
        rel = torch.tanh(x1.unsqueeze(-1) - x2.unsqueeze(-2))
        q = torch.einsum("or,nruv->nouv", unit.lift_weight[k], rel) + unit.lift_bias[k][:, None, None]
        q = q * unit.alpha + unit.graph()[k]
        y = y + torch.einsum("ncuv,nctv->nctu", q, x3)
    y = unit.bn(y)
    if unit.down is not None:
        y = y + unit.down(x)
    return torch.relu(y)


@pytest.mark.parametrize(("c_in", "c_out", "adaptive"), [(3, 8, True), (16, 16, True), (16, 24, False)])
def test_matches_literal_subset_loop(c_in, c_out, adaptive):
    gen = torch.Generator().manual_seed(0)
    unit = CTRGraphConv(c_in, c_out, torch.rand(K, V, V, generator=gen), adaptive=adaptive).eval()
    with torch.no_grad():
        for p in unit.parameters():
            p.copy_(0.3 * torch.randn(p.shape, generator=gen))
        unit.bn.running_var.uniform_(0.5, 1.5)
    x = torch.randn(2, c_in, 5, V, generator=gen)
    with torch.no_grad():
        torch.testing.assert_close(unit(x), literal_unit(unit, x), atol=1e-5, rtol=1e-5)
        q = unit.refined_graph(x)
        assert q.shape == (2, K, c_out, V, V)
    assert ("PA" in dict(unit.named_parameters())) == adaptive
    assert ("A" in dict(unit.named_buffers())) == (not adaptive)


def test_starts_as_its_residual_with_the_shared_graph():
    A = torch.rand(K, V, V)
    unit = CTRGraphConv(8, 8, A).eval()
    x = torch.randn(2, 8, 4, V)
    with torch.no_grad():
        q = unit.refined_graph(x)  # alpha = 0: Q is PA for every sample and channel
        torch.testing.assert_close(q, A[None, :, None].expand_as(q))
        torch.testing.assert_close(unit(x), torch.relu(x), atol=1e-4, rtol=0)  # output BN weight 1e-6


def test_relation_width_and_residual_options():
    assert [relation_channels(c) for c in (3, 9, 6, 64, 128, 256)] == [8, 8, 8, 8, 16, 32]
    assert CTRGraphConv(4, 8, torch.rand(K, V, V), residual=False).down is None
    assert isinstance(CTRGraphConv(8, 8, torch.rand(K, V, V)).down, torch.nn.Identity)
