"""Kinetics-skeleton JSON reader: packing against a plain-loop ST-GCN reference, options, malformed files,
the label index, and the twelve real sample clips."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from skelact.data.formats.kinetics_json import (
    KineticsOptions,
    LabelEntry,
    class_names_from_index,
    read_kinetics_clip,
    read_kinetics_json_file,
    read_kinetics_label_index,
)
from skelact.data.formats.registry import get_format
from skelact.errors import ConfigError, FormatError


def person(rng: np.random.Generator, missing: int = 3, scale: float = 1.0) -> dict[str, list[float]]:
    """One OpenPose person: coordinates in [0, 1], `missing` joints at (0, 0) with score 0."""
    pose = np.round(rng.uniform(0.05, 0.95, size=(18, 2)), 3)
    score = np.round(rng.uniform(0.1, 1.0, size=18) * scale, 3)
    gone = rng.choice(18, size=missing, replace=False)
    pose[gone], score[gone] = 0.0, 0.0
    return {"pose": pose.reshape(-1).tolist(), "score": score.tolist()}


def make_clip(
    frames: int = 12,
    persons: Any = (1, 3, 6, 0, 2),
    *,
    base: int = 1,
    seed: int = 0,
    label: str = "abseiling",
) -> dict[str, Any]:
    """A clip whose frame t holds persons[t % len(persons)] people, frame indices starting at `base`."""
    rng = np.random.default_rng(seed)
    data = []
    for t in range(frames):
        count = persons[t % len(persons)]
        people = [person(rng, scale=float(rng.uniform(0.2, 1.0))) for _ in range(count)]
        data.append({"frame_index": t + base, "skeleton": people})
    return {"data": data, "label": label, "label_index": 0}


def write(folder: Path, name: str, record: Any) -> Path:
    path = folder / f"{name}.json"
    path.write_text(record if isinstance(record, str) else json.dumps(record))
    return path


def stgcn_reference(record: dict, base: int, frames: int = 300, buffer: int = 5, keep: int = 2) -> np.ndarray:
    """ST-GCN's recipe written as plain loops (spec 2.6): (3, T, 18, keep) with x, y - 0.5 and score."""
    data = np.zeros((3, frames, 18, buffer))
    for rec in record["data"]:
        t = rec["frame_index"] - base
        if t >= frames:
            continue
        for m, body in enumerate(rec["skeleton"]):
            if m >= buffer:
                break
            data[0, t, :, m] = body["pose"][0::2]
            data[1, t, :, m] = body["pose"][1::2]
            data[2, t, :, m] = body["score"]
    data[0:2] -= 0.5
    data[0][data[2] == 0] = 0
    data[1][data[2] == 0] = 0
    for t in range(frames):
        order = sorted(range(buffer), key=lambda m, t=t: -data[2, t, :, m].sum())  # stable
        data[:, t] = data[:, t][:, :, order]
    return data[..., :keep]


def assert_matches_reference(path: Path, base: int, **options: Any) -> None:
    record = json.loads(path.read_text())
    clip = read_kinetics_clip(path, KineticsOptions(coords="stgcn", **options))
    m, t = clip.keypoint.shape[:2]
    ref = stgcn_reference(record, base, frames=options.get("max_frames", 300))
    np.testing.assert_allclose(clip.keypoint, ref[:2, :t].transpose(3, 1, 2, 0)[:m], atol=1e-6)
    np.testing.assert_allclose(clip.score, ref[2, :t].transpose(2, 0, 1)[:m], atol=1e-6)
    assert not ref[:, :t, :, m:].any(), "a person slot the reader dropped holds data"
    assert not ref[:, t:].any(), "the reference holds frames past the reader's clip"


def test_packing_matches_stgcn_reference(tmp_path: Path) -> None:
    path = write(tmp_path, "clip", make_clip(frames=23))
    assert_matches_reference(path, base=1)
    clip = read_kinetics_clip(path)
    assert clip.keypoint.shape == (2, 23, 18, 2) and clip.score.shape == (2, 23, 18)
    assert clip.frame_base == 1 and clip.clipped_frames == 0
    # per frame, the kept persons are in descending summed score
    sums = clip.score.sum(axis=2)
    assert (sums[0] >= sums[1]).all()


def test_zero_based_clip_and_frame_cap(tmp_path: Path) -> None:
    path = write(tmp_path, "clip0", make_clip(frames=20, base=0))
    assert read_kinetics_clip(path).frame_base == 0
    assert_matches_reference(path, base=0)
    capped = read_kinetics_clip(path, KineticsOptions(max_frames=8))
    assert capped.keypoint.shape[1] == 8 and capped.clipped_frames == 12
    assert_matches_reference(path, base=0, max_frames=8)
    forced = read_kinetics_clip(
        write(tmp_path, "clip1", make_clip(frames=5)), KineticsOptions(frame_base="0")
    )
    assert forced.frame_base == 0 and forced.keypoint.shape[1] == 6 and not forced.keypoint[:, 0].any()


