"""Training-order samplers: `EpochSampler` (seeded shuffle, repeats, DDP shards) and `RebalancedSampler`.

`RebalancedSampler` is class-aware oversampling of the tail (BRL's rebalanced resampling, specs/brl.md
section 5.1), explicit.

BRL switches this on through an empty ``class_prob`` list in its config and hard-codes the multipliers for
ρ = 100. Here it is a sampler with three options, and its class sizes are the training split's real counts:

- ``repeat``: every class is seen ``repeat`` times per epoch (PYSKL's RepeatDataset, 5 in BRL);
- ``tail_fraction``: the tail is the last of 1/tail_fraction index groups, i.e. classes from
  (k − 1)·⌊C/k⌋ on for k = 1/tail_fraction (BRL: 1/3, index >= 2·⌊C/3⌋, the "thirds" of the evaluation);
- ``target``: each tail class is drawn up to this many samples per pass (``"max"``: the largest class,
  n_max for the long-tail splits), i.e. multiplied by target / n_c; head and medium keep their sizes.

A class multiplied by m contributes ⌊m⌋ copies of every sample plus one more copy of a random
⌊frac(m)·n_c⌋ of them, so the epoch length is fixed and every rank agrees on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import numpy as np
import torch
from torch.utils.data import DistributedSampler

from skelact.errors import ConfigError


class EpochSampler(DistributedSampler):
    """Yields (position, epoch) pairs, shuffled per epoch from a seeded generator when `shuffle` is set.

    Lightning calls `set_epoch` on samplers that have it, so shuffling and augmentation change every epoch
    but are reproducible. Under DDP each of `num_replicas` processes takes every `num_replicas`-th item of
    the same epoch order, starting at its `rank`: disjoint shards that change with the epoch. The order is
    padded by wrapping around to a multiple of `num_replicas`, so all ranks run the same number of steps and
    gather equal-sized outputs (as torch's DistributedSampler does; score files drop the repeats by index).
    Being a `DistributedSampler`, it is used as is by Lightning, which would otherwise wrap it in a sampler
    that never forwards `set_epoch` (every epoch would then see epoch 0's shuffle and augmentation).
    `num_replicas` and `rank` default to the initialised process group, else to one process.
    """

    def __init__(
        self,
        length: int,
        *,
        shuffle: bool,
        seed: int = 0,
        repeat: int = 1,
        num_replicas: int | None = None,
        rank: int | None = None,
    ) -> None:
        distributed = torch.distributed.is_available() and torch.distributed.is_initialized()
        if num_replicas is None:
            num_replicas = torch.distributed.get_world_size() if distributed else 1
        if rank is None:
            rank = torch.distributed.get_rank() if distributed else 0
        if repeat < 1:
            raise ConfigError(f"repeat must be at least 1, got {repeat}")
        super().__init__(range(length), num_replicas=num_replicas, rank=rank, shuffle=shuffle, seed=seed)
        self.length = length
        self.repeat = repeat
        self.total_size = -(-length * repeat // num_replicas) * num_replicas if length else 0
        self.num_samples = self.total_size // num_replicas

    def __len__(self) -> int:
        return self.num_samples

    def epoch_plan(self) -> tuple[np.ndarray, np.ndarray]:
        """(positions, pseudo-epochs) of one epoch before shuffling; subclasses change only the plan."""
        order = np.tile(np.arange(self.length), self.repeat)
        # Repeats of one sample get different augmentation through a distinct pseudo-epoch.
        pseudo_epoch = self.epoch * self.repeat + np.repeat(np.arange(self.repeat), self.length)
        return order, pseudo_epoch

    def __iter__(self) -> Iterator[tuple[int, int]]:
        order, pseudo_epoch = self.epoch_plan()
        if self.shuffle:
            shuffle = np.random.default_rng([self.seed, self.epoch]).permutation(len(order))
            order, pseudo_epoch = order[shuffle], pseudo_epoch[shuffle]
        pad = np.arange(self.total_size - len(order)) % max(len(order), 1)
        shard = np.concatenate([np.arange(len(order)), pad])[self.rank :: self.num_replicas]
        return iter(zip(order[shard].tolist(), pseudo_epoch[shard].tolist(), strict=True))


TailBy = Literal["index", "count"]


def tail_classes(counts: np.ndarray, tail_fraction: float, tail_by: TailBy = "index") -> np.ndarray:
    """Boolean mask of the tail classes: the last index group, or the smallest classes (`tail_by="count"`)."""
    c = len(counts)
    if tail_fraction == 0:
        return np.zeros(c, dtype=bool)
    groups = round(1.0 / tail_fraction) if tail_fraction > 0 else 0
    if groups < 1 or abs(groups * tail_fraction - 1.0) > 1e-6:
        raise ConfigError(
            f"tail_fraction must be 0 or 1/k for a whole k (1/3, 1/2, ...), got {tail_fraction}"
        )
    if tail_by not in ("index", "count"):
        raise ConfigError(f"tail_by must be 'index' or 'count', got {tail_by!r}")
    rank = (
        np.arange(c) if tail_by == "index" else np.argsort(np.argsort(-counts, kind="stable"), kind="stable")
    )
    return rank >= (groups - 1) * (c // groups)


def class_multipliers(
    counts: np.ndarray,
    *,
    repeat: int = 1,
    tail_fraction: float = 1 / 3,
    target: int | Literal["max"] = "max",
    tail_by: TailBy = "index",
) -> np.ndarray:
    """Samples drawn per training sample and epoch, per class: repeat · max(target / n_c, 1) in the tail."""
    counts = np.asarray(counts, dtype=np.int64)
    if repeat < 1:
        raise ConfigError(f"repeat must be at least 1, got {repeat}")
    goal = float(counts.max()) if target == "max" else float(target)
    if goal < 1:
        raise ConfigError(f"target must be 'max' or a positive count, got {target!r}")
    boost = np.maximum(goal / np.maximum(counts, 1), 1.0)
    return repeat * np.where(tail_classes(counts, tail_fraction, tail_by), boost, 1.0)


class RebalancedSampler(EpochSampler):
    """`EpochSampler` (same (position, pseudo-epoch) items, seeded shuffle, DDP shards) over a class-aware
    oversampled order; `labels` holds the class of each position of the dataset."""

    def __init__(
        self,
        labels: np.ndarray,
        num_classes: int,
        *,
        shuffle: bool = True,
        seed: int = 0,
        repeat: int = 1,
        tail_fraction: float = 1 / 3,
        target: int | Literal["max"] = "max",
        tail_by: TailBy = "index",
        num_replicas: int | None = None,
        rank: int | None = None,
    ) -> None:
        self.labels = np.asarray(labels, dtype=np.int64)
        super().__init__(len(self.labels), shuffle=shuffle, seed=seed, num_replicas=num_replicas, rank=rank)
        self.counts = np.bincount(self.labels, minlength=num_classes)
        self.multipliers = class_multipliers(
            self.counts, repeat=repeat, tail_fraction=tail_fraction, target=target, tail_by=tail_by
        )
        self.whole = np.floor(self.multipliers).astype(np.int64)
        # Truncated like BRL's sampler, which gives its 98,106 samples per NTU-60-LT epoch.
        self.extra = np.floor((self.multipliers - self.whole) * self.counts).astype(np.int64)
        self.epoch_length = int((self.whole * self.counts).sum() + self.extra.sum())
        self.total_size = -(-self.epoch_length // self.num_replicas) * self.num_replicas
        self.num_samples = self.total_size // self.num_replicas
        self.max_copies = int(self.whole.max() + 1) if len(self.labels) else 1

    def copies(self) -> np.ndarray:
        """Copies of each position this epoch: ⌊m⌋ plus one for a seeded random part of its class."""
        n = len(self.labels)
        order = np.random.default_rng([self.seed, self.epoch, 1]).permutation(n)
        by_class = order[np.argsort(self.labels[order], kind="stable")]
        sorted_labels = self.labels[by_class]
        rank = np.arange(n) - np.searchsorted(sorted_labels, sorted_labels, side="left")
        extra = np.zeros(n, dtype=np.int64)
        extra[by_class] = (rank < self.extra[sorted_labels]).astype(np.int64)
        return self.whole[self.labels] + extra

    def epoch_plan(self) -> tuple[np.ndarray, np.ndarray]:
        copies = self.copies()
        order = np.repeat(np.arange(len(self.labels)), copies)
        starts = np.repeat(np.cumsum(copies) - copies, copies)
        # Each copy of a sample gets its own pseudo-epoch, so its clip and augmentation differ.
        return order, self.epoch * self.max_copies + (np.arange(len(order)) - starts)
