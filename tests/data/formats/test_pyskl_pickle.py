"""PYSKL / MMAction2 annotation pickles: plain and compressed reads, writes, split names, malformed files."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from skelact.data.formats.ntu_skeleton import ntu_meta_from_name
from skelact.data.formats.pyskl_pickle import (
    KpfileReader,
    annotation_to_sample,
    decompress_pose,
    load_pyskl_pickle,
    pyskl_split_name,
    read_pyskl_pickle,
    sample_to_annotation,
    store_split_name,
    write_pyskl_pickle,
)
from skelact.data.formats.registry import get_format
from skelact.data.sample import SkeletonSample, SkipItem
from skelact.errors import ConfigError, FormatError


def ntu_annotation(name: str, label: int, persons: int = 1, frames: int = 5, seed: int = 0) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    return {
        "frame_dir": name,
        "label": label,
        "total_frames": frames,
        "keypoint": rng.normal(size=(persons, frames, 25, 3)).astype(np.float16),
    }


def coco_annotation(name: str, label: int, persons: int = 2, frames: int = 4) -> dict[str, Any]:
    rng = np.random.default_rng(1)
    return {
        "frame_dir": name,
        "label": label,
        "total_frames": frames,
        "img_shape": (1080, 1920),
        "original_shape": (1080, 1920),
        "keypoint": (rng.uniform(0, 1000, size=(persons, frames, 17, 2))).astype(np.float16),
        "keypoint_score": rng.uniform(size=(persons, frames, 17)).astype(np.float16),
    }


def dump(path: Path, data: Any) -> Path:
    path.write_bytes(pickle.dumps(data, protocol=4))
    return path


def test_reads_split_dict_3d(tmp_path: Path) -> None:
    anns = [ntu_annotation("S001C002P003R001A010", 9, persons=2), ntu_annotation("S002C001P004R002A001", 0)]
    path = dump(tmp_path / "ntu.pkl", {"split": {"xsub_train": [anns[0]["frame_dir"]]}, "annotations": anns})
    samples = read_pyskl_pickle(path)
    assert [s.sample_id for s in samples] == ["S001C002P003R001A010", "S002C001P004R002A001"]
    first = samples[0]
    assert first.keypoint.dtype == np.float32 and first.keypoint.shape == (2, 5, 25, 3)
    np.testing.assert_array_equal(first.keypoint, anns[0]["keypoint"].astype(np.float32))
    assert first.score is None and first.label == 9
    assert first.meta["subject"] == 3 and first.meta["view"] == 2 and first.meta["setup"] == 1
    assert first.meta["replication"] == 1 and first.meta["action"] == 10
    assert load_pyskl_pickle(path).split == {"xsub_train": ["S001C002P003R001A010"]}
    assert get_format("pyskl-pickle").reader is read_pyskl_pickle


def test_reads_plain_list_2d_with_scores_and_shapes(tmp_path: Path) -> None:
    ann = coco_annotation("video_a", 3)
    path = dump(tmp_path / "custom.pkl", [ann])
    (sample,) = read_pyskl_pickle(path)
    assert load_pyskl_pickle(path).split is None
    assert sample.keypoint.shape == (2, 4, 17, 2) and sample.score is not None
    np.testing.assert_array_equal(sample.score, ann["keypoint_score"].astype(np.float32))
    assert sample.meta["img_shape"] == [1080, 1920] and sample.meta["original_shape"] == [1080, 1920]
    assert "subject" not in sample.meta  # not an NTU name


def test_ntu_names() -> None:
    assert ntu_meta_from_name("S017C003P020R002A120") == {
        "setup": 17,
        "view": 3,
        "subject": 20,
        "replication": 2,
        "action": 120,
    }
    assert ntu_meta_from_name("S001C001P001R001A001.skeleton")["action"] == 1
    assert ntu_meta_from_name("v_ApplyEyeMakeup_g01_c01") == {}


@pytest.mark.parametrize(
    "pyskl, store",
    [
        ("xsub_train", "xsub_train"),
        ("xsub_val", "xsub_test"),
        ("xview_val", "xview_test"),
        ("xset_val", "xset_test"),
        ("train1", "split1_train"),
        ("test3", "split3_test"),
        ("train", "train"),
        ("val", "test"),
    ],
)
def test_split_names_map_both_ways(pyskl: str, store: str) -> None:
    assert store_split_name(pyskl) == store
    assert pyskl_split_name(store) == pyskl


def test_carved_validation_has_no_pyskl_name() -> None:
    assert pyskl_split_name("xsub_val") is None and pyskl_split_name("val") is None


def _fails(tmp_path: Path, ann: dict[str, Any], match: str, **kwargs: Any) -> FormatError:
    path = dump(
        tmp_path / "bad.pkl", {"split": {}, "annotations": [ntu_annotation("S001C001P001R001A001", 0), ann]}
    )
    loaded = load_pyskl_pickle(path)
    with pytest.raises(FormatError, match=match) as info:
        annotation_to_sample(loaded.annotations[1], 1, path=path, **kwargs)
    message = str(info.value)
    assert str(path) in message and "annotation 1" in message
    return info.value


def test_missing_keys_name_the_annotation(tmp_path: Path) -> None:
    ann = ntu_annotation("S001C001P001R001A002", 1)
    del ann["label"]
    err = _fails(tmp_path, ann, "missing key 'label'")
    assert "S001C001P001R001A002" in str(err)
    ann = ntu_annotation("S001C001P001R001A002", 1)
    del ann["keypoint"]
    _fails(tmp_path, ann, "missing key 'keypoint'")
    ann = ntu_annotation("x", 1)
    del ann["frame_dir"]
    _fails(tmp_path, ann, "frame_dir")


def test_wrong_shapes_joint_count_nan_and_labels(tmp_path: Path) -> None:
    ann = ntu_annotation("A", 1)
    ann["keypoint"] = ann["keypoint"][0]  # (T, V, C): a person axis is missing
    _fails(tmp_path, ann, r"keypoint must be \(M, T, V, 2 or 3\)")
    ann = ntu_annotation("C", 1)
    ann["keypoint"][0, 2, 4, 1] = np.nan
    _fails(tmp_path, ann, "NaN or Inf .*person 0, frame 2, joint 4")
    _fails(tmp_path, ntu_annotation("D", 60), "label 60 outside 0..59", num_classes=60)
    _fails(tmp_path, ntu_annotation("E", -1), "label -1 outside")
    ann = ntu_annotation("F", 1)
    ann["label"] = "drink"
    _fails(tmp_path, ann, "label must be an integer")
    ann = ntu_annotation("G", 1)
    ann["total_frames"] = 99
    _fails(tmp_path, ann, "total_frames 99 disagrees")
    ann = coco_annotation("H", 1)
    ann["keypoint_score"] = ann["keypoint_score"][:, :2]
    _fails(tmp_path, ann, "keypoint_score must have shape")
    ann = coco_annotation("I", 1)
    ann["img_shape"] = (1080,)
    _fails(tmp_path, ann, "img_shape")


def test_wrong_joint_count_message(tmp_path: Path) -> None:
    err = _fails(tmp_path, ntu_annotation("J", 1), "expected 17 joints, got 25", num_joints=17)
    assert "(J)" in str(err)


def test_no_person_is_a_skip_not_an_error(tmp_path: Path) -> None:
    ann = ntu_annotation("K", 1)
    ann["keypoint"] = np.zeros((0, 5, 25, 3), np.float16)
    with pytest.raises(SkipItem, match="no person"):
        annotation_to_sample(ann, 0, path=tmp_path / "x.pkl")


def test_top_level_structure_errors(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="lacks 'annotations'"):
        load_pyskl_pickle(dump(tmp_path / "a.pkl", {"split": {}}))
    with pytest.raises(FormatError, match="expected a dict"):
        load_pyskl_pickle(dump(tmp_path / "b.pkl", 42))
    with pytest.raises(FormatError, match="annotation must be a dict"):
        load_pyskl_pickle(dump(tmp_path / "c.pkl", [ntu_annotation("A", 0), "oops"]))
    with pytest.raises(FormatError, match="non-string id"):
        load_pyskl_pickle(dump(tmp_path / "d.pkl", {"split": {"train": [1]}, "annotations": []}))


def test_truncated_file_and_unknown_global(tmp_path: Path) -> None:
    data = pickle.dumps([ntu_annotation("A", 0, frames=50)])
    cut = tmp_path / "cut.pkl"
    cut.write_bytes(data[:-100])
    with pytest.raises(FormatError, match="truncated"):
        read_pyskl_pickle(cut)
    evil = dump(tmp_path / "evil.pkl", [{**ntu_annotation("A", 0), "extra": Path("/etc")}])
    with pytest.raises(FormatError, match=r"pathlib(\._local)?\.PosixPath") as info:
        read_pyskl_pickle(evil)
    assert str(evil) in str(info.value)


# ------------------------------------------------------------------------------------------- compressed


def test_decompress_pose_matches_pyskl_rules() -> None:
    # frames 3, 3, 7, 7, 7, 9: three distinct frames, at most three rows in one frame
    frame_inds = np.array([3, 3, 7, 7, 7, 9], dtype=np.int16)
    rows = np.zeros((6, 17, 3), np.float32)
    rows[:, :, 0] = np.arange(6)[:, None]  # x = row number
    rows[:, :, 2] = 0.5
    kp, score = decompress_pose(frame_inds, rows)
    assert kp.shape == (3, 3, 17, 2) and score.shape == (3, 3, 17)
    assert kp[:, 0, 0, 0].tolist() == [0, 1, 0]  # frame 3: rows 0, 1 in row order, slot 2 empty
    assert kp[:, 1, 0, 0].tolist() == [2, 3, 4]
    assert kp[:, 2, 0, 0].tolist() == [5, 0, 0]
    assert score[2, 0].sum() == 0 and score[0, 2].sum() == pytest.approx(17 * 0.5)


def test_decompress_caps_persons_by_score_per_frame() -> None:
    # frame 0 has 12 detections (score = row/100), frame 1 has 2 (low score first)
    frame_inds = np.array([0] * 12 + [1, 1])
    rows = np.zeros((14, 17, 3), np.float32)
    rows[:, :, 0] = np.arange(14)[:, None]
    rows[:12, :, 2] = (np.arange(12) / 100)[:, None]
    rows[12, :, 2], rows[13, :, 2] = 0.1, 0.9
    kp, _ = decompress_pose(frame_inds, rows)
    assert kp.shape[0] == 10
    assert kp[:, 0, 0, 0].tolist() == list(range(11, 1, -1))  # the 10 best, best first
    assert kp[:2, 1, 0, 0].tolist() == [13, 12]  # every frame is re-ordered by score once M > 10
    assert not kp[2:, 1].any()


def compressed_files(tmp_path: Path) -> Path:
    rng = np.random.default_rng(3)
    rows = rng.uniform(0, 300, size=(5, 17, 3)).astype(np.float16)
    rows[..., 2] = 0.8
    kpdir = tmp_path / "kpfiles"
    kpdir.mkdir()
    dump(kpdir / "part_0.pkl", {"clip_a": {"keypoint": rows}})
    ann = {
        "frame_dir": "clip_a",
        "label": 4,
        "total_frames": 300,
        "img_shape": (256, 340),
        "original_shape": (256, 340),
        "raw_file": "/somewhere/else/kpfiles/part_0.pkl",
        "frame_inds": np.array([0, 0, 4, 9, 9], dtype=np.int16),
        "box_score": np.array([0.95, 0.55, 0.9, 0.7, 0.92]),
        "valid": {0.5: 3, 0.6: 3, 0.7: 3, 0.8: 2, 0.9: 2},
    }
    return dump(tmp_path / "k400.pkl", {"split": {"train": ["clip_a"]}, "annotations": [ann]})


def test_compressed_reads_through_kpfiles(tmp_path: Path) -> None:
    path = compressed_files(tmp_path)
    (sample,) = read_pyskl_pickle(path, kpfiles=tmp_path / "kpfiles")
    assert sample.keypoint.shape == (2, 3, 17, 2) and sample.score is not None
    assert sample.meta["img_shape"] == [256, 340]
    (thr,) = read_pyskl_pickle(path, kpfiles=tmp_path / "kpfiles", box_thr=0.9)
    assert thr.keypoint.shape == (1, 3, 17, 2)  # rows 0, 2, 4 remain: one per frame
    (default_dir,) = read_pyskl_pickle(path)  # the kpfiles folder next to the annotation file
    np.testing.assert_array_equal(default_dir.keypoint, sample.keypoint)


def test_compressed_without_kpfile(tmp_path: Path) -> None:
    path = compressed_files(tmp_path)
    with pytest.raises(ConfigError, match=r"kpfile .* not found"):
        read_pyskl_pickle(path, kpfiles=tmp_path / "nowhere")
    loaded = load_pyskl_pickle(path)
    with pytest.raises(FormatError, match="--kpfiles"):
        annotation_to_sample(loaded.annotations[0], 0, path=path)
    reader = KpfileReader([tmp_path / "kpfiles"])
    bad = dict(loaded.annotations[0], frame_inds=np.array([4, 0, 0, 9, 9]))
    with pytest.raises(FormatError, match="non-decreasing"):
        annotation_to_sample(bad, 0, path=path, kpfiles=reader)


# ------------------------------------------------------------------------------------------- writing


def test_write_then_read_is_exact(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    samples = [
        SkeletonSample(
            keypoint=rng.normal(size=(1, 6, 25, 3)).astype(np.float16).astype(np.float32),
            label=2,
            meta={"subject": 5, "view": 2},
            sample_id="seq_000",
        ),
        SkeletonSample(
            keypoint=rng.uniform(size=(2, 3, 17, 2)).astype(np.float16).astype(np.float32),
            label=0,
            score=rng.uniform(size=(2, 3, 17)).astype(np.float16).astype(np.float32),
            meta={"img_shape": [480, 640]},
            sample_id="seq_001",
        ),
    ]
    anns = [sample_to_annotation(s) for s in samples]
    assert anns[0]["keypoint"].dtype == np.float16 and "keypoint_score" not in anns[0]
    assert anns[1]["img_shape"] == (480, 640)
    path = write_pyskl_pickle(tmp_path / "out" / "x.pkl", anns, {"train": ["seq_000"], "val": ["seq_001"]})
    assert not [p for p in path.parent.iterdir() if p.name != "x.pkl"]  # no temp file left behind
    back = read_pyskl_pickle(path)
    for original, read in zip(samples, back, strict=True):
        np.testing.assert_array_equal(read.keypoint, original.keypoint)
        assert read.label == original.label and read.sample_id == original.sample_id
    np.testing.assert_array_equal(back[1].score, samples[1].score)
    assert back[0].meta["subject"] == 5 and back[0].meta["view"] == 2
    with pytest.raises(ConfigError, match="no annotation"):
        write_pyskl_pickle(tmp_path / "y.pkl", anns, {"train": ["missing"]})


def test_writer_refuses_values_beyond_float16(tmp_path: Path) -> None:
    sample = SkeletonSample(keypoint=np.full((1, 2, 25, 3), 1e6, np.float32), label=0, sample_id="big")
    with pytest.raises(FormatError, match="float16"):
        sample_to_annotation(sample)
    assert sample_to_annotation(sample, dtype=np.float32)["keypoint"].dtype == np.float32
