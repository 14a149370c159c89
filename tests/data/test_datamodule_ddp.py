"""The epoch sampler under DDP: disjoint, epoch-dependent shards of one seeded order, kept by Lightning."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import lightning as L
import pytest

from skelact.data.datamodule import SkeletonDataModule
from skelact.data.samplers import EpochSampler


def shards(length: int, world: int, *, epoch: int = 0, **kwargs: object) -> list[list[tuple[int, int]]]:
    out = []
    for rank in range(world):
        sampler = EpochSampler(length, num_replicas=world, rank=rank, **kwargs)
        sampler.set_epoch(epoch)
        out.append(list(sampler))
        assert len(out[-1]) == len(sampler)
    return out


@pytest.mark.parametrize("world", [2, 3])
@pytest.mark.parametrize("shuffle", [True, False])
def test_shards_partition_the_single_process_epoch(world: int, shuffle: bool) -> None:
    """Together the ranks see exactly what one process sees (same samples, same augmentation seeds)."""
    single = shards(10, 1, epoch=3, shuffle=shuffle, seed=5, repeat=2)[0]
    parts = shards(10, world, epoch=3, shuffle=shuffle, seed=5, repeat=2)
    assert len({len(p) for p in parts}) == 1  # equal step counts on every rank
    combined = Counter(item for part in parts for item in part)
    assert set(combined) == set(single) and len(single) == 20
    padding = world * len(parts[0]) - len(single)
    assert sum(combined.values()) - len(single) == padding < world
    if padding == 0:
        assert all(count == 1 for count in combined.values())  # disjoint


def test_padding_repeats_the_first_items_of_the_order() -> None:
    parts = shards(5, 3, shuffle=False)
    assert parts == [[(0, 0), (3, 0)], [(1, 0), (4, 0)], [(2, 0), (0, 0)]]
    assert shards(1, 3, shuffle=False) == [[(0, 0)]] * 3  # fewer samples than ranks: wrap again


def test_shards_change_with_the_epoch_and_repeat_exactly() -> None:
    first = shards(12, 2, epoch=0, shuffle=True, seed=1)
    assert shards(12, 2, epoch=0, shuffle=True, seed=1) == first
    second = shards(12, 2, epoch=1, shuffle=True, seed=1)
    assert [p for p, _ in second[0]] != [p for p, _ in first[0]]
    assert {e for part in second for _, e in part} == {1}  # the epoch reaches the augmentation seeds


def test_bad_rank_or_repeat_is_refused() -> None:
    with pytest.raises(ValueError):
        EpochSampler(4, shuffle=False, num_replicas=2, rank=2)
    with pytest.raises(Exception, match="repeat"):
        EpochSampler(4, shuffle=False, repeat=0)


def test_datamodule_shards_by_the_trainers_world(synthetic_store_3d: Path) -> None:
    data = SkeletonDataModule(str(synthetic_store_3d), clip_len=8, batch_size=4, repeat=2)
    single = len(data.train_dataloader().sampler)
    data.trainer = SimpleNamespace(distributed_sampler_kwargs={"num_replicas": 2, "rank": 1})
    for loader in (data.train_dataloader(), data.val_dataloader(), data.test_dataloader()):
        assert (loader.sampler.num_replicas, loader.sampler.rank) == (2, 1)
    assert len(data.train_dataloader().sampler) == -(-single // 2)


def test_lightning_keeps_the_sampler_under_ddp(synthetic_store_3d: Path) -> None:
    """A DistributedSampler is not replaced by Lightning's wrapper, which would drop `set_epoch`."""
    trainer = L.Trainer(accelerator="cpu", devices=2, strategy="ddp", logger=False, enable_progress_bar=False)
    loader = SkeletonDataModule(str(synthetic_store_3d), clip_len=8, batch_size=4).train_dataloader()
    assert not trainer._data_connector._requires_distributed_sampler(loader)
