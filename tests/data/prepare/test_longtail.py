"""Long-tailed subsets (specs/brl.md section 4): the exponential rule's sizes on the real NTU-60 and NW-UCLA
training sets, official list files, and writing the split into a store atomically."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from skelact.cli.main import main
from skelact.data.formats.nw_ucla import ACTION_IDS
from skelact.data.prepare.longtail import (
    default_split_name,
    longtail_counts,
    longtail_subset,
    read_name_list,
    subset_from_names,
)
from skelact.data.prepare.ntu_splits import name_fields, ntu_split_indices
from skelact.data.store import SkeletonStore
from skelact.data.store_splits import add_split
from skelact.errors import FormatError, SkelactError


@pytest.mark.parametrize(
    ("n_max", "classes", "sizes"),
    [
        (600, 60, (7_892, 9_150, 14_142)),
        (600, 120, (15_600, 18_137, 28_182)),
        (400, 120, (10_378, 12_069, 18_771)),
    ],
)
def test_rule_totals_at_rho_100_50_10(n_max: int, classes: int, sizes: tuple[int, int, int]) -> None:
    totals = tuple(int(longtail_counts(n_max, rho, classes).sum()) for rho in (100, 50, 10))
    assert totals == sizes
    counts = longtail_counts(n_max, 100, classes)
    assert counts[0] == n_max and counts[-1] == n_max // 100 and (np.diff(counts) <= 0).all()


@pytest.mark.parametrize("protocol", ["xsub", "xview"])
def test_ntu60_lt_sizes_from_the_official_training_set(shared_data: Path, protocol: str) -> None:
    """Done-when: NTU-60-LT has 7,892 samples at ρ = 100 (9,150 at 50, 14,142 at 10), class by class."""
    listing = shared_data / "ntu_rgbd_samples" / "statistics" / "skes_available_name.txt"
    if not listing.is_file():
        pytest.skip(f"{listing} is absent")
    names = listing.read_text().split()
    train = ntu_split_indices(names, "ntu60")[f"{protocol}_train"]
    labels = name_fields(names)[:, 4] - 1
    # Every class holds at least its largest target (xview's A054 has 597 < 600, but sits in the tail).
    assert (np.bincount(labels[train]) >= longtail_counts(600, 10, 60)).all()
    for rho, size in ((100, 7_892), (50, 9_150), (10, 14_142)):
        targets = longtail_counts(600, rho, 60)
        subset = longtail_subset(train, labels[train], targets, seed=0)
        assert subset.size == size
        assert np.array_equal(np.bincount(labels[subset], minlength=60), targets)
        assert np.isin(subset, train).all() and np.unique(subset).size == size


@pytest.mark.parametrize(("n_max", "size"), [(600, 15_600), (400, 10_378)])
def test_ntu120_lt_sizes_whenever_every_class_has_n_max(n_max: int, size: int) -> None:
    """NTU-120 xsub (n_max 600) and xset (n_max 400): the metadata here covers NTU-60 only, so the 120-class
    training set is stood in for by 620 candidates per class (NTU-120 has at least that many per class)."""
    labels = np.repeat(np.arange(120), 620)
    candidates = np.arange(labels.size) * 3  # store indices need not be contiguous
    subset = longtail_subset(candidates, labels, longtail_counts(n_max, 100, 120), seed=0)
    assert subset.size == size


def test_nw_ucla_lt_from_the_real_training_views(shared_data: Path) -> None:
    """Done-when: NW-UCLA-LT (ρ = 10, n_max = 100) from views 1 + 2 has 403 samples, 100, 77, ..., 10."""
    folder = shared_data / "nw_ucla" / "all_sqe"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent")
    stems = sorted(p.stem for p in folder.glob("*.json"))  # aAA_sSS_eEE_vVV
    views = np.array([int(s.split("_")[3][1:]) for s in stems])
    label_of = {a: i for i, a in enumerate(ACTION_IDS)}
    labels = np.array([label_of[int(s.split("_")[0][1:])] for s in stems])
    train = np.flatnonzero(np.isin(views, (1, 2)))
    assert train.size == 1_020
    subset = longtail_subset(train, labels[train], longtail_counts(100, 10, 10), seed=0)
    assert subset.size == 403
    assert np.bincount(labels[subset]).tolist() == [100, 77, 59, 46, 35, 27, 21, 16, 12, 10]


def test_short_classes_keep_everything_and_the_seed_decides_the_rest() -> None:
    labels = np.array([0] * 10 + [1] * 3 + [2] * 8)
    candidates = np.arange(labels.size)
    a = longtail_subset(candidates, labels, [6, 5, 4], seed=0)
    assert np.bincount(labels[a]).tolist() == [6, 3, 4]
    assert np.array_equal(a, longtail_subset(candidates, labels, [6, 5, 4], seed=0))
    assert not np.array_equal(a, longtail_subset(candidates, labels, [6, 5, 4], seed=1))


def test_list_files_select_by_name_and_refuse_bad_lines(tmp_path: Path) -> None:
    ids = ["S001C001P001R001A001", "S001C001P001R001A002", "S001C002P002R001A001", "S001C003P003R001A002"]
    good = tmp_path / "NTU60_xsub_exp_100.txt"
    good.write_text("S001C003P003R001A002\n\n  S001C001P001R001A001 \n")
    assert read_name_list(good) == ["S001C003P003R001A002", "S001C001P001R001A001"]
    assert subset_from_names(ids, read_name_list(good)).tolist() == [0, 3]
    with pytest.raises(FormatError, match="line 2"):
        subset_from_names(ids, ["S001C001P001R001A001", "S001C001P001R001A001"])
    with pytest.raises(FormatError, match="not in the store"):
        subset_from_names(ids, ["S009C001P001R001A001"])
    with pytest.raises(FormatError, match="not in the source split"):
        subset_from_names(ids, ["S001C003P003R001A002"], allowed=np.array([0, 1, 2]))
    assert default_split_name("xsub_train", None, good) == "xsub_train_NTU60_xsub_exp_100"
    assert default_split_name("xsub_train", 100.0, None) == "xsub_train_lt100"


def test_add_split_keeps_the_data_and_is_checksummed(synthetic_store_3d: Path, tmp_path: Path) -> None:
    path = tmp_path / "store"
    shutil.copytree(synthetic_store_3d, path)
    before = SkeletonStore(path)
    store = add_split(path, "train_lt3", before.split("train")[:5], record={"rho": 3})
    assert store.split("train_lt3").tolist() == before.split("train")[:5].tolist()
    assert all(np.array_equal(store.split(k), v) for k, v in before.splits.items())
    assert np.array_equal(store[0].keypoint, before[0].keypoint)
    store.verify()
    assert store.provenance["derived_splits"]["train_lt3"] == {"rho": 3}
    assert store.fingerprint != before.fingerprint
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]  # no temporary directories left
    with pytest.raises(SkelactError, match="already has a split"):
        add_split(path, "train_lt3", [0])
    add_split(path, "train_lt3", [0, 1], overwrite=True)
    assert SkeletonStore(path).split("train_lt3").tolist() == [0, 1]


def test_cli_writes_the_rule_split_and_a_list_split(
    synthetic_store_3d: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "store"
    shutil.copytree(synthetic_store_3d, path)
    args = ["prepare", "longtail", "--store", str(path), "--split", "train", "--n-max", "4", "--rho", "4"]
    assert main(args) == 0
    store = SkeletonStore(path)
    counts = np.bincount(store.labels[store.split("train_lt4")], minlength=store.num_classes)
    targets = longtail_counts(4, 4, store.num_classes)
    assert np.array_equal(counts, np.minimum(targets, np.bincount(store.labels[store.split("train")])))
    assert "wrote split train_lt4" in capsys.readouterr().out
    record = store.provenance["derived_splits"]["train_lt4"]
    assert record["n_max"] == 4 and record["targets"] == targets.tolist()
    listed = tmp_path / "my_list.txt"
    listed.write_text("\n".join(store.sample_ids[i] for i in store.split("train")[:3]))
    assert main(["prepare", "longtail", "--store", str(path), "--split", "train", "--list", str(listed)]) == 0
    assert SkeletonStore(path).split("train_my_list").tolist() == sorted(store.split("train")[:3].tolist())
    json.dumps(SkeletonStore(path).provenance)  # still plain JSON
    assert main(["prepare", "longtail", "--store", str(path), "--split", "train", "--rho", "4"]) != 0
