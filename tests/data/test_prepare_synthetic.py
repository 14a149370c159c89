from __future__ import annotations

import importlib
import sys
import types
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from skelact.data.prepare import prepare_synthetic
from skelact.data.sample import SkeletonSample
from skelact.data.store import SkeletonStore


@dataclass
class FakeDataset:
    samples: list[SkeletonSample]
    class_names: tuple[str, ...]
    layout: str


def fake_generate(per_class: int, *, seed: int, dims: int, num_subjects: int) -> FakeDataset:
    rng = np.random.default_rng(seed)
    samples = [
        SkeletonSample(
            rng.normal(size=(1, 6, 25, dims)).astype(np.float32),
            c,
            meta={"subject": 1 + (k * 3 + c) % num_subjects},
            sample_id=f"c{c}_{k}",
        )
        for c in range(3)
        for k in range(per_class)
    ]
    return FakeDataset(samples, ("a", "b", "c"), "ntu25")


def real_generator_available() -> bool:
    """The generator is another module; the end-to-end test runs once it exists."""
    try:
        return hasattr(importlib.import_module("skelact.data.synthetic"), "generate_dataset")
    except ImportError:
        return False


@pytest.fixture
def fake_generator(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("skelact.data.synthetic")
    module.generate_dataset = fake_generate  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "skelact.data.synthetic", module)


def check_splits(store: SkeletonStore) -> np.ndarray:
    subjects = store.meta_column("subject")
    train, val, test, full = (store.split(n) for n in ("train", "val", "test", "train_full"))
    np.testing.assert_array_equal(np.union1d(train, val), full)
    assert np.intersect1d(train, val).size == 0 and val.size > 0
    np.testing.assert_array_equal(np.union1d(full, test), np.arange(len(store)))
    for a, b in ((train, val), (train, test), (val, test)):
        assert np.intersect1d(subjects[a], subjects[b]).size == 0  # subject-disjoint
    return subjects


def test_prepare_synthetic_with_fake_generator(tmp_path: Path, fake_generator: None) -> None:
    path = prepare_synthetic(tmp_path / "syn", per_class=20, seed=4, dims=2, num_subjects=10)
    store = SkeletonStore(path)
    assert len(store) == 60 and store.num_channels == 2 and store.class_names == ("a", "b", "c")
    subjects = check_splits(store)
    assert sorted(set(subjects[store.split("test")].tolist())) == [8, 9, 10]  # last 30 % of 10 subject ids
    prov = store.provenance
    assert prov["generator"] == "skelact.data.synthetic.generate_dataset"
    assert (prov["per_class"], prov["seed"], prov["dims"], prov["num_subjects"]) == (20, 4, 2, 10)
    again = SkeletonStore(prepare_synthetic(tmp_path / "syn2", per_class=20, seed=4, dims=2, num_subjects=10))
    np.testing.assert_array_equal(again.split("val"), store.split("val"))


@pytest.mark.skipif(not real_generator_available(), reason="skelact.data.synthetic not written yet")
def test_prepare_synthetic_end_to_end(tmp_path: Path) -> None:
    store = SkeletonStore(prepare_synthetic(tmp_path / "syn", per_class=3, num_subjects=6))
    assert len(store) == 3 * store.num_classes and store.num_channels == 3
    check_splits(store)
    kp, _ = store.read(0, np.arange(2))
    assert kp.shape[1:] == (2, store.layout.num_joints, 3) and np.isfinite(kp).all()
