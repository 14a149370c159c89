"""DD-Net J-HMDB pickles: entries to samples, grouping identical clips, malformed files, the real files."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from skelact.data.formats.jhmdb_ddnet import (
    CLASS_NAMES,
    entry_sample,
    group_jhmdb_poses,
    load_jhmdb_pickle,
    read_jhmdb_pickle,
    split_of_file,
)
from skelact.data.formats.registry import get_format
from skelact.errors import FormatError


def poses(n: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(int(rng.integers(15, 41)), 15, 2)) for _ in range(n)]


def write_gt(folder: Path, part: str, split: int, pose: list, label: list) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"GT_{part}_{split}.pkl"
    path.write_bytes(pickle.dumps({"pose": pose, "label": label}, protocol=3))
    return path


def test_class_names_are_the_fourteen_without_underscore() -> None:
    assert len(CLASS_NAMES) == 14 and list(CLASS_NAMES) == sorted(CLASS_NAMES)
    assert CLASS_NAMES[0] == "catch" and "brush_hair" not in CLASS_NAMES


def test_reads_one_file(tmp_path: Path) -> None:
    p = poses(3)
    path = write_gt(tmp_path, "test", 2, p, ["clap", "wave", "catch"])
    samples = read_jhmdb_pickle(path)
    assert [s.sample_id for s in samples] == ["split2_test_0000", "split2_test_0001", "split2_test_0002"]
    assert [s.label for s in samples] == [CLASS_NAMES.index(c) for c in ("clap", "wave", "catch")]
    assert samples[0].keypoint.shape == (1, p[0].shape[0], 15, 2) and samples[0].keypoint.dtype == np.float32
    np.testing.assert_array_equal(samples[1].keypoint[0], p[1].astype(np.float32))
    assert samples[0].meta["split"] == 2 and samples[0].meta["part"] == "test"
    assert get_format("jhmdb-ddnet").reader is read_jhmdb_pickle
    assert split_of_file("GT_train_3.pkl") == ("train", 3)


def test_grouping_by_exact_identity(tmp_path: Path) -> None:
    p = poses(4)
    labels = ["run", "run", "sit", "run"]
    near = p[0].copy()
    near[0, 0, 0] += 1e-12  # not identical: stays its own clip
    entries = [
        *load_jhmdb_pickle(write_gt(tmp_path, "train", 1, [p[0], p[1]], labels[:2])),
        *load_jhmdb_pickle(write_gt(tmp_path, "test", 1, [p[2], p[3]], labels[2:])),
        *load_jhmdb_pickle(write_gt(tmp_path, "train", 2, [p[3], p[0], p[2]], ["run", "run", "sit"])),
        *load_jhmdb_pickle(write_gt(tmp_path, "test", 2, [p[1], near], ["run", "run"])),
    ]
    clips = group_jhmdb_poses(entries)
    assert [[(e.file, e.index) for e in c.entries] for c in clips] == [
        [("GT_train_1.pkl", 0), ("GT_train_2.pkl", 1)],
        [("GT_train_1.pkl", 1), ("GT_test_2.pkl", 0)],
        [("GT_test_1.pkl", 0), ("GT_train_2.pkl", 2)],
        [("GT_test_1.pkl", 1), ("GT_train_2.pkl", 0)],
        [("GT_test_2.pkl", 1)],
    ]


def test_same_pose_twice_in_one_file_stays_two_clips(tmp_path: Path) -> None:
    (p,) = poses(1)
    entries = load_jhmdb_pickle(write_gt(tmp_path, "train", 1, [p, p.copy()], ["jump", "jump"]))
    assert len(group_jhmdb_poses(entries)) == 2


def test_malformed_entries(tmp_path: Path) -> None:
    good = poses(1)[0]
    cases = [
        (np.zeros((20, 14, 2)), "pick", r"\(T, 15, 2\)"),
        (np.zeros((0, 15, 2)), "pick", r"T >= 1"),
        (good.tolist(), "pick", "numeric array"),
        (
            np.where(np.arange(good.size).reshape(good.shape) == 7, np.nan, good),
            "pick",
            "NaN or Inf at frame 0, joint 3",
        ),
        (good, "brush_hair", "unknown class 'brush_hair'"),
    ]
    for i, (pose, label, match) in enumerate(cases):
        path = write_gt(tmp_path / str(i), "train", 1, [good, pose], ["pick", label])
        (first, second) = load_jhmdb_pickle(path)
        entry_sample(first, source=path)
        with pytest.raises(FormatError, match=match) as info:
            entry_sample(second, source=path)
        assert str(path) in str(info.value) and "entry 1" in str(info.value)


def test_malformed_files(tmp_path: Path) -> None:
    path = write_gt(tmp_path, "train", 1, poses(2), ["pick"])
    with pytest.raises(FormatError, match="2 poses but 1 labels"):
        load_jhmdb_pickle(path)
    path.write_bytes(pickle.dumps({"pose": poses(2)})[:-40])
    with pytest.raises(FormatError, match="truncated"):
        load_jhmdb_pickle(path)
    path.write_bytes(pickle.dumps([1, 2]))
    with pytest.raises(FormatError, match="'pose' and 'label'"):
        load_jhmdb_pickle(path)
    other = tmp_path / "poses.pkl"
    other.write_bytes(b"")
    with pytest.raises(FormatError, match="GT_"):
        load_jhmdb_pickle(other)


def test_real_files(shared_data: Path) -> None:
    folder = shared_data / "jhmdb_ddnet"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent")
    sizes = {}
    entries = []
    for split in (1, 2, 3):
        for part in ("train", "test"):
            loaded = load_jhmdb_pickle(folder / f"GT_{part}_{split}.pkl")
            sizes[part, split] = len(loaded)
            entries += loaded
    expected = {1: (433, 176), 2: (433, 176), 3: (434, 175)}
    assert sizes == {(part, k): n[i] for k, n in expected.items() for i, part in enumerate(("train", "test"))}
    assert sorted({e.label for e in entries}) == list(CLASS_NAMES)
    clips = group_jhmdb_poses(entries)
    assert len(clips) == 609 and all(len(c.entries) == 3 for c in clips)
    assert all(sorted(e.split for e in c.entries) == [1, 2, 3] for c in clips)
    samples = read_jhmdb_pickle(folder / "GT_test_1.pkl")
    assert {s.num_frames for s in samples} <= set(range(15, 41))
    assert all(s.keypoint.shape[2:] == (15, 2) for s in samples)
