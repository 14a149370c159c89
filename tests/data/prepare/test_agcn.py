"""`skelact prepare agcn`: a 2s-AGCN data folder to a store, protocols from the folder name, skip-bad rows."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from skelact.cli.main import main
from skelact.data.prepare.agcn import AgcnOptions
from skelact.data.prepare.options import RunOptions
from skelact.data.prepare.registry import get_preparer
from skelact.data.prepare.runner import run_job
from skelact.data.prepare.source_options import class_names
from skelact.data.store import SkeletonStore
from skelact.errors import ConfigError, FormatError

TRAIN = [f"S001C001P00{p}R001A00{a}.skeleton" for p in (1, 2, 4) for a in (1, 2)]
VAL = [f"S001C001P003R001A00{a}.skeleton" for a in (1, 2)]


def py2_labels(names: list[str], labels: list[int]) -> bytes:
    """(names, labels) as Python 2's pickle.dump writes it with protocol 0."""
    items = b"".join(b"S'" + n.encode() + b"'\na" for n in names)
    numbers = b"".join(b"I" + str(v).encode() + b"\na" for v in labels)
    return b"((lp0\n" + items + b"(lp1\n" + numbers + b"tp2\n."


def agcn_folder(root: Path, name: str = "xsub", joints: int = 25) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, names, py2 in (("train", TRAIN, True), ("val", VAL, False)):
        data = np.zeros((len(names), 3, 300, joints, 2), np.float32)
        for i in range(len(names)):
            t = 30 + i
            data[i, :, :t, :, 0] = rng.normal(size=(3, t, joints))
        data[0, :, :, :, :] = rng.normal(size=(3, 300, joints, 2))  # two persons, loop-padded to 300
        np.save(folder / f"{prefix}_data_joint.npy", data)
        labels = [int(n[-10]) - 1 for n in names]
        content = py2_labels(names, labels) if py2 else pickle.dumps((names, labels))
        (folder / f"{prefix}_label.pkl").write_bytes(content)
    return folder


def options(**values: Any) -> AgcnOptions:
    return AgcnOptions(**values)


def prepare(raw: Path, out: Path, *, skip_bad: bool = False, val: float = 0.0, **opts: Any) -> Any:
    job = get_preparer("agcn").build(raw, options(**opts))
    return run_job(
        job, RunOptions(raw=raw, out=out, workers=1, skip_bad=skip_bad, val_fraction=val, progress=False)
    )


def test_folder_to_store(tmp_path: Path) -> None:
    prepare(agcn_folder(tmp_path), tmp_path / "store", val=0.2)
    store = SkeletonStore(tmp_path / "store")
    assert store.layout.name == "ntu25" and len(store) == 8
    assert store.sample_ids[0] == "S001C001P001R001A001"
    assert store.split("xsub_test").tolist() == [6, 7]
    assert store.split("xsub_train_full").tolist() == list(range(6))
    assert store.provenance["validation"]["by"]["xsub_train"] == "subject"
    assert store.lengths.tolist() == [300, 31, 32, 33, 34, 35, 300, 31]
    assert store.num_persons.tolist() == [2, 1, 1, 1, 1, 1, 2, 1]
    assert (
        list(store.class_names) == class_names(None, min_classes=2, ntu=True)
        and store.labels.tolist() == [0, 1] * 4
    )
    assert store.meta(7)["subject"] == 3 and store.meta(7)["part"] == "test"


def test_kinetics_folder_gets_scores_and_plain_splits(tmp_path: Path) -> None:
    prepare(agcn_folder(tmp_path, name="kinetics", joints=18), tmp_path / "store")
    store = SkeletonStore(tmp_path / "store")
    assert store.layout.name == "openpose18" and store.has_score and store.num_channels == 2
    assert set(store.splits) == {"train", "test"}


def test_skip_bad_and_missing_files(tmp_path: Path) -> None:
    folder = agcn_folder(tmp_path)
    data = np.load(folder / "train_data_joint.npy")
    data[3, 0, 2, 2, 0] = np.nan
    data[4] = 0
    np.save(folder / "train_data_joint.npy", data)
    with pytest.raises(FormatError, match="row 3"):
        prepare(folder, tmp_path / "a")
    summary = prepare(folder, tmp_path / "b", skip_bad=True)
    assert summary.bad[0][0] == f"{folder / 'train_data_joint.npy'} row 3 ({TRAIN[3]})"
    assert len(summary.skipped) == 1 and summary.written == 6
    (folder / "val_label.pkl").unlink()
    with pytest.raises(ConfigError, match=r"val_label\.pkl is missing"):
        prepare(folder, tmp_path / "c")
    with pytest.raises(ConfigError, match="not a folder"):
        prepare(folder / "train_data_joint.npy", tmp_path / "d")


def test_cli(tmp_path: Path) -> None:
    folder = agcn_folder(tmp_path, name="data")
    out = tmp_path / "store"
    args = [
        "prepare",
        "agcn",
        "--raw",
        str(folder),
        "--out",
        str(out),
        "--protocol",
        "xview",
        "--no-progress",
    ]
    assert main([*args, "--val-fraction", "0"]) == 0
    assert set(SkeletonStore(out).splits) == {"xview_train", "xview_test"}


def test_a_stray_label_is_refused_unless_the_classes_are_given(tmp_path: Path) -> None:
    folder = agcn_folder(tmp_path)
    labels = [int(n[-10]) - 1 for n in TRAIN]
    labels[3] = 999  # one typo in an otherwise 2-class file
    (folder / "train_label.pkl").write_bytes(pickle.dumps((TRAIN, labels)))
    with pytest.raises(
        FormatError, match=r"train_label\.pkl \(entry 3 \(.*A002\.skeleton\)\): label 999"
    ) as info:
        prepare(folder, tmp_path / "a")
    assert "1000 classes, 997 of which have no sample" in str(info.value)
    assert "num_classes" in (info.value.hint or "")
    assert not (tmp_path / "a").exists()
    prepare(folder, tmp_path / "b", num_classes=1000)
    assert len(SkeletonStore(tmp_path / "b").class_names) == 1000
