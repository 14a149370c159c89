"""SHREC'17 reader: skeletons_world.txt files and split lists written here, valid and malformed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from skelact.data.formats.registry import get_format
from skelact.data.formats.shrec17 import (
    NUM_JOINTS,
    Shrec17Entry,
    read_shrec17_file,
    read_shrec17_list,
    read_shrec17_skeleton,
)
from skelact.errors import FormatError
from skelact.skeleton.layout import get_layout


def frames(count: int, seed: int = 0) -> np.ndarray:
    """(T, 22, 3) coordinates in metres, exactly representable in float16 (the store's type)."""
    rng = np.random.default_rng(seed)
    return rng.uniform(-0.6, 0.6, size=(count, NUM_JOINTS, 3)).astype(np.float16).astype(np.float32)


def write_skeleton(folder: Path, values: np.ndarray) -> Path:
    """``skeletons_world.txt`` in `folder`: one line of 66 space-separated numbers per frame."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "skeletons_world.txt"
    lines = [" ".join(repr(float(v)) for v in frame.reshape(-1)) for frame in values]
    path.write_text("\n".join(lines) + "\n")
    return path


def sequence_folder(root: Path, g: int, f: int, s: int, e: int) -> Path:
    return root / f"gesture_{g}" / f"finger_{f}" / f"subject_{s}" / f"essai_{e}"


def entry(size: int, *, label_28: int = 10) -> Shrec17Entry:
    return Shrec17Entry(5, 2, 11, 3, 5, label_28, size, "train_gestures.txt", 4)


def test_joint_order_is_the_shrec22_layout() -> None:
    names = get_layout("shrec22").joint_names
    fingers = ("thumb", "index", "middle", "ring", "pinky")
    assert names == ("wrist", "palm", *(f"{f}{k}" for f in fingers for k in range(1, 5)))


def test_values_and_ids_from_the_folder(tmp_path: Path) -> None:
    values = frames(7)
    path = write_skeleton(sequence_folder(tmp_path, 5, 2, 11, 3), values)
    sample = read_shrec17_file(path)
    assert sample.keypoint.shape == (1, 7, 22, 3) and sample.keypoint.dtype == np.float32
    np.testing.assert_array_equal(sample.keypoint[0], values)
    assert sample.label == 4 and sample.sample_id == "g05_f2_s11_e03" and sample.score is None
    assert sample.meta == {"gesture": 5, "finger": 2, "subject": 11, "essai": 3, "source": str(path)}
    assert get_format("shrec17").reader is read_shrec17_file


def test_labels_from_the_list_entry(tmp_path: Path) -> None:
    path = write_skeleton(sequence_folder(tmp_path, 5, 2, 11, 3), frames(4))
    assert read_shrec17_file(path, entry=entry(4)).label == 4
    sample = read_shrec17_file(path, entry=entry(4), num_classes=28, extra_meta={"split": "train"})
    assert sample.label == 9 and sample.meta["label_28"] == 10 and sample.meta["split"] == "train"
    with pytest.raises(FormatError, match=r"4 frames, but train_gestures\.txt line 4 says size_sequence 5"):
        read_shrec17_file(path, entry=entry(5))
    with pytest.raises(FormatError, match="28-class label comes from the list"):
        read_shrec17_file(path, num_classes=28)


def test_single_frame_and_blank_lines(tmp_path: Path) -> None:
    values = frames(2, seed=3)
    path = write_skeleton(tmp_path / "seq", values)
    path.write_text("\n" + path.read_text() + "\n\n")
    np.testing.assert_array_equal(read_shrec17_skeleton(path), values)
    path = write_skeleton(tmp_path / "one", values[:1])
    assert read_shrec17_skeleton(path).shape == (1, 22, 3)


def corrupt(path: Path, line: int, edit) -> None:
    lines = path.read_text().splitlines()
    lines[line - 1] = edit(lines[line - 1])
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda line: " ".join(line.split()[:-1]), r"\(line 3\): expected 66 numbers .*got 65"),
        (lambda line: line + " 0.5", r"\(line 3\): expected 66 numbers .*got 67"),
        (lambda line: line.replace(line.split()[4], "abc", 1), r"\(line 3\): value 5 is not a number: 'abc'"),
        (
            lambda line: line.replace(line.split()[7], "nan", 1),
            r"\(line 3\): NaN or Inf at joint 2, coordinate y",
        ),
        (
            lambda line: line.replace(line.split()[0], "inf", 1),
            r"\(line 3\): NaN or Inf at joint 0, coordinate x",
        ),
    ],
)
def test_bad_line_is_located(tmp_path: Path, edit, message: str) -> None:
    path = write_skeleton(tmp_path / "seq", frames(4))
    corrupt(path, 3, edit)
    with pytest.raises(FormatError, match=message) as info:
        read_shrec17_skeleton(path)
    assert str(path) in str(info.value)


def test_empty_and_missing_files(tmp_path: Path) -> None:
    path = tmp_path / "skeletons_world.txt"
    path.write_text("\n  \n")
    with pytest.raises(FormatError, match="empty file: expected one frame per line of 66 numbers"):
        read_shrec17_skeleton(path)
    with pytest.raises(FormatError, match=r"missing skeletons_world\.txt"):
        read_shrec17_skeleton(tmp_path / "nowhere" / "skeletons_world.txt")
    with pytest.raises(FormatError, match="not inside gesture_<g>/finger_<f>"):
        read_shrec17_file(write_skeleton(tmp_path / "loose", frames(2)))


def test_list_file(tmp_path: Path) -> None:
    path = tmp_path / "train_gestures.txt"
    path.write_text("1 1 1 1 1 1 30\n\n14 2 28 10 14 28 171\n")
    first, last = read_shrec17_list(path)
    assert (first.gesture, first.label_14, first.label_28, first.size, first.line) == (1, 1, 1, 30, 1)
    assert (last.gesture, last.finger, last.subject, last.essai) == (14, 2, 28, 10) and last.line == 3
    assert last.folder == Path("gesture_14/finger_2/subject_28/essai_10") and last.name == "g14_f2_s28_e10"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1 1 1 1 1 1\n", r"\(line 1\): expected 7 integers .* got 6 fields"),
        ("1 1 1 1 1 1 30\n1 1 1 2 1 x 30\n", r"\(line 2\): expected integers"),
        ("1 1 1 1 15 1 30\n", r"\(line 1\): label_14 must be in 1..14, got 15"),
        ("1 1 1 1 1 0 30\n", r"\(line 1\): label_28 must be in 1..28, got 0"),
        ("1 1 1 1 1 1 0\n", r"\(line 1\): ids must be non-negative and size_sequence at least 1"),
    ],
)
def test_bad_list_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "test_gestures.txt"
    path.write_text(text)
    with pytest.raises(FormatError, match=message) as info:
        read_shrec17_list(path)
    assert str(path) in str(info.value)
