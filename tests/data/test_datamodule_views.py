"""Two-view items for contrastive pre-training (`num_views`, specs/halp.md section 3): each view is its own
random crop-resize drawn from the item's seeded generator; evaluation items keep their shape."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from skelact.data.datamodule import SkeletonDataModule
from skelact.errors import ConfigError

SSL_SAMPLING = {"sampling": "crop_resize", "crop_ratio": (0.1, 1.0)}


def test_batches_hold_the_views(synthetic_store_3d: Path) -> None:
    data = SkeletonDataModule(str(synthetic_store_3d), clip_len=16, batch_size=4, num_views=2, **SSL_SAMPLING)
    train = next(iter(data.train_dataloader()))
    assert train["keypoint"].shape == (4, 2, 2, 16, 25, 3)
    assert train["keypoint"].dtype == torch.float32
    test = next(iter(data.test_dataloader()))
    assert test["keypoint"].shape == (4, 1, 2, 16, 25, 3)  # evaluation: one deterministic clip


def test_views_are_independent_draws_from_the_item_generator(synthetic_store_3d: Path) -> None:
    one = SkeletonDataModule(str(synthetic_store_3d), clip_len=16, seed=3, **SSL_SAMPLING)
    two = SkeletonDataModule(str(synthetic_store_3d), clip_len=16, seed=3, num_views=3, **SSL_SAMPLING)
    single, multi = one.train_dataloader().dataset, two.train_dataloader().dataset
    lengths = one.store.lengths[single.indices]
    differ = []
    for position in range(len(single)):
        views = multi[(position, 1)]["keypoint"]
        assert views.shape == (3, 2, 16, 25, 3)
        # The first view is the single-view item: the views are the generator's next draws.
        assert torch.equal(views[0], single[(position, 1)]["keypoint"][0])
        differ.append(not torch.equal(views[0], views[1]))
    differ = np.array(differ)
    # The official crop is at least 64 frames: a sequence that short is used whole in every view.
    assert not differ[lengths <= 64].any()
    assert differ[lengths >= 100].mean() > 0.9


def test_num_views_must_be_positive(synthetic_store_3d: Path) -> None:
    with pytest.raises(ConfigError, match="num_views must be at least 1, got 0"):
        SkeletonDataModule(str(synthetic_store_3d), num_views=0)
