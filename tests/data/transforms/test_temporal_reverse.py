"""Temporal reversal (BRL's Temporal Reverse Perception, off by default): whole clips play backwards."""

from __future__ import annotations

import pytest
import torch

from skelact.data.transforms.augment import BatchAugment, temporal_reverse
from skelact.errors import ConfigError


def test_reverse_flips_time_for_chosen_samples_only() -> None:
    x = torch.randn(8, 2, 5, 25, 3)
    assert torch.equal(temporal_reverse(x, 1.0), x.flip(2))
    assert torch.equal(temporal_reverse(x, 0.0), x)
    out = temporal_reverse(x, 0.5, generator=torch.Generator().manual_seed(0))
    reversed_ = torch.tensor([torch.equal(out[i], x[i].flip(1)) for i in range(8)])
    kept = torch.tensor([torch.equal(out[i], x[i]) for i in range(8)])
    assert (reversed_ | kept).all() and reversed_.any() and kept.any()
    with pytest.raises(ConfigError, match="reverse probability"):
        temporal_reverse(x, 1.5)


def test_batch_augment_option_is_off_by_default() -> None:
    x = torch.randn(4, 1, 6, 25, 3)
    assert BatchAugment("ntu25").reverse == 0.0
    assert torch.equal(BatchAugment.from_config("ntu25", {"reverse": 1.0}).train()(x), x.flip(2))
    assert torch.equal(BatchAugment.from_config("ntu25", {"reverse": 1.0}).eval()(x), x)
    with pytest.raises(ConfigError, match="out of range"):
        BatchAugment("ntu25", reverse=2.0)
    with pytest.raises(ConfigError, match="unknown augmentation"):
        BatchAugment.from_config("ntu25", {"reversal": 1.0})
