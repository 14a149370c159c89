"""Spherical k-means in torch (HaLP's prototypes, specs/halp.md §5.2) and the prototype schedule."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from skelact.errors import ConfigError
from skelact.losses.prototypes import PrototypeBank
from skelact.losses.spherical_kmeans import frechet_means, sphere_exp, sphere_log, spherical_kmeans


def _planted(seed: int, k: int = 5, per: int = 50, dim: int = 16, noise: float = 0.02):
    g = torch.Generator().manual_seed(seed)
    centres = F.normalize(torch.randn(k, dim, generator=g), dim=1)
    points = F.normalize(
        centres.repeat_interleave(per, 0) + noise * torch.randn(k * per, dim, generator=g), dim=1
    )
    order = torch.randperm(k * per, generator=g)
    return centres, points[order], torch.arange(k).repeat_interleave(per)[order], g


@pytest.mark.parametrize("centroid", ["frechet", "extrinsic"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_recovers_planted_clusters(seed: int, centroid: str) -> None:
    centres, points, truth, g = _planted(seed)
    result = spherical_kmeans(points, 5, generator=g, centroid=centroid)
    # one found cluster per planted one: the labels agree up to a permutation
    pairs = torch.stack([truth, result.assignment], 1).unique(dim=0)
    assert len(pairs) == 5 and pairs[:, 0].unique().numel() == 5 and pairs[:, 1].unique().numel() == 5
    found = result.centroids[pairs[:, 1]]
    assert (found * centres[pairs[:, 0]]).sum(1).min() > 0.999  # each centre sits on its planted one
    assert torch.allclose(result.centroids.norm(dim=1), torch.ones(5))


def test_same_generator_same_prototypes_and_device_of_the_points() -> None:
    _, points, _, _ = _planted(4)
    a = spherical_kmeans(points, 5, generator=torch.Generator().manual_seed(7))
    b = spherical_kmeans(points, 5, generator=torch.Generator().manual_seed(7))
    assert torch.equal(a.centroids, b.centroids) and a.centroids.device == points.device


def test_frechet_mean_minimises_the_sum_of_squared_geodesic_distances() -> None:
    g = torch.Generator().manual_seed(3)
    points = F.normalize(torch.tensor([1.0, 0, 0]) + 0.5 * torch.randn(30, 3, generator=g), dim=1)
    labels = torch.zeros(30, dtype=torch.long)
    mean = frechet_means(points, labels, F.normalize(points.sum(0, keepdim=True), dim=1))

    def cost(m: torch.Tensor) -> torch.Tensor:
        return torch.arccos((points @ m.t()).clamp(-1, 1)).pow(2).sum(0)

    nearby = F.normalize(mean + 0.01 * torch.randn(200, 3, generator=g), dim=1)
    assert (cost(nearby) >= cost(mean) - 1e-6).all()  # a local minimum: no nearby point does better
    # the gradient (mean of the log maps) vanishes there
    assert sphere_log(mean.expand(30, 3), points).mean(0).norm() < 1e-5


def test_exp_and_log_are_inverse() -> None:
    g = torch.Generator().manual_seed(2)
    base = F.normalize(torch.randn(10, 8, generator=g), dim=1)
    points = F.normalize(torch.randn(10, 8, generator=g), dim=1)
    assert torch.allclose(sphere_exp(base, sphere_log(base, points)), points, atol=1e-5)


def test_too_many_clusters_is_an_error() -> None:
    with pytest.raises(ConfigError, match="cannot make 5 clusters from 3 points"):
        spherical_kmeans(torch.eye(3), 5)


def test_prototype_bank_waits_for_the_warm_up_then_refreshes_on_schedule() -> None:
    bank = PrototypeBank(4, 8, refresh_every=3)
    _, points, _, g = _planted(0, k=4, per=10, dim=8)
    due = [bank.due(seen, warmup=20) for seen in (8, 16, 24)]
    assert due == [False, False, True]  # the first refresh comes as soon as 20 keys were seen
    bank.refresh(points, generator=g)
    assert bool(bank.ready) and torch.allclose(bank.prototypes.norm(dim=1), torch.ones(4))
    later = []
    for i in range(7):
        later.append(bank.due(32 + 8 * i, warmup=20))
        if later[-1]:
            bank.refresh(points, generator=g)
    assert later == [False, False, True, False, False, True, False]  # every 3rd step after a refresh
