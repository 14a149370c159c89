"""`skelact prepare custom-npy`: folder + labels CSV + layout -> store, with the documented split rules."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from skelact.cli.main import main
from skelact.cli.options import add_option_flags, options_from_namespace
from skelact.data.prepare.custom_npy import CustomNpyOptions
from skelact.data.prepare.options import RunOptions
from skelact.data.prepare.registry import get_preparer
from skelact.data.prepare.runner import run_job
from skelact.data.store import SkeletonStore
from skelact.errors import ConfigError, FormatError

TRI_LAYOUT = {
    "name": "tri3",
    "joint_names": ["hip", "left_hand", "right_hand"],
    "parents": ["hip", "hip", "hip"],
    "left_right": [["left_hand", "right_hand"]],
}
CLASSES = ("sit", "stand", "wave")


def _folder(tmp_path: Path, rows: int = 12, *, header: str = "file,label,subject", extra: str = "") -> Path:
    """`rows` clips of the 3-joint layout, alternating (T,V,C) and (M,T,V,C), 4 subjects, 3 classes."""
    raw = tmp_path / "clips"
    (raw / "more").mkdir(parents=True)
    (tmp_path / "tri3.json").write_text(json.dumps(TRI_LAYOUT))
    lines = [header]
    for i in range(rows):
        name = f"clip{i:02d}.npy" if i % 3 else f"more/clip{i:02d}.npy"
        shape = (5 + i, 3, 3) if i % 2 else (2, 5 + i, 3, 3)
        np.save(raw / name, np.full(shape, i + 1, dtype=np.float32))
        lines.append(f"{name},{CLASSES[i % 3]},{i % 4}{extra.format(i=i)}")
    (raw / "labels.csv").write_text("\n".join(lines) + "\n")
    return raw


def _options(*args: str) -> CustomNpyOptions:
    """Recipe options from the flags the CLI generates for them."""
    parser = argparse.ArgumentParser()
    add_option_flags(parser, CustomNpyOptions)
    return options_from_namespace(CustomNpyOptions, parser.parse_args(list(args)))


def _prepare(raw: Path, out: Path, *args: str, **run: object) -> SkeletonStore:
    options = _options(*args)
    job = get_preparer("custom-npy").build(raw, options)
    run.setdefault("workers", 1)
    run_job(
        job,
        RunOptions(
            raw=raw, out=out, val_fraction=options.val_fraction, seed=options.seed, progress=False, **run
        ),
    )  # type: ignore[arg-type]
    return SkeletonStore(out)


def test_folder_with_custom_layout_becomes_a_store_split_by_subject(tmp_path: Path) -> None:
    raw = _folder(tmp_path)
    (raw / "stray.npy").write_bytes(b"")  # in the folder, not in the CSV: recorded, not read
    store = _prepare(
        raw, tmp_path / "store", "--layout", str(tmp_path / "tri3.json"), "--val-fraction", "0.2"
    )
    assert len(store) == 12 and list(store.class_names) == list(CLASSES)
    assert store.layout.name == "tri3" and store.layout.left_right == ((1, 2),)
    assert store.sample_ids[:2] == ["more/clip00", "clip01"]
    assert store.labels.tolist() == [i % 3 for i in range(12)]
    keypoint, _ = store.read(3)
    assert keypoint.shape == (1, 8, 3, 3) and float(keypoint[0, 0, 0, 0]) == 4.0
    assert store.num_persons[:2].tolist() == [2, 1]
    splits, subjects = store.splits, store.meta_column("subject")
    assert set(splits) == {"train", "val", "train_full", "test"}
    assert not set(subjects[splits["test"]]) & set(subjects[splits["train_full"]])
    assert not set(subjects[splits["val"]]) & set(subjects[splits["train"]])
    provenance = store.provenance
    assert provenance["split_rule"] == "test: 0.2 of the clips, by subject, seed 0"
    assert provenance["label_mode"] == "names" and provenance["layout_source"].endswith("tri3.json")
    assert provenance["unlisted"] == ["stray.npy"] and provenance["unlisted_count"] == 1
    assert store.meta(0)["source"] == "more/clip00.npy"


def test_split_column_gives_the_splits_and_val_is_carved_from_train(tmp_path: Path) -> None:
    raw = _folder(tmp_path, header="file,label,subject,split", extra=",{i}")
    text = (raw / "labels.csv").read_text().splitlines()
    text = [text[0]] + [
        line.rsplit(",", 1)[0] + ("," + ("Test" if i >= 9 else "train")) for i, line in enumerate(text[1:])
    ]
    (raw / "labels.csv").write_text("\n".join(text) + "\n")
    store = _prepare(raw, tmp_path / "store", "--layout", str(tmp_path / "tri3.json"))
    assert store.splits["test"].tolist() == [9, 10, 11]
    assert store.splits["train_full"].tolist() == list(range(9))
    assert store.provenance["split_rule"] == "split column of labels.csv: train, test"
    with pytest.raises(ConfigError, match="has a split column, so `test_fraction` does not apply"):
        _options_build(raw, "--layout", str(tmp_path / "tri3.json"), "--test-fraction", "0.3")


def _options_build(raw: Path, *args: str) -> object:
    return get_preparer("custom-npy").build(raw, _options(*args))


def test_own_val_split_is_kept_instead_of_carving_another(tmp_path: Path) -> None:
    raw = _folder(tmp_path, rows=6, header="file,label,subject,split", extra=",{i}")
    lines = (raw / "labels.csv").read_text().splitlines()
    names = ["train", "train", "train", "val", "val", "test"]
    lines = [lines[0]] + [line.rsplit(",", 1)[0] + f",{names[i]}" for i, line in enumerate(lines[1:])]
    (raw / "labels.csv").write_text("\n".join(lines) + "\n")
    layout = str(tmp_path / "tri3.json")
    store = _prepare(raw, tmp_path / "store", "--layout", layout)
    assert {k: v.tolist() for k, v in store.splits.items()} == {
        "train": [0, 1, 2],
        "val": [3, 4],
        "test": [5],
    }


def test_without_subjects_the_test_split_is_stratified_by_class(tmp_path: Path) -> None:
    raw = tmp_path / "clips"
    raw.mkdir()
    lines = ["file,label"]
    for i in range(30):
        np.save(raw / f"c{i}.npy", np.ones((4, 25, 3), dtype=np.float32))
        lines.append(f"c{i}.npy,{i % 3}")
    (raw / "labels.csv").write_text("\n".join(lines) + "\n")
    store = _prepare(raw, tmp_path / "store", "--layout", "ntu25", "--test-fraction", "0.2", "--seed", "3")
    assert list(store.class_names) == ["0", "1", "2"]
    assert np.bincount(store.labels[store.splits["test"]]).tolist() == [2, 2, 2]
    assert store.provenance["validation"]["by"] == {"train": "class"}
    only_train = _prepare(
        raw, tmp_path / "all", "--layout", "ntu25", "--test-fraction", "0", "--val-fraction", "0"
    )
    assert {k: v.size for k, v in only_train.splits.items()} == {"train": 30}
    with pytest.raises(ConfigError, match=r"`test_fraction` must be in \[0, 1\)"):
        _options_build(raw, "--layout", "ntu25", "--test-fraction", "1.5")


def test_class_names_file_and_score_channel(tmp_path: Path) -> None:
    raw = tmp_path / "clips"
    raw.mkdir()
    clip = np.zeros((6, 17, 3), dtype=np.float32)
    clip[..., 2] = 0.75
    np.save(raw / "a.npy", clip)
    np.save(raw / "b.npy", clip)
    (raw / "labels.csv").write_text("file,label\na.npy,1\nb.npy,0\n")
    (tmp_path / "names.txt").write_text("fall\nwalk\n")
    args = ("--layout", "coco17", "--class-names", str(tmp_path / "names.txt"), "--score-channel")
    store = _prepare(raw, tmp_path / "store", *args, "--test-fraction", "0", "--val-fraction", "0")
    assert list(store.class_names) == ["fall", "walk"] and store.labels.tolist() == [1, 0]
    assert store.num_channels == 2 and store.has_score
    assert float(store.read(0)[1][0, 0, 0]) == pytest.approx(0.75)


def test_bad_clip_stops_the_run_naming_file_and_csv_line_unless_skip_bad(tmp_path: Path) -> None:
    raw = _folder(tmp_path)
    np.save(raw / "clip05.npy", np.zeros((5, 4, 3)))  # 4 joints, the layout has 3
    (raw / "clip07.npy").unlink()
    layout = str(tmp_path / "tri3.json")
    with pytest.raises(
        FormatError, match=r"clip05\.npy: 4 joints .* layout 'tri3' has 3.*\(listed in labels\.csv line 7\)"
    ):
        _prepare(raw, tmp_path / "store", "--layout", layout)
    assert not (tmp_path / "store").exists()
    store = _prepare(raw, tmp_path / "store", "--layout", layout, skip_bad=True)
    assert len(store) == 10
    bad = dict(store.provenance["bad"])
    assert set(bad) == {"clip05.npy", "clip07.npy"}
    assert "file does not exist" in bad["clip07.npy"] and "labels.csv line 9" in bad["clip07.npy"]


def test_command_line_prepare_and_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    raw = _folder(tmp_path)
    args = ["prepare", "custom-npy", "--raw", str(raw), "--layout", str(tmp_path / "tri3.json")]
    assert main([*args, "--out", str(tmp_path / "store"), "--workers", "2", "--no-progress"]) == 0
    assert "wrote" in capsys.readouterr().out
    assert len(SkeletonStore(tmp_path / "store")) == 12
    assert main([*args[:-2], "--layout", "coco18", "--out", str(tmp_path / "x")]) == 2
    assert "unknown layout 'coco18'" in capsys.readouterr().err
    assert main([*args[:3], str(raw / "labels.csv"), *args[4:], "--out", str(tmp_path / "x")]) == 2
    assert "is not a folder" in capsys.readouterr().err
    (raw / "labels.csv").write_text("file,label\nclip01.npy,sit\nclip01.npy,wave\n")
    assert main([*args, "--out", str(tmp_path / "x")]) == 2
    assert "(line 3): file 'clip01.npy' is listed twice" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_a_listed_path_outside_raw_is_refused_before_reading(tmp_path: Path) -> None:
    raw = _folder(tmp_path)
    np.save(tmp_path / "outside.npy", np.ones((5, 3, 3), dtype=np.float32))
    with open(raw / "labels.csv", "a") as fh:
        fh.write("../outside.npy,sit,1\n")
    with pytest.raises(FormatError, match=r"1 file lies outside .*'\.\./outside\.npy'"):
        _prepare(raw, tmp_path / "store", "--layout", str(tmp_path / "tri3.json"))
    assert not (tmp_path / "store").exists()


def test_labels_1_and_1_0_are_one_class(tmp_path: Path) -> None:
    raw = tmp_path / "clips"
    raw.mkdir()
    labels = ("0", "1", "1.0", "0.0")  # a spreadsheet's export may write some whole numbers as floats
    for i in range(len(labels)):
        np.save(raw / f"c{i}.npy", np.full((4, 17, 2), i, dtype=np.float32))
    (raw / "labels.csv").write_text(
        "file,label\n" + "".join(f"c{i}.npy,{lab}\n" for i, lab in enumerate(labels))
    )
    store = _prepare(
        raw, tmp_path / "store", "--layout", "coco17", "--test-fraction", "0", "--val-fraction", "0"
    )
    assert list(store.class_names) == ["0", "1"] and store.labels.tolist() == [0, 1, 1, 0]
