"""`skelact prepare jhmdb`: one clip per identical pose, per-split membership, the real DD-Net files."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import yaml

from skelact.cli.main import main
from skelact.data.prepare.options import NoOptions, RunOptions
from skelact.data.prepare.registry import get_preparer
from skelact.data.prepare.runner import run_job
from skelact.data.store import SkeletonStore
from skelact.errors import ConfigError, FormatError

REPO = Path(__file__).resolve().parents[3]


def write_gt(folder: Path, part: str, split: int, poses: list, labels: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"GT_{part}_{split}.pkl").write_bytes(pickle.dumps({"pose": poses, "label": labels}))


def small_folder(root: Path) -> tuple[Path, list[np.ndarray], list[str]]:
    """Six clips in two splits; split 1 trains on clips 0-3, split 2 on clips 2-5, in other orders."""
    rng = np.random.default_rng(0)
    poses = [rng.normal(size=(15 + i, 15, 2)) for i in range(6)]
    labels = ["clap", "wave", "clap", "wave", "run", "run"]
    folder = root / "jhmdb"
    write_gt(folder, "train", 1, poses[:4], labels[:4])
    write_gt(folder, "test", 1, poses[4:], labels[4:])
    order = [5, 2, 4, 3]
    write_gt(folder, "train", 2, [poses[i] for i in order], [labels[i] for i in order])
    write_gt(folder, "test", 2, [poses[1], poses[0]], [labels[1], labels[0]])
    return folder, poses, labels


def prepare(raw: Path, out: Path, *, skip_bad: bool = False, val: float = 0.0):  # type: ignore[no-untyped-def]
    job = get_preparer("jhmdb").build(raw, NoOptions())
    return run_job(
        job, RunOptions(raw=raw, out=out, workers=1, skip_bad=skip_bad, val_fraction=val, progress=False)
    )


def test_small_folder(tmp_path: Path) -> None:
    folder, poses, labels = small_folder(tmp_path)
    summary = prepare(folder, tmp_path / "store")
    store = SkeletonStore(tmp_path / "store")
    assert summary.items == 6 and len(store) == 6
    assert store.class_names == ("clap", "run", "wave") and store.layout.name == "jhmdb15"
    assert store.sample_ids == [f"split1_train_{i:04d}" for i in range(4)] + [
        "split1_test_0000",
        "split1_test_0001",
    ]
    assert store.split("split1_train").tolist() == [0, 1, 2, 3]
    assert store.split("split2_train").tolist() == [2, 3, 4, 5]
    assert store.split("split2_test").tolist() == [0, 1]
    for i, pose in enumerate(poses):
        np.testing.assert_allclose(store[i].keypoint[0], pose, atol=2e-3)  # float16 storage
    assert store.labels.tolist() == [store.class_names.index(c) for c in labels]
    meta = store.meta(2)
    assert meta["split1"] == "train" and meta["split2"] == "train"
    assert meta["occurrences"] == ["GT_train_1.pkl#2", "GT_train_2.pkl#1"]
    assert store.provenance["dataset"] == "J-HMDB-14 (DD-Net pickles)"
    assert store.provenance["entries"] == 12 and store.provenance["clips"] == 6


def test_bad_entry_is_listed_and_leak_refused(tmp_path: Path) -> None:
    folder, poses, labels = small_folder(tmp_path)
    bad = [poses[0], poses[1], poses[2], np.zeros((10, 14, 2))]
    write_gt(folder, "train", 1, bad, labels[:4])
    with pytest.raises(FormatError, match=r"GT_train_1.pkl \(entry 3\).*15, 2"):
        prepare(folder, tmp_path / "a")
    summary = prepare(folder, tmp_path / "b", skip_bad=True)
    assert summary.bad[0][0] == f"{folder / 'GT_train_1.pkl'} entry 3"
    leak = tmp_path / "leak"
    write_gt(leak, "train", 1, poses[:2], labels[:2])
    write_gt(leak, "test", 1, poses[1:3], labels[1:3])
    with pytest.raises(FormatError, match="both train and test of split 1"):
        prepare(leak, tmp_path / "c")
    with pytest.raises(ConfigError, match="no GT_"):
        prepare(tmp_path, tmp_path / "d")


def test_real_files_and_config(shared_data: Path, tmp_path: Path) -> None:
    folder = shared_data / "jhmdb_ddnet"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent")
    out = tmp_path / "store"
    args = ["prepare", "jhmdb", "--raw", str(folder), "--out", str(out), "--no-progress"]
    assert main(args) == 0
    store = SkeletonStore(out)
    expected = {1: (433, 176), 2: (433, 176), 3: (434, 175)}
    for k, (train, test) in expected.items():
        assert (
            len(store.split(f"split{k}_train_full")) == train and len(store.split(f"split{k}_test")) == test
        )
    assert len(store) == 609 and len(store.class_names) == 14
    assert store.provenance["dataset"] == "J-HMDB-14 (DD-Net pickles)"
    for k in (1, 2, 3):
        train, val = set(store.split(f"split{k}_train").tolist()), set(store.split(f"split{k}_val").tolist())
        assert train | val == set(store.split(f"split{k}_train_full").tolist()) and not train & val
    config = yaml.safe_load((REPO / "configs" / "data" / "jhmdb.yaml").read_text())["data"]
    for key in ("train_split", "val_split", "test_split"):
        assert config[key] in store.splits
