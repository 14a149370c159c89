"""Split helpers: held-out groups and validation carved from training data (DESIGN.md principle 7).

Model selection must not look at the test split, so recipes carve a validation split out of the training
split, by subject when the metadata allows: the same person in train and validation would make validation
accuracy optimistic in exactly the way a cross-subject benchmark is designed to prevent.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np

from skelact.errors import ConfigError


def split_by_group(groups: np.ndarray, test_groups: Collection) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, test indices): samples whose group is in `test_groups` are test, the rest train."""
    groups = np.asarray(groups)
    if groups.ndim != 1:
        raise ConfigError(f"groups must be a 1-D array with one group per sample, got shape {groups.shape}")
    is_test = np.isin(groups, np.asarray(list(test_groups), dtype=groups.dtype))
    return np.flatnonzero(~is_test), np.flatnonzero(is_test)


def carve_validation(
    train_indices: np.ndarray,
    *,
    labels: np.ndarray,
    groups: np.ndarray | None,
    fraction: float = 0.1,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Split `train_indices` into (new train, validation), both sorted and disjoint.

    `labels` and `groups` hold one entry per sample of the whole dataset and are indexed by the values in
    `train_indices`. With `groups`, whole groups (subjects) go to validation, drawn in a seeded random order
    until they hold at least `fraction` of the training samples; at least one group stays in training.
    Without groups the split is stratified: each class gives round(fraction * its count) samples, so a class
    too small for that (count * fraction < 0.5) stays entirely in training.
    """
    train = np.asarray(train_indices, dtype=np.int64)
    labels = np.asarray(labels)
    if train.ndim != 1 or train.size == 0:
        raise ConfigError("carve_validation needs a non-empty 1-D array of training indices")
    if not 0.0 < fraction < 1.0:
        raise ConfigError(f"validation fraction must be between 0 and 1 (exclusive), got {fraction}")
    if train.min() < 0 or train.max() >= labels.shape[0]:
        raise ConfigError(f"training index {int(train.max())} outside the {labels.shape[0]} labelled samples")
    if np.unique(train).size != train.size:
        raise ConfigError("training indices contain duplicates")
    rng = np.random.default_rng(seed)
    if groups is None:
        is_val = _stratified_mask(labels[train], fraction, rng)
    else:
        groups = np.asarray(groups)
        if groups.shape[0] != labels.shape[0]:
            raise ConfigError(f"groups has {groups.shape[0]} entries but labels has {labels.shape[0]}")
        is_val = _group_mask(groups[train], fraction, rng)
    if not is_val.any():
        raise ConfigError(
            f"too few training samples ({train.size}) to carve a {fraction:.0%} validation split",
            hint="raise the validation fraction or disable validation",
        )
    return np.sort(train[~is_val]), np.sort(train[is_val])


def _group_mask(train_groups: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    uniq, counts = np.unique(train_groups, return_counts=True)
    if uniq.size < 2:
        raise ConfigError(
            f"cannot carve validation by group: the training split has only {uniq.size} group",
            hint="carve it stratified by class instead (no groups)",
        )
    order = rng.permutation(uniq.size)
    covered = np.cumsum(counts[order])
    # First k whose groups cover the fraction; keep >= 1 group on each side.
    k = int(np.searchsorted(covered, fraction * train_groups.size)) + 1
    k = min(max(k, 1), uniq.size - 1)
    return np.isin(train_groups, uniq[order[:k]])


def _stratified_mask(train_labels: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Random rank of each sample within its class; the lowest round(fraction * count) ranks go to val."""
    n = train_labels.size
    shuffled = rng.permutation(n)
    by_class = shuffled[np.argsort(train_labels[shuffled], kind="stable")]
    sorted_labels = train_labels[by_class]
    _, counts = np.unique(sorted_labels, return_counts=True)
    class_pos = np.searchsorted(sorted_labels, sorted_labels, side="left")
    rank = np.arange(n) - class_pos
    quota = np.floor(fraction * counts + 0.5).astype(np.int64)  # round half up, not to even
    per_sample_quota = np.repeat(quota, counts)
    mask = np.zeros(n, dtype=bool)
    mask[by_class] = rank < per_sample_quota
    return mask
