import pytest
import torch

from skelact.errors import ConfigError
from skelact.models.layers import GraphConv, graph_aggregate
from skelact.skeleton import get_layout
from skelact.skeleton.graph import build_adjacency

K, V = 3, 6


def randomise_bn(bn: torch.nn.BatchNorm2d, gen: torch.Generator) -> None:
    c = bn.num_features
    bn.running_mean.copy_(torch.randn(c, generator=gen))
    bn.running_var.copy_(torch.rand(c, generator=gen) + 0.5)
    bn.weight.data.copy_(torch.randn(c, generator=gen))
    bn.bias.data.copy_(torch.randn(c, generator=gen))


def reference_graph_conv(unit: GraphConv, x: torch.Tensor) -> torch.Tensor:
    """Literal eval-mode GraphConv: explicit loops over subsets, receiving joints and sending joints."""
    n, _, t, v = x.shape
    c_out, k = unit.out_channels, unit.num_subsets
    A = unit.adjacency().detach()
    weight = unit.conv.weight.detach()[:, :, 0, 0]  # (K * C_out, C_in)
    y = torch.einsum("oc,nctv->notv", weight, x) + unit.conv.bias.detach()[None, :, None, None]
    out = torch.zeros(n, c_out, t, v)
    for s in range(k):
        for i in range(v):
            for j in range(v):
                out[:, :, :, i] += A[s, i, j] * y[:, s * c_out : (s + 1) * c_out, :, j]
    bn = unit.bn
    out = (out - bn.running_mean[None, :, None, None]) / torch.sqrt(bn.running_var + bn.eps)[
        None, :, None, None
    ]
    out = out * bn.weight[None, :, None, None] + bn.bias[None, :, None, None]
    if unit.down is not None:
        out = out + unit.down(x)
    return torch.relu(out)


@pytest.mark.parametrize("adaptive", [None, "init", "importance", "offset"])
def test_matches_literal_loop(adaptive):
    gen = torch.Generator().manual_seed(1)
    A = torch.rand(K, V, V, generator=gen)
    unit = GraphConv(4, 5, A, adaptive=adaptive).eval()
    with torch.no_grad():
        for p in unit.parameters():
            p.copy_(torch.randn(p.shape, generator=gen))  # PA / offset too, so they matter
    randomise_bn(unit.bn, gen)
    x = torch.randn(2, 4, 7, V, generator=gen)
    with torch.no_grad():
        out = unit(x)
        assert out.shape == (2, 5, 7, V)
        torch.testing.assert_close(out, reference_graph_conv(unit, x), atol=1e-5, rtol=1e-5)
        # A channels-last input takes the copy-free path and must agree.
        out_cl = unit(x.contiguous(memory_format=torch.channels_last))
        torch.testing.assert_close(out_cl, out, atol=1e-5, rtol=1e-5)


def test_graph_aggregate_convention():
    """x_out[i] = sum_j A[i, j] x_in[j]: a single edge 0 <- 1 copies joint 1 into joint 0 only."""
    A = torch.zeros(1, 3, 3)
    A[0, 0, 1] = 2.0
    y = torch.tensor([1.0, 10.0, 100.0]).view(1, 1, 1, 3)
    assert graph_aggregate(y, A).flatten().tolist() == [20.0, 0.0, 0.0]


def test_adaptive_parameters():
    A = torch.rand(K, V, V)
    fixed = GraphConv(2, 3, A, adaptive=None)
    assert "A" in dict(fixed.named_buffers()) and not hasattr(fixed, "PA")
    init = GraphConv(2, 3, A, adaptive="init")
    assert isinstance(init.A, torch.nn.Parameter)
    importance = GraphConv(2, 3, A, adaptive="importance")
    assert torch.equal(importance.PA, torch.ones(K, V, V)) and torch.equal(importance.adjacency(), A)
    offset = GraphConv(2, 3, A, adaptive="offset")
    assert torch.count_nonzero(offset.PA) == 0 and torch.equal(offset.adjacency(), A)
    # Building from numpy (build_adjacency's type) copies, never aliases the caller's array.
    spatial = build_adjacency(get_layout("ntu25"))
    unit = GraphConv(2, 3, spatial, adaptive="init")
    with torch.no_grad():
        unit.A.add_(1.0)
    assert spatial.max() <= 1.0


def test_residual_variants():
    A = torch.rand(K, V, V)
    same = GraphConv(4, 4, A, with_residual=True).eval()
    assert isinstance(same.down, torch.nn.Identity)
    x = torch.randn(1, 4, 3, V)
    with torch.no_grad():
        torch.testing.assert_close(same(x), reference_graph_conv(same, x))
    change = GraphConv(4, 8, A, with_residual=True)
    assert isinstance(change.down, torch.nn.Sequential)
    assert change(x).shape == (1, 8, 3, V)
    assert GraphConv(4, 8, A).down is None


def test_bad_arguments():
    with pytest.raises(ConfigError, match="unknown adaptive mode 'learned'"):
        GraphConv(2, 3, torch.rand(K, V, V), adaptive="learned")
    with pytest.raises(ConfigError, match=r"adjacency must have shape \(K, V, V\), got \(6, 6\)"):
        GraphConv(2, 3, torch.rand(V, V))
