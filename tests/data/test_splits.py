from __future__ import annotations

import numpy as np
import pytest

from skelact.data.splits import carve_validation, split_by_group
from skelact.errors import ConfigError


def dataset(n: int = 400, subjects: int = 10, classes: int = 5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    return rng.integers(0, classes, n), rng.integers(1, subjects + 1, n)


def test_split_by_group() -> None:
    groups = np.array([3, 1, 2, 3, 1, 5])
    train, test = split_by_group(groups, {3, 5})
    assert train.tolist() == [1, 2, 4] and test.tolist() == [0, 3, 5]
    with pytest.raises(ConfigError, match="1-D"):
        split_by_group(groups.reshape(2, 3), [1])


def test_carve_by_group_is_pure_disjoint_and_large_enough() -> None:
    labels, groups = dataset()
    train_full = np.flatnonzero(groups <= 8)  # subjects 9, 10 are "test"
    train, val = carve_validation(train_full, labels=labels, groups=groups, fraction=0.2, seed=3)
    assert np.intersect1d(train, val).size == 0
    np.testing.assert_array_equal(np.union1d(train, val), train_full)
    assert np.all(np.diff(train) > 0) and np.all(np.diff(val) > 0)
    assert np.intersect1d(groups[train], groups[val]).size == 0  # whole subjects only
    assert val.size >= 0.2 * train_full.size
    # Greedy and minimal: dropping the last subject drawn would leave validation below the fraction.
    _, per_subject = np.unique(groups[val], return_counts=True)
    assert (val.size - per_subject < 0.2 * train_full.size).any()


def test_carve_is_deterministic_and_seed_dependent() -> None:
    labels, groups = dataset()
    idx = np.arange(labels.size)
    a = carve_validation(idx, labels=labels, groups=groups, seed=1)
    b = carve_validation(idx, labels=labels, groups=groups, seed=1)
    np.testing.assert_array_equal(a[1], b[1])
    vals = {
        tuple(np.unique(groups[carve_validation(idx, labels=labels, groups=groups, seed=s)[1]]))
        for s in range(6)
    }
    assert len(vals) > 1


def test_carve_keeps_a_training_group() -> None:
    labels = np.zeros(4, dtype=np.int64)
    groups = np.array([1, 1, 2, 2])
    train, val = carve_validation(np.arange(4), labels=labels, groups=groups, fraction=0.9)
    assert train.size == 2 and val.size == 2
    with pytest.raises(ConfigError, match="only 1 group"):
        carve_validation(np.arange(2), labels=labels, groups=groups, fraction=0.5)


def test_carve_stratified_by_class() -> None:
    labels = np.repeat(np.arange(4), [20, 10, 5, 2])
    train_idx = np.arange(labels.size)
    train, val = carve_validation(train_idx, labels=labels, groups=None, fraction=0.2, seed=0)
    # round(0.2 * count) per class: 4, 2, 1, 0 (0.4 rounds down)
    assert np.bincount(labels[val], minlength=4).tolist() == [4, 2, 1, 0]
    assert np.intersect1d(train, val).size == 0 and train.size + val.size == labels.size
    again = carve_validation(train_idx, labels=labels, groups=None, fraction=0.2, seed=0)[1]
    np.testing.assert_array_equal(val, again)


def test_carve_argument_errors() -> None:
    labels = np.zeros(10, dtype=np.int64)
    with pytest.raises(ConfigError, match="between 0 and 1"):
        carve_validation(np.arange(10), labels=labels, groups=None, fraction=1.0)
    with pytest.raises(ConfigError, match="training index 12 outside"):
        carve_validation(np.array([1, 12]), labels=labels, groups=None)
    with pytest.raises(ConfigError, match="too few training samples"):
        carve_validation(np.arange(3), labels=labels, groups=None, fraction=0.1)
