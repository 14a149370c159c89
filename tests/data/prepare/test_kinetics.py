"""`prepare kinetics`: single folders and the release layout, label indexes, skips, and the real clips."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from skelact.cli.main import main
from skelact.data.datamodule import SkeletonDataModule
from skelact.data.prepare.kinetics import KineticsPrepareOptions
from skelact.data.prepare.options import RunOptions
from skelact.data.prepare.registry import get_preparer
from skelact.data.prepare.runner import run_job
from skelact.data.store import SkeletonStore
from skelact.errors import ConfigError, FormatError

CONFIG = Path(__file__).resolve().parents[3] / "configs" / "data" / "kinetics.yaml"


def options(**kw: Any) -> KineticsPrepareOptions:
    return KineticsPrepareOptions(**kw)


def write_clip(
    folder: Path, clip_id: str, label: str, label_index: int, persons: int = 1, frames: int = 5
) -> None:
    rng = np.random.default_rng(sum(map(ord, clip_id)))
    data = []
    for t in range(frames):
        people = [
            {
                "pose": rng.uniform(0.1, 0.9, 36).round(3).tolist(),
                "score": rng.uniform(0.1, 1, 18).round(3).tolist(),
            }
            for _ in range(persons)
        ]
        data.append({"frame_index": t + 1, "skeleton": people})
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{clip_id}.json").write_text(
        json.dumps({"data": data, "label": label, "label_index": label_index})
    )


def write_index(path: Path, entries: dict[str, tuple[bool, str, int]]) -> Path:
    record = {k: {"has_skeleton": h, "label": name, "label_index": i} for k, (h, name, i) in entries.items()}
    path.write_text(json.dumps(record))
    return path


def prepare(raw: Path, out: Path, val_fraction: float = 0.0, **kw: Any) -> SkeletonStore:
    job = get_preparer("kinetics").build(raw, options(**kw))
    run_job(job, RunOptions(raw=raw, out=out, workers=1, val_fraction=val_fraction, progress=False))
    return SkeletonStore(out)


def test_single_folder_with_index(tmp_path: Path) -> None:
    clips = tmp_path / "clips"
    write_clip(clips, "aaa", "bowling", 1, persons=3)
    write_clip(clips, "bbb", "archery", 0)
    write_clip(clips, "ccc", "bowling", 1)
    write_clip(clips, "ddd", "archery", 0, persons=0)  # listed without skeleton
    write_clip(clips, "eee", "bowling", 9)  # not listed, and its own label_index is wrong: mapped by name
    index = write_index(
        tmp_path / "kinetics_val_label.json",
        {"aaa": (True, "bowling", 1), "bbb": (True, "archery", 0), "ccc": (True, "bowling", 1),
         "ddd": (False, "archery", 0), "zzz": (True, "cycling", 2)},
    )  # fmt: skip
    job = get_preparer("kinetics").build(clips, options(labels=[index]))
    summary = run_job(
        job, RunOptions(raw=clips, out=tmp_path / "store", workers=1, val_fraction=0.0, progress=False)
    )
    store = SkeletonStore(tmp_path / "store")
    assert store.class_names == ("archery", "bowling", "cycling")
    assert store.sample_ids == ["aaa", "bbb", "ccc", "eee"]
    assert store.labels.tolist() == [1, 0, 1, 1]
    assert list(store.splits) == ["test"] and store.splits["test"].size == 4
    assert summary.skipped == [
        (str(clips / "ddd.json"), "no skeleton (has_skeleton is false in the label index)")
    ]
    assert store.layout.name == "openpose18" and store.num_persons.tolist() == [2, 1, 1, 1]
    assert store.read(0)[1] is not None  # scores are kept
    assert store.provenance["labels_by"] == "class name via the label index"
    assert store.provenance["coords"] == "unit" and store.provenance["max_persons"] == 2


def test_index_disagreeing_with_clip_is_an_error(tmp_path: Path) -> None:
    clips = tmp_path / "clips"
    write_clip(clips, "aaa", "bowling", 1)
    index = write_index(tmp_path / "index.json", {"aaa": (True, "archery", 0), "b": (True, "bowling", 1)})
    job = get_preparer("kinetics").build(clips, options(labels=[index]))
    with pytest.raises(
        FormatError, match=r"aaa\.json.*'bowling' disagrees with the label index \('archery'\)"
    ):
        run_job(
            job, RunOptions(raw=clips, out=tmp_path / "store", workers=1, val_fraction=0.0, progress=False)
        )


def test_without_index_labels_come_from_clips(tmp_path: Path) -> None:
    clips = tmp_path / "clips"
    write_clip(clips, "a", "bowling", 3)
    write_clip(clips, "b", "archery", 0)
    write_clip(clips, "c", "nobody", 1, persons=0)
    store = prepare(clips, tmp_path / "store", split_name="train")
    assert store.class_names == ("archery", "nobody", "class 2", "bowling")
    assert store.labels.tolist() == [3, 0] and list(store.splits) == ["train"]
    assert store.provenance["skipped"] == [[str(clips / "c.json"), "no person detected in any frame"]]
    assert store.provenance["class_names_from"] == "clips (3 of 4 indices named)"


def test_release_layout_and_config(tmp_path: Path) -> None:
    raw = tmp_path / "kinetics-skeleton"
    classes = ["archery", "bowling", "cycling"]
    train_entries, val_entries = {}, {}
    for i in range(12):
        label = i % 3
        write_clip(raw / "kinetics_train", f"t{i:02d}", classes[label], label, persons=1 + i % 2, frames=8)
        train_entries[f"t{i:02d}"] = (True, classes[label], label)
    for i in range(3):
        write_clip(raw / "kinetics_val", f"v{i}", classes[i], i, frames=4)
        val_entries[f"v{i}"] = (True, classes[i], i)
    write_index(raw / "kinetics_train_label.json", train_entries)
    write_index(raw / "kinetics_val_label.json", val_entries)
    store = prepare(raw, tmp_path / "store", val_fraction=0.3, split_name="train")  # split name is ignored
    assert set(store.splits) == {"train", "val", "train_full", "test"}
    assert store.splits["train_full"].size == 12 and store.splits["test"].size == 3
    assert np.bincount(store.labels[store.splits["val"]]).tolist() == [1, 1, 1]  # stratified by class
    assert store.provenance["validation"]["by"] == {"train": "class"}
    data = yaml.safe_load(CONFIG.read_text())["data"]
    module = SkeletonDataModule(
        **{**data, "store": str(tmp_path / "store"), "num_workers": 0, "batch_size": 2}
    )
    batch = next(iter(module.train_dataloader()))
    assert tuple(batch["keypoint"].shape[-4:]) == (2, 150, 18, 3)  # x, y, score


def test_options_and_errors(tmp_path: Path) -> None:
    clips = tmp_path / "clips"
    write_clip(clips, "a", "bowling", 0, persons=3, frames=10)
    store = prepare(clips, tmp_path / "s1", max_frames=4, max_persons=1, coords="stgcn", flip_y=True)
    assert store.lengths.tolist() == [4] and store.num_persons.tolist() == [1]
    assert store.meta(0)["clipped_frames"] == 6 and store.provenance["flip_y"] is True
    with pytest.raises(ConfigError, match="does not exist"):
        get_preparer("kinetics").build(clips, options(labels=[tmp_path / "missing.json"]))
    with pytest.raises(ConfigError, match="not a folder"):
        get_preparer("kinetics").build(tmp_path / "nothing", options())
    with pytest.raises(ConfigError):
        get_preparer("kinetics").build(clips, options(max_persons=9))


def test_a_clip_whose_people_all_lie_past_the_buffer_is_bad_not_skipped(tmp_path: Path) -> None:
    clips = tmp_path / "clips"
    write_clip(clips, "a", "bowling", 0)
    write_clip(clips, "b", "bowling", 0)
    record = json.loads((clips / "b.json").read_text())
    for rec in record["data"]:
        rec["frame_index"] += 9999990
    (clips / "b.json").write_text(json.dumps(record))
    with pytest.raises(FormatError, match=r"b\.json.*frame_index 9999991"):
        prepare(clips, tmp_path / "store")
    assert not (tmp_path / "store").exists()


# ----------------------------------------------------------------------------------------------- real clips


def real_folder(shared_data: Path) -> Path:
    folder = shared_data / "kinetics_skeleton_samples"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent")
    return folder


def test_real_validation_clips_through_cli(shared_data: Path, tmp_path: Path) -> None:
    folder = real_folder(shared_data)
    index = folder / "kinetics_val_label-old.json"
    args = ["prepare", "kinetics", "--raw", str(folder / "kinetics_val_old"), "--labels", str(index)]
    assert main([*args, "--out", str(tmp_path / "store"), "--workers", "2", "--no-progress"]) == 0
    store = SkeletonStore(tmp_path / "store")
    assert len(store) == 7 and list(store.splits) == ["test"] and len(store.class_names) == 400
    expected = {"__NrybzYzUg": 0, "__PYrzYbzKE": 173, "__U_scuxNlQ": 58, "__lt03EF4ao": 208}
    expected |= {"__u6odV5hrI": 207, "__vOysOPoCY": 207, "__vzEs2wzdQ": 335}
    assert dict(zip(store.sample_ids, store.labels.tolist(), strict=True)) == expected
    assert store.class_names[173] == "jumpstyle dancing"
    assert (store.num_persons <= 2).all() and (store.num_persons >= 1).all()
    for i, clip_id in enumerate(store.sample_ids):
        record = json.loads((folder / "kinetics_val_old" / f"{clip_id}.json").read_text())
        assert store.lengths[i] == len(record["data"])


def test_real_training_clips_labelled_by_name(shared_data: Path, tmp_path: Path) -> None:
    folder = real_folder(shared_data)
    index = folder / "kinetics_val_label-old.json"
    store = prepare(folder / "kinetics_train", tmp_path / "store", labels=[index], split_name="train")
    assert len(store) == 5 and list(store.splits) == ["train"]
    names = dict(zip(store.sample_ids, (store.class_names[i] for i in store.labels), strict=True))
    for clip_id, name in names.items():
        record = json.loads((folder / "kinetics_train" / f"{clip_id}.json").read_text())
        assert name == record["label"] and store.class_names.index(name) != record["label_index"]
    assert sorted(store.lengths.tolist()) == [240, 299, 299, 299, 299]
