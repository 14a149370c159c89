"""The store's recorded normalisation is the datamodule's default; a contradicting config is an error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from skelact.data.datamodule import SkeletonDataModule
from skelact.data.sample import SkeletonSample
from skelact.data.store import write_store
from skelact.errors import ConfigError


def tiny_store(path: Path, provenance: dict) -> Path:
    rng = np.random.default_rng(0)
    samples = [
        SkeletonSample(rng.normal(size=(1, 8, 25, 3)).astype(np.float32), label=i % 2, sample_id=f"s{i}")
        for i in range(4)
    ]
    return write_store(
        path, samples, layout="ntu25", class_names=["a", "b"], splits={"train": [0, 1], "test": [2, 3]},
        provenance=provenance,
    )  # fmt: skip


def test_the_store_record_is_the_default(tmp_path: Path) -> None:
    store = tiny_store(tmp_path / "pyskl", {"preset": "pyskl", "online_normalize": "center_align"})
    data = SkeletonDataModule(str(store), val_split=None)
    assert data.spec.normalize == "center_align"
    assert data.pipeline_facts()["preset"] == "pyskl"
    assert SkeletonDataModule(str(store), val_split=None, normalize="center_align").spec.normalize == (
        "center_align"
    )


def test_a_contradicting_config_names_the_store_and_preset(tmp_path: Path) -> None:
    store = tiny_store(tmp_path / "ctrgcn", {"preset": "ctrgcn", "online_normalize": "none"})
    with pytest.raises(ConfigError, match=r"'center_align' contradicts the store .*preset 'ctrgcn'"):
        SkeletonDataModule(str(store), val_split=None, normalize="center_align")


def test_a_store_without_a_record_takes_the_config_or_none(tmp_path: Path) -> None:
    store = tiny_store(tmp_path / "plain", {})
    assert SkeletonDataModule(str(store), val_split=None).spec.normalize == "none"
    assert SkeletonDataModule(str(store), val_split=None, normalize="center").spec.normalize == "center"
