"""Cosine k-NN: agrees with a brute-force reference, is scale-invariant, and votes as documented."""

from __future__ import annotations

import pytest
import torch

from skelact.errors import ConfigError
from skelact.evaluation.knn import knn_predict, knn_top1


def _reference(gallery: torch.Tensor, labels: torch.Tensor, queries: torch.Tensor) -> torch.Tensor:
    """1-NN by cosine similarity, one query at a time."""
    out = []
    for q in queries:
        sims = torch.stack([torch.nn.functional.cosine_similarity(q, g, dim=0) for g in gallery])
        out.append(labels[int(sims.argmax())])
    return torch.stack(out)


def test_one_nn_matches_a_brute_force_reference_and_ignores_scale() -> None:
    gen = torch.Generator().manual_seed(0)
    gallery, queries = torch.randn(50, 16, generator=gen), torch.randn(30, 16, generator=gen)
    labels = torch.randint(0, 5, (50,), generator=gen)
    expected = _reference(gallery, labels, queries)
    assert torch.equal(knn_predict(gallery, labels, queries, chunk=7), expected)
    scaled = gallery * torch.rand(50, 1, generator=gen).add(0.1) * 100
    assert torch.equal(knn_predict(scaled, labels, queries), expected)


def test_planted_clusters_are_recovered() -> None:
    gen = torch.Generator().manual_seed(1)
    centres = torch.randn(4, 32, generator=gen) * 5
    labels = torch.arange(4).repeat_interleave(20)
    gallery = centres[labels] + torch.randn(80, 32, generator=gen)
    query_labels = torch.arange(4).repeat(10)
    queries = centres[query_labels] + torch.randn(40, 32, generator=gen)
    assert knn_top1(gallery, labels, queries, query_labels) == 1.0


def test_majority_vote_and_tie_to_the_nearest() -> None:
    gallery = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.8, 0.2], [0.0, 1.0]])
    labels = torch.tensor([0, 1, 1, 2])
    query = torch.tensor([[1.0, 0.0]])
    assert knn_predict(gallery, labels, query, k=1).tolist() == [0]
    assert knn_predict(gallery, labels, query, k=3).tolist() == [1]  # two votes beat one nearer
    assert knn_predict(gallery, labels, query, k=2).tolist() == [0]  # 1:1 tie -> nearest neighbour's class


def test_bad_shapes_and_k_are_one_clear_error() -> None:
    with pytest.raises(ConfigError, match="k must be in"):
        knn_predict(torch.zeros(3, 2), torch.zeros(3), torch.zeros(1, 2), k=4)
    with pytest.raises(ConfigError, match="gallery"):
        knn_predict(torch.zeros(3, 2), torch.zeros(3), torch.zeros(1, 5))
    with pytest.raises(ConfigError, match="at least one query"):
        knn_top1(torch.zeros(3, 2), torch.zeros(3), torch.zeros(0, 2), torch.zeros(0))
