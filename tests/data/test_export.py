"""Store -> PYSKL pickle / CTR-GCN npz -> store round trips are exact; split names follow each toolbox."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from skelact.data.export import export_ctrgcn_npz, export_pyskl, pyskl_split_selection
from skelact.data.formats.pyskl_pickle import load_pyskl_pickle
from skelact.data.prepare.options import RunOptions
from skelact.data.prepare.registry import get_preparer
from skelact.data.prepare.runner import run_job
from skelact.data.sample import SkeletonSample
from skelact.data.store import SkeletonStore, write_store
from skelact.errors import ConfigError


def reprepare(name: str, raw: Path, out: Path, **opts: object) -> SkeletonStore:
    preparer = get_preparer(name)
    job = preparer.build(raw, preparer.options_type(**opts))  # type: ignore[attr-defined]
    run_job(job, RunOptions(raw=raw, out=out, workers=1, val_fraction=0.0, progress=False))
    return SkeletonStore(out)


def assert_same_samples(
    original: SkeletonStore, copy: SkeletonStore, indices: list[int] | None = None
) -> None:
    """Every sample of `copy` equals the `original` sample with the same id: arrays, score, label."""
    position = {sid: i for i, sid in enumerate(original.sample_ids)}
    expected = list(range(len(original))) if indices is None else indices
    assert sorted(position[sid] for sid in copy.sample_ids) == sorted(expected)
    for j in range(len(copy)):
        got, want = copy[j], original[position[copy.sample_ids[j]]]
        np.testing.assert_array_equal(got.keypoint, want.keypoint)
        assert got.label == want.label
        if want.score is None:
            assert got.score is None
        else:
            np.testing.assert_array_equal(got.score, want.score)


def test_pyskl_round_trip_3d(synthetic_store_3d: Path, tmp_path: Path) -> None:
    store = SkeletonStore(synthetic_store_3d)
    path = export_pyskl(store, tmp_path / "syn.pkl")
    loaded = load_pyskl_pickle(path)
    assert set(loaded.split or {}) == {"train", "val"}  # train_full -> train, test -> PYSKL's val
    assert loaded.annotations[0]["keypoint"].dtype == np.float32  # the store's dtype: exact
    back = reprepare("pyskl", path, tmp_path / "back", num_classes=store.num_classes)
    assert back.sample_ids == store.sample_ids and back.class_names[0] == "class_000"
    assert_same_samples(store, back)
    assert back.split("train").tolist() == store.split("train_full").tolist()
    assert back.split("test").tolist() == store.split("test").tolist()
    assert [back.meta(i)["subject"] for i in range(5)] == [store.meta(i)["subject"] for i in range(5)]


def test_pyskl_export_of_a_float16_store_is_float16_and_exact(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    samples = [
        SkeletonSample(rng.normal(size=(1, 4, 20, 3)).astype(np.float32), i % 2, sample_id=f"a{i:02d}_v01")
        for i in range(4)
    ]
    store_path = write_store(
        tmp_path / "half", samples, layout="kinect20", class_names=["x", "y"], splits={"train": [0, 1, 2, 3]},
        dtype="float16",
    )  # fmt: skip
    store = SkeletonStore(store_path)
    path = export_pyskl(store, tmp_path / "half.pkl")
    assert load_pyskl_pickle(path).annotations[0]["keypoint"].dtype == np.float16
    back = reprepare("pyskl", path, tmp_path / "back", class_names=None, num_classes=2)
    assert_same_samples(store, back)
    rounded = export_pyskl(SkeletonStore(back.path), tmp_path / "rounded.pkl", dtype="float16")
    assert load_pyskl_pickle(rounded).annotations[0]["keypoint"].dtype == np.float16


def test_pyskl_round_trip_2d_with_scores(synthetic_store_2d: Path, tmp_path: Path) -> None:
    store = SkeletonStore(synthetic_store_2d)
    back = reprepare("pyskl", export_pyskl(store, tmp_path / "syn2d.pkl"), tmp_path / "back")
    assert back.has_score and back.layout.name == "coco17"
    assert_same_samples(store, back)


def test_pyskl_single_person_3d_without_scores(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    samples = [
        SkeletonSample(
            rng.normal(size=(1, 5 + i, 20, 3)).astype(np.float32),
            label=i % 2,
            sample_id=f"a{i:02d}_v0{1 + i % 3}",
        )
        for i in range(6)
    ]
    store_path = write_store(
        tmp_path / "ucla",
        samples,
        layout="kinect20",
        class_names=["x", "y"],
        splits={"train": [0, 1, 2, 3], "test": [4, 5]},
    )
    store = SkeletonStore(store_path)
    path = export_pyskl(store, tmp_path / "ucla.pkl")
    assert "keypoint_score" not in load_pyskl_pickle(path).annotations[0]
    back = reprepare("pyskl", path, tmp_path / "back", class_names=None, num_classes=2)
    assert back.layout.name == "kinect20" and not back.has_score
    assert_same_samples(store, back)
    assert {k: v.tolist() for k, v in back.splits.items()} == {"train": [0, 1, 2, 3], "test": [4, 5]}


@pytest.mark.parametrize("dataset", ["ntu60", "ntu120"])
@pytest.mark.parametrize("extras", [True, False])
def test_ctrgcn_round_trip(synthetic_store_3d: Path, tmp_path: Path, dataset: str, extras: bool) -> None:
    store = SkeletonStore(synthetic_store_3d)
    path = export_ctrgcn_npz(store, tmp_path / "syn.npz", "train_full", "test", dataset, extras=extras)
    with np.load(path) as npz:
        x = npz["x_train"]
        assert x.shape == (len(store.split("train_full")), 300, 150) and x.dtype == np.float32
        assert npz["y_train"].shape[1] == store.num_classes
        single = int(np.flatnonzero(store.num_persons[store.split("train_full")] == 1)[0])
        second = x[single].reshape(300, 2, 75)[:, 1]
        first = x[single].reshape(300, 2, 75)[:, 0]
        np.testing.assert_array_equal(second, first if dataset == "ntu120" else 0)
    back = reprepare("ctrgcn-npz", path, tmp_path / "back")
    order = store.split("train_full").tolist() + store.split("test").tolist()
    if extras:
        assert back.class_names == store.class_names
        assert_same_samples(store, back, order)
    else:  # names are row positions; compare row by row
        assert back.sample_ids[0] == "train_000000"
        for j, i in enumerate(order):
            np.testing.assert_array_equal(back[j].keypoint, store[i].keypoint)
            assert back.labels[j] == store.labels[i]
    assert back.split("train").size == len(store.split("train_full"))


def test_ctrgcn_export_needs_ntu_3d(
    synthetic_store_2d: Path, synthetic_store_3d: Path, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match="NTU-25 3D"):
        export_ctrgcn_npz(synthetic_store_2d, tmp_path / "x.npz", "train", "test", "ntu60")
    with pytest.raises(ConfigError, match="dataset must be"):
        export_ctrgcn_npz(synthetic_store_3d, tmp_path / "x.npz", "train", "test", "kinetics")
    with pytest.raises(ConfigError, match="no split 'nope'"):
        export_ctrgcn_npz(synthetic_store_3d, tmp_path / "x.npz", "nope", "test", "ntu60")


def test_pyskl_split_selection() -> None:
    names = ["xsub_train", "xsub_val", "xsub_train_full", "xsub_test", "xview_train", "xview_test"]
    assert pyskl_split_selection(names, None) == {
        "xsub_train_full": "xsub_train",
        "xsub_test": "xsub_val",
        "xview_train": "xview_train",
        "xview_test": "xview_val",
    }
    assert pyskl_split_selection(names, ["xsub_train", "xsub_test"]) == {
        "xsub_train": "xsub_train",
        "xsub_test": "xsub_val",
    }
    assert pyskl_split_selection(names, {"xsub_val": "xsub_minival"}) == {"xsub_val": "xsub_minival"}
    with pytest.raises(ConfigError, match="carved by skelact"):
        pyskl_split_selection(names, ["xsub_val"])
    with pytest.raises(ConfigError, match="both be written"):
        pyskl_split_selection(names, ["xsub_train", "xsub_train_full"])
    with pytest.raises(ConfigError, match="no split 'split9_train'"):
        pyskl_split_selection(names, ["split9_train"])
    assert pyskl_split_selection(["split1_train", "split1_test"], None) == {
        "split1_train": "train1",
        "split1_test": "test1",
    }
