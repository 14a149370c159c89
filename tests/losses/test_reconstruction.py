"""SkeletonMAE's re-weighted cosine error (literal vs mean) and the collapse monitor."""

from __future__ import annotations

import pytest
import torch

from skelact.errors import ConfigError
from skelact.losses.reconstruction import embedding_spread, rce_loss, rce_per_graph


def _graphs(masked_joints: list[int], v: int = 17, d: int = 8, n: int = 5) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(0)
    reconstruction, target = torch.randn(n, v, d, generator=g), torch.randn(n, v, d, generator=g)
    masked = torch.zeros(n, v, dtype=torch.bool)
    masked[:, masked_joints] = True
    return reconstruction, target, masked


@pytest.mark.parametrize("beta", [1.0, 2.0, 3.0])
@pytest.mark.parametrize("masked_joints", [[8, 10, 14, 16], [3], list(range(9))])
def test_literal_and_mean_differ_by_the_masked_count_to_the_beta_minus_one(
    beta: float, masked_joints: list[int]
) -> None:
    reconstruction, target, masked = _graphs(masked_joints)
    mean = rce_loss(reconstruction, target, masked, beta, "mean")
    literal = rce_loss(reconstruction, target, masked, beta, "literal")
    assert mean > 0
    torch.testing.assert_close(literal * len(masked_joints) ** (beta - 1), mean)
    # the literal formula, written out for one graph
    cos = torch.nn.functional.cosine_similarity(reconstruction[0], target[0], dim=-1)[masked_joints]
    written = (((1 - cos) / len(masked_joints)) ** beta).sum()
    torch.testing.assert_close(rce_per_graph(reconstruction, target, masked, beta, "literal")[0], written)


@pytest.mark.parametrize("mode", ["mean", "literal"])
def test_perfect_reconstruction_costs_zero_and_only_masked_joints_count(mode: str) -> None:
    reconstruction, target, masked = _graphs([8, 10, 14, 16])
    assert float(rce_loss(target.clone(), target, masked, mode=mode)) == pytest.approx(0.0, abs=1e-6)
    scaled = rce_loss(3.0 * target, target, masked, mode=mode)  # cosine ignores the length
    assert float(scaled) == pytest.approx(0.0, abs=1e-6)
    spoiled = target.clone()
    spoiled[:, ~masked[0]] = -spoiled[:, ~masked[0]]  # unmasked joints are not reconstructed
    assert float(rce_loss(spoiled, target, masked, mode=mode)) == pytest.approx(0.0, abs=1e-6)
    assert float(rce_loss(reconstruction, target, masked, mode=mode)) > 0.01


def test_graphs_without_masked_joints_or_absent_do_not_count() -> None:
    reconstruction, target, masked = _graphs([8, 10])
    masked[1:] = False  # only graph 0 is masked
    alone = rce_loss(reconstruction[:1], target[:1], masked[:1])
    torch.testing.assert_close(rce_loss(reconstruction, target, masked), alone)
    graphs = torch.tensor([False, True, True, True, True])
    assert float(rce_loss(reconstruction, target, masked, graphs=graphs)) == 0.0


def test_bad_mode_and_beta_are_one_error() -> None:
    reconstruction, target, masked = _graphs([1])
    with pytest.raises(ConfigError, match="unknown rce_mode 'sum'"):
        rce_loss(reconstruction, target, masked, mode="sum")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="beta must be >= 1"):
        rce_loss(reconstruction, target, masked, beta=0.5)


def test_embedding_spread_is_zero_for_collapsed_features_and_positive_otherwise() -> None:
    direction = torch.randn(8)
    collapsed = direction * torch.rand(100, 1) + 0.0  # every node along one direction
    assert float(embedding_spread(collapsed)) == pytest.approx(0.0, abs=1e-6)
    assert float(embedding_spread(torch.randn(100, 8))) > 0.2
    nodes = torch.zeros(100, dtype=torch.bool)
    nodes[:1] = True
    assert float(embedding_spread(torch.randn(100, 8), nodes)) == 0.0  # one node: no spread to measure
