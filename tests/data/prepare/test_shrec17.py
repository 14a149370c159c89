"""`prepare shrec17`: a small HandGestureDataset_SHREC2017 tree written here, 14 and 28 classes, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from skelact.cli.main import main
from skelact.data.datamodule import SkeletonDataModule
from skelact.data.prepare.options import RunOptions
from skelact.data.prepare.registry import get_preparer
from skelact.data.prepare.runner import run_job
from skelact.data.prepare.shrec17 import Shrec17Options
from skelact.data.store import SkeletonStore
from skelact.errors import ConfigError, FormatError
from skelact.models.registry import create_model

CONFIGS = Path(__file__).resolve().parents[3] / "configs" / "data"
GESTURES, FINGERS, SUBJECTS = (1, 2, 14), (1, 2), (1, 2, 3)


def label_28(gesture: int, finger: int) -> int:
    """Any one-to-one (gesture, finger) -> 1..28 map will do here: the reader takes it from the list."""
    return 2 * (gesture - 1) + finger


def write_tree(root: Path) -> dict[str, np.ndarray]:
    """3 gestures x 2 fingers x 3 subjects x 2 essais = 36 sequences; essai 2 of subject 3 is the test list.

    Returns the exact (T, 22, 3) values of every sequence by sample id (float16-representable, so the store
    keeps them exactly).
    """
    rng = np.random.default_rng(0)
    values: dict[str, np.ndarray] = {}
    lists: dict[str, list[str]] = {"train": [], "test": []}
    for g in GESTURES:
        for f in FINGERS:
            for s in SUBJECTS:
                for e in (1, 2):
                    t = int(rng.integers(1, 12))
                    array = rng.uniform(-0.5, 0.8, size=(t, 22, 3)).astype(np.float16).astype(np.float32)
                    folder = root / f"gesture_{g}" / f"finger_{f}" / f"subject_{s}" / f"essai_{e}"
                    folder.mkdir(parents=True)
                    rows = (" ".join(repr(float(v)) for v in frame.reshape(-1)) for frame in array)
                    (folder / "skeletons_world.txt").write_text("\n".join(rows) + "\n")
                    values[f"g{g:02d}_f{f}_s{s:02d}_e{e:02d}"] = array
                    split = "test" if (s, e) == (3, 2) or (s, e) == (1, 2) else "train"
                    lists[split].append(f"{g} {f} {s} {e} {g} {label_28(g, f)} {t}")
    for split, lines in lists.items():
        (root / f"{split}_gestures.txt").write_text("\n".join(lines) + "\n")
    return values


def options(labels: int = 14) -> Shrec17Options:
    return Shrec17Options(labels=labels)


def prepare(raw: Path, out: Path, labels: int = 14, **kw: object) -> SkeletonStore:
    run_job(
        get_preparer("shrec17").build(raw, options(labels)),
        RunOptions(raw=raw, out=out, workers=1, progress=False, **kw),
    )
    return SkeletonStore(out)


def test_values_labels_and_splits_round_trip(tmp_path: Path) -> None:
    values = write_tree(tmp_path / "raw")
    store = prepare(tmp_path / "raw", tmp_path / "store", val_fraction=0.0)
    assert len(store) == 36 and set(store.splits) == {"train", "test"}
    assert store.splits["train"].size == 24 and store.splits["test"].size == 12
    assert store.layout.name == "shrec22" and (store.num_persons == 1).all()
    assert len(store.class_names) == 14 and store.class_names[13] == "gesture_14"
    for i, sample_id in enumerate(store.sample_ids):
        keypoint, score = store.read(i)
        assert score is None
        np.testing.assert_array_equal(keypoint, values[sample_id][None])  # exact
        assert store.labels[i] == int(sample_id[1:3]) - 1
    essais = store.meta_column("essai")[store.splits["test"]]
    assert set(essais) == {2}
    assert store.provenance["lists"] == {"train": 24, "test": 12} and store.provenance["labels"] == 14


def test_28_labels(tmp_path: Path) -> None:
    write_tree(tmp_path / "raw")
    store = prepare(tmp_path / "raw", tmp_path / "store", labels=28, val_fraction=0.0)
    assert len(store.class_names) == 28
    gestures, fingers = store.meta_column("gesture"), store.meta_column("finger")
    expected = [label_28(g, f) - 1 for g, f in zip(gestures, fingers, strict=True)]
    assert store.labels.tolist() == expected
    assert store.class_names[label_28(14, 2) - 1] == "gesture_14_finger_2"
    assert store.class_names[5] == "label_06"  # gesture 3 is absent from this small tree


def test_validation_by_subject_and_cli(tmp_path: Path) -> None:
    write_tree(tmp_path / "raw")
    out = tmp_path / "store"
    argv = ["prepare", "shrec17", "--raw", str(tmp_path / "raw"), "--out", str(out), "--labels", "28"]
    assert main([*argv, "--workers", "1", "--no-progress", "--val-fraction", "0.3"]) == 0
    store = SkeletonStore(out)
    splits, subjects = store.splits, store.meta_column("subject")
    assert set(splits) == {"train", "val", "train_full", "test"} and splits["val"].size
    assert not set(subjects[splits["train"]]) & set(subjects[splits["val"]])
    assert sorted(np.concatenate([splits["train"], splits["val"]]).tolist()) == splits["train_full"].tolist()
    assert store.provenance["validation"]["by"] == {"train": "subject"} and len(store.class_names) == 28


@pytest.mark.parametrize("labels", [14, 28])
def test_data_configs_and_psumnet_hand(tmp_path: Path, labels: int) -> None:
    write_tree(tmp_path / "raw")
    store = prepare(tmp_path / "raw", tmp_path / "store", labels=labels, val_fraction=0.2)
    data = yaml.safe_load((CONFIGS / f"shrec17_{labels}.yaml").read_text())["data"]
    module = SkeletonDataModule(
        **{**data, "store": str(tmp_path / "store"), "num_workers": 0, "batch_size": 4}
    )
    batch = next(iter(module.train_dataloader()))
    keypoint = batch["keypoint"].flatten(0, -5)  # (N, clips, M, T, V, C) -> (N * clips, M, T, V, C)
    assert tuple(keypoint.shape) == (4, 1, data["clip_len"], 22, 3)
    model = create_model(
        "psumnet_hand",
        layout=store.layout,
        in_channels=3,
        num_classes=len(store.class_names),
        num_persons=1,
        blocks=[1, 5],
        base_channels=8,
    )
    with torch.no_grad():
        logits = model(keypoint.float())
    assert tuple(logits.shape) == (4, labels) and torch.isfinite(logits).all()


# ----------------------------------------------------------------------------------------------- bad input


def test_missing_list_and_folder(tmp_path: Path) -> None:
    write_tree(tmp_path / "raw")
    (tmp_path / "raw" / "test_gestures.txt").unlink()
    with pytest.raises(ConfigError, match=r"missing .*test_gestures\.txt"):
        get_preparer("shrec17").build(tmp_path / "raw", options())
    with pytest.raises(ConfigError, match="is not a folder"):
        get_preparer("shrec17").build(tmp_path / "nowhere", options())


def test_list_conflicts(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    write_tree(raw)
    listing = raw / "test_gestures.txt"
    first = listing.read_text().splitlines()[0]
    listing.write_text(listing.read_text() + first + "\n")
    with pytest.raises(FormatError, match=r"test_gestures.txt \(line 13\): sequence .* is listed twice"):
        get_preparer("shrec17").build(raw, options())
    g, f, s, e, _, l28, t = first.split()
    lines = listing.read_text().splitlines()[:-1]
    listing.write_text("\n".join([f"{g} {f} {s} {e} 2 {l28} {t}", *lines[1:]]) + "\n")
    with pytest.raises(
        FormatError, match=r"line 1\): label_14 2 is given to gesture 1 here but to gesture 2 at"
    ):
        get_preparer("shrec17").build(raw, options())
    listing.write_text("\n".join([f"{g} {f} {s} {e} 1 {label_28(2, 1)} {t}", *lines[1:]]) + "\n")
    with pytest.raises(
        FormatError, match="label_28 3 is given to gesture 1, finger 1 here but to gesture 2, finger 1"
    ):
        get_preparer("shrec17").build(raw, options(28))


def break_sequence(raw: Path, sample: str, text: str | None) -> Path:
    g, f, s, e = int(sample[1:3]), int(sample[5]), int(sample[8:10]), int(sample[12:14])
    path = raw / f"gesture_{g}" / f"finger_{f}" / f"subject_{s}" / f"essai_{e}" / "skeletons_world.txt"
    if text is None:
        path.unlink()
    else:
        lines = path.read_text().splitlines()
        path.write_text(text.format(first=lines[0], rest="\n".join(lines[1:])))
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, r"missing skeletons_world.txt, named by .*train_gestures.txt line 2"),
        ("", r"empty file: expected one frame per line of 66 numbers"),
        ("{first} 1.0\n{rest}", r"\(line 1\): expected 66 numbers \(22 joints x, y, z\), got 67"),
        ("{first}\n{first}\n{rest}", r"frames, but .*train_gestures.txt line 2 says size_sequence"),
    ],
)
def test_bad_sequence_stops_or_is_listed(tmp_path: Path, text: str | None, message: str) -> None:
    raw = tmp_path / "raw"
    write_tree(raw)
    path = break_sequence(raw, "g01_f1_s02_e01", text)
    job = get_preparer("shrec17").build(raw, options())
    with pytest.raises(FormatError, match=message) as info:
        run_job(
            job, RunOptions(raw=raw, out=tmp_path / "stopped", workers=1, val_fraction=0.0, progress=False)
        )
    assert str(path) in str(info.value)
    assert not (tmp_path / "stopped").exists()
    summary = run_job(
        job,
        RunOptions(
            raw=raw, out=tmp_path / "store", workers=1, skip_bad=True, val_fraction=0.0, progress=False
        ),
    )
    assert summary.written == 35 and [b[0] for b in summary.bad] == [str(path)]
    assert SkeletonStore(tmp_path / "store").provenance["bad_count"] == 1


def test_nan_in_a_sequence(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    write_tree(raw)
    path = break_sequence(raw, "g02_f2_s01_e01", "{first}\n{rest}")
    lines = path.read_text().splitlines()
    lines[-1] = " ".join(["NaN", *lines[-1].split()[1:]])
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(FormatError, match=rf"\(line {len(lines)}\): NaN or Inf at joint 0, coordinate x"):
        prepare(raw, tmp_path / "store", val_fraction=0.0)


@pytest.mark.parametrize("split", ["train", "test"])
def test_an_empty_list_file_is_an_error_naming_it(tmp_path: Path, split: str) -> None:
    raw = tmp_path / "raw"
    write_tree(raw)
    (raw / f"{split}_gestures.txt").write_text("\n\n")
    with pytest.raises(FormatError, match=rf"{split}_gestures\.txt: names no sequence"):
        get_preparer("shrec17").build(raw, options())
