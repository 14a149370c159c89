"""The datamodule: splits, facts linked into the model, batch shapes and seeded repeatability."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from skelact.data.datamodule import SkeletonDataModule
from skelact.data.samplers import EpochSampler
from skelact.errors import ConfigError, SkelactError


def test_facts_for_the_model(synthetic_store_3d: Path, synthetic_store_2d: Path) -> None:
    data = SkeletonDataModule(str(synthetic_store_3d))
    assert (data.num_classes, data.num_channels, data.num_coords, data.num_persons) == (12, 3, 3, 2)
    assert data.layout_spec["name"] == "ntu25" and data.class_names[0] == "wave"
    data2d = SkeletonDataModule(str(synthetic_store_2d), with_score=True)
    assert (data2d.num_channels, data2d.num_coords) == (3, 2)


def test_batches_have_the_clip_shape(synthetic_store_3d: Path) -> None:
    data = SkeletonDataModule(str(synthetic_store_3d), clip_len=20, batch_size=4, num_test_clips=3)
    train = next(iter(data.train_dataloader()))
    assert train["keypoint"].shape == (4, 1, 2, 20, 25, 3)
    assert train["keypoint"].dtype == torch.float32
    test = next(iter(data.test_dataloader()))
    assert test["keypoint"].shape == (4, 3, 2, 20, 25, 3)
    assert set(test["index"].tolist()) <= set(data.store.split("test").tolist())


def test_unknown_split_names_known_ones(synthetic_store_3d: Path) -> None:
    with pytest.raises(SkelactError, match="train"):
        SkeletonDataModule(str(synthetic_store_3d), val_split="validation")


def test_epochs_are_repeatable_and_differ(synthetic_store_3d: Path) -> None:
    def first_batch(epoch: int, workers: int) -> torch.Tensor:
        data = SkeletonDataModule(str(synthetic_store_3d), clip_len=16, batch_size=4, num_workers=workers)
        loader = data.train_dataloader()
        loader.sampler.set_epoch(epoch)
        return next(iter(loader))["keypoint"]

    torch.testing.assert_close(first_batch(0, 0), first_batch(0, 2))  # workers do not change the data
    assert not torch.equal(first_batch(0, 0), first_batch(1, 0))


def test_epoch_sampler_repeat_covers_every_sample() -> None:
    sampler = EpochSampler(5, shuffle=True, seed=3, repeat=2)
    items = list(sampler)
    assert len(items) == len(sampler) == 10
    assert sorted(p for p, _ in items) == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    assert len(set(items)) == 10  # the two copies of a sample get different augmentation seeds


def test_train_fraction_draws_a_seeded_subset_of_the_training_split(synthetic_store_3d: Path) -> None:
    full = SkeletonDataModule(str(synthetic_store_3d))
    all_train = full.train_indices
    tenth = SkeletonDataModule(str(synthetic_store_3d), train_fraction=0.1, fraction_seed=3)
    again = SkeletonDataModule(str(synthetic_store_3d), train_fraction=0.1, fraction_seed=3)
    other = SkeletonDataModule(str(synthetic_store_3d), train_fraction=0.1, fraction_seed=4)
    subset = tenth.train_indices
    assert len(subset) == round(0.1 * len(all_train)) and set(subset) <= set(all_train)
    assert np.array_equal(subset, again.train_indices) and not np.array_equal(subset, other.train_indices)
    assert sum(tenth.train_class_counts) == len(subset)
    assert sorted(tenth.train_dataloader().dataset.indices.tolist()) == sorted(subset.tolist())
    with pytest.raises(ConfigError, match="train_fraction"):
        SkeletonDataModule(str(synthetic_store_3d), train_fraction=0.0)
