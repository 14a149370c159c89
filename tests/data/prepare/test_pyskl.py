"""`skelact prepare pyskl`: splits mapped from PYSKL names, layouts, classes, skip-bad, compressed files."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from skelact.cli.main import main
from skelact.data.prepare.options import RunOptions
from skelact.data.prepare.pyskl import PysklOptions
from skelact.data.prepare.registry import get_preparer
from skelact.data.prepare.runner import run_job
from skelact.data.prepare.source_options import class_names
from skelact.data.store import SkeletonStore
from skelact.errors import ConfigError, FormatError

# Two training subjects (1, 2) and one test subject (3), two classes, one person each.
NAMES = [f"S001C00{c}P00{p}R001A00{a}" for p in (1, 2, 3) for c in (1, 2) for a in (1, 2)]


def annotation(name: str, joints: int = 25, channels: int = 3, seed: int = 0) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    ann: dict[str, Any] = {
        "frame_dir": name,
        "label": int(name[-1]) - 1 if name.startswith("S0") else 0,
        "total_frames": 6,
        "keypoint": rng.normal(size=(1, 6, joints, channels)).astype(np.float16),
    }
    if channels == 2:
        ann["keypoint_score"] = rng.uniform(size=(1, 6, joints)).astype(np.float16)
        ann["img_shape"] = ann["original_shape"] = (1080, 1920)
    return ann


def ntu_file(tmp_path: Path, annotations: list[dict[str, Any]] | None = None) -> Path:
    anns = annotations if annotations is not None else [annotation(n, seed=i) for i, n in enumerate(NAMES)]
    split = {
        "xsub_train": [n for n in NAMES if "P003" not in n],
        "xsub_val": [n for n in NAMES if "P003" in n],
        "xview_train": [n for n in NAMES if "C002" in n],
        "xview_val": [n for n in NAMES if "C001" in n],
    }
    path = tmp_path / "ntu60_3danno.pkl"
    path.write_bytes(pickle.dumps({"split": split, "annotations": anns}))
    return path


def options(**values: Any) -> PysklOptions:
    return PysklOptions(**values)


def prepare(raw: Path, out: Path, *, skip_bad: bool = False, val: float = 0.0, **opts: Any) -> Any:
    job = get_preparer("pyskl").build(raw, options(**opts))
    return run_job(
        job, RunOptions(raw=raw, out=out, workers=1, skip_bad=skip_bad, val_fraction=val, progress=False)
    )


def test_ntu_file_to_store(tmp_path: Path) -> None:
    raw = ntu_file(tmp_path)
    summary = prepare(raw, tmp_path / "store", val=0.25)
    store = SkeletonStore(tmp_path / "store")
    assert store.layout.name == "ntu25" and len(store) == 12
    assert list(store.class_names) == class_names(None, min_classes=2, ntu=True)  # NTU action names
    ids = store.sample_ids
    test = {ids[i] for i in store.split("xsub_test")}
    assert test == {n for n in NAMES if "P003" in n}
    assert {ids[i] for i in store.split("xview_test")} == {n for n in NAMES if "C001" in n}
    full = set(store.split("xsub_train_full").tolist())
    assert set(store.split("xsub_train").tolist()) | set(store.split("xsub_val").tolist()) == full
    assert store.provenance["validation"]["by"]["xsub_train"] == "subject"
    assert store.provenance["split_names"] == {
        "xsub_train": "xsub_train",
        "xsub_val": "xsub_test",
        "xview_train": "xview_train",
        "xview_val": "xview_test",
    }
    assert store.meta(0)["subject"] == 1 and summary.written == 12


def test_skip_bad_lists_the_annotation(tmp_path: Path) -> None:
    anns = [annotation(n, seed=i) for i, n in enumerate(NAMES)]
    anns[2]["keypoint"][0, 1, 1, 1] = np.nan
    anns[5]["keypoint"] = np.zeros((0, 6, 25, 3), np.float16)  # nobody in the clip: skipped, not bad
    raw = ntu_file(tmp_path, anns)
    with pytest.raises(FormatError, match="annotation 2") as info:
        prepare(raw, tmp_path / "a")
    assert NAMES[2] in str(info.value) and "NaN" in str(info.value)
    summary = prepare(raw, tmp_path / "b", skip_bad=True)
    assert summary.written == 10
    assert len(summary.bad) == 1 and summary.bad[0][0] == f"{raw} annotation 2 ({NAMES[2]})"
    assert len(summary.skipped) == 1 and "no person" in summary.skipped[0][1]
    store = SkeletonStore(tmp_path / "b")
    assert store.provenance["bad_count"] == 1 and store.provenance["skipped_count"] == 1
    assert NAMES[2] not in {store.sample_ids[i] for i in store.split("xsub_train")}


def test_layout_inference_and_options(tmp_path: Path) -> None:
    coco = tmp_path / "coco.pkl"
    coco.write_bytes(pickle.dumps([annotation(f"v{i}", joints=17, channels=2, seed=i) for i in range(3)]))
    prepare(coco, tmp_path / "coco")
    store = SkeletonStore(tmp_path / "coco")
    assert store.layout.name == "coco17" and store.has_score and store.splits == {}
    assert store.class_names == ("class_000",)
    hands = tmp_path / "hands.pkl"
    hands.write_bytes(pickle.dumps([annotation("h", joints=21, channels=2)]))
    with pytest.raises(ConfigError, match="21 joints"):
        prepare(hands, tmp_path / "hands")
    with pytest.raises(FormatError, match="expected 25 joints, got 21"):  # --layout: every entry is checked
        prepare(hands, tmp_path / "hands", layout="ntu25")
    with pytest.raises(FormatError, match="expected 17 joints, got 25"):
        prepare(ntu_file(tmp_path), tmp_path / "x", layout="coco17")
    names = tmp_path / "names.txt"
    names.write_text("drink water\neat meal\nbrush teeth\n")
    prepare(ntu_file(tmp_path), tmp_path / "named", class_names=names)
    assert SkeletonStore(tmp_path / "named").class_names == ("drink water", "eat meal", "brush teeth")
    with pytest.raises(ConfigError, match="3 class names given but `num_classes` is 5"):
        prepare(ntu_file(tmp_path), tmp_path / "bad", class_names=names, num_classes=5)


def test_duplicate_ids_and_split_clashes(tmp_path: Path) -> None:
    dup = tmp_path / "dup.pkl"
    dup.write_bytes(pickle.dumps([annotation("a"), annotation("a")]))
    with pytest.raises(FormatError, match="used twice"):
        prepare(dup, tmp_path / "d")
    clash = tmp_path / "clash.pkl"
    clash.write_bytes(
        pickle.dumps({"split": {"x_val": ["a"], "x_test": ["a"]}, "annotations": [annotation("a")]})
    )
    with pytest.raises(FormatError, match="would both become 'x_test'"):
        prepare(clash, tmp_path / "c")


def test_compressed_kinetics_through_the_cli(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    kpdir = tmp_path / "kp"
    kpdir.mkdir()
    rows = {f"clip{i}": {"keypoint": rng.uniform(size=(4, 17, 3)).astype(np.float16)} for i in range(3)}
    (kpdir / "k400_0.pkl").write_bytes(pickle.dumps(rows))
    anns = [
        {
            "frame_dir": f"clip{i}",
            "label": i,
            "total_frames": 30,
            "img_shape": (256, 340),
            "raw_file": "kpfiles/k400_0.pkl",
            "frame_inds": np.array([0, 1, 1, 5], np.int16),
            "box_score": np.array([0.9, 0.6, 0.95, 0.8]),
        }
        for i in range(3)
    ]
    raw = tmp_path / "k400_hrnet.pkl"
    raw.write_bytes(
        pickle.dumps({"split": {"train": ["clip0", "clip1"], "val": ["clip2"]}, "annotations": anns})
    )
    out = tmp_path / "store"
    args = [
        "prepare",
        "pyskl",
        "--raw",
        str(raw),
        "--out",
        str(out),
        "--kpfiles",
        str(kpdir),
        "--box-thr",
        "0.7",
    ]
    assert main([*args, "--val-fraction", "0", "--no-progress"]) == 0
    store = SkeletonStore(out)
    assert store.layout.name == "coco17" and store.has_score
    assert store.lengths.tolist() == [3, 3, 3] and store.num_persons.tolist() == [
        1,
        1,
        1,
    ]  # row 1 (0.6) dropped
    assert {k: v.tolist() for k, v in store.splits.items()} == {"train": [0, 1], "test": [2]}
    assert store.provenance["box_thr"] == 0.7 and store.provenance["compressed"] is True


def test_a_sample_in_both_train_and_test_of_a_protocol_is_refused(tmp_path: Path) -> None:
    leaked = [n for n in NAMES if "P003" in n][:3]  # three test samples also listed for training
    split = {
        "xsub_train": [n for n in NAMES if "P003" not in n] + leaked,
        "xsub_val": [n for n in NAMES if "P003" in n],
        "xview_train": [n for n in NAMES if "C002" in n],
        "xview_val": [n for n in NAMES if "C001" in n],
    }
    raw = tmp_path / "leak.pkl"
    anns = [annotation(n, seed=i) for i, n in enumerate(NAMES)]
    raw.write_bytes(pickle.dumps({"split": split, "annotations": anns}))
    with pytest.raises(FormatError, match=r"'xsub_train' and 'xsub_val' .*share 3 sample ids") as info:
        prepare(raw, tmp_path / "store")
    assert all(name in str(info.value) for name in leaked) and "xview" not in str(info.value)
    assert not (tmp_path / "store").exists()


def test_a_stray_label_does_not_invent_classes(tmp_path: Path) -> None:
    anns = [annotation(f"v{i}", joints=17, channels=2, seed=i) for i in range(4)]
    for i, ann in enumerate(anns):
        ann["label"] = i % 2
    anns[2]["label"] = 999
    raw = tmp_path / "coco.pkl"
    raw.write_bytes(pickle.dumps(anns))
    with pytest.raises(
        FormatError, match=r"coco\.pkl \(annotation 2 \(v2\)\): label 999 makes 1000 classes, 997 of which"
    ):
        prepare(raw, tmp_path / "store")
    prepare(raw, tmp_path / "store", num_classes=1000)  # said explicitly: accepted
    assert len(SkeletonStore(tmp_path / "store").class_names) == 1000
