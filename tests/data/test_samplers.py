"""BRL's tail oversampling as an explicit sampler: multipliers, the official epoch sizes (specs/brl.md 5.1),
seeded repeatability and disjoint DDP shards."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from skelact.data.prepare.longtail import longtail_counts
from skelact.data.samplers import RebalancedSampler, class_multipliers, tail_classes
from skelact.errors import ConfigError


@pytest.mark.parametrize(
    ("n_max", "classes", "rho", "per_epoch"),
    [(600, 60, 100, 98_106), (600, 120, 100, 195_257), (400, 120, 100, 130_103), (100, 10, 10, 3_720)],
)
def test_epoch_sizes_match_brl(n_max: int, classes: int, rho: int, per_epoch: int) -> None:
    counts = longtail_counts(n_max, rho, classes)
    sampler = RebalancedSampler(
        np.repeat(np.arange(classes), counts), classes, repeat=5, num_replicas=1, rank=0
    )
    assert sampler.epoch_length == per_epoch == len(sampler)


def test_only_the_tail_third_is_raised_to_n_max() -> None:
    counts = longtail_counts(600, 100, 60)
    m = class_multipliers(counts, repeat=5)
    assert (m[:40] == 5).all()
    assert m[40:] * counts[40:] == pytest.approx(np.full(20, 3000.0))
    assert tail_classes(counts, 1 / 3).tolist() == [False] * 40 + [True] * 20
    assert tail_classes(np.array([5, 50, 10, 40]), 1 / 2, tail_by="count").tolist() == [
        True,
        False,
        True,
        False,
    ]
    assert class_multipliers(counts, target=300)[59] == pytest.approx(50.0)
    with pytest.raises(ConfigError, match="tail_fraction"):
        tail_classes(counts, 0.3)


def test_copies_follow_the_multipliers_and_the_seed() -> None:
    labels = np.repeat(np.arange(6), [40, 30, 20, 10, 5, 3])
    sampler = RebalancedSampler(labels, 6, repeat=2, seed=3, num_replicas=1, rank=0)
    items = list(sampler)
    per_class = np.bincount(labels[[p for p, _ in items]], minlength=6)
    assert per_class.tolist() == [80, 60, 40, 20, 80, 80]  # tail classes 4, 5 raised to 40 x 2
    assert len(set(items)) == len(items)  # every copy of a sample has its own pseudo-epoch
    assert items == list(RebalancedSampler(labels, 6, repeat=2, seed=3, num_replicas=1, rank=0))
    sampler.set_epoch(1)
    assert list(sampler) != items


def test_ranks_get_disjoint_equal_shards() -> None:
    labels = np.repeat(np.arange(4), [12, 8, 4, 1])
    shards = [
        list(RebalancedSampler(labels, 4, num_replicas=3, rank=r, tail_fraction=1 / 2)) for r in range(3)
    ]
    assert len({len(s) for s in shards}) == 1
    whole = RebalancedSampler(labels, 4, num_replicas=1, rank=0, tail_fraction=1 / 2)
    combined = Counter(item for shard in shards for item in shard)
    assert set(combined) == set(whole) and sum(combined.values()) == len(shards[0]) * 3