def test_buffer_persons_and_max_persons(tmp_path: Path) -> None:
    # one frame with six people: the sixth (highest score) is beyond ST-GCN's 5-person buffer
    rng = np.random.default_rng(3)
    people = [person(rng, scale=0.1 * (i + 1)) for i in range(6)]
    path = write(
        tmp_path, "six", {"data": [{"frame_index": 1, "skeleton": people}], "label": "x", "label_index": 0}
    )
    clip = read_kinetics_clip(path, KineticsOptions(coords="raw"))
    sums = [sum(p["score"]) for p in people]
    kept = clip.score.sum(axis=2)[:, 0]
    np.testing.assert_allclose(kept, sorted(sums[:5], reverse=True)[:2], rtol=1e-6)
    three = read_kinetics_clip(path, KineticsOptions(max_persons=3, buffer_persons=6))
    np.testing.assert_allclose(three.score.sum(axis=2)[:, 0], sorted(sums, reverse=True)[:3], rtol=1e-6)
    single = write(tmp_path, "one", make_clip(frames=4, persons=(1, 0)))
    assert read_kinetics_clip(single).keypoint.shape[0] == 1  # only as many slots as the busiest frame


def test_coordinate_modes_and_missing_joints(tmp_path: Path) -> None:
    path = write(tmp_path, "c", make_clip(frames=6, persons=(2,)))
    raw = read_kinetics_clip(path, KineticsOptions(coords="raw"))
    present = raw.score > 0
    for coords, flip in (("unit", False), ("stgcn", False), ("stgcn", True)):
        clip = read_kinetics_clip(path, KineticsOptions(coords=coords, flip_y=flip))
        expected = 2 * raw.keypoint - 1 if coords == "unit" else raw.keypoint - 0.5
        if flip:
            expected[..., 1] *= -1
        np.testing.assert_allclose(clip.keypoint[present], expected[present], atol=1e-6)
        assert not clip.keypoint[~present].any(), "a joint with score 0 must stay exactly zero"
    unit = read_kinetics_clip(path)
    assert np.abs(unit.keypoint).max() <= 1.0


def test_sample_label_from_clip_or_index(tmp_path: Path) -> None:
    record = make_clip(frames=4, label="parkour")
    record["label_index"] = 3
    path = write(tmp_path, "lab", record)
    sample = read_kinetics_json_file(path)
    assert sample.label == 3 and sample.sample_id == "lab" and sample.meta["label_name"] == "parkour"
    assert read_kinetics_json_file(path, class_to_index={"abseiling": 0, "parkour": 7}).label == 7
    with pytest.raises(FormatError, match="'parkour' is not in the label index"):
        read_kinetics_json_file(path, class_to_index={"abseiling": 0})
    empty = write(tmp_path, "empty", make_clip(frames=3, persons=(0,)))
    with pytest.raises(FormatError, match="no person is detected"):
        read_kinetics_json_file(empty)
    assert get_format("kinetics-json").reader is read_kinetics_json_file


def test_options_are_checked() -> None:
    with pytest.raises(ConfigError):
        KineticsOptions(max_persons=6)
    with pytest.raises(ConfigError):
        KineticsOptions(coords="pixels")  # type: ignore[arg-type]


def _frame(index: Any = 1, pose: Any = None, score: Any = None) -> dict[str, Any]:
    return {
        "frame_index": index,
        "skeleton": [
            {"pose": [0.5] * 36 if pose is None else pose, "score": [0.9] * 18 if score is None else score}
        ],
    }


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ('{"data": [{"frame_index": 1, "skeleton": [', "invalid JSON"),
        ({"label": "x", "label_index": 0}, "expected an object with 'data'"),
        ({"data": {}, "label": "x", "label_index": 0}, "'data' must be a list"),
        ({"data": [_frame()], "label_index": 0}, "'label' must be the class name"),
        ({"data": [_frame()], "label": "x", "label_index": "0"}, "'label_index' must be an integer"),
        ({"data": [{"skeleton": []}], "label": "x", "label_index": 0}, r"data\[0\].*frame record"),
        ({"data": [_frame(), _frame(2, pose=[0.5] * 34)], "label": "x", "label_index": 0},
         r"data\[1\] \(frame_index 2\) skeleton\[0\].*pose must hold 36 numbers.*got 34"),
        ({"data": [_frame(1, score=[0.5] * 17)], "label": "x", "label_index": 0}, "score must hold 18"),
        ({"data": [_frame(1, pose=[0.5] * 35 + ["a"])], "label": "x", "label_index": 0},
         "pose holds a non-number"),
        ({"data": [_frame(1.5)], "label": "x", "label_index": 0}, "frame_index must be an integer"),
        ({"data": [_frame(1), _frame(1)], "label": "x", "label_index": 0}, "frame_index 1 appears in more"),
        ({"data": [_frame(3), _frame(7, score=[0.5] * 17 + [float("nan")])], "label": "x", "label_index": 0},
         r"data\[1\] \(frame_index 7\) skeleton\[0\].*score\[17\] is NaN"),
        ({"data": [_frame(1, pose=[float("inf")] + [0.5] * 35)], "label": "x", "label_index": 0},
         r"pose\[0\] is NaN or Inf"),
    ],
)  # fmt: skip
def test_malformed_clips(tmp_path: Path, record: Any, message: str) -> None:
    path = write(tmp_path, "bad", record)
    with pytest.raises(FormatError, match=message) as info:
        read_kinetics_clip(path)
    assert str(path) in str(info.value)


