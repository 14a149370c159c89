"""NTU benchmark splits as pure functions of sample names; sizes re-computed from the official NTU-60 list."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from skelact.data.prepare.job import SampleTable
from skelact.data.prepare.ntu_splits import (
    TRAIN_SUBJECTS_60,
    TRAIN_SUBJECTS_120,
    NtuSplits,
    get_benchmark,
    ntu_split_indices,
    training_mask,
)
from skelact.errors import ConfigError, FormatError


def test_official_ntu60_sizes_from_the_available_sample_list(shared_data: Path) -> None:
    listing = shared_data / "ntu_rgbd_samples" / "statistics" / "skes_available_name.txt"
    if not listing.is_file():
        pytest.skip(f"{listing} is absent")
    names = listing.read_text().split()
    assert len(names) == 56_578
    splits = ntu_split_indices(names, "ntu60")
    sizes = {name: int(idx.size) for name, idx in splits.items()}
    assert sizes == {"xsub_train": 40_091, "xsub_test": 16_487, "xview_train": 37_646, "xview_test": 18_932}
    # The aligned per-sample metadata agrees with the names.
    performers = np.loadtxt(listing.parent / "performer.txt", dtype=np.int64)
    cameras = np.loadtxt(listing.parent / "camera.txt", dtype=np.int64)
    assert np.array_equal(np.flatnonzero(np.isin(performers, TRAIN_SUBJECTS_60)), splits["xsub_train"])
    assert np.array_equal(np.flatnonzero(cameras != 1), splits["xview_train"])


def test_protocol_rules_on_hand_picked_names() -> None:
    names = ["S001C001P001R001A001", "S002C002P003R002A060", "S018C003P045R001A061", "S032C001P106R002A120"]
    assert training_mask(names, "xsub", "ntu60").tolist() == [True, False, False, False]
    assert training_mask(names, "xsub", "ntu120").tolist() == [True, False, True, False]
    assert training_mask(names, "xview").tolist() == [False, True, True, False]
    assert training_mask(names, "xset").tolist() == [False, True, True, True]
    assert len(TRAIN_SUBJECTS_120) == 53 and set(TRAIN_SUBJECTS_60) < set(TRAIN_SUBJECTS_120)


def test_benchmarks_choose_protocols_and_members() -> None:
    names = ["S001C001P001R001A001", "S002C002P003R002A060", "S018C003P045R001A061", "S017C001P002R001A090"]
    ntu60 = ntu_split_indices(names, "ntu60")
    assert set(ntu60) == {"xsub_train", "xsub_test", "xview_train", "xview_test"}
    assert ntu60["xsub_train"].tolist() == [0] and ntu60["xsub_test"].tolist() == [1]  # 2 and 3 are NTU-120
    ntu120 = ntu_split_indices(names, "ntu120")
    assert set(ntu120) == {"xsub_train", "xsub_test", "xset_train", "xset_test"}
    assert ntu120["xset_train"].tolist() == [1, 2] and ntu120["xset_test"].tolist() == [0, 3]
    assert ntu120["xsub_train"].tolist() == [0, 2, 3] and ntu120["xsub_test"].tolist() == [1]
    assert get_benchmark("ntu60").max_action == 60 and get_benchmark("ntu120").max_setup == 32


def test_split_callable_for_prepare_jobs_and_errors() -> None:
    table = SampleTable(
        ids=["S001C001P001R001A001", "S001C002P003R001A002"], labels=np.array([0, 1]), meta=[{}, {}]
    )
    splits = NtuSplits("ntu60")(table)
    assert splits["xsub_train"].tolist() == [0] and splits["xview_train"].tolist() == [1]
    with pytest.raises(ConfigError, match="unknown NTU benchmark"):
        NtuSplits("ntu90")
    with pytest.raises(ConfigError, match="unknown NTU protocol"):
        training_mask(["S001C001P001R001A001"], "xfoo")
    with pytest.raises(FormatError, match="not an NTU sample name"):
        ntu_split_indices(["S001C001"], "ntu60")
