"""NW-UCLA all_sqe reader: small files written here (valid and malformed) and the real files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from skelact.data.formats.nw_ucla import (
    ACTION_IDS,
    CLASS_NAMES,
    label_of_action,
    parse_nw_ucla_name,
    read_nw_ucla_file,
)
from skelact.data.formats.registry import get_format
from skelact.errors import FormatError


def write_sequence(folder: Path, name: str, frames: int = 4, *, label: int | None = None, **override) -> Path:
    """A valid file ``name``.json with a deterministic T x 20 x 3 sequence; `override` replaces keys."""
    action = int(name[1:3])
    rng = np.random.default_rng(frames)
    record = {
        "file_name": name,
        "skeletons": np.round(rng.normal(size=(frames, 20, 3)), 6).tolist(),
        "label": label_of_action(action) + 1 if label is None else label,
    }
    record.update(override)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(record))
    return path


def test_reads_sequence_metadata_and_label(tmp_path: Path) -> None:
    path = write_sequence(tmp_path, "a08_s03_e02_v02", frames=5)
    sample = read_nw_ucla_file(path)
    expected = np.asarray(json.loads(path.read_text())["skeletons"], dtype=np.float32)
    assert sample.keypoint.shape == (1, 5, 20, 3) and sample.keypoint.dtype == np.float32
    np.testing.assert_array_equal(sample.keypoint[0], expected)
    assert sample.label == 6 and CLASS_NAMES[6] == "donning"
    assert sample.score is None
    assert sample.sample_id == "a08_s03_e02_v02"
    assert sample.meta == {"action": 8, "subject": 3, "repetition": 2, "view": 2, "source": str(path)}


def test_single_frame_sequence(tmp_path: Path) -> None:
    sample = read_nw_ucla_file(write_sequence(tmp_path, "a12_s10_e00_v03", frames=1))
    assert sample.keypoint.shape == (1, 1, 20, 3) and sample.label == 9


def test_label_remap_covers_the_ten_actions() -> None:
    assert [label_of_action(a) for a in ACTION_IDS] == list(range(10))
    assert len(CLASS_NAMES) == 10 and len(set(CLASS_NAMES)) == 10
    assert parse_nw_ucla_name("a11_s01_e10_v01") == {"action": 11, "subject": 1, "repetition": 10, "view": 1}


def test_registered() -> None:
    assert get_format("nw-ucla").reader is read_nw_ucla_file


@pytest.mark.parametrize(
    ("name", "override", "message"),
    [
        ("a01_s01_e00_v01", {"label": 2}, "label 2 disagrees with action a01"),
        ("a01_s01_e00_v01", {"label": True}, "disagrees"),
        ("a01_s01_e00_v01", {"file_name": "a01_s01_e00_v02"}, "does not match"),
        ("a01_s01_e00_v01", {"skeletons": []}, "non-empty list"),
        ("a01_s01_e00_v01", {"skeletons": [[[0.0, 0.0, 0.0]] * 19]}, "expected 20 joints, got 19"),
        ("a01_s01_e00_v01", {"skeletons": [[[0.0, 0.0]] * 20]}, "joint 0: expected [x, y, z]"),
        ("a01_s01_e00_v01", {"skeletons": [[[0.0, "x", 0.0]] * 20]}, "must be numbers"),
    ],
)
def test_malformed_content(tmp_path: Path, name: str, override: dict, message: str) -> None:
    path = write_sequence(tmp_path, name, **override)
    with pytest.raises(FormatError) as info:
        read_nw_ucla_file(path)
    assert message in str(info.value) and str(path) in str(info.value)


def test_ragged_frame_is_located(tmp_path: Path) -> None:
    frames = [[[0.1, 0.2, 0.3]] * 20, [[0.1, 0.2, 0.3]] * 20, [[0.1, 0.2, 0.3]] * 18]
    path = write_sequence(tmp_path, "a02_s01_e00_v01", skeletons=frames)
    with pytest.raises(FormatError, match=r"skeletons\[2\].*expected 20 joints, got 18"):
        read_nw_ucla_file(path)


def test_nan_is_located(tmp_path: Path) -> None:
    path = write_sequence(tmp_path, "a03_s01_e00_v01", frames=3)
    text = path.read_text()
    record = json.loads(text)
    record["skeletons"][1][7][2] = float("nan")
    path.write_text(json.dumps(record))  # json writes the NaN literal, as a careless exporter would
    with pytest.raises(FormatError, match=r"skeletons\[1\]\[7\].*NaN"):
        read_nw_ucla_file(path)


def test_truncated_and_missing_key(tmp_path: Path) -> None:
    path = write_sequence(tmp_path, "a04_s01_e00_v01")
    path.write_text(path.read_text()[:200])
    with pytest.raises(FormatError, match=r"\(line 1\): invalid JSON"):
        read_nw_ucla_file(path)
    path = tmp_path / "a05_s01_e00_v01.json"
    path.write_text(json.dumps({"file_name": "a05_s01_e00_v01", "label": 5}))
    with pytest.raises(FormatError, match="missing key 'skeletons'"):
        read_nw_ucla_file(path)
    path.write_text("[1, 2]")
    with pytest.raises(FormatError, match="expected a JSON object"):
        read_nw_ucla_file(path)


@pytest.mark.parametrize(
    ("name", "message"),
    [("a07_s01_e00_v01", "unknown action id a07"), ("walk_s01", "does not follow the NW-UCLA pattern")],
)
def test_bad_file_names(tmp_path: Path, name: str, message: str) -> None:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps({"file_name": name, "skeletons": [[[0.0] * 3] * 20], "label": 1}))
    with pytest.raises(FormatError, match=message):
        read_nw_ucla_file(path)


def test_real_files_match_their_json(shared_data: Path) -> None:
    folder = shared_data / "nw_ucla" / "all_sqe"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent")
    names = {"a01_s01_e00_v01": 0, "a08_s01_e00_v03": 6, "a12_s10_e04_v02": 9, "a02_s09_e04_v02": 1}
    for name, label in names.items():
        path = folder / f"{name}.json"
        record = json.loads(path.read_text())
        sample = read_nw_ucla_file(path)
        np.testing.assert_array_equal(sample.keypoint[0], np.asarray(record["skeletons"], dtype=np.float32))
        assert sample.label == label == record["label"] - 1
    assert read_nw_ucla_file(folder / "a02_s09_e04_v02.json").num_frames == 1  # a real one-frame sequence