def test_frame_index_below_forced_base(tmp_path: Path) -> None:
    path = write(tmp_path, "zero", {"data": [_frame(0), _frame(1)], "label": "x", "label_index": 0})
    with pytest.raises(FormatError, match=r"data\[0\].*below the frame base 1"):
        read_kinetics_clip(path, KineticsOptions(frame_base="1"))


def test_label_index_file(tmp_path: Path) -> None:
    entries = {
        "a": {"has_skeleton": True, "label": "abseiling", "label_index": 0},
        "b": {"has_skeleton": False, "label": "zumba", "label_index": 1},
        "c": {"has_skeleton": True, "label": "abseiling", "label_index": 0},
    }
    index = read_kinetics_label_index(write(tmp_path, "index", entries))
    assert index["b"] == LabelEntry(False, "zumba", 1)
    assert class_names_from_index(index) == ["abseiling", "zumba"]
    with pytest.raises(FormatError, match="names both 'abseiling' and 'zumba'"):
        class_names_from_index({**index, "d": LabelEntry(True, "zumba", 0)})
    with pytest.raises(FormatError, match="not contiguous"):
        class_names_from_index({"a": LabelEntry(True, "x", 0), "b": LabelEntry(True, "y", 2)})
    bad = {"a": {"has_skeleton": "yes", "label": "x", "label_index": 0}}
    with pytest.raises(FormatError, match="entry 'a'"):
        read_kinetics_label_index(write(tmp_path, "bad", bad))
    with pytest.raises(FormatError, match="expected an object"):
        read_kinetics_label_index(write(tmp_path, "list", [1]))


# ----------------------------------------------------------------------------------------------- real clips


def real_clips(shared_data: Path) -> tuple[list[Path], Path]:
    folder = shared_data / "kinetics_skeleton_samples"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent")
    return sorted(folder.glob("kinetics_*/*.json")), folder / "kinetics_val_label-old.json"


def test_real_clips(shared_data: Path) -> None:
    clips, index_file = real_clips(shared_data)
    assert len(clips) == 12
    names = class_names_from_index(read_kinetics_label_index(index_file))
    assert len(names) == 400
    to_index = {name: i for i, name in enumerate(names)}
    for path in clips:
        record = json.loads(path.read_text())
        sample = read_kinetics_json_file(path, class_to_index=to_index)
        m, t, v, c = sample.keypoint.shape
        assert (v, c) == (18, 2) and 1 <= m <= 2
        assert t == len(record["data"]) == max(r["frame_index"] for r in record["data"])  # 1-based, no gaps
        assert sample.meta["frame_base"] == 1
        assert np.abs(sample.keypoint).max() <= 1.1  # OpenPose places a few joints just outside the frame
        assert names[sample.label] == record["label"]
        if path.parent.name == "kinetics_val_old":
            assert sample.label == record["label_index"]  # genuine validation ids
        else:  # the five training clips carry a rewritten 0..4 label_index; their class name decides
            assert sample.label != record["label_index"] and record["label_index"] in range(5)


def test_real_clip_with_eleven_people_matches_reference(shared_data: Path) -> None:
    clips, _ = real_clips(shared_data)
    busy = [p for p in clips if p.stem == "__PYrzYbzKE"]
    if not busy:
        pytest.skip("clip __PYrzYbzKE is absent")
    record = json.loads(busy[0].read_text())
    assert max(len(r["skeleton"]) for r in record["data"]) == 11
    assert_matches_reference(busy[0], base=1)
    assert_matches_reference(busy[0], base=1, max_frames=100)


def test_a_frame_index_far_past_the_buffer_is_named_not_called_empty(tmp_path: Path) -> None:
    record = make_clip(frames=4, persons=(0,))  # frames 1..4 with nobody ...
    record["data"].append({"frame_index": 9999999, "skeleton": make_clip(frames=1)["data"][0]["skeleton"]})
    path = write(tmp_path, "far", record)
    with pytest.raises(
        FormatError, match=r"far\.json \(data\[4\]\): .*frame_index 9999999 .*300-frame buffer"
    ):
        read_kinetics_json_file(path)
    record = make_clip(frames=6)  # ... and a stray far record next to real frames is cut, not padded to 300
    record["data"].append({"frame_index": 9999999, "skeleton": []})
    clip = read_kinetics_clip(write(tmp_path, "stray", record))
    assert clip.keypoint.shape[1] == 6 and clip.clipped_frames == 1
